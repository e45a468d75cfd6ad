#!/usr/bin/env python3
"""HTTP/1.1 clients for the Docker sections of bench/run.sh, aimed at berth on 127.0.0.1.

  httpload.py first-ok --port P --host H [--timeout S]
      Polls GET / with Host H over one kept-alive connection, about every millisecond, until an
      answer is 200; prints "served <ns since the epoch>" (when that answer arrived) and exits 0,
      or exits 1 at the timeout.

  httpload.py load --port P --host H [--rate R] [--connections C] [--failures FILE]
      Sends a steady R requests/s in all over C kept-alive connections (a connection that falls
      behind does not burst to catch up) until SIGTERM or SIGINT, then prints a summary line.
      Each SIGUSR1 prints a phase line and starts a new phase. Stopping waits for the requests
      still open (at most the timeout). A request counts in the phase it ends in. It failed when
      its answer is not 2xx or on any socket error or timeout (then the connection is opened
      again); each failure is appended to FILE as "<ns> <what>". Answers from berth-whoami name
      the replica ("Hostname: ..."): a phase line counts the replicas that answered in it.
      Lines: "phase|summary requests=N ok=N failed=N non2xx=N socket=N replicas=N seconds=S
      p50_ms=L p99_ms=L max_ms=L" (latencies of all requests, failed ones too).
"""

import argparse
import asyncio
import math
import signal
import sys
import time


class Failure(Exception):
    pass


class Connection:
    def __init__(self, port, host, timeout):
        self.port, self.timeout = port, timeout
        self.request = f"GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: bench-httpload\r\n\r\n"
        self.request = self.request.encode()
        self.reader = self.writer = None

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def get(self):
        """(status, body) of one GET /; raises Failure or OSError-like errors."""
        return await asyncio.wait_for(self._get(), self.timeout)

    async def _get(self):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise Failure(f"bad status line {lines[0]!r}")
        status = int(parts[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    while await self.reader.readuntil(b"\r\n") != b"\r\n":
                        pass  # trailer fields
                    break
                body += await self.reader.readexactly(size)
                await self.reader.readexactly(2)
        else:
            body = await self.reader.read()
            self.close()
        if headers.get("connection", "").lower() == "close" or parts[0] == "HTTP/1.0":
            self.close()
        return status, body


def replica_of(body):
    if body.startswith(b"Hostname: "):
        return body[10:body.find(b"\n")]
    return None


class Counts:
    def __init__(self):
        self.requests = self.ok = self.non2xx = self.socket = 0
        self.replicas = set()
        self.latencies = []
        self.started = time.monotonic()

    def line(self, kind):
        latencies = sorted(self.latencies)

        def ms(fraction):
            if not latencies:
                return "0.0"
            return f"{1000 * latencies[max(0, math.ceil(fraction * len(latencies)) - 1)]:.1f}"

        return (f"{kind} requests={self.requests} ok={self.ok} "
                f"failed={self.non2xx + self.socket} non2xx={self.non2xx} socket={self.socket} "
                f"replicas={len(self.replicas)} seconds={time.monotonic() - self.started:.2f} "
                f"p50_ms={ms(0.5)} p99_ms={ms(0.99)} max_ms={ms(1.0)}")


async def first_ok(args):
    connection = Connection(args.port, args.host, 2.0)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        try:
            status, _ = await connection.get()
            if status == 200:
                print(f"served {time.time_ns()}", flush=True)
                return 0
        except (OSError, EOFError, asyncio.TimeoutError, asyncio.IncompleteReadError, Failure):
            connection.close()
        await asyncio.sleep(0.001)
    print(f"httpload: no 200 from Host {args.host} within {args.timeout} s", file=sys.stderr)
    return 1


async def load(args):
    total, phase = Counts(), Counts()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)

    def next_phase():
        nonlocal phase
        print(phase.line("phase"), flush=True)
        phase = Counts()

    loop.add_signal_handler(signal.SIGUSR1, next_phase)
    failures = open(args.failures, "a", encoding="utf-8") if args.failures else None
    interval = args.connections / args.rate

    def failed(kind, what, latency):
        for counts in (total, phase):
            counts.requests += 1
            counts.latencies.append(latency)
            setattr(counts, kind, getattr(counts, kind) + 1)
        if failures is not None:
            failures.write(f"{time.time_ns()} {what}\n")
            failures.flush()

    async def worker(index):
        connection = Connection(args.port, args.host, args.timeout)
        due = time.monotonic() + interval * index / args.connections
        while not stop.is_set():
            delay = due - time.monotonic()
            if delay > 0:
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                    break
                except asyncio.TimeoutError:
                    pass
            sent = time.monotonic()
            due = max(due + interval, sent)
            try:
                status, body = await connection.get()
            except Exception as error:  # pylint: disable=broad-except
                # Whatever went wrong, this request failed; the connection is opened anew.
                connection.close()
                failed("socket", f"socket {type(error).__name__} {error}".strip(),
                       time.monotonic() - sent)
                continue
            latency = time.monotonic() - sent
            if 200 <= status < 300:
                replica = replica_of(body)
                for counts in (total, phase):
                    counts.requests += 1
                    counts.ok += 1
                    counts.latencies.append(latency)
                    if replica is not None:
                        counts.replicas.add(replica)
            else:
                failed("non2xx", f"status {status}", latency)
        connection.close()

    print("started", flush=True)
    workers = [asyncio.create_task(worker(i)) for i in range(args.connections)]
    # Once told to stop, no request is sent, and those still open get their answer or time out.
    await asyncio.gather(*workers)
    print(phase.line("phase"), flush=True)
    print(total.line("summary"), flush=True)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["first-ok", "load"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--timeout", type=float, default=None,
                        help="first-ok: seconds in all (10); load: seconds per request (5)")
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--failures")
    args = parser.parse_args()
    if args.timeout is None:
        args.timeout = 10.0 if args.mode == "first-ok" else 5.0
    return asyncio.run(first_ok(args) if args.mode == "first-ok" else load(args))


if __name__ == "__main__":
    sys.exit(main())
