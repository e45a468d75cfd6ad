#!/usr/bin/env python3
"""Opens N keep-alive connections (or WebSockets) to a proxy on 127.0.0.1 and holds them open.

Each connection sends one request and reads the whole response (for --mode ws: the upgrade, then one
echoed text frame), so that the proxy has seen real traffic on it and it now sits idle in the
proxy's keep-alive (or tunnel) state. When all N are idle the script prints "ready N" on stdout and
holds them until it gets SIGTERM (or --hold seconds pass); the benchmark reads the proxy's
memory in between. Connections are driven with a bounded number in flight so that the proxy's
upstream pool stays small and the figure is the cost of idle client connections.

Exit status: 0 when all N reached the idle state (and were held), 1 otherwise, with the reason on
stderr (refused, reset, bad status, timed out).
"""

import argparse
import base64
import os
import resource
import selectors
import signal
import socket
import sys
import time

WS_PAYLOAD = b"ping"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--mode", choices=("http", "ws"), default="http")
    parser.add_argument("--path", default="/")
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to reach N idle")
    parser.add_argument("--hold", type=int, default=300, help="seconds to hold them at most")
    return parser.parse_args()


def request_bytes(args):
    host = f"127.0.0.1:{args.port}"
    if args.mode == "http":
        return f"GET {args.path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {args.path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def masked_text_frame(payload):
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + body


class Conn:
    """One connection's progress: connect, send, read the response, (ws: echo), idle."""

    def __init__(self, sock, request):
        self.sock = sock
        self.out = request
        self.buf = b""
        self.state = "connecting"
        self.body_left = None  # bytes of body still to read, once headers are parsed
        self.chunked = False

    def response_done(self, mode):
        """Parses what was read; returns True when the response is complete, raises on errors."""
        if self.body_left is None:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            head = self.buf[:end].decode("latin-1").split("\r\n")
            status = head[0].split(" ")
            want = "101" if mode == "ws" else "200"
            if len(status) < 2 or status[1] != want:
                raise ValueError(f"status line {head[0]!r}, want {want}")
            self.buf = self.buf[end + 4:]
            if mode == "ws":
                return True
            self.body_left = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    self.body_left = int(value.strip())
                elif name == "transfer-encoding" and "chunked" in value.lower():
                    self.chunked = True
        if self.chunked:
            return self.buf.endswith(b"0\r\n\r\n")
        return len(self.buf) >= self.body_left


def main():
    args = parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))

    sel = selectors.DefaultSelector()
    idle = []
    in_flight = 0
    started = 0
    failures = []
    deadline = time.monotonic() + args.timeout

    def open_one():
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.connect_ex(("127.0.0.1", args.port))
        conn = Conn(sock, request_bytes(args))
        sel.register(sock, selectors.EVENT_WRITE, conn)

    def fail(conn, why):
        failures.append(why)
        sel.unregister(conn.sock)
        conn.sock.close()

    while len(idle) + len(failures) < args.count:
        while in_flight < args.in_flight and started < args.count:
            open_one()
            started += 1
            in_flight += 1
        if time.monotonic() > deadline or stop:
            failures.append(f"timed out after {args.timeout:.0f}s")
            break
        for key, _ in sel.select(timeout=0.5):
            conn = key.data
            try:
                if conn.state == "connecting":
                    err = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise OSError(err, os.strerror(err))
                    conn.state = "sending"
                if conn.state in ("sending", "frame-out"):
                    sent = conn.sock.send(conn.out)
                    conn.out = conn.out[sent:]
                    if not conn.out:
                        conn.state = "reading" if conn.state == "sending" else "frame-in"
                        sel.modify(conn.sock, selectors.EVENT_READ, conn)
                    continue
                data = conn.sock.recv(65536)
                if not data:
                    raise OSError("closed by the server before the response ended")
                conn.buf += data
                if conn.state == "reading" and conn.response_done(args.mode):
                    if args.mode == "ws":
                        conn.state = "frame-out"
                        conn.out = masked_text_frame(WS_PAYLOAD)
                        sel.modify(conn.sock, selectors.EVENT_WRITE, conn)
                        continue
                    conn.state = "idle"
                elif conn.state == "frame-in" and len(conn.buf) >= 2 + len(WS_PAYLOAD):
                    if conn.buf[2:2 + len(WS_PAYLOAD)] != WS_PAYLOAD:
                        raise ValueError(f"echo {conn.buf!r}, want {WS_PAYLOAD!r}")
                    conn.state = "idle"
                if conn.state == "idle":
                    sel.unregister(conn.sock)
                    idle.append(conn)
                    in_flight -= 1
            except (OSError, ValueError) as error:
                fail(conn, str(error))
                in_flight -= 1

    if failures:
        print(f"holdconns: {len(idle)} of {args.count} idle; {len(failures)} failed, "
              f"first: {failures[0]}", file=sys.stderr)
        return 1
    print(f"ready {len(idle)}", flush=True)
    # Hold until told to stop; the alarm bounds the hold if nobody does. Blocking the signals
    # first means one arriving now stays pending for sigwait instead of being missed.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGALRM})
    if not stop:
        signal.alarm(args.hold)
        signal.sigwait({signal.SIGTERM, signal.SIGALRM})
    closed = 0
    for conn in idle:
        try:
            conn.sock.setblocking(False)
            if conn.sock.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        conn.sock.close()
    if closed:
        print(f"holdconns: {closed} of {len(idle)} were closed by the server while held",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
