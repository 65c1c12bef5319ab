"""Acceptance: attachments end to end on the embedded default (local sealed storage).

Uploads through the client API (streamed; size limit, type sniffing, the scan hook), signed
links that redirect to a short-lived storage URL (expiry, tampering, another tenant's file),
files sealed on disk, deletion after the attachment TTL by the sweeper, and a customer's
export and erasure. Waits poll the database and the blob directory; nothing sleeps."""

import hashlib
import http.client
import json
import os
import stat
import tempfile
import urllib.parse

import harness
from harness import send_customer, wait_until

# A complete 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200
MAX_BYTES = 200000

SCANNER = """#!/bin/sh
if grep -q PARLEY-TEST-VIRUS; then echo "Parley-Test-Signature"; exit 1; fi
exit 0
"""


def upload(parley, key, data, content_type="image/png", query="", chunked=False):
    """POST /v1/attachments; `chunked` sends the body without a Content-Length."""
    conn = http.client.HTTPConnection("127.0.0.1", parley.port, timeout=20)
    try:
        headers = {"Authorization": "Bearer " + key}
        if content_type:
            headers["Content-Type"] = content_type
        path = "/v1/attachments" + (("?" + query) if query else "")
        if chunked:
            pieces = (data[i:i + 16384] for i in range(0, len(data), 16384))
            conn.request("POST", path, body=pieces, headers=headers, encode_chunked=True)
        else:
            conn.request("POST", path, body=data, headers=headers)
        resp = conn.getresponse()
        return harness.Response(resp.status, {k.lower(): v for k, v in resp.getheaders()},
                                resp.read())
    except (BrokenPipeError, ConnectionResetError) as e:  # the server may stop reading
        return harness.Response(0, {}, str(e).encode())
    finally:
        conn.close()


def get(parley, url):
    parsed = urllib.parse.urlsplit(url)
    target = parsed.path + ("?" + parsed.query if parsed.query else "")
    return harness.http_request(parley.port, "GET", target)


def with_param(url, name, value):
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query[name] = value
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


