"""Acceptance: attachments in S3-compatible storage (`[attachments] storage = "s3"`).

Runs `parley serve` against a real s3rver (test/node, installed by scripts/setup.sh; the test
fails, not skips, without it, like src/blob/s3_blob_store_test.cc): the configuration comes
from a TOML file with the secret access key in the environment; an upload lands unsealed in
the tenant's bucket (named by s3_bucket_pattern), its signed link redirects to a presigned
s3rver URL that serves the same bytes, and deleting the tenant deletes the bucket. Also: the
absolute links `parley serve` makes from its listen address when server.public_url is unset,
and the warning it logs when it cannot (a wildcard address). Nothing sleeps for timing."""

import http.client
import json
import os
import select
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.parse

import harness
from attachments_test import PNG, get, upload

NODE_TOOLS = os.environ.get(
    "PARLEY_NODE_TOOLS_DIR",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "node"))
ACCESS_KEY_ID = "parley-it"
# Unique per run so the test can look for it in the logs. s3rver 3 checks the access key id of
# each request (not the SigV4 signature); the pair is registered with it all the same.
SECRET_ACCESS_KEY = "s3-secret-" + secrets.token_hex(12)
BUCKET_PATTERN = "it-{tenant}"

# argv: <s3rver module dir> <data dir> <access key id> <secret>. Prints the bound address as
# one JSON line once s3rver accepts connections.
S3RVER_SCRIPT = r"""
const [module, directory, keyId, secret] = process.argv.slice(1);
const S3rver = require(module);
require(module + '/lib/models/account').DUMMY_ACCOUNT.createKeyPair(keyId, secret);
new S3rver({port: 0, address: '127.0.0.1', directory, silent: true}).run().then(
    address => console.log(JSON.stringify(address)),
    error => { console.error(error); process.exit(1); });
"""


class S3rver:
    """One s3rver process on 127.0.0.1 (a port of its choosing) with its own directory."""

    def __init__(self, timeout=20.0):
        module = os.path.abspath(os.path.join(NODE_TOOLS, "node_modules", "s3rver"))
        if not os.path.exists(os.path.join(module, "package.json")):
            raise harness.HarnessError(
                "s3rver is not installed (%s): run scripts/setup.sh" % module)
        node = shutil.which("node")
        if not node:
            raise harness.HarnessError("node is not installed: run scripts/setup.sh")
        self.dir = tempfile.mkdtemp(prefix="parley-s3rver-")
        self.data_dir = os.path.join(self.dir, "data")
        os.makedirs(self.data_dir)
        self._log = open(os.path.join(self.dir, "s3rver.log"), "wb")
        # s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in
        # its legacy provider.
        self.proc = subprocess.Popen(
            [node, "--openssl-legacy-provider", "-e", S3RVER_SCRIPT, module, self.data_dir,
             ACCESS_KEY_ID, SECRET_ACCESS_KEY],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log)
        self.port = None
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self.proc.stdout], [], [], max(remaining, 0))
            if not ready:
                self.close()
                raise harness.HarnessError("s3rver did not start within %.0fs" % timeout)
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                log = self._log_text()
                self.close()
                raise harness.HarnessError("s3rver exited at start (run scripts/setup.sh):\n"
                                           + log)
            line += chunk
        self.port = int(json.loads(line.split(b"\n")[0])["port"])
        self.url = "http://127.0.0.1:%d" % self.port

    def _log_text(self):
        self._log.flush()
        with open(os.path.join(self.dir, "s3rver.log"), "rb") as f:
            return f.read()[-2000:].decode("utf-8", "replace")

    def bucket_dir(self, bucket):
        return os.path.join(self.data_dir, bucket)

    def object_path(self, bucket, key):
        # s3rver's filesystem store: <directory>/<bucket>/<key>._S3rver_object
        return os.path.join(self.data_dir, bucket, key + "._S3rver_object")

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc.stdout.close()
        self._log.close()
        if not harness.KEEP_TEMP:
            shutil.rmtree(self.dir, ignore_errors=True)


def bucket_of(tenant_id):
    """The bucket of a tenant under BUCKET_PATTERN ("tn_01HX…" -> "it-tn-01hx…")."""
    return BUCKET_PATTERN.replace("{tenant}", tenant_id.lower().replace("_", "-"))


