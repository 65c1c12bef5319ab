"""A minimal RFC 6455 WebSocket client for /v1/stream: handshake with extra headers, masked
client frames, text frames (fragmented too), ping/pong and close codes.

    ws = WebSocket(port, "/v1/stream", {"Authorization": "Bearer " + key})
    event = ws.recv_event(timeout=5)     # raises WebSocketClosed(code, reason) on close
"""

import base64
import hashlib
import json
import os
import socket
import struct
import time


class HarnessError(Exception):
    pass


class WebSocketClosed(Exception):
    def __init__(self, code, reason):
        super().__init__("websocket closed: %s %r" % (code, reason))
        self.code = code
        self.reason = reason


class WebSocket:
    """Minimal RFC 6455 client: handshake with headers, masked client frames, text frames,
    ping/pong, close. Not thread safe."""

    def __init__(self, port, path, headers=None, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.closed = None  # (code, reason) once a close frame arrived
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port, "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Key: " + key,
                 "Sec-WebSocket-Version: 13"]
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = self._read_until(b"\r\n\r\n")
        status_line, *hdr_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {}
        for l in hdr_lines:
            if ":" in l:
                k, v = l.split(":", 1)
                self.headers[k.strip().lower()] = v.strip()
        if self.status != 101:
            n = int(self.headers.get("content-length", "0") or 0)
            body = self._read_exact(n) if n else b""
            self.sock.close()
            raise WebSocketRejected(self.status, self.headers, body)
        want = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        if self.headers.get("sec-websocket-accept") != want:
            raise HarnessError("bad Sec-WebSocket-Accept")

    def _read_until(self, marker):
        while marker not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed during handshake")
            self.buf += chunk
        head, _, self.buf = self.buf.partition(marker)
        return head

    def _read_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed mid-frame")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send_frame(self, opcode, payload=b""):
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _read_frame(self):
        # Parses from the buffer and consumes only whole frames, so a timeout while waiting
        # for the rest of a frame loses nothing.
        while True:
            frame = self._parse_frame()
            if frame:
                return frame
            chunk = self.sock.recv(65536)
            if not chunk:
                self.closed = (1006, "connection closed without a close frame")
                raise WebSocketClosed(*self.closed)
            self.buf += chunk

    def _parse_frame(self):
        b = self.buf
        if len(b) < 2:
            return None
        fin, opcode, n, pos = b[0] & 0x80, b[0] & 0x0F, b[1] & 0x7F, 2
        if b[1] & 0x80:
            raise HarnessError("server sent a masked frame (RFC 6455 §5.1 forbids it)")
        if n == 126:
            if len(b) < 4:
                return None
            n, pos = struct.unpack("!H", b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, pos = struct.unpack("!Q", b[2:10])[0], 10
        if len(b) < pos + n:
            return None
        self.buf = b[pos + n:]
        return fin, opcode, b[pos:pos + n]

    def recv_text(self, timeout=10.0):
        """The next text message; raises WebSocketClosed on close, socket.timeout on timeout."""
        if self.closed:
            raise WebSocketClosed(*self.closed)
        self.sock.settimeout(timeout)
        parts = []
        while True:
            fin, opcode, payload = self._read_frame()
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                self.closed = (code, payload[2:].decode("utf-8", "replace"))
                try:
                    self._send_frame(0x8, payload[:2])
                except OSError:
                    pass
                raise WebSocketClosed(*self.closed)
            parts.append(payload)
            if fin:
                return b"".join(parts).decode("utf-8")

    def recv_event(self, timeout=10.0):
        return json.loads(self.recv_text(timeout))

    def recv_events_until(self, predicate, timeout=10.0, what="stream events"):
        """Reads events until predicate(list so far) is truthy; returns the list."""
        deadline = time.monotonic() + timeout
        got = []
        while not predicate(got):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %s; got %s" %
                                     (what, [(e.get("type"), e.get("id")) for e in got]))
            try:
                got.append(self.recv_event(left))
            except socket.timeout:
                continue
        return got

    def send_text(self, text):
        self._send_frame(0x1, text.encode())

    def close(self, code=1000):
        try:
            if not self.closed:
                self._send_frame(0x8, struct.pack("!H", code))
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


class WebSocketRejected(Exception):
    def __init__(self, status, headers, body):
        super().__init__("websocket upgrade answered HTTP %s: %r" % (status, body[:200]))
        self.status = status
        self.headers = headers
        self.body = body
