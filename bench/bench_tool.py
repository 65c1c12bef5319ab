#!/usr/bin/env python3
"""Set-up and signing helpers for bench/ingest.sh (python3 standard library only).

Subcommands (each prints its result on stdout, errors on stderr with exit status 1):
  free-port                      a currently free TCP port on 127.0.0.1
  bootstrap URL SINK_URL         creates tenant, endpoint (URL = SINK_URL) and custom
                                 connection through the admin API (token from
                                 $PARLEY_ADMIN_TOKEN); prints shell assignments
                                 CONNECTION_ID=… and CONNECTION_SECRET=…
  gen OUT COUNT RUN CUSTOMERS    writes COUNT signed customer messages for the custom
                                 channel to OUT, one request per line:
                                 "<Parley-Signature value>\t<JSON body>"; ids are
                                 "bench-RUN-<n>", spread over CUSTOMERS customers; the
                                 signing secret comes from $CONNECTION_SECRET

The data file is plain text rather than a Lua table literal because LuaJIT (wrk's Lua)
refuses chunks with more than 65536 constants; the wrk script reads it with io.lines.
"""

import hashlib
import hmac
import json
import os
import random
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


def bootstrap(base_url, sink_url):
    token = os.environ.get("PARLEY_ADMIN_TOKEN", "")
    if len(token) < 16:
        _fail("PARLEY_ADMIN_TOKEN must be set (16+ characters)")
    tenant = _admin(base_url, "/v1/admin/tenants", {"name": "bench"}, token)["id"]
    _admin(base_url, f"/v1/admin/tenants/{tenant}/endpoints", {"url": sink_url}, token)
    connection = _admin(
        base_url,
        f"/v1/admin/tenants/{tenant}/connections",
        {"kind": "custom", "name": "bench", "settings": {"outbound_url": sink_url}},
        token,
    )
    if not connection.get("id") or not connection.get("secret"):
        _fail("connection answer lacks id or secret")
    # Ids and generated secrets are [A-Za-z0-9_.-]: safe as unquoted shell words.
    print(f"TENANT_ID={tenant}")
    print(f"CONNECTION_ID={connection['id']}")
    print(f"CONNECTION_SECRET={connection['secret']}")


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


def gen(out_path, count, run, customers):
    secret = os.environ.get("CONNECTION_SECRET", "").encode()
    if not secret:
        _fail("CONNECTION_SECRET must be set")
    if count < 1 or customers < 1:
        _fail("COUNT and CUSTOMERS must be positive")
    rng = random.Random(run)
    # A pool of texts keeps generation at ~200k messages/s; the ids stay unique.
    texts = [json.dumps(_text(rng), ensure_ascii=False) for _ in range(997)]
    names = [json.dumps(f"Customer {k}") for k in range(customers)]
    now = int(time.time())
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    prefix = f"{now}.".encode()
    run_id = json.dumps(f"bench-{run}")[1:-1]
    with open(out_path, "w", encoding="utf-8") as out:
        lines = []
        for n in range(count):
            customer = n % customers
            body = (
                f'{{"type":"message","id":"{run_id}-{n}",'
                f'"from":{{"id":"cust-{customer}","name":{names[customer]}}},'
                f'"timestamp":"{ts}","content":{{"type":"text","text":{texts[n % len(texts)]}}}}}'
            )
            sig = hmac.new(secret, prefix + body.encode(), hashlib.sha256).hexdigest()
            # json.dumps escapes tabs and newlines, so one request is one line.
            lines.append(f"t={now},v1={sig}\t{body}\n")
            if len(lines) == 10000:
                out.writelines(lines)
                lines.clear()
        out.writelines(lines)


def main(argv):
    if len(argv) == 2 and argv[1] == "free-port":
        free_port()
    elif len(argv) == 4 and argv[1] == "bootstrap":
        bootstrap(argv[2], argv[3])
    elif len(argv) == 6 and argv[1] == "gen":
        gen(argv[2], int(argv[3]), argv[4], int(argv[5]))
    else:
        _fail("usage: free-port | bootstrap URL SINK_URL | gen OUT COUNT RUN CUSTOMERS")


if __name__ == "__main__":
    main(sys.argv)
