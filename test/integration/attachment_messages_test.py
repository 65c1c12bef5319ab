"""Acceptance: media messages that carry stored attachments, in both directions.

An agent's reply names an uploaded file by id; Parley checks it is the tenant's, fills in its
type, size, name and digest, ties it to the conversation, and every copy of the message that
leaves Parley (to the channel, to the webhook, in the API) carries a fresh signed link that
opens the file. A customer's message through the custom channel does the same. Bad
references are refused with 400 and store nothing."""

import hashlib

import harness
from attachments_test import PNG, get, upload
from harness import send_customer


def media(*ids, kind="image", **extra):
    return {"type": "media", "kind": kind, "attachments": [dict({"id": i}, **extra) for i in ids]}


class AttachmentMessagesTest(harness.ParleyTestCase):
    ENV = harness.FAST_DELIVERY_ENV

    @classmethod
    def setUpClass(cls):
        # A fixed port, so that links are absolute (http://127.0.0.1:<port>/v1/attachments/…).
        cls.LISTEN = "127.0.0.1:%d" % harness.free_port()
        super().setUpClass()
        cls.a = cls.bootstrap()
        cls.b = cls.bootstrap()

    def conversation(self, tenant, who):
        return send_customer(self, self.parley, tenant, "m-" + who, who, "hi")["conversation"]

    def uploaded(self, tenant, data=PNG, content_type="image/png", query="filename=pixel.png"):
        r = upload(self.parley, tenant.key, data, content_type=content_type, query=query)
        self.assertEqual(r.status, 201, r)
        return r.json

    def assertLinkOpens(self, url, data):
        # Absolute, to this Parley: it travels to other machines.
        self.assertTrue(url.startswith("http://%s/v1/attachments/" % self.LISTEN), url)
        self.assertIn("signature=", url)
        followed = get(self.parley, url)
        self.assertEqual(followed.status, 302, followed)
        content = get(self.parley, followed.header("location"))
        self.assertEqual(content.status, 200, content)
        self.assertEqual(content.body, data)

    def messages_in_conversation(self, conversation):
        return self.db_count("SELECT count(*) FROM messages WHERE conversation_id = ?",
                             (conversation,))

    def db_count(self, sql, args):
        return harness.db_rows(self.parley, sql, args)[0][0]

    def test_agent_reply_with_a_stored_file_reaches_the_channel_with_a_working_link(self):
        hello = send_customer(self, self.parley, self.a, "m-media-out", "media-out", "hi")
        conversation = hello["conversation"]
        before = "ev_" + hello["message"].split("_", 1)[1]  # its message.created event
        att = self.uploaded(self.a)
        ws = harness.open_stream(self.parley, self.a.key)
        self.addCleanup(ws.close)
        sent = self.a.client.post("/v1/conversations/%s/messages" % conversation,
                                  {"content": dict(media(att["id"]), caption="see")})
        self.assertEqual(sent.status, 202, sent)
        item = sent.json["content"]["attachments"][0]
        self.assertEqual(item["mime_type"], "image/png")
        self.assertEqual(item["size_bytes"], len(PNG))
        self.assertEqual(item["filename"], "pixel.png")
        self.assertEqual(item["sha256"], hashlib.sha256(PNG).hexdigest())
        self.assertLinkOpens(item["url"], PNG)

        # The channel receives the message with its own fresh link.
        posted = self.a.channel.wait_for_message(sent.json["id"])
        out = posted.json["content"]
        self.assertEqual(out["caption"], "see")
        self.assertEqual(out["attachments"][0]["id"], att["id"])
        self.assertEqual(out["attachments"][0]["mime_type"], "image/png")
        self.assertLinkOpens(out["attachments"][0]["url"], PNG)

        # So does the client application's webhook and the message list.
        event = self.a.webhook.wait_for_event(harness.created_for(sent.json["id"]))
        self.assertLinkOpens(event["data"]["content"]["attachments"][0]["url"], PNG)
        listed = self.a.client.get("/v1/conversations/%s/messages" % conversation)
        mine = [m for m in listed.json["data"] if m["id"] == sent.json["id"]]
        self.assertLinkOpens(mine[0]["content"]["attachments"][0]["url"], PNG)

        # And the live stream, live and when resumed from before the message.
        created = harness.created_for(sent.json["id"])
        live = ws.recv_events_until(lambda got: any(created(e) for e in got))
        started = [e for e in live if created(e)][0]
        self.assertLinkOpens(started["data"]["content"]["attachments"][0]["url"], PNG)
        resumed = harness.open_stream(self.parley, self.a.key, last_event_id=before)
        self.addCleanup(resumed.close)
        replayed = resumed.recv_events_until(lambda got: any(created(e) for e in got))
        self.assertLinkOpens(
            [e for e in replayed if created(e)][0]["data"]["content"]["attachments"][0]["url"], PNG)

        # The link is minted on the way out: none is stored, and the file now belongs to the
        # conversation (erasing its customer deletes it).
        self.assertEqual(self.db_count(
            "SELECT count(*) FROM attachments WHERE id = ? AND conversation_id = ?",
            (att["id"], conversation)), 1)

    def test_customer_message_through_the_custom_channel_carries_a_stored_file(self):
        att = self.uploaded(self.a, b"customer notes\n" * 20, "text/plain", "filename=notes.txt")
        got = send_customer(self, self.parley, self.a, "m-media-in", "media-in", "x",
                            content=media(att["id"], kind="file"))
        event = self.a.webhook.wait_for_event(harness.created_for(got["message"]))
        item = event["data"]["content"]["attachments"][0]
        self.assertEqual(item["mime_type"], "text/plain")
        self.assertEqual(item["filename"], "notes.txt")
        self.assertLinkOpens(item["url"], b"customer notes\n" * 20)
        self.assertEqual(self.db_count(
            "SELECT count(*) FROM attachments WHERE id = ? AND conversation_id = ?",
            (att["id"], got["conversation"])), 1)

    def test_bad_references_are_refused_and_store_nothing(self):
        conversation = self.conversation(self.a, "media-bad")
        other = self.conversation(self.a, "media-other")
        used_elsewhere = self.uploaded(self.a)
        r = self.a.client.post("/v1/conversations/%s/messages" % other,
                               {"content": media(used_elsewhere["id"])})
        self.assertEqual(r.status, 202, r)
        text_file = self.uploaded(self.a, b"plain words\n" * 10, "text/plain", "")
        theirs = self.uploaded(self.b)
        before = self.messages_in_conversation(conversation)
        cases = [
            (media("att_01kajk0nvv4xa3yexh9at47agm"), "no such attachment"),
            (media(theirs["id"]), "no such attachment"),  # another tenant's: not even named
            (media(used_elsewhere["id"]), "another conversation"),
            (media(text_file["id"], kind="image"), "cannot be sent as image"),
        ]
        for content, why in cases:
            r = self.a.client.post("/v1/conversations/%s/messages" % conversation,
                                   {"content": content})
            self.assertEqual(r.status, 400, (why, r))
            self.assertErrorShape(r, "invalid_argument", why)
            self.assertIn("content.attachments[0].id", r.json["error"]["message"])
            self.assertIn(why, r.json["error"]["message"])
        self.assertEqual(self.messages_in_conversation(conversation), before)
        # A customer's message naming another tenant's file is refused the same way.
        customers = self.db_count("SELECT count(*) FROM customers", ())
        r = harness.post_custom(self.parley, self.a, harness.customer_message(
            "m-bad-ref", "media-bad-new-customer", content=media(theirs["id"])))
        self.assertEqual(r.status, 400, r)
        self.assertIn("no such attachment", r.json["error"]["message"])
        self.assertEqual(self.db_count("SELECT count(*) FROM customers", ()), customers,
                         "the refused message created no customer")
        # The refusals changed nothing: the file stays with the conversation that used it.
        self.assertEqual(self.db_count(
            "SELECT count(*) FROM attachments WHERE id = ? AND conversation_id = ?",
            (used_elsewhere["id"], other)), 1)


if __name__ == "__main__":
    harness.main()
