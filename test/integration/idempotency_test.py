"""Acceptance: Idempotency-Key on POST /v1/conversations/{id}/messages never sends twice.

"Sent once" is checked without waiting for an absence: after the requests under test, a
follow-up message is sent into the same conversation; sends keep conversation order, so any
extra send would reach the channel before the follow-up."""

import threading

import harness
from harness import send_customer


class IdempotencyTest(harness.ParleyTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.t = cls.bootstrap()

    def new_conversation(self, contact):
        return send_customer(self, self.parley, self.t, "in-" + contact, contact, "hi")[
            "conversation"]

    def send(self, cv, text, key=None, client=None):
        headers = {"Idempotency-Key": key} if key is not None else {}
        return (client or self.t.client).post(
            "/v1/conversations/%s/messages" % cv,
            {"content": {"type": "text", "text": text}, "author": {"role": "agent",
                                                                   "name": "Bob"}},
            headers=headers)

    def posts_to_channel(self, cv, follow_up_text="follow-up"):
        """Sends a follow-up, waits for it at the channel, returns the conversation's posts."""
        r = self.send(cv, follow_up_text)
        self.assertEqual(r.status, 202, repr(r))
        self.t.channel.wait_for_message(r.json["id"])
        return [x for x in self.t.channel.snapshot()
                if x.json and x.json.get("conversation") == cv
                and x.json.get("id") != r.json["id"]]

    def test_same_key_same_body_answers_the_first_response_and_sends_once(self):
        cv = self.new_conversation("idem-1")
        first = self.send(cv, "only once", key="key-1")
        self.assertEqual(first.status, 202, repr(first))
        second = self.send(cv, "only once", key="key-1")
        self.assertEqual(second.status, first.status, "replayed status")
        self.assertEqual(second.json, first.json, "replayed body is the first response")
        posts = self.posts_to_channel(cv)
        self.assertEqual([p.json["id"] for p in posts], [first.json["id"]],
                         "one POST at the custom channel")

    def test_a_later_send_with_a_key_is_answered_the_same_again(self):
        # Not the conversation's first send: its stored answer is replayed all the same.
        cv = self.new_conversation("idem-later")
        self.assertEqual(self.send(cv, "first").status, 202)
        later = self.send(cv, "later, once", key="key-later")
        self.assertEqual(later.status, 202, repr(later))
        self.assertEqual(later.json["conversation"], cv)
        self.assertEqual(later.json["channel"]["kind"], "custom")
        again = self.send(cv, "later, once", key="key-later")
        self.assertEqual(again.status, 202, repr(again))
        self.assertEqual(again.json, later.json, "replayed body is the first response")
        posts = self.posts_to_channel(cv)
        self.assertEqual([p.json["content"]["text"] for p in posts], ["first", "later, once"])

    def test_same_key_other_body_is_422(self):
        cv = self.new_conversation("idem-2")
        first = self.send(cv, "original", key="key-2")
        self.assertEqual(first.status, 202, repr(first))
        other = self.send(cv, "changed", key="key-2")
        self.assertEqual(other.status, 422, repr(other))
        self.assertErrorShape(other, "idempotency_key_reused")
        posts = self.posts_to_channel(cv)
        self.assertEqual([p.json["content"]["text"] for p in posts], ["original"],
                         "the changed body was not sent")

    def test_concurrent_duplicates_send_once(self):
        cv = self.new_conversation("idem-3")
        n = 8
        barrier = threading.Barrier(n)
        answers = [None] * n

        def worker(i):
            barrier.wait()
            try:
                answers[i] = self.send(cv, "raced", key="key-3")
            except Exception as e:  # recorded and asserted below
                answers[i] = e

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        for a in answers:
            self.assertIsInstance(a, harness.Response, "request failed: %r" % a)
        ok = [a for a in answers if a.status == 202]
        self.assertTrue(ok, "at least one 202: %r" % answers)
        for a in answers:
            # A request racing the first may be told to retry (409), never sent twice.
            self.assertIn(a.status, (202, 409), "concurrent duplicate: %r" % a)
        self.assertEqual({a.json["id"] for a in ok}, {ok[0].json["id"]},
                         "every 202 names the same message")
        posts = self.posts_to_channel(cv)
        self.assertEqual([p.json["id"] for p in posts], [ok[0].json["id"]], "sent once")

    def test_many_conversations_sending_at_once_send_each_message_once(self):
        # A send that finishes while the dispatcher is between reading the outbox and
        # starting its rows must not be started again from that older read. Many
        # conversations keep sends finishing during scans.
        conversations = [self.new_conversation("busy-%d" % i) for i in range(12)]
        sent = []
        lock = threading.Lock()

        def agent(cv):
            for n in range(4):
                r = self.send(cv, "busy %d" % n)
                with lock:
                    sent.append(r)

        threads = [threading.Thread(target=agent, args=(cv,)) for cv in conversations]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        self.assertEqual(len(sent), 48, "every send answered")
        for r in sent:
            self.assertEqual(r.status, 202, repr(r))
        for cv in conversations:
            posts = self.posts_to_channel(cv)
            ids = [p.json["id"] for p in posts]
            self.assertEqual(len(ids), 4, "four messages reached the channel for %s: %r" % (
                cv, [(p.json["id"], p.json.get("content", {}).get("text")) for p in posts]))
            self.assertEqual(len(set(ids)), 4, "each sent once in %s: %r" % (cv, ids))
        statuses = self.t.webhook.events(pred=lambda e: e.get("type") == "message.status"
                                         and e["data"].get("status") == "sent")
        by_message = {}
        for e in statuses:
            by_message.setdefault(e["data"]["message"], []).append(e["id"])
        doubled = {m: ids for m, ids in by_message.items() if len(set(ids)) > 1}
        self.assertEqual(doubled, {}, "one sent event per message")
        delivered = {}
        for e in self.t.webhook.events():
            delivered[e["id"]] = delivered.get(e["id"], 0) + 1
        self.assertEqual({i: n for i, n in delivered.items() if n > 1}, {},
                         "each event delivered once to an endpoint that is up")

    def test_key_length_is_bounded(self):
        cv = self.new_conversation("idem-4")
        r = self.send(cv, "x", key="k" * 256)
        self.assertEqual(r.status, 400, "256-char Idempotency-Key: %r" % r)
        self.assertErrorShape(r, "invalid_argument")
        r = self.send(cv, "y", key="k" * 255)
        self.assertEqual(r.status, 202, "255-char Idempotency-Key: %r" % r)

    def test_keys_of_different_tenants_do_not_collide(self):
        other = self.bootstrap()
        cv_a = self.new_conversation("idem-5")
        cv_b = send_customer(self, self.parley, other, "in-b", "idem-5", "hi")["conversation"]
        ra = self.send(cv_a, "tenant a", key="shared-key")
        rb = self.send(cv_b, "tenant b", key="shared-key", client=other.client)
        self.assertEqual(ra.status, 202, repr(ra))
        self.assertEqual(rb.status, 202, "same key in another tenant: %r" % rb)
        self.assertNotEqual(ra.json["id"], rb.json["id"])
        other.channel.wait_for_message(rb.json["id"])


if __name__ == "__main__":
    harness.main()
