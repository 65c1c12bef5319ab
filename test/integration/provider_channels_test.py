"""Acceptance: the provider channels (whatsapp, messenger, instagram, twilio, telegram) end to
end, each against its simulator (`parley simulate <kind> --serve`, the fake provider API whose
URL is the connection's api_base_url) and the fake client application (WebhookReceiver).

For every kind: a signed customer text arrives at the client application normalized, once
even when the provider repeats the webhook; a customer picture is fetched into attachment
storage and its signed link opens it; an agent's text reaches the provider as the provider's
exact request, and the provider's status callback comes back as message.status; a 429 or
throttle is retried until it succeeds; a permanent refusal becomes message.status failed with
the provider's code; buttons are rendered in the provider's interactive format (or degraded as
docs/channels/<kind>.md says); a bad signature is refused and stores nothing."""

import hashlib
import hmac
import json
import os
import secrets as pysecrets
import subprocess
import time
import unittest
import urllib.parse

import harness

from provider_support import CONTACT, ProviderChannelFixture


def sent_text(kind, request):
    """(recipient, text) of the provider request a text message became."""
    body = request["body"]
    if kind == "twilio":
        form = urllib.parse.parse_qs(body)
        return form["To"][0], form["Body"][0]
    doc = json.loads(body)
    if kind == "whatsapp":
        assert doc["messaging_product"] == "whatsapp" and doc["type"] == "text", doc
        return doc["to"], doc["text"]["body"]
    if kind in ("messenger", "instagram"):
        return doc["recipient"]["id"], doc["message"]["text"]
    return str(doc["chat_id"]), doc["text"]


