"""Acceptance: every sensitive value is sealed at rest (DESIGN.md §6).

One server is filled through the public APIs with distinct marker strings in every sensitive
field a tenant can reach over the custom channel: the connection's credentials secret, the
endpoint signing secret and API key secret Parley hands out, the customer's contact id and
display name, provider message ids, customer and agent message texts, the agent's name and an
Idempotency-Key (so an idempotency response is stored). Then the raw bytes of every file under
the data directory (parley.db, -wal, -shm, the key files, anything else, recursively) are
searched for each marker: plain, case-insensitive, UTF-16, hex and base64 (standard and
URL-safe, every alignment). The files are read twice: while the server runs (WAL not
checkpointed) and after a clean stop.

So the test cannot pass vacuously: values that are plain by design (tenant, connection and API
key names) carry their own markers and must be found; the API reads the sensitive values back;
sqlite3 shows the rows exist with non-empty sealed BLOBs; the delivered-message grace is long
so the sweeper keeps them. The master key (generated into the data directory, as a default
install does) must appear in no other file, and tenants.wrapped_key must be a sealed 32-byte
key, not the key itself.

Failure messages name the marker, its form and the file; they never print file contents."""

import base64
import hashlib
import os
import secrets as pysecrets
import sqlite3

import harness
from harness import check_status, created_for, post_custom, status_for, wait_until

SEAL_OVERHEAD = 1 + 12 + 16        # version byte, AEAD nonce, AEAD tag (src/crypto/aead.h)
DATA_KEY_SIZE = 32                 # DataKey::kSize (src/crypto/keys.h)
WRAPPED_KEY_SIZE = SEAL_OVERHEAD + DATA_KEY_SIZE
HEX_DIGITS = set(b"0123456789abcdefABCDEF")


def marker(purpose):
    """A unique, searchable ASCII marker (letters and digits only)."""
    return "pz%s%s" % (purpose, pysecrets.token_hex(12))


