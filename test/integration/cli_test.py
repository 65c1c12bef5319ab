"""Acceptance: the `parley` command line (version, help, normalize, admin subcommands against a
running server), the service endpoints (/healthz, /readyz, /metrics, /v1/openapi.json) and
startup behaviour (admin token file, config errors)."""

import json
import os
import re
import shutil
import stat
import subprocess
import tempfile

import harness
from harness import is_id

SUBCOMMANDS = [["serve"], ["version"], ["normalize"], ["tenant"], ["tenant", "create"],
               ["tenant", "list"], ["tenant", "delete"], ["key"], ["key", "create"],
               ["endpoint"], ["endpoint", "add"], ["connection"], ["connection", "add"]]


def run(args, stdin=None, env_extra=None, token=harness.ADMIN_TOKEN, timeout=20):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    if token is not None:
        env["PARLEY_ADMIN_TOKEN"] = token
    env.update(env_extra or {})
    return subprocess.run([harness.PARLEY_BIN] + args, input=stdin, capture_output=True,
                          env=env, timeout=timeout)


def describe(res):
    return "exit %s\nstdout: %s\nstderr: %s" % (res.returncode, res.stdout[:800],
                                                res.stderr[:800])


class CommandLineTest(harness.ParleyTestCase):
    """Commands that need no server."""

    @classmethod
    def setUpClass(cls):
        cls._receivers = []

    def test_version_prints_the_version(self):
        res = run(["version"])
        self.assertEqual(res.returncode, 0, describe(res))
        self.assertRegex(res.stdout.decode(), r"\d+\.\d+\.\d+", describe(res))

    def test_help_of_every_subcommand_exits_0(self):
        res = run(["--help"])
        self.assertEqual(res.returncode, 0, describe(res))
        out = res.stdout.decode() + res.stderr.decode()
        for name in ("serve", "version", "normalize", "tenant", "key", "endpoint", "connection"):
            self.assertIn(name, out, "--help lists %s" % name)
        for sub in SUBCOMMANDS:
            res = run(sub + ["--help"])
            self.assertEqual(res.returncode, 0, "%s --help: %s" % (" ".join(sub), describe(res)))
            self.assertTrue(res.stdout.strip() or res.stderr.strip(), "help text printed")

    def test_unknown_subcommand_fails_with_a_message(self):
        res = run(["frobnicate"])
        self.assertNotEqual(res.returncode, 0, describe(res))
        self.assertTrue(res.stderr.strip(), "an error on stderr")

    def test_normalize_custom_prints_the_common_format(self):
        msg = {"type": "message", "id": "ext-8812", "from": {"id": "user-42", "name": "Ana"},
               "timestamp": "2026-11-21T09:30:00Z", "reply_to": "ext-8800",
               "content": {"type": "text", "text": "Hello!"}}
        res = run(["normalize", "--channel", "custom"], stdin=json.dumps(msg).encode(),
                  token=None)
        self.assertEqual(res.returncode, 0, describe(res))
        try:
            out = json.loads(res.stdout)
        except ValueError:
            self.fail("normalize output is not JSON: %s" % describe(res))
        # One message, or a batch: a list or {"messages":[…]} (a webhook may carry several).
        if isinstance(out, dict) and isinstance(out.get("messages"), list):
            out = out["messages"]
        if isinstance(out, list):
            self.assertEqual(len(out), 1, "one message normalized: %r" % out)
            out = out[0]
        m = out
        self.assertEqual(m.get("v"), 1, repr(m))
        self.assertEqual(m.get("direction"), "inbound")
        self.assertEqual((m.get("channel") or {}).get("kind"), "custom")
        self.assertEqual((m.get("author") or {}).get("role"), "customer")
        self.assertEqual((m.get("author") or {}).get("name"), "Ana")
        self.assertEqual(m.get("provider_message_id"), "ext-8812")
        self.assertEqual(m.get("content"), {"type": "text", "text": "Hello!"})
        self.assertEqual(harness.parse_rfc3339(m["sent_at"]),
                         harness.parse_rfc3339("2026-11-21T09:30:00Z"), "sent_at")
        self.assertIn("ext-8800", json.dumps(m), "reply_to kept as the provider's id")

    def test_normalize_rejects_bad_input_naming_the_field(self):
        bad = {"id": "x", "from": {}, "content": {"type": "text", "text": "x"}}
        res = run(["normalize", "--channel", "custom"], stdin=json.dumps(bad).encode(),
                  token=None)
        self.assertNotEqual(res.returncode, 0, describe(res))
        self.assertIn(b"from.id", res.stderr, describe(res))
        res = run(["normalize", "--channel", "custom"], stdin=b"{not json", token=None)
        self.assertNotEqual(res.returncode, 0, describe(res))
        res = run(["normalize", "--channel", "no-such-channel"], stdin=b"{}", token=None)
        self.assertNotEqual(res.returncode, 0, describe(res))


