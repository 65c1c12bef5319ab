"""Acceptance: the retention sweeper deletes delivered messages and their events from the
database file itself, ends idle conversations with conversation.ended, and `parley data-map`
shows it happen.

The server runs with a 1 s sweep and no delivered grace. Inactivity timeouts (60 s at the
least) and the other windows are tested with a fake clock in src/delivery/sweeper_test.cc.
Waits poll the database file and the data map; nothing sleeps."""

import json
import os
import subprocess

import harness
from harness import send_customer, wait_until


class LifecycleTest(harness.ParleyTestCase):
    ENV = dict(harness.FAST_DELIVERY_ENV, **{
        "PARLEY_RETENTION__SWEEP_INTERVAL_S": "1",
        "PARLEY_RETENTION__DELIVERED_GRACE_S": "0",
    })

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.t = cls.bootstrap()

    def db_rows(self, sql, args=()):
        return harness.db_rows(self.parley, sql, args)

    def data_map(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
        env["PARLEY_ADMIN_TOKEN"] = harness.ADMIN_TOKEN
        res = subprocess.run([harness.PARLEY_BIN, "data-map", "--server", self.parley.url(),
                              "--json"], capture_output=True, env=env, timeout=20)
        self.assertEqual(res.returncode, 0, res.stderr)
        return {e["table"]: e for e in json.loads(res.stdout)["data"]}

    def test_delivered_message_is_deleted_from_the_database_file(self):
        marker = "lifecycle-marker-" + os.urandom(4).hex()
        r = send_customer(self, self.parley, self.t, "life-1", "life-user", marker)
        message_id = r["message"]
        self.t.webhook.wait_for_event(harness.created_for(message_id))
        # Delivered, so the next sweeps delete the message and its message.created event.
        wait_until(lambda: not self.db_rows("SELECT 1 FROM messages WHERE id = ?",
                                            (message_id,)),
                   timeout=15, what="the delivered message deleted")
        event_id = "ev_" + message_id[len("msg_"):]
        wait_until(lambda: not self.db_rows("SELECT 1 FROM events WHERE id = ?", (event_id,)),
                   timeout=15, what="its message.created event deleted")
        # The customer's identity stays, so a returning customer is recognised.
        self.assertEqual(self.db_rows("SELECT count(*) FROM customers WHERE tenant_id = ?",
                                      (self.t.id,))[0][0], 1)
        # The text was sealed anyway: it never appears in the file in the clear.
        with open(os.path.join(self.parley.data_dir, "parley.db"), "rb") as f:
            self.assertNotIn(marker.encode(), f.read())
        entries = self.data_map()
        self.assertEqual(entries["messages"]["rows"], 0, entries["messages"])
        self.assertIn("after delivery", entries["messages"]["rule"])
        self.assertEqual(entries["customers"]["rows"], 1)
        self.assertIsNotNone(entries["inbound_dedupe"]["oldest_age_s"])

    def test_undelivered_message_stays_until_delivered(self):
        self.t.webhook.set_mode("down")
        try:
            r = send_customer(self, self.parley, self.t, "life-2", "life-user-2", "wait for me")
            message_id = r["message"]
            # Failing deliveries keep it: give the sweeper (1 s) several rounds.
            self.t.webhook.wait_for(
                lambda reqs: sum(1 for q in reqs if b"life-2" in q.body) >= 5,
                timeout=20, what="five failed deliveries")
            self.assertTrue(self.db_rows("SELECT 1 FROM messages WHERE id = ?", (message_id,)))
        finally:
            self.t.webhook.set_mode("up")
        self.t.webhook.wait_for_event(harness.created_for(message_id))
        wait_until(lambda: not self.db_rows("SELECT 1 FROM messages WHERE id = ?",
                                            (message_id,)),
                   timeout=15, what="the message deleted once delivered")

    def test_data_map_table_lists_every_record_type(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
        env["PARLEY_ADMIN_TOKEN"] = harness.ADMIN_TOKEN
        res = subprocess.run([harness.PARLEY_BIN, "data-map", "--server", self.parley.url()],
                             capture_output=True, env=env, timeout=20, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        lines = res.stdout.splitlines()
        self.assertTrue(lines[0].startswith("table"), res.stdout)
        tables = {line.split()[0] for line in lines[1:] if line.strip()}
        self.assertEqual(tables, {"tenants", "api_keys", "endpoints", "connections", "customers",
                                  "conversations", "conversations.context",
                                  "conversations.cookies", "conversations.private_data",
                                  "messages", "events", "inbound_dedupe",
                                  "pending_statuses", "inbound_retries", "outbox", "dead_letters", "idempotency_keys", "audit_log",
                                  "attachments"})

    def test_data_map_needs_the_operator_token(self):
        r = harness.http_request(self.parley.port, "GET", "/v1/admin/data-map")
        self.assertEqual(r.status, 401, repr(r))


if __name__ == "__main__":
    harness.main()
