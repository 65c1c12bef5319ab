"""Acceptance: delivery to the client application survives a receiver outage, keeps order per
conversation and event ids, dead-letters after max_retry_age and replays; secret rotation
signs with both secrets."""

import harness
from harness import created_for, is_id, send_customer, signature_matches


class RetryTest(harness.ParleyTestCase):
    ENV = dict(harness.FAST_DELIVERY_ENV, PARLEY_DELIVERY__MAX_RETRY_AGE_S="60")

    def test_outage_then_recovery_delivers_all_in_order_with_same_event_ids(self):
        t = self.bootstrap()
        p = self.parley
        t.webhook.set_mode("down")
        sent = [send_customer(self, p, t, "w-%d" % i, "user-retry", "m%d" % i)["message"]
                for i in range(5)]
        # Several failed attempts before recovery.
        t.webhook.wait_for(lambda reqs: len([r for r in reqs if r.answered == 503]) >= 3,
                           what="3 failed delivery attempts")
        failed_events = {e["id"]: e for e in t.webhook.events(accepted_only=False)}
        t.webhook.set_mode("up")
        for m in sent:
            t.webhook.wait_for_event(created_for(m), timeout=15, what="delivery of %s" % m)

        created = [e for e in t.webhook.events() if e.get("type") == "message.created"]
        first_seen = []
        for e in created:
            if e["data"]["id"] not in first_seen:
                first_seen.append(e["data"]["id"])
        self.assertEqual(first_seen, sent, "delivered in conversation order")
        for eid, e in failed_events.items():
            again = [x for x in t.webhook.events() if x["id"] == eid]
            self.assertTrue(again, "event %s tried during the outage is delivered later" % eid)
            self.assertEqual(again[0], e, "redelivered event %s is identical" % eid)
        by_msg = {}
        for e in created:
            by_msg.setdefault(e["data"]["id"], set()).add(e["id"])
        for m, ids in by_msg.items():
            self.assertEqual(len(ids), 1, "one event id per message %s: %r" % (m, ids))
        attempts = [r.attempt for r in t.webhook.accepted()]
        self.assertGreater(max(attempts), 1, "Parley-Delivery-Attempt counts retries: %r" %
                           attempts)
        for r in t.webhook.snapshot():
            self.assertSignedBy(r, [t.endpoint_secret], "every attempt")

    def test_hanging_receiver_times_out_and_is_retried(self):
        t = self.bootstrap()
        p = self.parley
        t.webhook.set_mode("hang")
        m = send_customer(self, p, t, "hang-1", "user-hang", "x")["message"]
        # request_timeout_ms = 1000: a second attempt starts while the first still hangs.
        t.webhook.wait_for(lambda reqs: len(reqs) >= 2, timeout=15,
                           what="a retry after the request timeout")
        t.webhook.set_mode("up")
        t.webhook.wait_for_event(created_for(m), timeout=15)

    def test_channel_rate_limit_is_retried_after_its_retry_after(self):
        t = self.bootstrap()
        p = self.parley
        cv = send_customer(self, p, t, "rl-1", "user-limited", "hello")["conversation"]
        t.channel.retry_after = 2  # longer than max_backoff (1 s): only Retry-After explains it
        t.channel.set_mode("limited")
        r = t.client.post("/v1/conversations/%s/messages" % cv,
                          {"content": {"type": "text", "text": "after the limit"},
                           "author": {"role": "agent", "name": "Bob"}})
        self.assertEqual(r.status, 202, repr(r))
        out = r.json["id"]
        accepted = t.channel.wait_for_message(out, timeout=15)
        tries = [x for x in t.channel.snapshot() if x.json and x.json.get("id") == out]
        self.assertEqual([x.answered for x in tries], [429, 200], "one 429, then sent once")
        waited = accepted.at - tries[0].at
        self.assertGreaterEqual(waited, 1.9, "retried %.2f s after a Retry-After of 2 s" % waited)
        t.webhook.wait_for_event(
            lambda e: e.get("type") == "message.status" and e["data"].get("message") == out
            and e["data"].get("status") == "sent", what="message.status sent")

    def test_rotated_secret_signs_with_both_secrets(self):
        t = self.bootstrap()
        p, admin = self.parley, self.parley.admin()
        old = t.endpoint_secret
        base = "/v1/admin/tenants/%s/endpoints/%s" % (t.id, t.endpoint_id)
        for bad in (-1, 604801, "x"):
            r = admin.post(base + "/rotate-secret", {"grace_seconds": bad})
            self.assertEqual(r.status, 400, "grace_seconds %r: %r" % (bad, r))
            self.assertErrorShape(r, "invalid_argument")
        r = admin.post(base + "/rotate-secret", {"grace_seconds": 3600})
        self.assertEqual(r.status, 200, repr(r))
        new = r.json.get("secret")
        self.assertTrue(isinstance(new, str) and new.startswith("whsec_"), "new secret: %r" % r)
        self.assertNotEqual(new, old)
        r = admin.get(base)
        self.assertEqual(r.status, 200, repr(r))
        self.assertIn("rotating_until", r.json, "endpoint shows rotating_until: %r" % r.json)
        self.assertNotIn(new.encode(), r.body, "GET endpoint never returns the secret")
        self.assertNotIn(old.encode(), r.body)

        m = send_customer(self, p, t, "rot-1", "user-rot", "x")["message"]
        t.webhook.wait_for_event(created_for(m))
        rec = next(r for r in t.webhook.accepted()
                   if any(created_for(m)(e) for e in r.json["events"]))
        header = rec.headers.get("parley-signature", "")
        _, v1 = harness.parse_signature(header)
        self.assertEqual(len(v1), 2, "two v1 values while rotating: %r" % header)
        self.assertEqual(len(signature_matches(header, old, rec.body)), 1, "one v1 by old secret")
        self.assertEqual(len(signature_matches(header, new, rec.body)), 1, "one v1 by new secret")