def fetch(url):
    """GET of an absolute http:// URL (a presigned storage URL) as a harness.Response."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", parts.path + ("?" + parts.query if parts.query else ""))
        resp = conn.getresponse()
        return harness.Response(resp.status, {k.lower(): v for k, v in resp.getheaders()},
                                resp.read())
    finally:
        conn.close()


def s3_config(workdir, endpoint):
    """A TOML file selecting the S3 backend; the secret comes from the environment."""
    path = os.path.join(workdir, "parley-s3.toml")
    with open(path, "w") as f:
        f.write('[attachments]\nstorage = "s3"\ns3_endpoint = "%s"\ns3_access_key_id = "%s"\n'
                's3_bucket_pattern = "%s"\ns3_request_timeout_ms = 10000\n'
                % (endpoint, ACCESS_KEY_ID, BUCKET_PATTERN))
    return path


class S3TestCase(harness.ParleyTestCase):
    """Starts an s3rver, then one Parley configured for it."""

    @classmethod
    def setUpClass(cls):
        cls.s3 = S3rver()
        cls.config_dir = tempfile.mkdtemp(prefix="parley-s3-config-")
        cls.ENV = dict(harness.FAST_DELIVERY_ENV,
                       PARLEY_ATTACHMENTS__S3_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY)
        cls.ARGS = ["--config", s3_config(cls.config_dir, cls.s3.url)]
        try:
            super().setUpClass()
        except BaseException:
            cls._close_s3()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls._close_s3()

    @classmethod
    def _close_s3(cls):
        cls.s3.close()
        shutil.rmtree(cls.config_dir, ignore_errors=True)

    def blob_name(self, attachment_id):
        rows = harness.db_rows(self.parley, "SELECT blob_name FROM attachments WHERE id = ?",
                               (attachment_id,))
        self.assertEqual(len(rows), 1, "attachment row of %s" % attachment_id)
        return rows[0][0]


class AttachmentsS3Test(S3TestCase):
    @classmethod
    def setUpClass(cls):
        # A concrete address and port, so that links are absolute without server.public_url.
        cls.LISTEN = "127.0.0.1:%d" % harness.free_port()
        super().setUpClass()

    def test_upload_lands_in_the_tenant_bucket_and_the_link_redirects_to_s3(self):
        t = self.bootstrap()
        r = upload(self.parley, t.key, PNG, query="filename=pixel.png")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["size_bytes"], len(PNG))
        link = r.json["url"]
        self.assertTrue(link.startswith("http://%s/v1/attachments/%s?" % (self.LISTEN,
                                                                          r.json["id"])), link)

        bucket = bucket_of(t.id)
        name = self.blob_name(r.json["id"])
        with open(self.s3.object_path(bucket, name), "rb") as f:
            self.assertEqual(f.read(), PNG, "the object as stored in %s" % bucket)

        followed = get(self.parley, link)
        self.assertEqual(followed.status, 302, followed)
        storage = followed.header("location")
        self.assertTrue(storage.startswith("%s/%s/%s?" % (self.s3.url, bucket, name)), storage)
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(storage).query))
        self.assertTrue(query.get("X-Amz-Signature"), storage)
        self.assertEqual(query.get("X-Amz-Expires"), "900")
        self.assertTrue(query.get("X-Amz-Credential", "").startswith(ACCESS_KEY_ID + "/"))
        self.assertNotIn(SECRET_ACCESS_KEY, storage)
        content = fetch(storage)
        self.assertEqual(content.status, 200, content)
        self.assertEqual(content.body, PNG)

    def test_tenants_have_separate_buckets(self):
        a, b = self.bootstrap(), self.bootstrap()
        ra = upload(self.parley, a.key, PNG)
        rb = upload(self.parley, b.key, PNG + b"b")
        self.assertEqual((ra.status, rb.status), (201, 201), (ra, rb))
        self.assertTrue(os.path.exists(
            self.s3.object_path(bucket_of(a.id), self.blob_name(ra.json["id"]))))
        self.assertTrue(os.path.exists(
            self.s3.object_path(bucket_of(b.id), self.blob_name(rb.json["id"]))))
        self.assertFalse(os.path.exists(
            self.s3.object_path(bucket_of(a.id), self.blob_name(rb.json["id"]))))

    def test_deleting_the_tenant_deletes_its_bucket(self):
        doomed, kept = self.bootstrap(), self.bootstrap()
        links = []
        for i in range(3):
            r = upload(self.parley, doomed.key, PNG + bytes([i]))
            self.assertEqual(r.status, 201, r)
            links.append(r.json["url"])
        r = upload(self.parley, kept.key, PNG)
        self.assertEqual(r.status, 201, r)
        kept_object = self.s3.object_path(bucket_of(kept.id), self.blob_name(r.json["id"]))
        doomed_bucket = self.s3.bucket_dir(bucket_of(doomed.id))
        self.assertEqual(len([n for n in os.listdir(doomed_bucket)
                              if n.endswith("._S3rver_object")]), 3)

        deleted = self.parley.admin().delete("/v1/admin/tenants/" + doomed.id)
        self.assertEqual(deleted.status, 204, deleted)
        self.assertFalse(os.path.exists(doomed_bucket), "bucket %s still exists" % doomed_bucket)
        self.assertTrue(os.path.exists(kept_object), "another tenant's object was deleted")
        for link in links:
            self.assertEqual(get(self.parley, link).status, 403, link)

    def test_logs_name_the_backend_and_hold_no_secret(self):
        listening = harness.log_events(self.parley, "server.listening")
        self.assertEqual([l.get("attachments") for l in listening], ["s3"])
        self.assertEqual(harness.log_events(self.parley, "config.public_url_unset"), [])
        self.assertNotIn(SECRET_ACCESS_KEY.encode(), self.parley.log_bytes())


class EphemeralPortS3Test(S3TestCase):
    # A port chosen at start (like a wildcard address, which tests must not listen on) names
    # no address another machine could use: links stay relative.
    LISTEN = "127.0.0.1:0"

    def test_links_stay_relative_and_one_warning_says_why(self):
        warnings = harness.log_events(self.parley, "config.public_url_unset")
        self.assertEqual(len(warnings), 1, warnings)
        self.assertEqual(warnings[0]["level"], "warn")
        self.assertEqual(warnings[0]["listen"], "127.0.0.1:0")
        self.assertIn("server.public_url", warnings[0]["advice"])
        t = self.bootstrap()
        r = upload(self.parley, t.key, PNG)
        self.assertEqual(r.status, 201, r)
        self.assertTrue(r.json["url"].startswith("/v1/attachments/"), r.json["url"])
        self.assertEqual(fetch(get(self.parley, r.json["url"]).header("location")).body, PNG)


class BadS3SettingsTest(harness.ParleyTestCase):
    """Settings the S3 backend refuses stop `parley serve` with one clear message."""

    @classmethod
    def setUpClass(cls):
        cls.parley = None
        cls._receivers = []

    def test_missing_credentials_and_bad_storage_stop_the_start(self):
        cases = [
            ({"PARLEY_ATTACHMENTS__STORAGE": "s3",
              "PARLEY_ATTACHMENTS__S3_ENDPOINT": "http://127.0.0.1:9"},
             ["attachments.s3_access_key_id: required with attachments.storage = \"s3\"",
              "attachments.s3_secret_access_key: required"]),
            # Passes config's shape check; the S3 backend's own check refuses it at start.
            ({"PARLEY_ATTACHMENTS__STORAGE": "s3",
              "PARLEY_ATTACHMENTS__S3_ENDPOINT": "http://ho%zz:9000",
              "PARLEY_ATTACHMENTS__S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
              "PARLEY_ATTACHMENTS__S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY},
             ["attachments.storage = \"s3\": the S3 settings are not usable: s3.endpoint"]),
            ({"PARLEY_ATTACHMENTS__STORAGE": "gcs"},
             ["PARLEY_ATTACHMENTS__STORAGE: must be \"local\" or \"s3\""]),
            ({"PARLEY_ATTACHMENTS__S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY},
             ["attachments.s3_secret_access_key: only with attachments.storage = \"s3\""]),
        ]
        for env, expected in cases:
            p = harness.Parley(env=env)
            try:
                with self.assertRaises(harness.HarnessError):
                    p.start()
                self.assertEqual(p.proc.returncode, 2)
                log = p.log_bytes().decode("utf-8", "replace")
                for text in expected:
                    self.assertIn(text, log)
                self.assertNotIn(SECRET_ACCESS_KEY, log)
            finally:
                p.cleanup()


if __name__ == "__main__":
    harness.main()
