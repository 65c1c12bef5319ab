"""Parley-Signature: `t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>` (one v1 per
secret while a secret rotates), as used by webhooks and the custom channel.

    header = sign(secret, body)            # body is bytes
    assert verify(header, [secret], body)
"""

import hashlib
import hmac
import time


def sign(secret, body, t=None):
    """`Parley-Signature` header value for `body` (bytes) under `secret` (str)."""
    if t is None:
        t = int(time.time())
    mac = hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    return "t=%d,v1=%s" % (t, mac)


def parse_signature(header):
    """(t, [v1 hex…]) or (None, []) when malformed."""
    if not header:
        return None, []
    t = None
    v1 = []
    for part in header.split(","):
        k, _, v = part.strip().partition("=")
        if k == "t":
            try:
                t = int(v)
            except ValueError:
                return None, []
        elif k == "v1":
            v1.append(v)
    return t, v1


def signature_matches(header, secret, body):
    """Which v1 values of `header` match `secret` over `body` (list, maybe empty)."""
    t, v1 = parse_signature(header)
    if t is None:
        return []
    want = hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    return [v for v in v1 if hmac.compare_digest(v, want)]


def verify(header, secrets, body, max_skew_s=300):
    """True when `header` carries a fresh timestamp and a v1 matching one of `secrets`."""
    t, _ = parse_signature(header)
    if t is None or abs(time.time() - t) > max_skew_s:
        return False
    return any(signature_matches(header, s, body) for s in secrets)
