#!/usr/bin/env python3
"""Set-up and signing helpers for bench/ingest.sh (python3 standard library only).

Subcommands (each prints its result on stdout, errors on stderr with exit status 1):
  free-port                      a currently free TCP port on 127.0.0.1
  bootstrap URL SINK_URL         creates, through the admin API (token from
                                 $PARLEY_ADMIN_TOKEN), a tenant, an endpoint (URL = SINK_URL)
                                 and three connections on that tenant: custom (outbound_url =
                                 SINK_URL), whatsapp and messenger (api_base_url = SINK_URL, so
                                 no Graph call leaves the machine). Prints shell assignments:
                                 TENANT_ID, and for C in CUSTOM WHATSAPP MESSENGER: C_ID (the
                                 connection), C_SECRET (custom: the generated signing secret;
                                 Meta: the app secret) and C_IDENTITY (WhatsApp:
                                 phone_number_id, Messenger: page_id; custom: empty)
  gen OUT COUNT RUN CUSTOMERS [CHANNEL]
                                 writes COUNT signed customer text messages for CHANNEL
                                 (custom, the default; whatsapp; messenger) to OUT, one
                                 webhook per line: "<header name>\t<header value>\t<body>".
                                 One message per webhook, spread over CUSTOMERS customers,
                                 with ids unique per RUN. The secret and identity come from
                                 $<CHANNEL>_SECRET and $<CHANNEL>_IDENTITY (upper case, as
                                 bootstrap prints them; custom also takes $CONNECTION_SECRET).

Request formats (modelled on ../shared/fixtures/providers/ and PROVIDERS.md):
  custom     {"type":"message","id":…,"from":{"id","name"},"timestamp":RFC 3339,"content":
             {"type":"text","text":…}}, header Parley-Signature: t=<now>,v1=<hex HMAC-SHA256(
             secret, "<now>." + body)>
  whatsapp   Cloud API: {"object":"whatsapp_business_account","entry":[{"id":<WABA id>,
             "changes":[{"value":{"messaging_product":"whatsapp","metadata":{
             "display_phone_number","phone_number_id"},"contacts":[{"profile":{"name"},
             "wa_id"}],"messages":[{"from","id":"wamid.…","timestamp":"<now s>","text":{
             "body"},"type":"text"}]},"field":"messages"}]}]}
  messenger  {"object":"page","entry":[{"id":<page id>,"time":<ms>,"messaging":[{"sender":
             {"id":<PSID>},"recipient":{"id":<page id>},"timestamp":<ms>,"message":{"mid":
             "m_…","text"}}]}]}
  Meta bodies are compact and escape non-ASCII as \\uXXXX (lower-case hex), as Meta signs
  them; header X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>.

The data file is plain text rather than a Lua table literal because LuaJIT (wrk's Lua)
refuses chunks with more than 65536 constants; the wrk script reads it with io.lines.
Bodies are JSON with tabs and newlines escaped, so one request is one line.
"""

import base64
import hashlib
import hmac
import json
import os
import random
import secrets
import socket
import sys
import time
import urllib.error
import urllib.request

# Words for realistic customer text: mostly ASCII with some UTF-8, as real chats are.
_WORDS = (
    "hello hi thanks please order delivery package tracking number arrived yesterday today "
    "tomorrow refund return exchange size colour price invoice account password login email "
    "address change cancel subscription plan upgrade help question problem broken missing "
    "item store open hours weekend discount code coupon payment card failed again still "
    "waiting answer support agent manager urgent soon could you would check status my the "
    "a an is was it not yet when where why how can I we our your for with from about this "
    "that olá obrigado café größe naïve señor déjà merci ☺"
).split()