class AdminCliTest(harness.ParleyTestCase):

    def cli(self, *args, token=harness.ADMIN_TOKEN, server=None):
        res = run(list(args) + ["--server", server or self.parley.url()], token=token)
        return res

    def cli_json(self, *args):
        res = self.cli(*args)
        self.assertEqual(res.returncode, 0, "parley %s: %s" % (" ".join(args), describe(res)))
        try:
            return json.loads(res.stdout)
        except ValueError:
            self.fail("parley %s printed no JSON: %s" % (" ".join(args), describe(res)))

    def test_admin_cli_manages_tenants_keys_endpoints_connections(self):
        p = self.parley
        tenant = self.cli_json("tenant", "create", "--name", "Cli Co")
        self.assertTrue(is_id(tenant.get("id"), "tn"), repr(tenant))
        self.assertEqual(tenant.get("name"), "Cli Co")
        tid = tenant["id"]

        listed = self.cli_json("tenant", "list")
        items = listed.get("data", []) if isinstance(listed, dict) else listed
        self.assertIn(tid, [x.get("id") for x in items], "tenant list shows it")

        key = self.cli_json("key", "create", "--tenant", tid, "--scopes",
                            "conversations:read,messages:write")
        self.assertTrue(key.get("key", "").startswith("pk_"), repr(key))
        self.assertEqual(sorted(key.get("scopes", [])), ["conversations:read", "messages:write"])
        client = p.client(key["key"])
        self.assertEqual(client.get("/v1/conversations").status, 200, "the new key works")
        self.assertEqual(client.get("/v1/dead-letters").status, 403, "and has only its scopes")

        hook = harness.WebhookReceiver()
        chan = harness.CustomChannelReceiver()
        self._receivers += [hook, chan]
        ep = self.cli_json("endpoint", "add", "--tenant", tid, "--url", hook.url("/hook"))
        self.assertTrue(is_id(ep.get("id"), "ep"), repr(ep))
        self.assertTrue(ep.get("secret", "").startswith("whsec_"), repr(ep))
        hook.secrets = [ep["secret"]]

        conn = self.cli_json("connection", "add", "--tenant", tid, "--kind", "custom",
                             "--outbound-url", chan.url("/out"))
        self.assertTrue(is_id(conn.get("id"), "ch"), repr(conn))
        self.assertEqual(conn.get("kind"), "custom")
        secret = conn.get("secret")
        self.assertTrue(isinstance(secret, str) and len(secret) >= 16,
                        "generated secret returned once: %r" % conn)

        # The pieces work together: a customer message reaches the endpoint.
        t = harness.Tenant()
        t.id, t.connection_id, t.connection_secret = tid, conn["id"], secret
        ans = harness.send_customer(self, p, t, "cli-1", "cli-user", "hello")
        ev = hook.wait_for_event(harness.created_for(ans["message"]))
        self.assertEqual(ev["tenant"], tid)
        self.assertTrue(hook.accepted()[0].verified, "signed with the endpoint secret")

        res = self.cli("tenant", "delete", "--tenant", tid)
        self.assertEqual(res.returncode, 0, describe(res))
        self.assertEqual(p.admin().get("/v1/admin/tenants/%s" % tid).status, 404,
                         "tenant deleted")
        self.assertEqual(client.get("/v1/conversations").status, 401, "its keys are gone")
        r = harness.post_custom(p, t, harness.customer_message("cli-2", "cli-user"))
        self.assertEqual(r.status, 404, "its connection is gone: %r" % r)

    def test_admin_cli_fails_clearly_without_token_or_server(self):
        res = self.cli("tenant", "list", token=None)
        self.assertNotEqual(res.returncode, 0, describe(res))
        res = self.cli("tenant", "list", token="wrong-token-value")
        self.assertNotEqual(res.returncode, 0, describe(res))
        self.assertTrue(res.stderr.strip() or b'"error"' in res.stdout,
                        "an error message (stderr, or the API's error JSON on stdout)")
        self.assertNotIn(b"wrong-token-value", res.stdout + res.stderr, "token not echoed")
        res = self.cli("tenant", "list", server="http://127.0.0.1:1")
        self.assertNotEqual(res.returncode, 0, describe(res))
        self.assertTrue(res.stderr.strip(), "error message on stderr")
        self.assertNotIn(b"Traceback", res.stderr)
        res = self.cli("tenant", "delete", "--tenant", "tn_00000000000000000000000000")
        self.assertNotEqual(res.returncode, 0, "deleting an unknown tenant: " + describe(res))