class DeadLetterTest(harness.ParleyTestCase):
    ENV = dict(harness.FAST_DELIVERY_ENV, PARLEY_DELIVERY__MAX_RETRY_AGE_S="2")

    def test_receiver_that_stays_down_yields_dead_letters_that_replay(self):
        t = self.bootstrap()
        p = self.parley
        t.webhook.set_mode("down")
        m = send_customer(self, p, t, "dl-1", "user-dl", "x")["message"]

        def dead_letters(_=None):
            r = t.client.get("/v1/dead-letters")
            self.assertEqual(r.status, 200, repr(r))
            return r.json["data"]

        def has_created_dl(_=None):
            evs = {e["id"]: e for e in t.webhook.events(accepted_only=False)}
            for d in dead_letters():
                if d.get("ref") in evs and created_for(m)(evs[d["ref"]]):
                    return d
            return None

        dl = harness.wait_until(has_created_dl, timeout=20,
                                what="a dead letter whose ref is the message.created event id")
        for field in ("id", "kind", "target", "ref", "conversation", "attempts", "last_error",
                      "created_at", "failed_at"):
            self.assertIn(field, dl, "dead letter field %s: %r" % (field, dl))
        self.assertTrue(is_id(dl["id"], "dl"))
        self.assertEqual(dl["kind"], "webhook")
        self.assertGreaterEqual(dl["attempts"], 1)
        self.assertTrue(dl["last_error"], "last_error says why")
        self.assertNotIn(t.endpoint_secret, str(dl), "no secret in dead letters")

        attempts_before = len(t.webhook.snapshot())
        t.webhook.set_mode("up")
        r = t.client.post("/v1/dead-letters/%s/replay" % dl["id"], {})
        self.assertEqual(r.status, 202, repr(r))
        ev = t.webhook.wait_for_event(lambda e: e["id"] == dl["ref"], timeout=15,
                                      what="replayed event %s" % dl["ref"])
        self.assertTrue(created_for(m)(ev), "replayed event is the same message.created")
        self.assertGreater(len(t.webhook.snapshot()), attempts_before)

        r = t.client.post("/v1/dead-letters/dl_00000000000000000000000000/replay", {})
        self.assertEqual(r.status, 404, "replay unknown dead letter: %r" % r)
        self.assertErrorShape(r, "not_found")
        r = t.client.post("/v1/dead-letters/not-an-id/replay", {})
        self.assertIn(r.status, (400, 404), "replay malformed id: %r" % r)


if __name__ == "__main__":
    harness.main()