def _fail(message):
    print(f"bench_tool: {message}", file=sys.stderr)
    sys.exit(1)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def _admin(base_url, path, body, token):
    request = urllib.request.Request(
        base_url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as e:
        _fail(f"POST {path}: HTTP {e.code}: {e.read()[:500]!r}")
    except (urllib.error.URLError, OSError, ValueError) as e:
        _fail(f"POST {path}: {e}")


CHANNELS = ("custom", "whatsapp", "messenger")

# Fixed parts of the Meta envelopes (not checked by Parley; values from the fixtures).
_WABA_ID = "102290129340398"
_DISPLAY_PHONE = "15550783881"


def bootstrap(base_url, sink_url):
    token = os.environ.get("PARLEY_ADMIN_TOKEN", "")
    if len(token) < 16:
        _fail("PARLEY_ADMIN_TOKEN must be set (16+ characters)")
    tenant = _admin(base_url, "/v1/admin/tenants", {"name": "bench"}, token)["id"]
    _admin(base_url, f"/v1/admin/tenants/{tenant}/endpoints", {"url": sink_url}, token)
    connections = f"/v1/admin/tenants/{tenant}/connections"
    custom = _admin(
        base_url,
        connections,
        {"kind": "custom", "name": "bench", "settings": {"outbound_url": sink_url}},
        token,
    )
    if not custom.get("id") or not custom.get("secret"):
        _fail("custom connection answer lacks id or secret")
    # Meta connections: the identity is a string of digits; the credentials are ours to pick
    # (an App Secret is 32 hex digits, as in PROVIDERS.md's test vector). api_base_url points
    # the Graph API (sends, read marks, media) at the sink: nothing reaches the internet.
    rng = secrets.SystemRandom()
    meta = {}
    for kind, id_setting in (("whatsapp", "phone_number_id"), ("messenger", "page_id")):
        identity = str(rng.randrange(10**14, 10**15))
        app_secret = secrets.token_hex(16)
        answer = _admin(
            base_url,
            connections,
            {
                "kind": kind,
                "name": f"bench {kind}",
                "settings": {id_setting: identity, "api_base_url": sink_url.rstrip("/")},
                "credentials": {
                    "app_secret": app_secret,
                    "verify_token": secrets.token_hex(12),
                    "access_token": "EAAG" + secrets.token_hex(24),
                },
            },
            token,
        )
        if not answer.get("id"):
            _fail(f"{kind} connection answer lacks id")
        meta[kind] = (answer["id"], app_secret, identity)
    # Ids, secrets and identities are [A-Za-z0-9_.-]: safe as unquoted shell words.
    print(f"TENANT_ID={tenant}")
    print(f"CUSTOM_ID={custom['id']}")
    print(f"CUSTOM_SECRET={custom['secret']}")
    print("CUSTOM_IDENTITY=")
    for kind, (cid, app_secret, identity) in meta.items():
        print(f"{kind.upper()}_ID={cid}")
        print(f"{kind.upper()}_SECRET={app_secret}")
        print(f"{kind.upper()}_IDENTITY={identity}")


def _text(rng):
    words = []
    length = 0
    target = rng.randint(170, 230)  # ~200 bytes of text per message
    while length < target:
        w = rng.choice(_WORDS)
        words.append(w)
        length += len(w.encode()) + 1
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice((".", "?", "!"))


def _signer(secret, prefix=b""):
    """hex HMAC-SHA256(secret, prefix + message) as a function of message (RFC 2104).

    Copies the keyed inner and outer hash states instead of keying a new HMAC per message:
    generation is sized by rate x duration, and this halves its signing cost."""
    key = secret if len(secret) <= 64 else hashlib.sha256(secret).digest()
    key = key.ljust(64, b"\0")
    inner0 = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    inner0.update(prefix)
    outer0 = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def sign(message):
        inner = inner0.copy()
        inner.update(message)
        outer = outer0.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    probe = b'{"probe":1}'
    if sign(probe) != hmac.new(secret, prefix + probe, hashlib.sha256).hexdigest():
        _fail("internal error: the fast HMAC differs from hmac.new")
    return sign


def _custom_lines(secret, count, run, customers, texts, now):
    names = [json.dumps(f"Customer {k}") for k in range(customers)]
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    sign = _signer(secret, f"{now}.".encode())
    run_id = json.dumps(f"bench-{run}")[1:-1]
    for n in range(count):
        customer = n % customers
        body = (
            f'{{"type":"message","id":"{run_id}-{n}",'
            f'"from":{{"id":"cust-{customer}","name":{names[customer]}}},'
            f'"timestamp":"{ts}","content":{{"type":"text","text":{texts[n % len(texts)]}}}}}'
        )
        sig = sign(body.encode())
        yield f"Parley-Signature\tt={now},v1={sig}\t{body}\n"


def _run_tag(run, size):
    # Bytes that differ between runs, so message ids never repeat across runs and levels.
    return hashlib.sha256(run.encode()).digest()[:size]


def _whatsapp_lines(secret, identity, count, run, customers, texts, now):
    # A wa_id is the customer's phone number in E.164 digits. A wamid is "wamid." + base64 of
    # a small binary record; real ones decode to 1c 18 0b <wa_id> 15 02 00 12 18 14 <20
    # upper-case hex digits> 00 (whatsapp_text.json). Here the 20 digits are the run's tag
    # and the message number.
    wa_ids = [f"1555{k:07d}" for k in range(customers)]
    heads = [
        '{"object":"whatsapp_business_account","entry":[{"id":"' + _WABA_ID + '","changes":'
        '[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"'
        + _DISPLAY_PHONE + '","phone_number_id":"' + identity + '"},"contacts":[{"profile":'
        '{"name":' + json.dumps(f"Customer {k}") + '},"wa_id":"' + wa_ids[k] + '"}],'
        '"messages":[{"from":"' + wa_ids[k] + '","id":"wamid.'
        for k in range(customers)
    ]
    tag = _run_tag(run, 4).hex().upper().encode()
    blobs = [b"\x1c\x18\x0b" + w.encode() + b"\x15\x02\x00\x12\x18\x14" + tag for w in wa_ids]
    tail_ts = f'","timestamp":"{now}","text":{{"body":'
    sign = _signer(secret)
    for n in range(count):
        customer = n % customers
        wamid = base64.b64encode(blobs[customer] + b"%012X\x00" % n).decode()
        body = (
            heads[customer] + wamid + tail_ts + texts[n % len(texts)]
            + '},"type":"text"}]},"field":"messages"}]}]}'
        )
        sig = sign(body.encode())
        yield f"X-Hub-Signature-256\tsha256={sig}\t{body}\n"


def _messenger_lines(secret, identity, count, run, customers, texts, now):
    # PSIDs are 16-17 digit page-scoped ids; mids are "m_" + 86 characters of unpadded URL-safe
    # base64 (64 bytes: the run's tag, the message number and filler; as long as Meta's).
    psids = [str(7_000_000_000_000_000 + 7919 * k) for k in range(customers)]
    ms = now * 1000
    head = (
        '{"object":"page","entry":[{"id":"' + identity + f'","time":{ms},'
        '"messaging":[{"sender":{"id":"'
    )
    mids = '"},"recipient":{"id":"' + identity + f'"}},"timestamp":{ms},"message":{{"mid":"m_'
    tag = _run_tag(run, 6)
    filler = hashlib.sha512(tag).digest()[:52]
    sign = _signer(secret)
    for n in range(count):
        customer = n % customers
        mid = base64.urlsafe_b64encode(tag + n.to_bytes(6, "big") + filler).decode()[:86]
        body = (
            head + psids[customer] + mids + mid + '","text":' + texts[n % len(texts)] + "}}]}]}"
        )
        sig = sign(body.encode())
        yield f"X-Hub-Signature-256\tsha256={sig}\t{body}\n"


def gen(out_path, count, run, customers, channel="custom"):
    if channel not in CHANNELS:
        _fail(f"CHANNEL must be one of {', '.join(CHANNELS)} (got {channel!r})")
    secret = os.environ.get(f"{channel.upper()}_SECRET", "")
    if not secret and channel == "custom":
        secret = os.environ.get("CONNECTION_SECRET", "")
    if not secret:
        _fail(f"{channel.upper()}_SECRET must be set")
    secret = secret.encode()
    identity = os.environ.get(f"{channel.upper()}_IDENTITY", "")
    if channel != "custom" and not identity.isdigit():
        _fail(f"{channel.upper()}_IDENTITY must be set (digits)")
    if count < 1 or customers < 1:
        _fail("COUNT and CUSTOMERS must be positive")
    rng = random.Random(run)
    # A pool of texts keeps generation fast; the ids stay unique. Meta escapes non-ASCII as
    # \uXXXX in the bodies it signs; the custom channel's clients send raw UTF-8.
    pool = [_text(rng) for _ in range(997)]
    now = int(time.time())
    if channel == "custom":
        texts = [json.dumps(t, ensure_ascii=False) for t in pool]
        lines = _custom_lines(secret, count, run, customers, texts, now)
    elif channel == "whatsapp":
        texts = [json.dumps(t) for t in pool]
        lines = _whatsapp_lines(secret, identity, count, run, customers, texts, now)
    else:
        texts = [json.dumps(t) for t in pool]
        lines = _messenger_lines(secret, identity, count, run, customers, texts, now)
    with open(out_path, "w", encoding="utf-8") as out:
        batch = []
        for line in lines:
            batch.append(line)
            if len(batch) == 10000:
                out.writelines(batch)
                batch.clear()
        out.writelines(batch)


def main(argv):
    if len(argv) == 2 and argv[1] == "free-port":
        free_port()
    elif len(argv) == 4 and argv[1] == "bootstrap":
        bootstrap(argv[2], argv[3])
    elif len(argv) in (6, 7) and argv[1] == "gen":
        gen(argv[2], int(argv[3]), argv[4], int(argv[5]), *argv[6:])
    else:
        _fail("usage: free-port | bootstrap URL SINK_URL | gen OUT COUNT RUN CUSTOMERS [CHANNEL]")


if __name__ == "__main__":
    main(sys.argv)
