"""Fake outside parties for the integration tests: the client application's webhook endpoint
(WebhookReceiver) and a custom channel's outbound_url (CustomChannelReceiver).

Each is an http.server on 127.0.0.1:0 in a thread that records every POST (raw body, headers,
our answer, whether Parley-Signature verified) and answers by mode (up, down, hang, reject).

    hook = WebhookReceiver(secrets=[endpoint_secret])
    hook.set_mode("down")            # 503 until set_mode("up")
    ev = hook.wait_for_event(lambda e: e["type"] == "message.created")
"""

import http.server
import json
import socketserver
import threading
import time

from signing import verify


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Recorded:
    """One POST as received: raw body, lower-cased headers, parsed JSON, our answer."""

    def __init__(self, path, headers, body, answered, verified, at):
        self.path = path
        self.headers = headers
        self.body = body
        self.answered = answered
        self.verified = verified
        self.at = at
        try:
            self.json = json.loads(body)
        except ValueError:
            self.json = None

    @property
    def attempt(self):
        try:
            return int(self.headers.get("parley-delivery-attempt", "0"))
        except ValueError:
            return -1


class _Receiver:
    """Base of the fake HTTP parties: records every POST, answers by mode."""

    def __init__(self, secrets=None):
        self.secrets = list(secrets or [])
        self.requests = []  # Recorded, in arrival order
        self.cond = threading.Condition()
        self.mode = "up"
        self._release = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver._handle(self, body, headers)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def set_mode(self, mode):
        with self.cond:
            if self.mode == "hang" and mode != "hang":
                self._release.set()
            if mode == "hang":
                self._release.clear()
            self.mode = mode

    def close(self):
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def _record(self, handler, body, headers, answered):
        verified = bool(self.secrets) and verify(headers.get("parley-signature"), self.secrets,
                                                 body)
        rec = Recorded(handler.path, headers, body, answered, verified, time.monotonic())
        with self.cond:
            self.requests.append(rec)
            self.cond.notify_all()
        return rec

    def _reply(self, handler, status, payload=None, headers=None):
        data = json.dumps(payload).encode() if payload is not None else b""
        try:
            handler.send_response(status)
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass

    def _handle(self, handler, body, headers):
        with self.cond:
            mode = self.mode
        if mode == "hang":
            self._record(handler, body, headers, answered=None)
            self._release.wait(60)
            handler.close_connection = True
            return
        answer = self._answer(mode, body)
        status, payload = answer[0], answer[1]
        self._record(handler, body, headers, answered=status)
        self._reply(handler, status, payload, answer[2] if len(answer) > 2 else None)

    def _answer(self, mode, body):
        raise NotImplementedError

    def snapshot(self):
        with self.cond:
            return list(self.requests)

    def wait_for(self, predicate, timeout=10.0, what="requests"):
        """Waits until predicate(list of Recorded) is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = predicate(list(self.requests))
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out after %.1fs waiting for %s; got %d requests"
                                         % (timeout, what, len(self.requests)))
                self.cond.wait(min(left, 0.2))


class WebhookReceiver(_Receiver):
    """The client application's webhook endpoint. Modes: up (200), down (503), hang."""

    def _answer(self, mode, body):
        if mode == "down":
            return 503, {"error": "down for the test"}
        return 200, {"ok": True}

    def accepted(self):
        """Requests answered 2xx, in arrival order."""
        return [r for r in self.snapshot() if r.answered and 200 <= r.answered < 300]

    def events(self, accepted_only=True, pred=None):
        """Events of accepted (or all) deliveries, in arrival order."""
        out = []
        for r in (self.accepted() if accepted_only else self.snapshot()):
            if r.json and isinstance(r.json.get("events"), list):
                for e in r.json["events"]:
                    if pred is None or pred(e):
                        out.append(e)
        return out

    def wait_for_events(self, n, timeout=10.0, pred=None, what=None):
        """Waits until at least n accepted events match `pred`; returns all that match."""
        def check(_):
            evs = self.events(pred=pred)
            return evs if len(evs) >= n else None
        return self.wait_for(check, timeout, what or "%d webhook events" % n)

    def wait_for_event(self, pred, timeout=10.0, what="webhook event"):
        return self.wait_for_events(1, timeout, pred, what)[0]


class CustomChannelReceiver(_Receiver):
    """The custom channel's outbound_url. Modes: up (200 {"id":"prov-N"}), down (503),
    reject (400, with a body carrying `reject_text`), hang, and limited (429 with
    `Retry-After: <retry_after>` once, then up)."""

    def __init__(self, secrets=None):
        super().__init__(secrets)
        self.counter = 0
        self.reject_text = "rejected by the test"
        self.retry_after = 2

    def _answer(self, mode, body):
        if mode == "limited":
            with self.cond:
                self.mode = "up"
            return 429, {"error": "slow down"}, {"Retry-After": str(self.retry_after)}
        if mode == "down":
            return 503, {"error": "down for the test"}
        if mode == "reject":
            return 400, {"error": self.reject_text}
        with self.cond:
            self.counter += 1
            n = self.counter
        return 200, {"id": "prov-%d" % n}

    def messages(self, accepted_only=True):
        return [r for r in self.snapshot()
                if not accepted_only or (r.answered and 200 <= r.answered < 300)]

    def wait_for_message(self, message_id, timeout=10.0):
        return self.wait_for(
            lambda reqs: next((r for r in reqs if r.json and r.json.get("id") == message_id
                               and r.answered and 200 <= r.answered < 300), None),
            timeout, "custom channel POST of %s" % message_id)