class ProviderChannelTest(ProviderChannelFixture):
    """What every provider channel does, run once per kind (the subclasses below)."""

    # -- the tests
    def test_customer_text_arrives_normalized_once(self):
        text = "Olá %s ✓" % pysecrets.token_hex(3)
        data = self.customer_text(text)
        self.assertEqual(data["channel"]["kind"], self.KIND)
        self.assertEqual(data["channel"]["connection"], self.connection)
        self.assertEqual(data["direction"], "inbound")
        self.assertTrue(data["provider_message_id"])
        # The provider repeats the same webhook: answered 2xx, stored once.
        before = harness.db_rows(self.parley, "SELECT count(*) FROM messages")[0][0]
        again = self.inbound(type="repeat")
        self.assertEqual(again["status"], 200, again)
        if self.KIND in ("whatsapp", "messenger", "instagram"):  # Parley's JSON summary
            self.assertTrue(json.loads(again["body"])["duplicate"], again)
        self.assertEqual(harness.db_rows(self.parley, "SELECT count(*) FROM messages")[0][0],
                         before)
        # Events reach the endpoint in order: once a later message arrived, a duplicate
        # message.created would have arrived before it.
        self.customer_text("after the repeat %s" % pysecrets.token_hex(3))
        texts = [e for e in self.tenant.webhook.events()
                 if e["type"] == "message.created" and e["data"]["content"].get("text") == text]
        self.assertEqual(len(texts), 1)

    def test_customer_picture_is_stored_and_its_link_opens(self):
        answer = self.inbound(type="image", text="a picture")
        self.assertEqual(answer["status"], 200, answer)
        event = self.picture_event()
        attachment = event["data"]["content"]["attachments"][0]
        self.assertTrue(attachment["id"].startswith("att_"), attachment)
        self.assertEqual(attachment["mime_type"], "image/png")
        url = urllib.parse.urlsplit(attachment["url"])
        followed = harness.http_request(self.parley.port, "GET", url.path + "?" + url.query)
        self.assertEqual(followed.status, 302, followed)
        location = urllib.parse.urlsplit(followed.header("location"))
        content = harness.http_request(self.parley.port, "GET",
                                       location.path + "?" + location.query)
        self.assertEqual(content.status, 200, content)
        self.assertTrue(content.body.startswith(b"\x89PNG"), content.body[:8])

    def test_a_picture_the_provider_cannot_serve_yet_arrives_on_a_later_try(self):
        # The provider's media server fails once: the call is still answered 2xx (Twilio
        # never repeats a call) and kept; the next try fetches the picture and stores it.
        before = harness.db_rows(self.parley, "SELECT count(*) FROM messages")[0][0]
        self.fail_next("server_error")
        answer = self.inbound(type="image")
        self.assertIn(answer["status"], (200, 202), answer)
        event = self.picture_event(timeout=15)
        attachment = event["data"]["content"]["attachments"][0]
        self.assertTrue(attachment["id"].startswith("att_"), attachment)
        self.assertEqual(harness.db_rows(self.parley, "SELECT count(*) FROM messages")[0][0],
                         before + 1)
        harness.wait_until(
            lambda: harness.db_rows(self.parley, "SELECT count(*) FROM inbound_retries")[0][0]
            == 0, timeout=5, what="the kept call to be dropped once stored")

    def test_agent_text_reaches_the_provider_and_statuses_come_back(self):
        conversation = self.customer_text("status please")["conversation"]
        before = len(self.sends())
        text = "Reply %s" % pysecrets.token_hex(3)
        message = self.agent_sends(conversation, {"type": "text", "text": text})
        sent = self.status_event(message, "sent")
        provider_id = sent["data"]["provider_message_id"]
        self.assertTrue(provider_id)
        requests = self.sends()[before:]
        self.assertEqual(len(requests), 1, requests)
        self.assertEqual(sent_text(self.KIND, requests[0]), (CONTACT[self.KIND], text))
        if self.KIND == "telegram":
            return  # Telegram reports no delivery statuses
        answer = self.inbound(type="status", status="delivered", provider_message_id=provider_id)
        self.assertEqual(answer["status"], 200, answer)
        self.status_event(message, "delivered")

    def provider_signals(self, since):
        """The typing and read signals the provider received after its `since`-th request."""
        r = harness.http_request(self.sim_port, "GET", "/_sim/received")
        out = []
        for q in r.json["requests"][since:]:
            if q["method"] != "POST":
                continue
            if self.KIND == "telegram" and q["target"].endswith("/sendChatAction"):
                out.append(json.loads(q["body"])["action"])
            elif self.KIND in ("messenger", "instagram") and "sender_action" in q["body"]:
                out.append(json.loads(q["body"])["sender_action"])
            elif self.KIND == "whatsapp" and '"status":"read"' in q["body"]:
                out.append("read")
        return sorted(out)

    def test_agent_typing_reaches_the_provider_once_per_burst(self):
        conversation = self.customer_text("typing? %s" % pysecrets.token_hex(3))["conversation"]
        since = len(harness.http_request(self.sim_port, "GET", "/_sim/received").json["requests"])
        for on in (True, True, True, True, False):  # an application reporting keystrokes
            r = self.tenant.client.post("/v1/conversations/%s/typing" % conversation, {"on": on})
            self.assertEqual(r.status, 202, r)
        expected = {"messenger": ["typing_off", "typing_on"],
                    "instagram": ["typing_off", "typing_on"],
                    "telegram": ["typing"], "whatsapp": [], "twilio": []}[self.KIND]
        harness.wait_until(lambda: len(self.provider_signals(since)) >= len(expected),
                           what="the typing signals at the provider")
        time.sleep(0.3)  # a signal too many would have arrived by now
        self.assertEqual(self.provider_signals(since), expected)

    def test_rate_limit_is_retried_until_it_succeeds(self):
        conversation = self.customer_text("busy?")["conversation"]
        before = len(self.sends())
        self.fail_next("rate_limit")
        message = self.agent_sends(conversation, {"type": "text", "text": "after the limit"})
        self.status_event(message, "sent")
        self.assertEqual(len(self.sends()) - before, 2)

    def test_permanent_refusal_is_reported_failed_with_the_providers_code(self):
        conversation = self.customer_text("refuse me")["conversation"]
        self.fail_next("rejected")
        message = self.agent_sends(conversation, {"type": "text", "text": "refused"})
        failed = self.status_event(message, "failed")
        self.assertTrue(failed["data"]["error"]["code"].startswith(
            {"whatsapp": "meta_", "messenger": "meta_", "instagram": "meta_",
             "twilio": "twilio_", "telegram": "telegram_"}[self.KIND]), failed)

    def test_buttons_are_rendered_for_the_provider(self):
        conversation = self.customer_text("options?")["conversation"]
        before = len(self.sends())
        content = {"type": "interactive", "kind": "buttons", "body": "Pick one",
                   "buttons": [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}]}
        message = self.agent_sends(conversation, content)
        self.status_event(message, "sent")
        request = self.sends()[before]
        body = request["body"]
        if self.KIND == "whatsapp":
            doc = json.loads(body)
            self.assertEqual(doc["type"], "interactive")
            self.assertEqual(doc["interactive"]["type"], "button")
            self.assertEqual([b["reply"]["id"] for b in doc["interactive"]["action"]["buttons"]],
                             ["yes", "no"])
        elif self.KIND == "telegram":
            doc = json.loads(body)
            keyboard = doc["reply_markup"]["inline_keyboard"]
            self.assertEqual([b["callback_data"] for row in keyboard for b in row], ["yes", "no"])
        elif self.KIND == "twilio":
            text = urllib.parse.parse_qs(body)["Body"][0]
            self.assertIn("1. Yes", text)
            self.assertIn("2. No", text)
        else:
            doc = json.loads(body)
            self.assertIn("Pick one", json.dumps(doc["message"]))
            self.assertIn("yes", json.dumps(doc["message"]))

    def test_a_get_is_answered_as_a_handshake_only_where_the_provider_has_one(self):
        r = harness.http_request(self.parley.port, "GET", "/v1/webhooks/%s" % self.connection)
        if self.KIND in ("whatsapp", "messenger", "instagram"):
            self.assertEqual(r.status, 403, r)  # Meta's handshake without the verify token
        else:
            self.assertEqual(r.status, 405, r)
            self.assertEqual(r.header("allow"), "POST")

    def test_a_bad_signature_is_refused_and_stores_nothing(self):
        before = harness.db_rows(self.parley, "SELECT count(*) FROM messages")[0][0]
        headers = {"X-Hub-Signature-256": "sha256=" + "0" * 64,
                   "X-Twilio-Signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                   "X-Telegram-Bot-Api-Secret-Token": "wrong"}
        body = ("From=%2B1555&To=%2B15550001111&Body=hi&MessageSid=SM1" if self.KIND == "twilio"
                else json.dumps({"object": "page", "entry": [], "update_id": 1}))
        if self.KIND == "twilio":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        r = harness.http_request(self.parley.port, "POST", "/v1/webhooks/" + self.connection,
                                 body, headers, raw=self.KIND == "twilio")
        self.assertEqual(r.status, 401, r)
        self.assertEqual(harness.db_rows(self.parley, "SELECT count(*) FROM messages")[0][0],
                         before)


class WhatsAppTest(ProviderChannelTest):
    KIND = "whatsapp"

    def test_handshake_and_returning_customer(self):
        good = harness.http_request(
            self.parley.port, "GET", "/v1/webhooks/%s?hub.mode=subscribe&hub.verify_token=vt-123"
            "&hub.challenge=1158201444" % self.connection)
        self.assertEqual((good.status, good.body), (200, b"1158201444"))
        bad = harness.http_request(
            self.parley.port, "GET", "/v1/webhooks/%s?hub.mode=subscribe&hub.verify_token=nope"
            "&hub.challenge=1" % self.connection)
        self.assertEqual(bad.status, 403)
        # A customer who comes back after their conversation ended is recognised.
        first = self.inbound(type="text", text="first visit", **{"from": "15559990000"})
        self.assertEqual(first["status"], 200, first)
        started = self.tenant.webhook.wait_for_event(
            lambda e: e["type"] == "conversation.started" and
            e["data"]["conversation"] == json.loads(first["body"])["conversation"])
        self.assertFalse(started["data"]["returning"])
        ended = self.tenant.client.post("/v1/conversations/%s/end" % started["data"]["conversation"],
                                        {})
        self.assertIn(ended.status, (200, 202), ended)
        second = self.inbound(type="text", text="second visit", **{"from": "15559990000"})
        conversation = json.loads(second["body"])["conversation"]
        again = self.tenant.webhook.wait_for_event(
            lambda e: e["type"] == "conversation.started" and
            e["data"]["conversation"] == conversation)
        self.assertTrue(again["data"]["returning"])
        self.assertEqual(again["data"]["customer"], started["data"]["customer"])
        self.assertIn("customer_first_seen", again["data"])


    def whatsapp_webhook(self, connection, app_secret, phone_number_id, wamid, text):
        """Posts a signed WhatsApp text webhook for `phone_number_id` to `connection`'s URL."""
        body = json.dumps({"object": "whatsapp_business_account", "entry": [{
            "id": "102290129340398", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881",
                             "phone_number_id": phone_number_id},
                "contacts": [{"profile": {"name": "Kerry"}, "wa_id": "16315551181"}],
                "messages": [{"from": "16315551181", "id": wamid,
                              "timestamp": str(int(time.time())), "type": "text",
                              "text": {"body": text}}]}}]}]}).encode()
        signature = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
        return harness.http_request(self.parley.port, "POST", "/v1/webhooks/%s" % connection,
                                    body, {"Content-Type": "application/json",
                                           "X-Hub-Signature-256": signature})

    def test_one_app_url_routes_each_number_to_its_connection(self):
        # A Meta app posts every number's webhooks to its one URL (here this connection's):
        # a number served by another tenant's connection of the same app is routed there.
        app_secret = self.setup[1]["app_secret"]
        other = self.bootstrap()
        admin = self.parley.admin()

        def connect(tenant, phone_number_id, secret):
            return admin.post("/v1/admin/tenants/%s/connections" % tenant, {
                "kind": "whatsapp", "settings": {"phone_number_id": phone_number_id,
                                                 "api_base_url": self.sim_url},
                "credentials": {"app_secret": secret, "verify_token": "vt",
                                "access_token": "EAAG-other"}})

        routed = connect(other.id, "200000000000001", app_secret)
        self.assertEqual(routed.status, 201, routed)
        # One identity, one connection: a second connection for the same number is refused.
        taken = connect(self.tenant.id, "200000000000001", app_secret)
        self.assertEqual(taken.status, 409, taken)
        self.assertNotIn("200000000000001", taken.body.decode())
        # A connection of another app (its own secret) is never written through this URL.
        foreign = connect(other.id, "200000000000002", "as-" + pysecrets.token_hex(12))
        self.assertEqual(foreign.status, 201, foreign)

        text = "routed %s" % pysecrets.token_hex(3)
        r = self.whatsapp_webhook(self.connection, app_secret, "200000000000001",
                                  "wamid.routed-" + pysecrets.token_hex(6), text)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["connection"], routed.json["id"])
        event = other.webhook.wait_for_event(
            lambda e: e["type"] == "message.created" and e["data"]["content"].get("text") == text,
            what="the routed message at the other tenant")
        self.assertEqual(event["data"]["channel"]["connection"], routed.json["id"])
        self.assertFalse([e for e in self.tenant.webhook.events()
                          if e["type"] == "message.created" and
                          e["data"]["content"].get("text") == text])

        before = harness.db_rows(self.parley, "SELECT count(*) FROM messages")[0][0]
        r = self.whatsapp_webhook(self.connection, app_secret, "200000000000002",
                                  "wamid.foreign-" + pysecrets.token_hex(6), "not yours")
        self.assertEqual(r.status, 200, r)
        r = self.whatsapp_webhook(self.connection, app_secret, "200000000000003",
                                  "wamid.nobody-" + pysecrets.token_hex(6), "nobody's")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(harness.db_rows(self.parley, "SELECT count(*) FROM messages")[0][0],
                         before)