class AttachmentsTest(harness.ParleyTestCase):
    @classmethod
    def setUpClass(cls):
        cls.scan_dir = tempfile.mkdtemp(prefix="parley-scan-")
        script = os.path.join(cls.scan_dir, "scan.sh")
        with open(script, "w") as f:
            f.write(SCANNER)
        os.chmod(script, stat.S_IRWXU)
        cls.ENV = dict(harness.FAST_DELIVERY_ENV, **{
            "PARLEY_ATTACHMENTS__MAX_BYTES": str(MAX_BYTES),
            "PARLEY_ATTACHMENTS__SCAN_COMMAND": "/bin/sh " + script,
        })
        super().setUpClass()
        cls.a = cls.bootstrap()
        cls.b = cls.bootstrap()

    def db_rows(self, sql, args=()):
        return harness.db_rows(self.parley, sql, args)

    def blob_files(self, tenant):
        d = os.path.join(self.parley.data_dir, "blobs", tenant.id)
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def test_upload_then_the_link_redirects_to_the_file(self):
        r = upload(self.parley, self.a.key, PNG, query="filename=pixel.png")
        self.assertEqual(r.status, 201, r)
        self.assertTrue(harness.is_id(r.json["id"], "att"))
        self.assertEqual(r.json["mime_type"], "image/png")
        self.assertEqual(r.json["size_bytes"], len(PNG))
        self.assertEqual(r.json["sha256"], hashlib.sha256(PNG).hexdigest())
        self.assertEqual(r.json["filename"], "pixel.png")
        link = r.json["url"]
        self.assertIn("/v1/attachments/%s?" % r.json["id"], link)
        # The link needs no API key: its signature is the credential.
        followed = get(self.parley, link)
        self.assertEqual(followed.status, 302, followed)
        storage = followed.header("location")
        self.assertIn("/content?", storage)
        content = get(self.parley, storage)
        self.assertEqual(content.status, 200, content)
        self.assertEqual(content.body, PNG)
        self.assertEqual(content.header("content-type"), "image/png")
        self.assertEqual(content.header("x-content-type-options"), "nosniff")

    def test_expired_tampered_and_foreign_links_get_403_and_no_bytes(self):
        mine = upload(self.parley, self.a.key, PNG).json
        theirs = upload(self.parley, self.b.key, PNG + b"b").json
        link = mine["url"]
        storage = get(self.parley, link).header("location")
        sig = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["signature"][0]
        bad = [
            with_param(link, "signature", ("0" if sig[0] != "0" else "1") + sig[1:]),
            with_param(link, "expires", "1000000000"),  # long past
            with_param(link, "expires", str(int(dict(urllib.parse.parse_qsl(
                urllib.parse.urlsplit(link).query))["expires"]) + 1)),
            link.replace(mine["id"], theirs["id"]),  # A's signature on B's file
            with_param(storage, "signature", "f" * 64),
            storage.replace(mine["id"], theirs["id"]),
            link.split("?")[0],
        ]
        for url in bad:
            r = get(self.parley, url)
            self.assertEqual(r.status, 403, url)
            self.assertErrorShape(r, "permission_denied", url)
            self.assertNotIn(PNG[8:24], r.body)
        # The link itself is no storage URL, and a storage URL no link.
        self.assertEqual(get(self.parley, link.replace("?", "/content?")).status, 403)

    def test_size_limit_answers_413_with_or_without_a_length(self):
        big = PNG + b"\x00" * (MAX_BYTES + 1)
        before = self.blob_files(self.a)
        r = upload(self.parley, self.a.key, big)
        self.assertIn(r.status, (413, 0), r)  # 0: the server stopped reading and closed
        if r.status:
            self.assertErrorShape(r, "payload_too_large")
        r = upload(self.parley, self.a.key, big, chunked=True)
        self.assertIn(r.status, (413, 0), r)
        self.assertEqual(self.blob_files(self.a), before)
        self.assertEqual(upload(self.parley, self.a.key, PNG).status, 201)

    def test_type_is_sniffed_from_the_bytes(self):
        r = upload(self.parley, self.a.key, ELF, content_type="image/png")
        self.assertEqual(r.status, 415, r)
        self.assertErrorShape(r, "unsupported_media_type")
        self.assertIn("image/png", r.json["error"]["message"])
        r = upload(self.parley, self.a.key, ELF, content_type="")
        self.assertEqual(r.status, 415, r)
        self.assertIn("not allowed", r.json["error"]["message"])
        r = upload(self.parley, self.a.key, b"plain words\n" * 50, content_type="text/plain")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["mime_type"], "text/plain")

    def test_scan_hook_rejects_before_anyone_receives_the_file(self):
        before = self.blob_files(self.a)
        payload = b"hello\n" * 30000 + b"PARLEY-TEST-VIRUS\n"
        r = upload(self.parley, self.a.key, payload, content_type="text/plain")
        self.assertEqual(r.status, 422, r)
        self.assertErrorShape(r, "attachment_rejected")
        self.assertIn("Parley-Test-Signature", r.json["error"]["message"])
        self.assertEqual(self.blob_files(self.a), before)

    def test_files_are_sealed_on_disk(self):
        marker = ("attachment-marker-" + os.urandom(6).hex()).encode()
        r = upload(self.parley, self.a.key, marker * 100, content_type="text/plain")
        self.assertEqual(r.status, 201, r)
        rows = self.db_rows("SELECT blob_name FROM attachments WHERE id = ?", (r.json["id"],))
        path = os.path.join(self.parley.data_dir, "blobs", self.a.id, rows[0][0])
        with open(path, "rb") as f:
            raw = f.read()
        self.assertNotIn(marker, raw)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)

    def test_export_then_erasure_of_a_customer(self):
        text = "export-marker-" + os.urandom(4).hex()
        sent = send_customer(self, self.parley, self.a, "exp-1", "erase-me", text)
        conversation = sent["conversation"]
        customer = self.a.client.get("/v1/conversations/" + conversation).json["customer"]
        att = upload(self.parley, self.a.key, PNG, query="conversation_id=" + conversation)
        self.assertEqual(att.status, 201, att)

        export = self.a.client.get("/v1/customers/%s/export" % customer)
        self.assertEqual(export.status, 200, export)
        self.assertEqual(export.json["customer"]["contact"], "erase-me")
        self.assertIn(text, json.dumps(export.json["messages"]))
        self.assertEqual([x["id"] for x in export.json["attachments"]], [att.json["id"]])
        # Another tenant cannot export or erase this customer.
        self.assertEqual(self.b.client.get("/v1/customers/%s/export" % customer).status, 404)
        self.assertEqual(self.b.client.delete("/v1/customers/" + customer).status, 404)

        blob = self.db_rows("SELECT blob_name FROM attachments WHERE id = ?",
                            (att.json["id"],))[0][0]
        erased = self.a.client.delete("/v1/customers/" + customer)
        self.assertEqual(erased.status, 200, erased)
        self.assertEqual(erased.json["attachments"], 1)
        self.assertGreaterEqual(erased.json["messages"], 1)
        self.assertNotIn(blob, self.blob_files(self.a))
        for table, column in (("customers", "id"), ("conversations", "customer_id")):
            self.assertEqual(self.db_rows("SELECT count(*) FROM %s WHERE %s = ?" % (table, column),
                                          (customer,))[0][0], 0, table)
        for table in ("messages", "events", "attachments"):
            self.assertEqual(self.db_rows(
                "SELECT count(*) FROM %s WHERE conversation_id = ?" % table,
                (conversation,))[0][0], 0, table)
        self.assertEqual(self.a.client.get("/v1/customers/" + customer).status, 404)
        self.assertEqual(get(self.parley, att.json["url"]).status, 403)
        self.assertEqual(self.a.client.delete("/v1/customers/" + customer).status, 404)


class AttachmentExpiryTest(harness.ParleyTestCase):
    ENV = dict(harness.FAST_DELIVERY_ENV, **{
        "PARLEY_ATTACHMENTS__TTL_S": "2",
        "PARLEY_RETENTION__SWEEP_INTERVAL_S": "1",
    })

    def test_attachment_and_its_file_are_deleted_after_the_ttl(self):
        t = self.bootstrap()
        r = upload(self.parley, t.key, PNG)
        self.assertEqual(r.status, 201, r)
        bucket = os.path.join(self.parley.data_dir, "blobs", t.id)
        self.assertEqual(len(os.listdir(bucket)), 1)
        wait_until(lambda: not harness.db_rows(self.parley, "SELECT 1 FROM attachments WHERE id = ?",
                                               (r.json["id"],)),
                   timeout=15, what="the attachment row deleted")
        wait_until(lambda: not os.listdir(bucket), timeout=5, what="its file deleted")
        self.assertEqual(get(self.parley, r.json["url"]).status, 403)


if __name__ == "__main__":
    harness.main()
