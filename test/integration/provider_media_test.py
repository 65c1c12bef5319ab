"""Acceptance: provider media downloads are bounded. They are held whole in memory until
stored, so only [channels] media_fetches run at once, and one tenant holds at most
media_fetches_per_tenant of them; a webhook call that waits 5 s for a download slot is
answered 2xx, kept, and tried again, and nothing is lost."""

import threading
import time

import harness
from provider_support import CONTACT, ProviderChannelFixture, Simulator

class MediaDownloadLimitTest(ProviderChannelFixture):
    """Provider media is held in memory until stored, so only [channels] media_fetches
    downloads run at once; a call that waits 5 s for one is kept and tried again."""
    KIND = "messenger"
    EXTRA_ENV = {"PARLEY_CHANNELS__MEDIA_FETCHES": "1"}

    def test_a_download_waits_for_the_only_slot_and_is_kept_when_it_stays_taken(self):
        before = len(self.cdn_requests())
        answers = {}
        first = self.picture_held_by_the_cdn(answers)
        started = time.monotonic()
        second = self.inbound(type="image")
        waited = time.monotonic() - started
        # The second call waited for the slot, then was answered 2xx and kept: nothing lost.
        self.assertIn(second["status"], (200, 202), second)
        self.assertGreaterEqual(waited, 4.5)
        self.assertEqual(len(self.cdn_requests()), before + 1, "a second download ran at once")
        self.assertGreaterEqual(self.busy_count(), 1)
        first.join(20)
        self.assertIn(answers["first"]["status"], (200, 202), answers)
        # The kept call is tried again once the slot is free, and its picture is stored.
        event = self.picture_event(timeout=20)
        self.assertTrue(event["data"]["content"]["attachments"][0]["id"].startswith("att_"))
        harness.wait_until(
            lambda: harness.db_rows(self.parley, "SELECT count(*) FROM inbound_retries")[0][0]
            == 0, timeout=10, what="the kept call to be dropped once stored")


class MediaDownloadShareTest(ProviderChannelFixture):
    """One tenant holds at most [channels] media_fetches_per_tenant of the media_fetches
    downloads (half by default): its slow pictures leave another tenant's theirs."""
    KIND = "messenger"
    EXTRA_ENV = {"PARLEY_CHANNELS__MEDIA_FETCHES": "2"}  # one per tenant

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Another tenant, with a Telegram connection on a simulator of its own.
        cls.other = cls.bootstrap()
        cls.other_sim = Simulator(cls.parley, cls.other.id, "telegram", "other-telegram")

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "other_sim", None):
            cls.other_sim.stop()
        super().tearDownClass()

    def test_a_tenant_with_slow_downloads_leaves_the_other_tenant_its_share(self):
        before = len(self.cdn_requests())
        busy_before = self.busy_count()
        created = lambda e: e["type"] == "message.created"
        events_before = len(self.tenant.webhook.events(pred=created))
        answers = {}
        # This tenant's CDN holds its next two downloads 7 s each; the first picture's takes
        # this tenant's one slot.
        first = self.picture_held_by_the_cdn(answers, times=2)
        # Its second picture, at once: the other slot is free, but not this tenant's.
        started = time.monotonic()
        second = threading.Thread(target=lambda: answers.__setitem__(
            "second", (self.inbound(type="image"), time.monotonic(), len(self.cdn_requests()))))
        second.start()
        harness.wait_until(lambda: self.metric("parley_media_fetches_waiting") >= 1,
                           what="the second picture to wait for this tenant's slot")

        # The other tenant's picture takes the free slot at once and is stored.
        asked = time.monotonic()
        r = harness.http_request(self.other_sim.port, "POST", "/_sim/inbound",
                                 {"type": "image", "from": CONTACT["telegram"]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], 200, r.json)
        self.assertLess(time.monotonic() - asked, 4, "the other tenant waited for a slot")
        event = self.other.webhook.wait_for_event(
            lambda e: created(e) and e["data"]["content"]["type"] == "media",
            timeout=10, what="the other tenant's picture")
        self.assertTrue(event["data"]["content"]["attachments"][0]["id"].startswith("att_"))

        # The second picture waited 5 s for this tenant's slot, and its call was kept.
        second.join(20)
        answer, answered, downloads = answers["second"]
        self.assertIn(answer["status"], (200, 202), answer)
        self.assertGreaterEqual(answered - started, 4.5)
        self.assertEqual(downloads, before + 1, "a second download of one tenant")
        self.assertGreaterEqual(self.busy_count(), busy_before + 1)
        first.join(20)
        self.assertIn(answers["first"]["status"], (200, 202), answers)
        # Nothing is lost: the kept call is tried again once this tenant's slot is free.
        harness.wait_until(
            lambda: harness.db_rows(self.parley, "SELECT count(*) FROM inbound_retries")[0][0]
            == 0, timeout=30, what="the kept call to be dropped once stored")
        self.tenant.webhook.wait_for_events(events_before + 2, timeout=10, pred=created,
                                            what="both pictures' messages")


del ProviderChannelFixture  # only the concrete cases run

if __name__ == "__main__":
    harness.main()