class ServiceEndpointsTest(harness.ParleyTestCase):

    def test_health_and_readiness(self):
        p = self.parley
        r = harness.http_request(p.port, "GET", "/healthz")
        self.assertEqual((r.status, r.json), (200, {"status": "ok"}), repr(r))
        r = harness.http_request(p.port, "GET", "/readyz")
        self.assertEqual((r.status, r.json), (200, {"status": "ready"}), repr(r))

    def test_metrics_count_requests_and_messages(self):
        p = self.parley
        t = self.bootstrap()
        harness.send_customer(self, p, t, "met-1", "met-user", "x")
        r = harness.http_request(p.port, "GET", "/metrics")
        self.assertEqual(r.status, 200, repr(r))
        self.assertTrue((r.header("content-type") or "").startswith("text/plain"),
                        "Prometheus content type: %r" % r.header("content-type"))
        text = r.body.decode()
        self.assertRegex(text, r"(?m)^parley_http_requests_total(\{[^}]*\})? \d", "requests")
        m = re.search(r'(?m)^parley_messages_in_total\{[^}]*channel="custom"[^}]*\} (\d+)', text)
        self.assertTrue(m, "parley_messages_in_total{channel=\"custom\"} present")
        self.assertGreaterEqual(int(m.group(1)), 1)
        for name in ("parley_store_commits_total", "parley_store_writes_total",
                     "parley_store_failed_commits_total", "parley_store_batches_run_again_total",
                     "parley_store_wal_restarts_total", "parley_open_streams",
                     "parley_outbox_depth"):
            self.assertRegex(text, r"(?m)^%s \d" % name, name)
        # The store's transactions so far (the bootstrap's and the message's) in its timings.
        # At most the commits counted: the histograms render before the store's counters
        # (registration order), and a commit is counted before its times are observed.
        commits = int(re.search(r"(?m)^parley_store_commits_total (\d+)", text).group(1))
        for name in ("queue", "statements", "commit", "wal_sync"):
            m = re.search(r"(?m)^parley_store_%s_seconds_count (\d+)" % name, text)
            self.assertTrue(m, name)
            self.assertGreaterEqual(int(m.group(1)), 1, name)
            self.assertLessEqual(int(m.group(1)), commits, name)
        self.assertNotIn(t.connection_secret, text, "no secrets in metrics")
        self.assertNotIn("met-user", text, "no contact ids in metrics")

    def test_openapi_document(self):
        r = harness.http_request(self.parley.port, "GET", "/v1/openapi.json")
        self.assertEqual(r.status, 200, repr(r))
        self.assertIsInstance(r.json, dict, "parses as JSON")
        self.assertRegex(str(r.json.get("openapi")), r"^3\.1\.\d+$")
        paths = r.json.get("paths", {})
        for path in ("/v1/conversations", "/v1/conversations/{conversation}/messages",
                     "/v1/webhooks/{connection}", "/v1/admin/tenants", "/v1/dead-letters"):
            self.assertIn(path, paths, "openapi documents %s" % path)


class StartupTest(harness.ParleyTestCase):
    """Each test starts its own server."""

    @classmethod
    def setUpClass(cls):
        cls._receivers = []

    def serve_must_fail(self, extra_args, extra_env, config_text=None):
        d = tempfile.mkdtemp(prefix="parley-it-start-")
        self.addCleanup(shutil.rmtree, d, True)
        args = [harness.PARLEY_BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir",
                os.path.join(d, "data")] + extra_args
        if config_text is not None:
            cfg = os.path.join(d, "config.toml")
            with open(cfg, "w") as f:
                f.write(config_text)
            args += ["--config", cfg]
        env = {"PATH": os.environ.get("PATH", ""), "PARLEY_ADMIN_TOKEN": harness.ADMIN_TOKEN}
        env.update(extra_env)
        try:
            res = subprocess.run(args, capture_output=True, timeout=10, env=env)
        except subprocess.TimeoutExpired:
            self.fail("parley serve kept running with %r %r" % (extra_env, config_text))
        self.assertNotEqual(res.returncode, 0, describe(res))
        return res

    def test_admin_token_generated_into_data_dir_when_not_configured(self):
        p = harness.Parley(env=harness.FAST_DELIVERY_ENV, admin_token=None)
        try:
            p.start()
            path = os.path.join(p.data_dir, "admin.token")
            self.assertTrue(os.path.exists(path), "admin.token written")
            mode = stat.S_IMODE(os.stat(path).st_mode)
            self.assertEqual(mode, 0o600, "admin.token mode %o" % mode)
            token = open(path).read().strip()
            self.assertTrue(token)
            self.assertEqual(harness.Client(p, token).get("/v1/admin/tenants").status, 200)
            self.assertNotIn(token.encode(), p.log_bytes(), "token not logged")
            p.restart()
            self.assertEqual(open(path).read().strip(), token, "same token after restart")
        finally:
            p.cleanup()

    def test_config_with_unknown_key_fails_startup_naming_it(self):
        res = self.serve_must_fail([], {}, "[server]\nno_such_setting_xyz = 1\n")
        self.assertIn(b"no_such_setting_xyz", res.stderr + res.stdout, describe(res))

    def test_bad_environment_override_fails_startup(self):
        res = self.serve_must_fail([], {"PARLEY_SERVER__MAX_BODY_BYTES": "lots"})
        self.assertIn(b"max_body_bytes", (res.stderr + res.stdout).lower(), describe(res))

    def test_sigterm_stops_cleanly(self):
        p = harness.Parley(env=harness.FAST_DELIVERY_ENV)
        try:
            p.start()
            self.assertEqual(p.stop(), 0, "exit code after SIGTERM:\n" + p.log_tail())
        finally:
            p.cleanup()


if __name__ == "__main__":
    harness.main()
