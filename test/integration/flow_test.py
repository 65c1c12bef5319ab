"""Acceptance: the Foundation flow, steps 1-4 of the issue, over the custom channel.

A customer message posted to /v1/webhooks/{connection} reaches the client application by
webhook and stream in the common format; the client lists and answers; the answer reaches
the channel; statuses come back; ending a conversation and a returning customer; stream
resume. Tests run in order (numbered) and share one server and one tenant.
"""

import socket
import time

import harness
from harness import (created_for, is_id, of_type, send_customer, status_for, RFC3339_MS)


class FlowTest(harness.ParleyTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.t = cls.bootstrap()
        cls.state = {}

    # -- helpers
    def check_envelope(self, e, event_type):
        self.assertEqual(e.get("v"), 1, "event v: %r" % e)
        self.assertTrue(is_id(e.get("id"), "ev"), "event id: %r" % e.get("id"))
        self.assertEqual(e.get("type"), event_type, "event type")
        self.assertEqual(e.get("tenant"), self.t.id, "event tenant")
        self.assertRegex(e.get("created_at", ""), RFC3339_MS, "event created_at")
        self.assertIsInstance(e.get("data"), dict, "event data")

    def test_1_customer_message_reaches_webhook_and_stream_in_common_format(self):
        t, p = self.t, self.parley
        ws = harness.open_stream(p, t.key)
        try:
            sent_at = "2026-11-21T09:30:00Z"
            ans = send_customer(self, p, t, "ext-1", "user-42", "Hello!", name="Ana",
                                timestamp=sent_at)
            self.assertTrue(is_id(ans.get("message"), "msg"), "answer.message: %r" % ans)
            self.assertTrue(is_id(ans.get("conversation"), "cv"), "answer.conversation: %r" % ans)
            self.assertIs(ans.get("duplicate"), False, "answer.duplicate: %r" % ans)
            msg_id, cv = ans["message"], ans["conversation"]
            self.state.update(msg1=msg_id, cv1=cv)

            # Committed before the 200: the message is readable at once.
            r = t.client.get("/v1/conversations/%s" % cv)
            self.assertEqual(r.status, 200, "conversation readable right after the 200: %r" % r)

            created = t.webhook.wait_for_event(created_for(msg_id), what="message.created")
            evs = t.webhook.events()
            started = [e for e in evs if of_type("conversation.started", cv)(e)]
            self.assertEqual(len(started), 1, "one conversation.started for %s: %r" %
                             (cv, [e.get("type") for e in evs]))
            self.assertLess(evs.index(started[0]), evs.index(created),
                            "conversation.started must precede message.created")

            self.check_envelope(created, "message.created")
            m = created["data"]
            self.assertEqual(m.get("v"), 1, "message v")
            self.assertEqual(m.get("id"), msg_id)
            self.assertEqual(m.get("tenant"), t.id, "message tenant")
            self.assertEqual(m.get("conversation"), cv, "message conversation")
            self.assertEqual(m.get("channel"), {"kind": "custom", "connection": t.connection_id},
                             "message channel")
            self.assertEqual(m.get("direction"), "inbound")
            author = m.get("author") or {}
            self.assertEqual(author.get("role"), "customer", "author.role: %r" % author)
            self.assertTrue(is_id(author.get("customer"), "cu"), "author.customer: %r" % author)
            self.assertEqual(author.get("name"), "Ana", "author.name")
            self.assertEqual(m.get("provider_message_id"), "ext-1", "provider_message_id")
            self.assertEqual(m.get("content"), {"type": "text", "text": "Hello!"}, "content")
            self.assertRegex(m.get("received_at", ""), RFC3339_MS, "received_at")
            self.assertEqual(harness.parse_rfc3339(m.get("sent_at", "1970-01-01T00:00:00Z")),
                             harness.parse_rfc3339(sent_at), "sent_at from the timestamp field")
            self.state["customer"] = author["customer"]

            self.check_envelope(started[0], "conversation.started")
            sd = started[0]["data"]
            self.assertEqual(sd.get("conversation"), cv)
            self.assertEqual(sd.get("connection"), t.connection_id, "started.connection")
            self.assertEqual(sd.get("customer"), author["customer"], "started.customer")

            for rec in t.webhook.accepted():
                self.assertSignedBy(rec, [t.endpoint_secret], "webhook delivery")
                self.assertEqual(rec.attempt, 1, "Parley-Delivery-Attempt of a first try")

            # The stream carries the same events, same ids, same order.
            got = ws.recv_events_until(lambda es: any(created_for(msg_id)(e) for e in es),
                                       what="message.created on the stream")
            ids = [e["id"] for e in got]
            self.assertIn(started[0]["id"], ids, "conversation.started on the stream")
            self.assertLess(ids.index(started[0]["id"]), ids.index(created["id"]),
                            "stream order")
            self.assertEqual(got[ids.index(created["id"])], created,
                             "stream event equals the webhook event")
            self.state["last_stream_event"] = created["id"]
        finally:
            ws.close()

    def test_2_client_lists_conversations_and_pending_messages(self):
        t, p = self.t, self.parley
        cv = self.state["cv1"]
        r = t.client.get("/v1/conversations")
        self.assertEqual(r.status, 200, repr(r))
        self.assertIn("next_cursor", r.json, "list shape")
        ids = [c.get("id") for c in r.json.get("data", [])]
        self.assertIn(cv, ids, "conversation listed")
        r = t.client.get("/v1/conversations?state=open")
        self.assertIn(cv, [c.get("id") for c in r.json.get("data", [])], "listed as open")

        r = t.client.get("/v1/conversations/%s" % cv)
        self.assertEqual(r.status, 200, repr(r))
        c = r.json
        for field in ("id", "state", "connection", "channel", "customer", "started_at",
                      "last_activity_at"):
            self.assertIn(field, c, "conversation field %s: %r" % (field, c))
        self.assertEqual(c["state"], "open")
        self.assertEqual(c["connection"], t.connection_id)
        self.assertEqual(c["customer"], self.state["customer"])
        self.assertRegex(c["started_at"], RFC3339_MS)

        # A message not yet delivered to the client application is retained and listed.
        t.webhook.set_mode("down")
        try:
            ans = send_customer(self, p, t, "ext-2", "user-42", "Second")
            self.assertEqual(ans["conversation"], cv, "same customer, same open conversation")
            r = t.client.get("/v1/conversations/%s/messages" % cv)
            self.assertEqual(r.status, 200, repr(r))
            msgs = r.json.get("data", [])
            self.assertIn(ans["message"], [m.get("id") for m in msgs],
                          "undelivered message listed: %r" % msgs)
            m = next(m for m in msgs if m.get("id") == ans["message"])
            self.assertEqual(m.get("content"), {"type": "text", "text": "Second"})
            self.assertEqual(m.get("direction"), "inbound")
            listed = [m.get("id") for m in msgs]
            self.assertEqual(listed, sorted(listed), "messages oldest first")
        finally:
            t.webhook.set_mode("up")
        t.webhook.wait_for_event(created_for(ans["message"]), what="ext-2 after recovery")
        self.state["msg2"] = ans["message"]

    def test_3_agent_reply_reaches_channel_signed_and_reports_sent(self):
        t = self.t
        cv = self.state["cv1"]
        r = t.client.post("/v1/conversations/%s/messages" % cv,
                          {"content": {"type": "text", "text": "Hi Ana, how can I help?"},
                           "author": {"role": "agent", "name": "Bob"},
                           "reply_to": self.state["msg1"]})
        self.assertEqual(r.status, 202, repr(r))
        m = r.json
        self.assertTrue(is_id(m.get("id"), "msg"), "queued message id: %r" % m)
        self.assertEqual(m.get("v"), 1)
        self.assertEqual(m.get("direction"), "outbound")
        self.assertEqual(m.get("conversation"), cv)
        self.assertEqual(m.get("tenant"), t.id)
        self.assertEqual(m.get("channel"), {"kind": "custom", "connection": t.connection_id})
        self.assertEqual((m.get("author") or {}).get("role"), "agent")
        self.assertEqual((m.get("author") or {}).get("name"), "Bob")
        self.assertEqual(m.get("reply_to"), self.state["msg1"], "reply_to echoed")
        out_id = m["id"]
        self.state["out1"] = out_id

        rec = t.channel.wait_for_message(out_id)
        self.assertSignedBy(rec, [t.connection_secret], "custom channel outbound POST")
        b = rec.json
        self.assertEqual(b.get("type"), "message")
        self.assertEqual(b.get("conversation"), cv)
        self.assertEqual(b.get("to"), {"id": "user-42"}, "to")
        self.assertEqual(b.get("author", {}).get("role"), "agent")
        self.assertEqual(b.get("author", {}).get("name"), "Bob")
        self.assertEqual(b.get("reply_to"), "ext-1", "reply_to is the channel's own id")
        self.assertEqual(b.get("content"), {"type": "text", "text": "Hi Ana, how can I help?"})
        self.assertEqual(len([x for x in t.channel.messages() if x.json.get("id") == out_id]), 1,
                         "sent once")

        ev = t.webhook.wait_for_event(status_for(out_id, "sent"), what="message.status sent")
        self.check_envelope(ev, "message.status")
        self.assertEqual(ev["data"].get("conversation"), cv)

    def test_4_channel_status_callbacks_report_delivered_and_read(self):
        t, p = self.t, self.parley
        out_id = self.state["out1"]
        for status in ("delivered", "read"):
            r = harness.post_custom(p, t, {"type": "status", "message": out_id,
                                           "status": status,
                                           "timestamp": harness.now_rfc3339()})
            self.assertEqual(r.status, 200, "status %s callback: %r" % (status, r))
            t.webhook.wait_for_event(status_for(out_id, status), what="message.status " + status)
        # A late, lower status does not move the message back: the next event of the
        # conversation arrives with no second "delivered" before it (order per conversation).
        r = harness.post_custom(p, t, {"type": "status", "message": out_id,
                                       "status": "delivered"})
        self.assertEqual(r.status, 200, "late delivered callback: %r" % r)
        ans = send_customer(self, p, t, "ext-3", "user-42", "after statuses")
        t.webhook.wait_for_event(created_for(ans["message"]))
        delivered = t.webhook.events(pred=status_for(out_id, "delivered"))
        self.assertEqual(len(delivered), 1, "highest state kept; got %d delivered events" %
                         len(delivered))
        # A status for an unknown message is refused or ignored, never an event.
        r = harness.post_custom(p, t, {"type": "status", "message": "msg_" + "0" * 26,
                                       "status": "read"})
        self.assertIn(r.status, (200, 400, 404), "unknown message status: %r" % r)

    def test_5_end_conversation_then_returning_customer_opens_new_one(self):
        t, p = self.t, self.parley
        cv = self.state["cv1"]
        r = t.client.post("/v1/conversations/%s/end" % cv, {})
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.json.get("state"), "ended")
        self.assertRegex(r.json.get("ended_at") or "", RFC3339_MS, "ended_at")
        self.assertEqual(r.json.get("end_reason"), "client")
        ev = t.webhook.wait_for_event(of_type("conversation.ended", cv),
                                      what="conversation.ended")
        self.check_envelope(ev, "conversation.ended")
        self.assertEqual(ev["data"].get("customer"), self.state["customer"])
        self.assertEqual(ev["data"].get("reason"), "client")

        r = t.client.post("/v1/conversations/%s/end" % cv, {})
        self.assertEqual(r.status, 409, "ending twice: %r" % r)
        self.assertErrorShape(r, "failed_precondition", "ending twice")

        ans = send_customer(self, p, t, "ext-4", "user-42", "I'm back", name="Ana")
        self.assertNotEqual(ans["conversation"], cv, "a new conversation after the end")
        created = t.webhook.wait_for_event(created_for(ans["message"]))
        self.assertEqual(created["data"]["author"].get("customer"), self.state["customer"],
                         "returning customer recognised by from.id")
        started = t.webhook.wait_for_event(of_type("conversation.started", ans["conversation"]))
        self.assertEqual(started["data"].get("customer"), self.state["customer"])

        r = t.client.get("/v1/customers?channel=custom&contact=user-42")
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.json.get("id"), self.state["customer"])
        self.assertEqual(r.json.get("contact"), "user-42")
        r = t.client.get("/v1/customers/%s" % self.state["customer"])
        self.assertEqual(r.status, 200, repr(r))
        for field in ("id", "channel", "contact", "name", "first_seen", "last_seen"):
            self.assertIn(field, r.json, "customer field %s" % field)

        ended = [c["id"] for c in t.client.get("/v1/conversations?state=ended").json["data"]]
        opened = [c["id"] for c in t.client.get("/v1/conversations?state=open").json["data"]]
        self.assertIn(cv, ended)
        self.assertNotIn(cv, opened)
        self.assertIn(ans["conversation"], opened)
        self.state["cv2"] = ans["conversation"]

    def test_6_stream_resume_sends_exactly_the_missed_events_in_order(self):
        t, p = self.t, self.parley
        # Resume from an event already delivered: a stream opened without a resume point gets
        # only what is published after its subscription, which may trail the handshake.
        known = t.webhook.events()
        ws = harness.open_stream(p, t.key, last_event_id=known[-1]["id"] if known else None)
        try:
            ans = send_customer(self, p, t, "ext-r0", "user-42", "before disconnect")
            got = ws.recv_events_until(
                lambda es: any(created_for(ans["message"])(e) for e in es))
            last = got[-1]["id"]
            self.assertTrue(created_for(ans["message"])(got[-1]))
        finally:
            ws.close()

        missed = [send_customer(self, p, t, "ext-r%d" % i, "user-42", "missed %d" % i)["message"]
                  for i in (1, 2)]
        for mid in missed:
            t.webhook.wait_for_event(created_for(mid))

        ws = harness.open_stream(p, t.key, last_event_id=last)
        try:
            got = ws.recv_events_until(lambda es: len(es) >= 2, what="2 missed events")
            self.assertEqual([e.get("type") for e in got], ["message.created"] * 2,
                             "exactly the missed events: %r" % [(e["type"], e["id"]) for e in got])
            self.assertEqual([e["data"]["id"] for e in got], missed, "in order")
            webhook_ids = [t.webhook.wait_for_event(created_for(m))["id"] for m in missed]
            self.assertEqual([e["id"] for e in got], webhook_ids, "same event ids as webhooks")
            # Then live: the next event is the next message, nothing replayed in between.
            live = send_customer(self, p, t, "ext-r3", "user-42", "live")["message"]
            nxt = ws.recv_event()
            self.assertTrue(created_for(live)(nxt), "next stream event is live: %r" % nxt)
        finally:
            ws.close()

        # Header form of the resume point.
        ws = harness.open_stream(p, t.key, header_resume=last)
        try:
            got = ws.recv_events_until(lambda es: len(es) >= 3, what="3 events after resume")
            self.assertEqual([e["data"]["id"] for e in got[:3]], missed + [live],
                             "Last-Event-ID header resumes the same way")
        finally:
            ws.close()

    def test_7_stream_unknown_resume_point_closes_4404(self):
        t, p = self.t, self.parley
        ws = harness.open_stream(p, t.key, last_event_id="ev_00000000000000000000000000")
        try:
            with self.assertRaises(harness.WebSocketClosed) as cm:
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    try:
                        ws.recv_event(1)
                    except socket.timeout:
                        continue
            self.assertEqual(cm.exception.code, 4404, "close code for an unknown resume point")
        finally:
            ws.close()

    def test_8_stream_requires_a_key(self):
        p = self.parley
        for key in (None, "pk_00000000000000000000000000.wrong"):
            with self.assertRaises(harness.WebSocketRejected) as cm:
                harness.open_stream(p, key)
            self.assertEqual(cm.exception.status, 401, "stream with key %r" % key)


class ActivityTest(harness.ParleyTestCase):
    """A reply within a second of the conversation's last written activity does not write it
    again (the store's contract test covers the writes a second apart)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.t = cls.bootstrap()

    def test_a_reply_right_after_the_customer_leaves_last_activity(self):
        t, p = self.t, self.parley
        cv = send_customer(self, p, t, "act-1", "user-7", "Hello")["conversation"]

        def activity():
            r = t.client.get("/v1/conversations/%s" % cv)
            self.assertEqual(r.status, 200, repr(r))
            return r.json["last_activity_at"]

        started = activity()
        r = t.client.post("/v1/conversations/%s/messages" % cv,
                          {"content": {"type": "text", "text": "One"}})
        self.assertEqual(r.status, 202, repr(r))
        replied = r.json["received_at"]
        gap = (harness.parse_rfc3339(replied) - harness.parse_rfc3339(started)).total_seconds()
        if gap < 1:
            self.assertEqual(activity(), started, "a reply %.3f s later is not written" % gap)
        else:  # a slow machine: the reply came past the resolution
            self.assertEqual(activity(), replied, "a reply %.3f s later" % gap)


if __name__ == "__main__":
    harness.main()