class MessengerTest(ProviderChannelTest):
    KIND = "messenger"


class InstagramTest(ProviderChannelTest):
    KIND = "instagram"


class TwilioTest(ProviderChannelTest):
    KIND = "twilio"


class TelegramTest(ProviderChannelTest):
    KIND = "telegram"


del ProviderChannelFixture, ProviderChannelTest  # only the concrete kinds run

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared",
                        "fixtures", "providers")

# fixture -> (messages as (content type, text/title/kind/latitude, provider id),
#             statuses as (status, provider id, error code), media references)
NORMALIZED = {
    "whatsapp_text.json": ([("text", "Does it come in another color?",
                             "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=")],
                           [], 0),
    "whatsapp_signed_text.raw.json": ([("text", "Hey there! I am using PyWa.",
                                        "wamid.HBgMOTcyNTQ0NDAxMjQzFQIAEhggM0RFQTNCMEEwRTY3QzUwODY"
                                        "zMDc4NjQ4QzM4ODAxM0YA")], [], 0),
    "whatsapp_image.json": ([("media", "image",
                              "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=")],
                            [], 1),
    "whatsapp_location.json": ([("location", 37.44221496582,
                                 "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=")],
                               [], 0),
    "whatsapp_interactive_button_reply.json": (
        [("reply", "Cancel", "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTZBQzg0MzQ4QjRCM0NGNkVGOAA=")],
        [], 0),
    "whatsapp_status_sent.json": ([], [("sent", "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0ND"
                                                "EzNDdFODU3MUMxMAA=", None)], 0),
    "whatsapp_status_delivered.json": ([], [("delivered", "wamid.xyzxyz", None)], 0),
    "whatsapp_status_read.json": ([], [("read", "wamid.xyzxyz", None)], 0),
    "messenger_text.json": ([("text", "Hello World", "external_id")], [], 0),
    "messenger_image.json": ([("media", "image", "external_id")], [], 1),
    "messenger_quick_reply.json": ([("reply", "hello, world!",
                                     "mid.1457764197618:41d102a3e1ae206a38")], [], 0),
    # A postback without a mid gets an id derived from what identifies it (stable on retries).
    "messenger_postback.json": ([("reply", "postback title",
                                  "postback.4014420d1cb508d6e506fa3a2b223a03")], [], 0),
    "messenger_delivery.json": ([], [("delivered", "mid.1458668856218:ed81099e15d3f4f233",
                                      None)], 0),
    "instagram_text.json": ([("text", "Hello World", "external_id")], [], 0),
    "twilio_sms.form": ([("text", "Hello", "SMc56324aa4a31735561b7205472192d68")], [], 0),
    "twilio_whatsapp_text.form": ([("text", "test", "SM892512e202b34d4109b10a3893fa9640")], [], 0),
    "twilio_whatsapp_image.form": ([("media", "image", "MM21151abfaadc1fb79b782f8460862a52")],
                                   [], 1),
    "twilio_status_sms_sent.form": ([], [("sent", "SM1342fe1b2c904d1ab04f0fc7a58abca9", None)],
                                    0),
    "twilio_whatsapp_status_delivered.form": (
        [], [("delivered", "SMdf55df64a2ff4920bb0748193cfbb640", None)], 0),
    "twilio_status_failed.form": ([], [("failed", "SMe287d7109a5a925f182f0e07fe5b223b",
                                        "twilio_21610")], 0),
    "telegram_text_modern.json": ([("text", "hello there", "218485655:6557")], [], 0),
    "telegram_photo.json": ([("media", "image", "27433968:3460")], [], 1),
    "telegram_callback_query.json": ([("reply", "Data from button callback",
                                       "cbq:4382bfdwdsb323b2d9")], [], 0),
}


