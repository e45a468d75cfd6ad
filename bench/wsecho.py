#!/usr/bin/env python3
"""A small HTTP/1.1 + WebSocket echo backend for the memory benchmark, bound to 127.0.0.1 only.

`GET /ws` with an upgrade becomes a WebSocket that echoes text and binary frames and answers pings
and close; any other request gets 200 with a short body and an X-Backend header naming this
server (keep-alive). Its speed does not matter: the memory benchmark measures the proxy in front.
One process serves every port given, each as its own named backend (b1, b2, ...).
"""

import argparse
import asyncio
import base64
import hashlib
import resource
import struct
import sys

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


async def read_head(reader):
    """The request head up to the empty line, or None at end of stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers


async def websocket(reader, writer):
    """Echoes frames until close or end of stream; client frames are masked (RFC 6455)."""
    while True:
        first, second = await reader.readexactly(2)
        opcode = first & 0x0F
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await reader.readexactly(8))
        mask = await reader.readexactly(4) if second & 0x80 else b"\0\0\0\0"
        data = bytearray(await reader.readexactly(length))
        for i in range(length):
            data[i] ^= mask[i % 4]
        reply_opcode = {0x1: 0x1, 0x2: 0x2, 0x9: 0xA, 0x8: 0x8}.get(opcode)
        if reply_opcode is not None:
            if length < 126:
                header = bytes([0x80 | reply_opcode, length])
            elif length < 65536:
                header = bytes([0x80 | reply_opcode, 126]) + struct.pack("!H", length)
            else:
                header = bytes([0x80 | reply_opcode, 127]) + struct.pack("!Q", length)
            writer.write(header + bytes(data))
            await writer.drain()
        if opcode == 0x8:
            return


def handler(name):
    async def serve(reader, writer):
        try:
            while True:
                parsed = await read_head(reader)
                if parsed is None:
                    return
                request_line, headers = parsed
                length = int(headers.get("content-length", "0") or 0)
                if length:
                    await reader.readexactly(length)
                if headers.get("upgrade", "").lower() == "websocket":
                    key = headers.get("sec-websocket-key", "").encode()
                    accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
                    writer.write(
                        (
                            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                            f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
                            f"X-Backend: {name}\r\n\r\n"
                        ).encode()
                    )
                    await writer.drain()
                    await websocket(reader, writer)
                    return
                body = f"{name} {request_line.split(' ')[1] if ' ' in request_line else ''}\n"
                writer.write(
                    (
                        f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Backend: {name}\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n{body}"
                    ).encode()
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            return
        finally:
            writer.close()

    return serve


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", required=True, help="comma-separated, e.g. 24001,24002")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    servers = []
    for index, port in enumerate(args.ports.split(","), start=1):
        servers.append(
            await asyncio.start_server(handler(f"b{index}"), "127.0.0.1", int(port), backlog=4096)
        )
    print("listening on " + args.ports, flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
