"""Acceptance: inbound authentication, input limits and validation, dedupe, admin and key
authorization, tenant isolation over every route of docs/api.md, no secrets in answers,
X-Request-Id and the error shape everywhere."""

import json
import time

import harness
from harness import (created_for, created_with_provider_id, customer_message, http_request,
                     post_custom, send_customer)

MAX_BODY = 4096
NO_SUCH = {p: "%s_00000000000000000000000000" % p for p in ("tn", "pk", "ep", "ch", "cu", "cv",
                                                             "msg", "ev", "dl")}


class InboundSecurityTest(harness.ParleyTestCase):
    ENV = dict(harness.FAST_DELIVERY_ENV, PARLEY_SERVER__MAX_BODY_BYTES=str(MAX_BODY))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.t = cls.bootstrap()

    def assertNothingStoredFor(self, from_id, ext_ids):
        """Nothing from `from_id` was stored: no customer, and a later valid message of that
        customer is the first event of its conversation (per-conversation order)."""
        t, p = self.t, self.parley
        r = t.client.get("/v1/customers?channel=custom&contact=" + from_id)
        self.assertEqual(r.status, 404, "customer %s must not exist: %r" % (from_id, r))
        sentinel = send_customer(self, p, t, "sentinel-" + from_id, from_id, "ok")
        t.webhook.wait_for_event(created_for(sentinel["message"]))
        for ext in ext_ids:
            self.assertEqual(t.webhook.events(pred=created_with_provider_id(ext)), [],
                             "rejected message %s was delivered" % ext)
        r = t.client.get("/v1/conversations/%s/messages" % sentinel["conversation"])
        if r.status == 200:
            provider_ids = [m.get("provider_message_id") for m in r.json["data"]]
            for ext in ext_ids:
                self.assertNotIn(ext, provider_ids, "rejected message %s stored" % ext)

    def test_bad_signatures_are_401_and_store_nothing(self):
        t, p = self.t, self.parley
        now = int(time.time())
        body = json.dumps(customer_message("bad-1", "user-bad", "x")).encode()
        other = json.dumps(customer_message("bad-2", "user-bad", "y")).encode()
        cases = {
            "wrong secret": harness.sign("not-the-secret-0123456789", body),
            "missing header": None,
            "malformed header": "garbage",
            "no v1": "t=%d" % now,
            "non-hex v1": "t=%d,v1=zz" % now,
            "stale timestamp": harness.sign(t.connection_secret, body, now - 600),
            "future timestamp": harness.sign(t.connection_secret, body, now + 600),
            "signature over another body": harness.sign(t.connection_secret, other),
        }
        for what, sig in cases.items():
            r = post_custom(p, t, body, signature=sig)
            self.assertEqual(r.status, 401, "%s: %r" % (what, r))
            self.assertErrorShape(r, "unauthenticated", what)
        self.assertNothingStoredFor("user-bad", ["bad-1", "bad-2"])

    def test_body_over_limit_is_413(self):
        t, p = self.t, self.parley
        big = customer_message("big-1", "user-big", "x" * (MAX_BODY + 100))
        r = post_custom(p, t, big)
        self.assertEqual(r.status, 413, repr(r))
        self.assertErrorShape(r, "payload_too_large")
        # Just under the limit is accepted.
        base = len(json.dumps(customer_message("big-2", "user-big", "")).encode())
        ok = customer_message("big-2", "user-big", "y" * (MAX_BODY - base - 10))
        r = post_custom(p, t, ok)
        self.assertEqual(r.status, 200, "body under the limit: %r" % r)

    def test_malformed_inputs_are_400_naming_the_field(self):
        t, p = self.t, self.parley
        cases = [
            ("malformed JSON", b'{"id": "m-1", "from": {', None),
            ("not an object", b'[1,2,3]', None),
            ("missing from.id", {"id": "m-2", "from": {"name": "A"},
                                 "content": {"type": "text", "text": "x"}}, "from.id"),
            ("missing id", {"from": {"id": "user-m"}, "content": {"type": "text", "text": "x"}},
             "id"),
            ("missing content", {"id": "m-3", "from": {"id": "user-m"}}, "content"),
            ("id too long", customer_message("i" * 257, "user-m"), "id"),
            ("from.id too long", customer_message("m-4", "u" * 257), "from.id"),
            ("unknown content type", {"id": "m-5", "from": {"id": "user-m"},
                                      "content": {"type": "hologram"}}, "content"),
            ("outbound-only content inbound", {"id": "m-6", "from": {"id": "user-m"},
                                               "content": {"type": "template", "name": "t",
                                                           "language": "en"}}, "content"),
            ("bad timestamp", customer_message("m-7", "user-m", timestamp="yesterday"),
             "timestamp"),
            ("bad type", dict(customer_message("m-8", "user-m"), type="shout"), "type"),
            ("id wrong type", dict(customer_message("m-9", "user-m"), id=42), "id"),
        ]
        for what, payload, field in cases:
            r = post_custom(p, t, payload)
            self.assertEqual(r.status, 400, "%s: %r" % (what, r))
            self.assertErrorShape(r, "invalid_argument", what)
            if field:
                self.assertIn(field, r.json["error"]["message"],
                              "%s: error.message names the field" % what)
        self.assertNothingStoredFor("user-m", ["m-%d" % i for i in range(1, 10)])

    def test_unknown_connection_is_404(self):
        t, p = self.t, self.parley
        r = post_custom(p, t, customer_message("nc-1"), connection_id=NO_SUCH["ch"])
        self.assertEqual(r.status, 404, repr(r))
        self.assertErrorShape(r, "not_found")

    def test_duplicate_message_id_is_200_duplicate_and_delivered_once(self):
        t, p = self.t, self.parley
        first = send_customer(self, p, t, "dup-1", "user-dup", "once")
        again = send_customer(self, p, t, "dup-1", "user-dup", "once")
        self.assertIs(first["duplicate"], False)
        self.assertIs(again["duplicate"], True, "second post answers duplicate: %r" % again)
        self.assertEqual(again["message"], first["message"])
        self.assertEqual(again["conversation"], first["conversation"])
        sentinel = send_customer(self, p, t, "dup-2", "user-dup", "after")
        t.webhook.wait_for_event(created_for(sentinel["message"]))
        self.assertEqual(len(t.webhook.events(pred=created_with_provider_id("dup-1"))), 1,
                         "duplicate delivered once")

    def test_admin_routes_require_the_operator_token(self):
        p = self.parley
        for token in (None, "wrong-token", self.t.key):
            for method, path in (("GET", "/v1/admin/tenants"), ("POST", "/v1/admin/tenants"),
                                 ("GET", "/v1/admin/tenants/%s" % self.t.id)):
                r = harness.Client(p, token).request(method, path,
                                                     {"name": "x"} if method == "POST" else None)
                if token == self.t.key:
                    # A tenant admin key may read its own tenant but never list or create.
                    if path.endswith(self.t.id):
                        continue
                    self.assertIn(r.status, (401, 403), "tenant key on %s %s: %r" %
                                  (method, path, r))
                else:
                    self.assertEqual(r.status, 401, "token %r on %s %s: %r" %
                                     (token, method, path, r))
                    self.assertErrorShape(r, "unauthenticated")

    def test_client_routes_require_a_valid_key(self):
        p, t = self.parley, self.t
        key_id = t.key.split(".")[0]
        for token in (None, "garbage", key_id + ".wrong-secret", t.key + "x"):
            r = harness.Client(p, token).get("/v1/conversations")
            self.assertEqual(r.status, 401, "token %r: %r" % (token, r))
            self.assertErrorShape(r, "unauthenticated")
        r = p.admin().get("/v1/conversations")
        self.assertIn(r.status, (401, 403), "operator token is not a tenant key: %r" % r)

    def test_scopes_are_enforced(self):
        p, t = self.parley, self.t
        cv = send_customer(self, p, t, "scope-1", "user-scope", "x")["conversation"]
        admin = p.admin()

        def key(scopes):
            r = admin.post("/v1/admin/tenants/%s/api-keys" % t.id, {"name": "k", "scopes": scopes})
            self.assertEqual(r.status, 201, repr(r))
            return p.client(r.json["key"])

        reader = key(["conversations:read"])
        writer = key(["messages:write"])
        send = {"content": {"type": "text", "text": "x"}, "author": {"role": "agent"}}
        r = reader.post("/v1/conversations/%s/messages" % cv, send)
        self.assertEqual(r.status, 403, "send without messages:write: %r" % r)
        self.assertErrorShape(r, "permission_denied")
        self.assertEqual(reader.get("/v1/conversations/%s" % cv).status, 200)
        checks = [
            (reader, "POST", "/v1/conversations/%s/end" % cv),
            (reader, "GET", "/v1/dead-letters"),
            (reader, "GET", "/v1/customers?channel=custom&contact=user-scope"),
            (reader, "GET", "/v1/admin/tenants/%s/api-keys" % t.id),
            (writer, "GET", "/v1/conversations"),
            (writer, "GET", "/v1/conversations/%s/messages" % cv),
        ]
        for client, method, path in checks:
            r = client.request(method, path, {} if method == "POST" else None)
            self.assertEqual(r.status, 403, "%s %s with too few scopes: %r" % (method, path, r))
        with self.assertRaises(harness.WebSocketRejected) as cm:
            harness.open_stream(p, writer.token)
        self.assertEqual(cm.exception.status, 403, "stream without conversations:read")
        r = writer.post("/v1/conversations/%s/messages" % cv, send)
        self.assertEqual(r.status, 202, "messages:write may send: %r" % r)
        r = admin.post("/v1/admin/tenants/%s/api-keys" % t.id,
                       {"name": "k", "scopes": ["everything"]})
        self.assertEqual(r.status, 400, "unknown scope: %r" % r)

    def test_every_response_has_request_id_and_errors_have_the_shape(self):
        p, t = self.parley, self.t
        admin = p.admin()
        calls = [
            (None, "GET", "/healthz", None, 200),
            (None, "GET", "/readyz", None, 200),
            (None, "GET", "/metrics", None, 200),
            (None, "GET", "/v1/openapi.json", None, 200),
            (None, "GET", "/v1/no-such-route", None, 404),
            (admin.token, "PUT", "/v1/admin/tenants", {}, 405),
            (admin.token, "POST", "/v1/admin/tenants", b"{", 400),
            (admin.token, "POST", "/v1/admin/tenants", {"name": ""}, 400),
            (admin.token, "POST", "/v1/admin/tenants", {"name": "x" * (MAX_BODY + 1)}, 413),
            (admin.token, "GET", "/v1/admin/tenants/%s" % NO_SUCH["tn"], None, 404),
            (admin.token, "GET", "/v1/admin/tenants/not-an-id", None, (400, 404)),
            (None, "GET", "/v1/conversations", None, 401),
            (t.key, "GET", "/v1/conversations/%s" % NO_SUCH["cv"], None, 404),
            (t.key, "GET", "/v1/conversations?limit=0", None, 400),
            (t.key, "GET", "/v1/conversations?limit=501", None, 400),
            (t.key, "GET", "/v1/conversations?state=sleeping", None, 400),
            (t.key, "GET", "/v1/customers?channel=custom", None, 400),
        ]
        codes = {400: "invalid_argument", 401: "unauthenticated", 404: "not_found",
                 405: "method_not_allowed", 413: "payload_too_large"}
        seen = set()
        for token, method, path, body, status in calls:
            r = harness.Client(p, token).request(method, path, body)
            what = "%s %s" % (method, path[:60])
            allowed = status if isinstance(status, tuple) else (status,)
            self.assertIn(r.status, allowed, "%s: %r" % (what, r))
            status = r.status
            rid = r.header("X-Request-Id")
            self.assertTrue(rid, "%s: X-Request-Id missing" % what)
            self.assertNotIn(rid, seen, "X-Request-Id unique")
            seen.add(rid)
            if status >= 400:
                self.assertErrorShape(r, codes[status], what)
        r = post_custom(p, t, b"{", signature="bad")
        self.assertTrue(r.header("X-Request-Id"), "channel webhook answers carry X-Request-Id")