class NormalizeFixturesTest(unittest.TestCase):
    """Every provider example payload through `parley normalize --channel <kind>`."""

    def test_every_inbound_fixture_normalizes_with_its_fields(self):
        self.assertTrue(os.path.isdir(FIXTURES), FIXTURES)
        for name, (messages, statuses, media) in sorted(NORMALIZED.items()):
            kind = name.split("_", 1)[0]
            with self.subTest(fixture=name), open(os.path.join(FIXTURES, name), "rb") as f:
                out = subprocess.run([harness.PARLEY_BIN, "normalize", "--channel", kind],
                                     stdin=f, capture_output=True, timeout=30)
                self.assertEqual(out.returncode, 0, out.stderr)
                doc = json.loads(out.stdout)
                got = []
                for m in doc["messages"]:
                    c = m["content"]
                    value = (c.get("text") or c.get("title") or c.get("latitude")
                             if c["type"] != "media" else c["kind"])
                    self.assertEqual(m["channel"]["kind"], kind)
                    self.assertEqual(m["direction"], "inbound")
                    got.append((c["type"], value, m["provider_message_id"]))
                self.assertEqual(got, messages)
                self.assertEqual([(s["status"], s["provider_message_id"],
                                   (s.get("error") or {}).get("code")) for s in doc["statuses"]],
                                 statuses)
                self.assertEqual(len(doc["media"]), media)
                for ref in doc["media"]:
                    self.assertTrue(ref["ref"])
        # The files this table does not name are outbound examples (send requests, answers).
        inbound = {n for n in os.listdir(FIXTURES) if not any(
            part in n for part in ("_send_", "_response", "error", "media_url", "signature"))}
        self.assertEqual(inbound - set(NORMALIZED), set())

if __name__ == "__main__":
    harness.main()
