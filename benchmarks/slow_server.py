"""A keep-alive HTTP/1.1 server (asyncio) that answers every GET after a fixed delay and records
when each request arrived, on its own clock. ``GET /__arrivals`` returns and clears the record.

Run as a child process (``python -m benchmarks.slow_server --port N --delay 0.05``) so its work
never shares an event loop or a GIL with the client being measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

BODY = b'{"values":[]}'


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float, arrivals: list[float]):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            at = time.monotonic()
            path = head.split(b" ", 2)[1]
            if path == b"/__arrivals":
                body = json.dumps(arrivals).encode()
                arrivals.clear()
            else:
                arrivals.append(at)
                await asyncio.sleep(delay)
                body = BODY
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int, delay: float) -> None:
    arrivals: list[float] = []
    server = await asyncio.start_server(lambda r, w: handle(r, w, delay, arrivals), "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--delay", type=float, default=0.05)
    args = ap.parse_args()
    asyncio.run(main(args.port, args.delay))