class TenantIsolationTest(harness.ParleyTestCase):
    """Tenant B (admin-scoped key) probes every route with tenant A's ids."""
    ENV = dict(harness.FAST_DELIVERY_ENV, PARLEY_DELIVERY__MAX_RETRY_AGE_S="2")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        p, check = cls.parley, harness.check_status
        cls.a = a = cls.bootstrap(name="tenant-a")
        cls.b = b = cls.bootstrap(name="tenant-b")
        # Data in A: a conversation with an inbound and an outbound message, and a dead
        # letter (a second endpoint that is always down).
        cls.a_in = send_customer(None, p, a, "a-1", "shared-contact", "a text")
        cls.a_cv = cls.a_in["conversation"]
        cls.a_cu = a.webhook.wait_for_event(created_for(cls.a_in["message"]))["data"][
            "author"]["customer"]
        r = check(None, a.client.post("/v1/conversations/%s/messages" % cls.a_cv,
                                      {"content": {"type": "text", "text": "agent a"},
                                       "author": {"role": "agent", "name": "A"}}),
                  202, "A's agent message")
        cls.a_out = r.json["id"]
        a.channel.wait_for_message(cls.a_out)
        dead = harness.WebhookReceiver()
        dead.set_mode("down")
        cls._receivers.append(dead)
        r = check(None, p.admin().post("/v1/admin/tenants/%s/endpoints" % a.id,
                                       {"url": dead.url("/dead")}), 201, "A's dead endpoint")
        cls.a_dead_ep = r.json["id"]
        send_customer(None, p, a, "a-2", "shared-contact", "for the dead letter")
        cls.a_dl = harness.wait_until(
            lambda: a.client.get("/v1/dead-letters").json["data"], timeout=20,
            what="a dead letter in tenant A")[0]["id"]
        cls.a_ev = a.webhook.events()[-1]["id"]
        # Data in B, with the same contact id.
        b_in = send_customer(None, p, b, "b-1", "shared-contact", "b text")
        cls.b_cv = b_in["conversation"]
        cls.b_cu = b.webhook.wait_for_event(created_for(b_in["message"]))["data"]["author"][
            "customer"]

    def snapshot_a(self):
        admin, a = self.parley.admin(), self.a
        paths = ["/v1/admin/tenants/%s" % a.id,
                 "/v1/admin/tenants/%s/api-keys" % a.id,
                 "/v1/admin/tenants/%s/endpoints" % a.id,
                 "/v1/admin/tenants/%s/endpoints/%s" % (a.id, a.endpoint_id),
                 "/v1/admin/tenants/%s/connections" % a.id,
                 "/v1/admin/tenants/%s/connections/%s" % (a.id, a.connection_id)]
        snap = {}
        for path in paths:
            r = admin.get(path)
            self.assertEqual(r.status, 200, "%s: %r" % (path, r))
            snap[path] = r.json
        for path in ["/v1/conversations/%s" % self.a_cv, "/v1/customers/%s" % self.a_cu,
                     "/v1/conversations?state=open"]:
            r = a.client.get(path)
            self.assertEqual(r.status, 200, "%s: %r" % (path, r))
            snap[path] = r.json
        # (Dead letters may still grow while the dead endpoint's events age out.)
        snap["dead-letters"] = self.a_dl in [d["id"] for d in a.client.get(
            "/v1/dead-letters").json["data"]]
        return snap

    def test_other_tenant_gets_404_on_every_route_and_changes_nothing(self):
        p, a, b = self.parley, self.a, self.b
        before = self.snapshot_a()
        channel_posts_before = len(a.channel.snapshot())
        send = {"content": {"type": "text", "text": "from b"}, "author": {"role": "agent"}}
        ta = "/v1/admin/tenants/%s" % a.id
        tb = "/v1/admin/tenants/%s" % b.id
        probes = [
            ("GET", "/v1/conversations/%s" % self.a_cv, None),
            ("GET", "/v1/conversations/%s/messages" % self.a_cv, None),
            ("POST", "/v1/conversations/%s/messages" % self.a_cv, send),
            ("POST", "/v1/conversations/%s/end" % self.a_cv, {}),
            ("GET", "/v1/customers/%s" % self.a_cu, None),
            ("POST", "/v1/dead-letters/%s/replay" % self.a_dl, {}),
            ("GET", ta, None),
            ("POST", ta + "/api-keys", {"name": "evil", "scopes": ["admin"]}),
            ("GET", ta + "/api-keys", None),
            ("DELETE", ta + "/api-keys/%s" % a.key_id, None),
            ("POST", ta + "/endpoints", {"url": "http://127.0.0.1:9/evil"}),
            ("GET", ta + "/endpoints", None),
            ("GET", ta + "/endpoints/%s" % a.endpoint_id, None),
            ("POST", ta + "/endpoints/%s/rotate-secret" % a.endpoint_id, {}),
            ("DELETE", ta + "/endpoints/%s" % a.endpoint_id, None),
            ("POST", ta + "/connections", {"kind": "custom", "name": "evil",
                                           "settings": {"outbound_url": "http://127.0.0.1:9/"}}),
            ("GET", ta + "/connections", None),
            ("GET", ta + "/connections/%s" % a.connection_id, None),
            ("DELETE", ta + "/connections/%s" % a.connection_id, None),
            ("DELETE", ta, None),
            # B's own tenant path with A's object ids.
            ("DELETE", tb + "/api-keys/%s" % a.key_id, None),
            ("GET", tb + "/endpoints/%s" % a.endpoint_id, None),
            ("POST", tb + "/endpoints/%s/rotate-secret" % a.endpoint_id, {}),
            ("DELETE", tb + "/endpoints/%s" % a.endpoint_id, None),
            ("GET", tb + "/connections/%s" % a.connection_id, None),
            ("DELETE", tb + "/connections/%s" % a.connection_id, None),
        ]
        for method, path, body in probes:
            r = b.client.request(method, path, body)
            if (method, path) == ("DELETE", ta):
                # Deleting a tenant may be operator-only (api.md leaves it open). Then a tenant
                # key is refused alike for A's id and for an id that does not exist: no oracle.
                unknown = b.client.delete("/v1/admin/tenants/%s" % NO_SUCH["tn"])
                if r.status in (401, 403):
                    self.assertEqual((r.status, unknown.status), (unknown.status, r.status))
                    self.assertEqual(r.json, unknown.json, "same answer as for no tenant")
                    continue
            self.assertEqual(r.status, 404, "B's key: %s %s answered %r" % (method, path, r))
            self.assertErrorShape(r, "not_found", "%s %s" % (method, path))
        # The operator token on B's path with A's object ids: also 404.
        for method, path, body in probes[-6:]:
            r = p.admin().request(method, path, body)
            self.assertEqual(r.status, 404, "operator: %s %s answered %r" % (method, path, r))

        # Lookups and lists answer B's own data only.
        r = b.client.get("/v1/customers?channel=custom&contact=shared-contact")
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.json["id"], self.b_cu, "blind-index lookup stays in tenant B")
        listed = [c["id"] for c in b.client.get("/v1/conversations").json["data"]]
        self.assertIn(self.b_cv, listed)
        self.assertNotIn(self.a_cv, listed, "B's list never shows A's conversation")
        dls = [d["id"] for d in b.client.get("/v1/dead-letters").json["data"]]
        self.assertNotIn(self.a_dl, dls)
        # A's connection refuses B's secret; B's stream cannot resume from A's events.
        r = post_custom(p, a, customer_message("b-evil", "x"), secret=b.connection_secret)
        self.assertEqual(r.status, 401, "A's channel webhook signed with B's secret: %r" % r)
        ws = harness.open_stream(p, b.key, last_event_id=self.a_ev)
        try:
            with self.assertRaises(harness.WebSocketClosed) as cm:
                ws.recv_events_until(lambda es: False, timeout=5)
            self.assertEqual(cm.exception.code, 4404, "B resuming from A's event id")
        finally:
            ws.close()

        # A is unchanged and still works.
        self.assertEqual(self.snapshot_a(), before, "A's data changed")
        self.assertEqual(len(a.channel.snapshot()), channel_posts_before,
                         "B's send reached A's channel")
        m = send_customer(self, p, a, "a-3", "shared-contact", "still fine")["message"]
        rec = a.webhook.wait_for(lambda reqs: next(
            (r for r in reqs if r.json and any(created_for(m)(e) for e in r.json["events"])),
            None))
        self.assertSignedBy(rec, [a.endpoint_secret], "A's secret was not rotated by B")

    def test_live_stream_of_one_tenant_never_shows_another(self):
        p, a, b = self.parley, self.a, self.b
        ws = harness.open_stream(p, b.key)
        try:
            ma = send_customer(self, p, a, "live-a", "shared-contact", "a")["message"]
            a.webhook.wait_for_event(created_for(ma))
            mb = send_customer(self, p, b, "live-b", "shared-contact", "b")["message"]
            got = ws.recv_events_until(lambda es: any(created_for(mb)(e) for e in es))
            for e in got:
                self.assertEqual(e.get("tenant"), b.id, "B's stream got %r" % e)
        finally:
            ws.close()

    def test_secrets_never_returned_after_creation(self):
        p, a = self.parley, self.a
        admin = p.admin()
        secrets = [a.endpoint_secret, a.connection_secret, a.key.split(".", 1)[1]]
        ta = "/v1/admin/tenants/%s" % a.id
        r = admin.post(ta + "/connections", {"kind": "custom", "name": "generated",
                                             "settings": {"outbound_url": a.channel.url()}})
        self.assertEqual(r.status, 201, repr(r))
        gen = r.json.get("secret")
        self.assertTrue(isinstance(gen, str) and len(gen) >= 16,
                        "a generated custom secret is returned once: %r" % r.json)
        secrets.append(gen)
        for path in (ta, ta + "/api-keys", ta + "/endpoints",
                     ta + "/endpoints/%s" % a.endpoint_id, ta + "/connections",
                     ta + "/connections/%s" % a.connection_id,
                     ta + "/connections/%s" % r.json["id"]):
            for client in (admin, a.client):
                r2 = client.get(path)
                self.assertEqual(r2.status, 200, "%s: %r" % (path, r2))
                for s in secrets:
                    self.assertNotIn(s.encode(), r2.body, "%s returns a secret" % path)
                text = json.dumps(r2.json)
                self.assertNotIn('"credentials"', text, "%s returns credentials" % path)
                self.assertNotIn('"secret"', text, "%s has a secret field" % path)
                self.assertNotIn('"key"', text, "%s has a key field" % path)


if __name__ == "__main__":
    harness.main()
