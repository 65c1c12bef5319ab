"""Shared by the provider-channel scenarios: a Parley with one provider connection and that
provider's simulator beside it (`parley simulate <kind> --serve`, the fake provider API whose
URL is the connection's api_base_url), and the helpers that drive them."""

import secrets as pysecrets
import subprocess
import threading

import harness

CONTACT = {"whatsapp": "15551230000", "messenger": "6000000000000001",
           "instagram": "6000000000000002", "twilio": "+15557654321", "telegram": "4242424242"}


def kind_setup(kind, sim_url):
    """(settings, credentials, simulate flags) for a connection of `kind` on the simulator."""
    app_secret = "as-" + pysecrets.token_hex(12)
    if kind in ("whatsapp", "messenger", "instagram"):
        identity_key = {"whatsapp": "phone_number_id", "messenger": "page_id",
                        "instagram": "instagram_id"}[kind]
        identity = {"whatsapp": "106540352242922", "messenger": "1029384756",
                    "instagram": "17841400000000001"}[kind]
        token = "EAAG" + pysecrets.token_hex(12)
        return ({identity_key: identity, "api_base_url": sim_url},
                {"app_secret": app_secret, "verify_token": "vt-123", "access_token": token},
                ["--secret", app_secret, "--identity", identity, "--token", token])
    if kind == "twilio":
        sid = "AC" + pysecrets.token_hex(16)
        token = pysecrets.token_hex(16)
        return ({"account_sid": sid, "from": "+15550001111", "api_base_url": sim_url},
                {"auth_token": token},
                ["--secret", token, "--identity", "+15550001111", "--account-sid", sid])
    if kind == "telegram":
        bot = "123456789:" + pysecrets.token_urlsafe(27)[:35]
        secret = pysecrets.token_hex(16)
        return ({"api_base_url": sim_url}, {"bot_token": bot, "secret_token": secret},
                ["--secret", secret, "--token", bot])
    raise ValueError(kind)


def send_path(kind, setup):
    settings, credentials, _ = setup
    if kind == "whatsapp":
        return "/%s/messages" % settings["phone_number_id"]
    if kind == "messenger":
        return "/%s/messages" % settings["page_id"]
    if kind == "instagram":
        return "/%s/messages" % settings["instagram_id"]
    if kind == "twilio":
        return "/2010-04-01/Accounts/%s/Messages.json" % settings["account_sid"]
    return "/bot%s/sendMessage" % credentials["bot_token"]


class Simulator:
    """A connection of `kind` for a tenant, and `parley simulate <kind> --serve` beside
    Parley for it, until stop()."""

    def __init__(self, parley, tenant_id, kind, log_name):
        self.port = harness.free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.setup = kind_setup(kind, self.url)
        settings, credentials, flags = self.setup
        r = parley.admin().post("/v1/admin/tenants/%s/connections" % tenant_id,
                                {"kind": kind, "name": kind, "settings": settings,
                                 "credentials": credentials})
        assert r.status == 201, r
        self.connection = r.json["id"]
        self.log = open(parley.workdir + "/simulate-%s.log" % log_name, "w+b")
        self.proc = subprocess.Popen(
            [parley.binary, "simulate", kind, "--serve", "--listen",
             "127.0.0.1:%d" % self.port, "--parley", parley.url(""), "--connection",
             self.connection] + flags,
            stdout=self.log, stderr=subprocess.STDOUT)
        harness.wait_until(self.up, timeout=10, what="the %s simulator" % log_name)

    def up(self):
        try:
            return harness.http_request(self.port, "GET", "/_sim/received").status == 200
        except OSError:
            return False

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class ProviderChannelFixture(harness.ParleyTestCase):
    """A Parley with one connection of KIND and that provider's simulator beside it."""
    KIND = None  # set by the subclasses below
    EXTRA_ENV = {}

    @classmethod
    def setUpClass(cls):
        port = harness.free_port()
        cls.LISTEN = "127.0.0.1:%d" % port
        cls.ENV = dict(harness.FAST_DELIVERY_ENV, **cls.EXTRA_ENV)
        cls.ENV["PARLEY_SERVER__PUBLIC_URL"] = "http://127.0.0.1:%d" % port
        super().setUpClass()
        cls.tenant = cls.bootstrap()
        cls.pictures_seen = set()
        cls.sim = Simulator(cls.parley, cls.tenant.id, cls.KIND, cls.KIND)
        cls.sim_url, cls.sim_port, cls.setup = cls.sim.url, cls.sim.port, cls.sim.setup
        cls.connection = cls.sim.connection

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "sim", None):
            cls.sim.stop()
        super().tearDownClass()

    # -- the simulator's control routes
    def inbound(self, **spec):
        spec.setdefault("from", CONTACT[self.KIND])
        r = harness.http_request(self.sim_port, "POST", "/_sim/inbound", spec)
        self.assertEqual(r.status, 200, r)
        return r.json

    def fail_next(self, fault, **extra):
        r = harness.http_request(self.sim_port, "POST", "/_sim/fail", dict(extra, fault=fault))
        self.assertEqual(r.status, 200, r)

    def sends(self):
        r = harness.http_request(self.sim_port, "GET", "/_sim/received")
        path = send_path(self.KIND, self.setup)
        return [q for q in r.json["requests"] if q["method"] == "POST" and path in q["target"]]

    # -- helpers
    def cdn_requests(self):
        r = harness.http_request(self.sim_port, "GET", "/_sim/received")
        return [q for q in r.json["requests"] if q["target"].startswith("/cdn/")]

    def metric(self, prefix, label=""):
        """The first sample of /metrics whose line starts with `prefix` and holds `label`."""
        r = harness.http_request(self.parley.port, "GET", "/metrics")
        for line in r.body.decode().splitlines():
            if line.startswith(prefix) and label in line:
                return int(float(line.split()[-1]))
        return 0

    def busy_count(self):
        return self.metric("parley_media_fetches_total{", 'result="busy"')

    def picture_held_by_the_cdn(self, answers, times=1):
        """Sends a picture whose download the CDN holds for 7 s (and the next times - 1
        downloads too); returns, once that download has started, the thread that puts the
        call's answer in answers["first"]."""
        before = len(self.cdn_requests())
        self.fail_next("slow", delay_ms=7000, times=times)
        first = threading.Thread(
            target=lambda: answers.__setitem__("first", self.inbound(type="image")))
        first.start()
        harness.wait_until(lambda: len(self.cdn_requests()) > before, what="the first download")
        return first

    def customer_text(self, text):
        answer = self.inbound(type="text", text=text)
        self.assertEqual(answer["status"], 200, answer)
        event = self.tenant.webhook.wait_for_event(
            lambda e: e["type"] == "message.created" and
            e["data"]["content"].get("text") == text, what="the customer's text")
        return event["data"]

    def picture_event(self, timeout=10):
        """The next customer picture not seen before."""
        event = self.tenant.webhook.wait_for_event(
            lambda e: e["type"] == "message.created" and e["data"]["content"]["type"] == "media"
            and e["data"]["provider_message_id"] not in self.pictures_seen,
            timeout=timeout, what="the customer's picture")
        self.pictures_seen.add(event["data"]["provider_message_id"])
        return event

    def agent_sends(self, conversation, content):
        r = self.tenant.client.post("/v1/conversations/%s/messages" % conversation,
                                    {"content": content})
        self.assertEqual(r.status, 202, r)
        return r.json["id"]

    def status_event(self, message_id, status):
        return self.tenant.webhook.wait_for_event(harness.status_for(message_id, status),
                                                  timeout=15, what="message.status " + status)