def b64_forms(raw):
    """Substrings that any base64 (or base64url) encoding containing `raw` must contain, for
    each of the three byte alignments: the groups covering only bytes of `raw`."""
    forms = []
    for shift in range(3):
        enc = base64.b64encode(b"\0" * shift + raw)
        start = ((shift + 2) // 3) * 4          # skip the group holding the padding bytes
        usable = (shift + len(raw)) // 3 * 4     # whole groups only: the tail depends on
        #                                          what follows `raw`
        core = enc[start:usable]
        if len(core) >= 12:
            forms.append(("base64+%d" % shift, core))
            url = core.replace(b"+", b"-").replace(b"/", b"_")
            if url != core:
                forms.append(("base64url+%d" % shift, url))
    return forms


def search_forms(value, unkeyed_hash=True):
    """(form label, needle, case_insensitive) for one marker value. With `unkeyed_hash`, its
    bare SHA-256 too (blind indexes must be keyed HMACs, not hashes anyone can recompute)."""
    raw = value.encode() if isinstance(value, str) else value
    forms = [("plain", raw, False), ("plain, any case", raw.lower(), True),
             ("utf-16le", raw.decode("latin-1").encode("utf-16-le"), False),
             ("utf-16be", raw.decode("latin-1").encode("utf-16-be"), False),
             ("hex", raw.hex().encode(), True)]
    forms += [(label, needle, False) for label, needle in b64_forms(raw)]
    if unkeyed_hash:
        digest = hashlib.sha256(raw).digest()
        forms += [("unkeyed sha256 hex", digest.hex().encode(), True),
                  ("unkeyed sha256 raw", digest, False)]
    return forms


def read_tree(root):
    """{relative path: bytes} of every regular file under `root`, recursively."""
    files = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and not os.path.islink(path):
                try:
                    with open(path, "rb") as f:
                        files[os.path.relpath(path, root)] = f.read()
                except FileNotFoundError:  # a -shm/-journal removed while we listed
                    pass
    return files


def find_leaks(files, value, unkeyed_hash=True):
    """[(file, form)] where `value` occurs in any searched form."""
    hits = []
    for rel, data in sorted(files.items()):
        lowered = None
        for label, needle, any_case in search_forms(value, unkeyed_hash):
            if any_case:
                if lowered is None:
                    lowered = data.lower()
                found = needle.lower() in lowered
            else:
                found = needle in data
            if found and not (label == "plain, any case" and (rel, "plain") in hits):
                hits.append((rel, label))
    return hits


class SealedAtRestTest(harness.ParleyTestCase):
    ENV = dict(harness.FAST_DELIVERY_ENV, **{
        # Keep delivered messages and their events: the rows must exist when the file is read.
        "PARLEY_RETENTION__DELIVERED_GRACE_S": "86400",
        "PARLEY_RETENTION__SWEEP_INTERVAL_S": "3600",
    })

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sensitive = {}   # label -> (value, where it is stored / how it must be kept)
        cls.hashed = set()   # labels stored as a bare SHA-256 by design (lookup hashes)
        cls.plain = {}       # label -> value stored in plain text by design (control)
        cls.readback = {}    # what the API returned, checked in the tests
        cls.populate()
        cls.running_files = read_tree(cls.parley.data_dir)
        cls.exit_code = cls.parley.stop()
        cls.stopped_files = read_tree(cls.parley.data_dir)
        cls.db_path = os.path.join(cls.parley.data_dir, "parley.db")

    @classmethod
    def populate(cls):
        p = cls.parley
        admin = p.admin()
        webhook, channel = harness.WebhookReceiver(), harness.CustomChannelReceiver()
        cls._receivers += [webhook, channel]
        cls.webhook, cls.channel = webhook, channel

        # -- administrative data (plain by design: controls) and the secrets Parley hands out
        cls.plain["tenants.name"] = marker("tenantname")
        r = check_status(None, admin.post("/v1/admin/tenants", {"name": cls.plain["tenants.name"]}),
                         201, "create tenant")
        cls.tenant = r.json["id"]
        cls.plain["api_keys.name"] = marker("keyname")
        r = check_status(None, admin.post("/v1/admin/tenants/%s/api-keys" % cls.tenant,
                                          {"name": cls.plain["api_keys.name"],
                                           "scopes": harness.ALL_SCOPES}), 201, "create api key")
        key = r.json["key"]
        key_id, _, key_secret = key.partition(".")
        assert key_secret, "API key has no secret part"
        cls.sensitive["api key (whole)"] = (key, "api_keys.secret_hash (only a hash)")
        cls.sensitive["api key secret part"] = (key_secret, "api_keys.secret_hash (only a hash)")
        cls.hashed.add("api key secret part")  # secret_hash = sha256(secret), for lookup
        cls.client = p.client(key)

        r = check_status(None, admin.post("/v1/admin/tenants/%s/endpoints" % cls.tenant,
                                          {"url": webhook.url("/hook")}), 201, "create endpoint")
        endpoint_secret = r.json["secret"]
        webhook.secrets = [endpoint_secret]
        cls.sensitive["endpoint secret"] = (endpoint_secret, "endpoints.secret_sealed")
        token = endpoint_secret.split("_", 1)[-1]
        cls.sensitive["endpoint secret without prefix"] = (token, "endpoints.secret_sealed")

        cls.plain["connections.name"] = marker("connname")
        conn_secret = marker("connsecret")
        r = check_status(None, admin.post(
            "/v1/admin/tenants/%s/connections" % cls.tenant,
            {"kind": "custom", "name": cls.plain["connections.name"],
             "settings": {"outbound_url": channel.url("/outbound")},
             "credentials": {"secret": conn_secret}}), 201, "create connection")
        cls.connection = r.json["id"]
        channel.secrets = [conn_secret]
        cls.sensitive["connection credentials.secret"] = (conn_secret,
                                                          "connections.credentials_sealed")
        cls.readback["connection"] = r.json

        # -- customer messages: contact id, display name, provider id and text are sensitive
        tenant_like = harness.Tenant()
        tenant_like.connection_id, tenant_like.connection_secret = cls.connection, conn_secret
        customers = [("a", 2), ("b", 1)]
        inbound = []
        for who, count in customers:
            contact = marker("contact" + who)
            name = marker("profile" + who)
            cls.sensitive["customer %s contact id" % who] = (
                contact, "customers.contact_sealed (+ blind index contact_index)")
            cls.sensitive["customer %s display name" % who] = (name, "customers.profile_sealed")
            for i in range(count):
                provider_id = marker("provid%s%d" % (who, i))
                text = marker("custtext%s%d" % (who, i))
                cls.sensitive["customer %s message %d provider id" % (who, i)] = (
                    provider_id, "messages.body_sealed / inbound_dedupe.key_index (blind index)")
                cls.sensitive["customer %s message %d text" % (who, i)] = (
                    text, "messages.body_sealed / events.payload_sealed")
                r = post_custom(p, tenant_like,
                                harness.customer_message(provider_id, contact, text, name=name))
                check_status(None, r, 200, "customer message %s" % provider_id)
                inbound.append({"who": who, "contact": contact, "name": name, "text": text,
                                "message": r.json["message"],
                                "conversation": r.json["conversation"]})
        cls.readback["inbound"] = inbound
        for m in inbound:
            ev = webhook.wait_for_event(created_for(m["message"]), what="message.created")
            m["customer"] = ((ev.get("data") or {}).get("author") or {}).get("customer")

        # -- an agent reply with an Idempotency-Key: the response is stored sealed
        agent_text, agent_name = marker("agenttext"), marker("agentname")
        idem_key = marker("idemkey")
        cls.sensitive["agent message text"] = (
            agent_text, "messages.body_sealed / events.payload_sealed / "
                        "idempotency_keys.response_sealed")
        cls.sensitive["agent author name"] = (agent_name, "messages.body_sealed")
        cls.sensitive["Idempotency-Key"] = (idem_key, "idempotency_keys.key_hash (only a hash)")
        cls.hashed.add("Idempotency-Key")  # key_hash = sha256(key), for lookup
        body = {"content": {"type": "text", "text": agent_text},
                "author": {"role": "agent", "name": agent_name}}
        path = "/v1/conversations/%s/messages" % inbound[0]["conversation"]
        first = cls.client.post(path, body, headers={"Idempotency-Key": idem_key})
        check_status(None, first, 202, "agent reply")
        replay = cls.client.post(path, body, headers={"Idempotency-Key": idem_key})
        check_status(None, replay, 202, "agent reply replayed")
        cls.readback["agent"] = (first.json, replay.json, agent_text)
        channel.wait_for_message(first.json["id"])
        webhook.wait_for_event(created_for(first.json["id"]), what="agent message.created")
        webhook.wait_for_event(status_for(first.json["id"], "sent"), what="agent status sent")

        # -- the operator token is never stored either
        cls.sensitive["operator token"] = (p.admin_token, "nowhere (configuration only)")

        # -- read back through the API: the values were stored, just not in the clear
        cls.readback["customers"] = {}
        for m in inbound:
            if m["customer"] and m["customer"] not in cls.readback["customers"]:
                r = cls.client.get("/v1/customers/%s" % m["customer"])
                cls.readback["customers"][m["customer"]] = (r.status, r.json, m)
        r = cls.client.get("/v1/conversations/%s/messages" % inbound[0]["conversation"])
        cls.readback["messages"] = (r.status, r.body)

    # -- helpers
    def db(self):
        return sqlite3.connect("file:%s?mode=ro" % self.db_path, uri=True, timeout=5)

    def rows(self, sql, args=()):
        db = self.db()
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def assertNoLeaks(self, files, when):
        self.assertIn("parley.db", files, "%s: parley.db not found in the data directory" % when)
        leaks = []
        for label, (value, where) in sorted(self.sensitive.items()):
            for rel, form in find_leaks(files, value, label not in self.hashed):
                leaks.append("%s (kept in %s) readable as %s in %s" % (label, where, form, rel))
        if leaks:
            self.fail("%s: %d sensitive value(s) readable in the raw files: %s" %
                      (when, len(leaks), "; ".join(leaks)))

    # -- the raw files
    def test_server_stopped_cleanly(self):
        self.assertEqual(self.exit_code, 0, "parley exit code after SIGTERM")

    def test_search_forms_find_embedded_encodings(self):
        value = marker("selftest")
        for shift in range(3):
            blob = b"x" * shift + value.encode() + b"tail"
            for name, enc in (("b64", base64.b64encode(blob)),
                              ("b64url", base64.urlsafe_b64encode(blob)),
                              ("utf16", blob.decode().encode("utf-16-le")),
                              ("upper", blob.upper()), ("hex", blob.hex().encode()),
                              ("sha256", hashlib.sha256(value.encode()).hexdigest().encode())):
                hits = find_leaks({"f": b"head" + enc + b"end"}, value)
                self.assertTrue(hits, "search misses the %s form at alignment %d" % (name, shift))
        self.assertEqual(find_leaks({"f": os.urandom(4096)}, value), [], "false positive")

    def test_sensitive_values_absent_while_running(self):
        self.assertNoLeaks(self.running_files, "while running")

    def test_sensitive_values_absent_after_clean_stop(self):
        self.assertNoLeaks(self.stopped_files, "after stop")

    def test_plain_by_design_values_are_found(self):
        # Controls: administrative data is plain (DESIGN.md §6), so the search does work on
        # these files; found in parley.db or its WAL, in both snapshots.
        for when, files in (("while running", self.running_files),
                            ("after stop", self.stopped_files)):
            db_files = {k: v for k, v in files.items() if k.startswith("parley.db")}
            for column, value in sorted(self.plain.items()):
                where = [rel for rel, data in sorted(db_files.items()) if value.encode() in data]
                self.assertTrue(where, "%s: control %s marker not found in %s" %
                                (when, column, sorted(db_files)))
            # Lookup hashes stored by design (bare SHA-256): the hash form finds them, so the
            # "unkeyed sha256" search of the other markers is live too.
            for label in sorted(self.hashed):
                forms = {form for _rel, form in find_leaks(db_files, self.sensitive[label][0])}
                self.assertIn("unkeyed sha256 hex", forms, "%s: control %s hash not found in %s"
                              % (when, label, sorted(db_files)))

    def test_master_key_is_not_in_any_other_file(self):
        names = sorted(self.stopped_files)
        self.assertIn("master.key", names, "expected a generated master.key in the data dir")
        content = self.stopped_files["master.key"].strip()
        self.assertEqual(len(content), 64, "master.key holds 64 hex characters")
        raw = bytes.fromhex(content.decode())
        for when, files in (("while running", self.running_files),
                            ("after stop", self.stopped_files)):
            others = {k: v for k, v in files.items() if k != "master.key"}
            leaks = ["%s as %s" % (rel, form)
                     for rel, form in find_leaks(others, content, unkeyed_hash=False)]
            leaks += [rel + " as raw bytes" for rel, data in sorted(others.items()) if raw in data]
            self.assertEqual(leaks, [], "%s: master key found in %s" % (when, ", ".join(leaks)))

    # -- the database, through sqlite3
    def test_tenant_wrapped_key_is_sealed(self):
        got = self.rows("SELECT typeof(wrapped_key), wrapped_key FROM tenants WHERE id = ?",
                        (self.tenant,))
        self.assertEqual(len(got), 1, "tenant row")
        kind, wrapped = got[0]
        self.assertEqual(kind, "blob", "tenants.wrapped_key type")
        self.assertEqual(len(wrapped), WRAPPED_KEY_SIZE, "tenants.wrapped_key is a sealed "
                         "32-byte key (%d bytes)" % WRAPPED_KEY_SIZE)
        self.assertFalse(set(wrapped) <= HEX_DIGITS, "tenants.wrapped_key is hex text")
        self.assertNotEqual(len(wrapped), DATA_KEY_SIZE, "tenants.wrapped_key is a bare key")
        master = bytes.fromhex(self.stopped_files["master.key"].strip().decode())
        self.assertNotIn(master, wrapped, "tenants.wrapped_key contains the master key")
        self.assertNotIn(master.hex().encode(), wrapped.lower(),
                         "tenants.wrapped_key contains the master key as hex")

    def test_rows_exist_with_sealed_values(self):
        t = self.tenant
        counts = {
            "customers": self.rows("SELECT count(*) FROM customers WHERE tenant_id = ?", (t,)),
            "conversations": self.rows("SELECT count(*) FROM conversations WHERE tenant_id = ?",
                                       (t,)),
            "messages": self.rows("SELECT count(*) FROM messages WHERE tenant_id = ?", (t,)),
            "events": self.rows("SELECT count(*) FROM events WHERE tenant_id = ?", (t,)),
            "idempotency_keys": self.rows(
                "SELECT count(*) FROM idempotency_keys WHERE tenant_id = ?", (t,)),
            "inbound_dedupe": self.rows(
                "SELECT count(*) FROM inbound_dedupe WHERE tenant_id = ?", (t,)),
            "endpoints": self.rows("SELECT count(*) FROM endpoints WHERE tenant_id = ?", (t,)),
            "connections": self.rows("SELECT count(*) FROM connections WHERE tenant_id = ?",
                                     (t,)),
        }
        counts = {k: v[0][0] for k, v in counts.items()}
        expected_min = {"customers": 2, "conversations": 2, "messages": 4, "events": 6,
                        "idempotency_keys": 1, "inbound_dedupe": 3, "endpoints": 1,
                        "connections": 1}
        for table, least in sorted(expected_min.items()):
            self.assertGreaterEqual(counts[table], least, "rows in %s" % table)

        # Every sensitive column holds a sealed BLOB (no plain TEXT slipped in).
        sealed = [("customers", "contact_sealed", True), ("customers", "profile_sealed", True),
                  ("messages", "body_sealed", True), ("events", "payload_sealed", True),
                  ("idempotency_keys", "response_sealed", True),
                  ("endpoints", "secret_sealed", True),
                  ("connections", "credentials_sealed", True),
                  ("connections", "identity_sealed", False),
                  ("conversations", "context_sealed", False),
                  ("conversations", "cookies_sealed", False),
                  ("conversations", "private_sealed", False)]
        for table, column, required in sealed:
            got = self.rows("SELECT typeof(%s), length(%s) FROM %s WHERE tenant_id = ?" %
                            (column, column, table), (t,))
            for kind, length in got:
                if not required and not length:
                    continue
                self.assertEqual(kind, "blob", "%s.%s type" % (table, column))
                self.assertGreater(length, SEAL_OVERHEAD, "%s.%s sealed length" % (table, column))

    def test_the_api_read_the_values_back(self):
        # The markers were stored: the API opens them again.
        custs = self.readback["customers"]
        self.assertEqual(len(custs), 2, "two customers resolved from message.created")
        for cid, (status, body, m) in sorted(custs.items()):
            self.assertEqual(status, 200, "GET customer %s" % cid)
            self.assertEqual(body.get("contact"), m["contact"], "customer %s contact" % m["who"])
            self.assertEqual(body.get("name"), m["name"], "customer %s name" % m["who"])
        status, body = self.readback["messages"]
        self.assertEqual(status, 200, "list messages")
        for m in self.readback["inbound"]:
            if m["conversation"] == self.readback["inbound"][0]["conversation"]:
                self.assertIn(m["text"].encode(), body, "listed message text")
        first, replay, agent_text = self.readback["agent"]
        self.assertEqual(replay, first, "Idempotency-Key replay answers the stored response")
        self.assertIn(agent_text.encode(), body, "agent text listed")


if __name__ == "__main__":
    harness.main()
