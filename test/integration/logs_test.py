"""Acceptance: logs never contain message text, secrets, keys or private data (DESIGN.md §6),
and the data directory holds no plaintext message text, secret or contact id (§5, §6).

The whole flow runs once with a distinctive marker in every sensitive value, including bad
requests that carry them (so error paths are covered); then the server stops and its entire
output, any log file in its directories, and every file of the data directory are scanned."""

import json
import os
import secrets as pysecrets

import harness
from harness import check_status, created_for, customer_message, post_custom, status_for

TAG = pysecrets.token_hex(4).upper()


def marker(name):
    return "MK%s%s" % (name, TAG)


M = {k: marker(k) for k in (
    "TEXT", "TEXT2", "PENDING", "AGENTTEXT", "AGENTNAME", "CUSTID", "CUSTNAME", "CHSECRET",
    "ADMIN", "REJECT", "PROVERR", "BADJSON", "BADNAME", "BADTEXT", "WRONGKEY", "CAPTION",
    "LOCNAME", "FILENAME")}


class LogsTest(harness.ParleyTestCase):

    @classmethod
    def setUpClass(cls):
        cls._receivers = []
        cls.parley = p = harness.Parley(env=harness.FAST_DELIVERY_ENV,
                                        admin_token=M["ADMIN"] + "-token-0123456789")
        p.start()
        chsecret = M["CHSECRET"] + "-0123456789abcdef"
        cls.t = t = cls.bootstrap(connection_secret=chsecret)
        cls.secrets = {"CHSECRET": chsecret, "APIKEY": t.key,
                       "APIKEY_SECRET": t.key.split(".", 1)[1], "ENDPOINT": t.endpoint_secret,
                       "ADMIN": p.admin_token}
        cls.flow(p, t)
        cls.exit_code = p.stop()

    @classmethod
    def flow(cls, p, t):
        ws = harness.open_stream(p, t.key)
        cust = M["CUSTID"] + "@example.com"
        body = json.dumps(customer_message("lg-1", cust, M["TEXT"] + " hello",
                                           name=M["CUSTNAME"] + " Smith")).encode()
        sig = harness.sign(t.connection_secret, body)
        cls.secrets["SIGNATURE"] = sig.split("v1=")[1]
        r = check_status(None, post_custom(p, t, body, signature=sig), 200, "customer message")
        cv, m1 = r.json["conversation"], r.json["message"]
        t.webhook.wait_for_event(created_for(m1))
        ws.recv_events_until(lambda es: any(created_for(m1)(e) for e in es))
        ws.close()

        # Richer content: media with caption and filename, a location with a name.
        check_status(None, post_custom(p, t, {
            "id": "lg-2", "from": {"id": cust},
            "content": {"type": "media", "kind": "file", "caption": M["CAPTION"],
                        "attachments": [{"url": "https://files.example.com/a.pdf",
                                         "mime_type": "application/pdf",
                                         "filename": M["FILENAME"] + ".pdf"}]}}), 200, "media")
        check_status(None, post_custom(p, t, {
            "id": "lg-3", "from": {"id": cust},
            "content": {"type": "location", "latitude": 1.5, "longitude": 2.5,
                        "name": M["LOCNAME"]}}), 200, "location")

        # Bad requests carrying markers: they must be refused without echoing into logs.
        post_custom(p, t, ('{"id":"lg-bad","text":"%s' % M["BADJSON"]).encode())
        post_custom(p, t, customer_message("lg-bad2", cust, "x", name=M["BADNAME"] * 20))
        post_custom(p, t, {"id": "lg-bad3", "from": {"id": cust},
                           "content": {"type": "hologram", "text": M["BADTEXT"]}})
        post_custom(p, t, body, signature="t=1,v1=" + "0" * 64)
        harness.Client(p, "pk_00000000000000000000000000." + M["WRONGKEY"]).get(
            "/v1/conversations")
        harness.Client(p, M["WRONGKEY"]).get("/v1/admin/tenants")

        # The agent answers; the channel first rejects with a body naming the customer.
        t.channel.reject_text = "cannot deliver to %s: %s" % (cust, M["REJECT"])
        t.channel.set_mode("reject")
        agent = {"content": {"type": "text", "text": M["AGENTTEXT"]},
                 "author": {"role": "agent", "name": M["AGENTNAME"]}}
        r = check_status(None, t.client.post("/v1/conversations/%s/messages" % cv, agent), 202,
                         "agent message")
        t.webhook.wait_for_event(status_for(r.json["id"], "failed"), timeout=15)
        t.channel.set_mode("up")
        r = check_status(None, t.client.post("/v1/conversations/%s/messages" % cv, agent), 202,
                         "agent message 2")
        out = r.json["id"]
        t.webhook.wait_for_event(status_for(out, "sent"), timeout=15)
        check_status(None, post_custom(p, t, {
            "type": "status", "message": out, "status": "failed",
            "error": {"code": "blocked", "message": M["PROVERR"] + " " + cust}}), 200, "status")
        t.webhook.wait_for_event(status_for(out, "failed"), timeout=15)

        # Secret rotation, then a message that stays pending (stored, not yet delivered).
        r = check_status(None, p.admin().post("/v1/admin/tenants/%s/endpoints/%s/rotate-secret"
                                              % (t.id, t.endpoint_id), {}), 200, "rotate")
        cls.secrets["ENDPOINT2"] = r.json["secret"]
        t.webhook.secrets.append(r.json["secret"])
        r = check_status(None, post_custom(p, t, customer_message("lg-4", cust, M["TEXT2"])), 200,
                         "text2")
        t.webhook.wait_for_event(created_for(r.json["message"]))
        t.webhook.set_mode("down")
        r = check_status(None, post_custom(p, t, customer_message("lg-5", cust, M["PENDING"])),
                         200, "pending")
        t.webhook.wait_for(lambda reqs: any(M["PENDING"].encode() in x.body for x in reqs),
                           what="a failed attempt carrying the pending message")
        cls.delivered_bodies = b"".join(x.body for x in t.webhook.snapshot())

    # -- scanning
    def log_files(self):
        """The server's output plus any log-like file it wrote in its directories."""
        p = self.parley
        files = list(p.log_paths)
        for root, _, names in os.walk(p.workdir):
            for n in names:
                path = os.path.join(root, n)
                if path not in files and ("log" in n.lower() or "access" in n.lower()):
                    files.append(path)
        return files

    def test_markers_reached_the_client_application(self):
        # Guards the other tests: the markers really flowed through the server.
        for k in ("TEXT", "CUSTNAME", "CAPTION", "PENDING"):
            self.assertIn(M[k].encode(), self.delivered_bodies, "%s was delivered" % k)

    def test_server_stopped_cleanly_on_sigterm(self):
        self.assertEqual(self.exit_code, 0, "exit code after SIGTERM; log tail:\n" +
                         self.parley.log_tail())

    def test_every_log_line_is_json_with_ts_level_event(self):
        lines = self.parley.log_lines()
        self.assertTrue(lines, "the server logged something")
        for raw in lines:
            try:
                line = json.loads(raw)
            except ValueError:
                self.fail("log line is not JSON: %r" % raw[:200])
            for k in ("ts", "level", "event"):
                self.assertIn(k, line, "log line lacks %s: %r" % (k, raw[:200]))

    def test_logs_contain_no_text_secret_key_or_private_data(self):
        found = []
        forbidden = dict(M)
        del forbidden["CUSTID"]  # contact ids: only in warnings and errors (checked below)
        forbidden.update(self.secrets)
        for path in self.log_files():
            with open(path, "rb") as f:
                data = f.read()
            for name, value in forbidden.items():
                if value.encode() in data:
                    line = next(l for l in data.split(b"\n") if value.encode() in l)
                    found.append("%s in %s: %r" % (name, os.path.basename(path), line[:300]))
            for l in data.split(b"\n"):
                if M["CUSTID"].encode() in l:
                    try:
                        level = json.loads(l).get("level")
                    except ValueError:
                        level = None
                    if level not in ("warn", "warning", "error"):
                        found.append("contact id in a %s line: %r" % (level, l[:300]))
        self.assertEqual(found, [], "sensitive values in logs:\n" + "\n".join(found))

    def test_data_dir_holds_no_plaintext_text_secret_or_contact(self):
        forbidden = {k: M[k] for k in ("TEXT", "TEXT2", "PENDING", "AGENTTEXT", "CUSTID",
                                       "CAPTION", "FILENAME", "LOCNAME")}
        forbidden.update({k: v for k, v in self.secrets.items() if k != "SIGNATURE"})
        found = []
        names = []
        for root, _, files in os.walk(self.parley.data_dir):
            for n in files:
                path = os.path.join(root, n)
                names.append(os.path.relpath(path, self.parley.data_dir))
                with open(path, "rb") as f:
                    data = f.read()
                for name, value in forbidden.items():
                    if value.encode() in data:
                        found.append("%s in %s" % (name, os.path.relpath(path,
                                                                         self.parley.data_dir)))
        self.assertTrue(names, "the data directory has files")
        self.assertEqual(found, [], "plaintext at rest (files: %s):\n%s" %
                         (names, "\n".join(found)))

    def test_data_dir_holds_no_plaintext_customer_name(self):
        # Names are private data (DESIGN.md §6, customer private data: encrypted).
        found = []
        for root, _, files in os.walk(self.parley.data_dir):
            for n in files:
                with open(os.path.join(root, n), "rb") as f:
                    data = f.read()
                if M["CUSTNAME"].encode() in data or M["AGENTNAME"].encode() in data:
                    found.append(n)
        self.assertEqual(found, [], "customer/agent name in plaintext in %s" % found)


if __name__ == "__main__":
    harness.main()
