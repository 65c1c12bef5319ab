"""Acceptance: the web chat channel over HTTP, as a widget and a client application use it.

A web connection needs allowed origins; the widget socket and uploads refuse other origins
and too many sockets from one IP; a visitor's message reaches the client application with the
chat context; typing and read receipts travel both ways through the client API; another
tenant's key cannot touch the conversation; ending it clears the ephemeral records."""

import json
import secrets

import harness
from attachments_test import PNG
from websocket_client import WebSocket, WebSocketRejected

ORIGIN = "https://shop.example"


class WebChatTest(harness.ParleyTestCase):
    ENV = dict(harness.FAST_DELIVERY_ENV, PARLEY_WEB__SOCKETS_PER_IP_PER_MINUTE="12")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = cls.bootstrap()
        cls.b = cls.bootstrap()
        r = cls.parley.admin().post(
            "/v1/admin/tenants/%s/connections" % cls.a.id,
            {"kind": "web", "name": "site",
             "settings": {"allowed_origins": [ORIGIN + ":443"], "cookie_names": ["plan"]}})
        assert r.status == 201, r
        cls.web = r.json["id"]
        cls.private_secret = r.json["private_data_secret"]
        cls.sockets_opened = 0

    def widget(self, origin=ORIGIN, headers=None):
        type(self).sockets_opened += 1
        h = {"Origin": origin, "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac "
             "OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"}
        h.update(headers or {})
        return WebSocket(self.parley.port, "/v1/web/%s/socket" % self.web, headers=h)

    @staticmethod
    def event(stream, pred):
        """The first stream event matching `pred`."""
        got = stream.recv_events_until(lambda es: any(pred(e) for e in es))
        return next(e for e in got if pred(e))

    @staticmethod
    def frame(ws, type_=None):
        for _ in range(20):
            f = json.loads(ws.recv_text())
            if type_ is None or f["type"] == type_:
                return f
        raise AssertionError("no %s frame" % type_)

    def test_connection_settings_are_checked(self):
        admin = self.parley.admin()
        r = admin.post("/v1/admin/tenants/%s/connections" % self.a.id,
                       {"kind": "web", "name": "x", "settings": {}})
        self.assertEqual(r.status, 400, r)
        self.assertIn("settings.allowed_origins", r.json["error"]["message"])
        r = admin.post("/v1/admin/tenants/%s/connections" % self.a.id,
                       {"kind": "web", "name": "x",
                        "settings": {"allowed_origins": ["https://a.example/path"]}})
        self.assertEqual(r.status, 400, r)
        # The private data secret is shown once, never again.
        r = admin.get("/v1/admin/tenants/%s/connections/%s" % (self.a.id, self.web))
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(self.private_secret, r.body.decode())
        # A web connection takes no webhooks.
        r = harness.http_request(self.parley.port, "POST", "/v1/webhooks/" + self.web, body=b"{}")
        self.assertEqual(r.status, 401, r)

    def test_other_origins_are_refused_everywhere(self):
        for origin in ("https://evil.example", "http://shop.example", "null"):
            with self.assertRaises(WebSocketRejected) as refused:
                self.widget(origin=origin)
            self.assertEqual(refused.exception.status, 403, origin)
            self.assertIn(b"origin_not_allowed", refused.exception.body)
        r = harness.http_request(self.parley.port, "OPTIONS",
                                 "/v1/web/%s/attachments" % self.web,
                                 headers={"Origin": "https://evil.example"})
        self.assertEqual(r.status, 403, r)
        r = harness.http_request(self.parley.port, "POST",
                                 "/v1/web/%s/attachments?filename=a.png" % self.web, body=PNG,
                                 headers={"Origin": "https://evil.example",
                                          "Content-Type": "image/png",
                                          "X-Parley-Session": "wst_" + "A" * 43})
        self.assertEqual(r.status, 403, r)
        # Unknown connections and connections of another kind look the same: 404.
        with self.assertRaises(WebSocketRejected) as refused:
            WebSocket(self.parley.port, "/v1/web/%s/socket" % self.a.connection_id,
                      headers={"Origin": ORIGIN})
        self.assertEqual(refused.exception.status, 404)

    def test_a_visit_with_typing_read_receipts_and_an_image(self):
        stream = harness.open_stream(self.parley, self.a.key)
        ws = self.widget()
        ws.send_text(json.dumps({"type": "hello", "cookies": {"plan": "gold", "other": "x"},
                                 "page": "https://shop.example/shoes"}))
        welcome = self.frame(ws, "welcome")
        session = welcome["session"]

        # An upload from the allowed origin, answered with CORS headers.
        r = harness.http_request(self.parley.port, "OPTIONS", "/v1/web/%s/attachments" % self.web,
                                 headers={"Origin": ORIGIN})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.header("access-control-allow-origin"), ORIGIN)
        r = harness.http_request(self.parley.port, "POST",
                                 "/v1/web/%s/attachments?filename=p.png" % self.web, body=PNG,
                                 headers={"Origin": ORIGIN, "Content-Type": "image/png"})
        self.assertEqual(r.status, 401, r)  # no session token
        r = harness.http_request(self.parley.port, "POST",
                                 "/v1/web/%s/attachments?filename=p.png" % self.web, body=PNG,
                                 headers={"Origin": ORIGIN, "Content-Type": "image/png",
                                          "X-Parley-Session": session})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.header("access-control-allow-origin"), ORIGIN)
        attachment = r.json["id"]

        ws.send_text(json.dumps({"type": "message", "client_id": "m1",
                                 "content": {"type": "text", "text": "Do you have size 44?"}}))
        ack = self.frame(ws, "ack")
        # A second tab of the visit: it gets the visitor's messages as `message` frames.
        tab = self.widget()
        tab.send_text(json.dumps({"type": "hello", "session": session,
                                  "cookies": {"plan": "gold", "other": "x"},
                                  "page": "https://shop.example/shoes"}))
        self.frame(tab, "welcome")
        ws.send_text(json.dumps({"type": "message", "client_id": "m2",
                                 "content": {"type": "media", "kind": "image",
                                             "attachments": [{"id": attachment}]}}))
        media_ack = self.frame(ws, "ack")
        self.assertIn("signature=", media_ack["message"]["content"]["attachments"][0]["url"])
        in_tab = self.frame(tab, "message")["message"]
        self.assertEqual(in_tab["id"], media_ack["message"]["id"])
        self.assertIn("signature=", in_tab["content"]["attachments"][0]["url"])
        tab.close()
        created = self.event(stream, harness.created_for(ack["message"]["id"]))
        conversation = created["data"]["conversation"]
        self.assertEqual(created["data"]["channel"]["kind"], "web")

        # The client application sees the context and the listed cookie only.
        r = self.a.client.get("/v1/conversations/" + conversation)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["context"]["ip"], "127.0.0.1")
        self.assertEqual(r.json["context"]["device"]["type"], "mobile")
        self.assertEqual(r.json["context"]["page"], "https://shop.example/shoes")
        self.assertEqual(r.json["cookies"], {"plan": "gold"})
        self.assertIsNone(r.json["private_data"])

        # Typing both ways.
        ws.send_text(json.dumps({"type": "typing", "on": True}))
        typing = self.event(stream, harness.of_type("typing"))
        self.assertEqual(typing["data"], {"conversation": conversation, "role": "customer",
                                          "on": True})
        r = self.a.client.post("/v1/conversations/%s/typing" % conversation, {"on": True})
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.frame(ws, "typing"), {"type": "typing", "on": True, "role": "agent"})

        # The agent reads and replies; the widget shows both and reports its own read.
        r = self.a.client.post("/v1/conversations/%s/read" % conversation,
                               {"message": ack["message"]["id"]})
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.frame(ws, "status"),
                         {"type": "status", "message": ack["message"]["id"], "status": "read"})
        r = self.a.client.post("/v1/conversations/%s/messages" % conversation,
                               {"content": {"type": "text", "text": "Yes, we do."}})
        self.assertEqual(r.status, 202, r)
        reply = r.json["id"]
        shown = self.frame(ws, "message")
        while shown["message"]["id"] != reply:
            shown = self.frame(ws, "message")
        self.assertEqual(shown["message"]["author"]["role"], "agent")
        self.assertNotIn("tenant", shown["message"])
        ws.send_text(json.dumps({"type": "read", "message": reply}))
        self.event(stream, harness.status_for(reply, "read"))

        # Another tenant's key: nothing.
        for path, body in (("typing", {"on": True}), ("read", {"message": ack["message"]["id"]})):
            r = self.b.client.post("/v1/conversations/%s/%s" % (conversation, path), body)
            self.assertEqual(r.status, 404, (path, r))
        r = self.b.client.get("/v1/conversations/" + conversation)
        self.assertEqual(r.status, 404, r)

        # The visitor ends it: the widget says so, the ephemeral records are gone.
        ws.send_text(json.dumps({"type": "end"}))
        self.assertEqual(self.frame(ws, "ended")["reason"], "customer")
        r = self.a.client.get("/v1/conversations/" + conversation)
        self.assertEqual(r.json["state"], "ended")
        self.assertIsNone(r.json["context"])
        self.assertIsNone(r.json["cookies"])
        r = self.a.client.post("/v1/conversations/%s/typing" % conversation, {"on": True})
        self.assertEqual(r.status, 409, r)
        ws.close()
        stream.close()

    def test_sockets_per_ip_are_limited(self):
        # 12 per minute for this server; other tests of the class use some of them.
        opened, refused = [], None
        for _ in range(14):
            try:
                opened.append(self.widget())
            except WebSocketRejected as e:
                refused = e
                break
        for ws in opened:
            ws.close()
        self.assertIsNotNone(refused, "no socket was refused")
        self.assertEqual(refused.status, 429)
        self.assertIn(b"rate_limited", refused.body)


if __name__ == "__main__":
    harness.main()
