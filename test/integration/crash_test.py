"""Acceptance: a 200 from a channel webhook means committed. kill -9 in the middle of a load;
after a restart on the same data directory, every acknowledged message reaches the client
application, under the message id it was acknowledged with, and redeliveries keep their
event id."""

import http.client
import threading

import harness
from harness import customer_message, post_custom

THREADS = 4
PER_THREAD = 50
CUSTOMERS = 8


class CrashTest(harness.ParleyTestCase):

    def test_kill9_mid_load_loses_no_acknowledged_message(self):
        p = self.parley
        t = self.bootstrap()
        acked = {}        # ext id -> (message id, conversation) from a 200
        unacked = []      # ext ids whose request failed or was not tried
        lock = threading.Lock()
        progress = threading.Condition(lock)
        killed = threading.Event()

        def payload(ext):
            n = int(ext.rsplit("-", 1)[1])
            return customer_message(ext, "crash-user-%d" % (n % CUSTOMERS), "crash text " + ext)

        def worker(w):
            for i in range(PER_THREAD):
                ext = "crash-%d-%d" % (w, i)
                if killed.is_set():
                    with lock:
                        unacked.append(ext)
                    continue
                try:
                    r = post_custom(p, t, payload(ext))
                except (OSError, http.client.HTTPException):
                    with lock:
                        unacked.append(ext)
                    continue
                with progress:
                    if r.status == 200:
                        acked[ext] = (r.json["message"], r.json["conversation"])
                        progress.notify_all()
                    else:
                        unacked.append(ext)

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(THREADS)]
        for th in threads:
            th.start()
        with progress:
            progress.wait_for(lambda: len(acked) >= 70, timeout=60)
        p.kill9()
        killed.set()
        for th in threads:
            th.join(60)
        acked_before = dict(acked)
        self.assertGreaterEqual(len(acked_before), 70, "load made progress before the kill")
        print("      acked before kill: %d, not acked: %d" % (len(acked_before), len(unacked)))

        p.start()
        # The sender retries what it could not confirm (as a provider would); dedupe by id
        # must answer the stored message for anything committed before the kill.
        for ext in sorted(unacked):
            r = post_custom(p, t, payload(ext))
            self.assertEqual(r.status, 200, "re-post %s after restart: %r" % (ext, r))
            acked[ext] = (r.json["message"], r.json["conversation"])
        self.assertEqual(len(acked), THREADS * PER_THREAD)

        def delivered(_):
            seen = {e["data"].get("provider_message_id")
                    for e in t.webhook.events() if e.get("type") == "message.created"}
            return all(ext in seen for ext in acked)

        t.webhook.wait_for(delivered, timeout=60, what="all %d messages delivered" % len(acked))

        by_ext = {}
        event_ids_by_msg = {}
        for e in t.webhook.events():
            if e.get("type") != "message.created":
                continue
            d = e["data"]
            by_ext.setdefault(d["provider_message_id"], set()).add(d["id"])
            event_ids_by_msg.setdefault(d["id"], set()).add(e["id"])
        for ext, (msg, cv) in acked_before.items():
            self.assertEqual(by_ext.get(ext), {msg},
                             "%s acknowledged as %s before the kill, delivered as %r" %
                             (ext, msg, by_ext.get(ext)))
        for ext, msgs in by_ext.items():
            self.assertEqual(len(msgs), 1, "%s stored once, got message ids %r" % (ext, msgs))
        for msg, ids in event_ids_by_msg.items():
            self.assertEqual(len(ids), 1, "redeliveries of %s keep one event id: %r" % (msg, ids))
        for ext, (msg, cv) in acked.items():
            d = next(e["data"] for e in t.webhook.events()
                     if e.get("type") == "message.created" and e["data"]["id"] == msg)
            self.assertEqual(d["content"], {"type": "text", "text": "crash text " + ext},
                             "content of %s survived" % ext)
            self.assertEqual(d["conversation"], cv)

        # Per-conversation order: within a customer, one thread's messages arrive in order.
        order = {}
        for e in t.webhook.events():
            if e.get("type") == "message.created":
                ext = e["data"]["provider_message_id"]
                order.setdefault(e["data"]["conversation"], [])
                if ext not in order[e["data"]["conversation"]]:
                    order[e["data"]["conversation"]].append(ext)
        for cv, exts in order.items():
            for w in range(THREADS):
                mine = [int(x.rsplit("-", 1)[1]) for x in exts
                        if x.startswith("crash-%d-" % w) and x in acked_before]
                self.assertEqual(mine, sorted(mine),
                                 "thread %d's messages in %s delivered out of order" % (w, cv))

    def test_queued_agent_message_survives_kill9(self):
        p = self.parley
        if not p.alive():
            p.start()
        t = self.bootstrap()
        cv = harness.send_customer(self, p, t, "agent-crash-in", "agent-crash", "hi")[
            "conversation"]
        t.channel.set_mode("down")
        r = t.client.post("/v1/conversations/%s/messages" % cv,
                          {"content": {"type": "text", "text": "survives"},
                           "author": {"role": "agent"}}, headers={"Idempotency-Key": "crash-k"})
        self.assertEqual(r.status, 202, repr(r))
        out = r.json["id"]
        t.channel.wait_for(lambda reqs: reqs, what="a failed send attempt")
        p.kill9()
        t.channel.set_mode("up")
        p.start()
        t.channel.wait_for_message(out, timeout=20)
        t.webhook.wait_for_event(harness.status_for(out, "sent"), timeout=20)
        # The idempotency record survived too.
        r2 = t.client.post("/v1/conversations/%s/messages" % cv,
                           {"content": {"type": "text", "text": "survives"},
                            "author": {"role": "agent"}}, headers={"Idempotency-Key": "crash-k"})
        self.assertEqual(r2.status, 202, repr(r2))
        self.assertEqual(r2.json["id"], out, "Idempotency-Key remembered across a crash")


if __name__ == "__main__":
    harness.main()
