"""A tiny raw-socket HTTP/1.1 server that misbehaves on purpose, and records every arrival.

Each path is one fault (see ``ROUTES``). The server answers with ``Connection: close`` so every
request is one connection and arrival times are exact. It runs on its own event loop, either in a
thread of the test process (:class:`FaultServer`) or as a child process
(``python -m tests.servers.fault_server --port N``), always on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import socket
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

HUGE_BYTES = 4 * 1024 * 1024  # far above the caps the tests set


@dataclass
class Arrival:
    at: float  # time.monotonic() on the server when the request head was read
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class FaultServer:
    """Run in a background thread; ``url`` is ``http://127.0.0.1:<port>``."""

    redirect_to: str = "http://127.0.0.1:9"  # the other origin /redirect points at
    stall_all: bool = False  # every path stalls (for kill tests)
    route_all: str | None = None  # every path answers as this route does
    port: int = 0
    arrivals: list[Arrival] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def hits(self, path: str | None = None, method: str | None = None) -> list[Arrival]:
        return [a for a in list(self.arrivals)
                if (path is None or a.path == path) and (method is None or a.method == method)]

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> FaultServer:
        ready = threading.Event()

        def main() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._start())
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._shutdown())
            self._loop.close()

        self._thread = threading.Thread(target=main, name="fault-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fault server did not start")
        return self

    def __exit__(self, *exc) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def serve_forever(self) -> None:
        await self._start()
        assert self._server is not None
        await self._server.serve_forever()

    # -- HTTP -----------------------------------------------------------------------------
    def route(self, path: str):
        """The handler for ``path`` (a subclass serves other routes, e.g. the echo server)."""
        return ROUTES.get(path, _ok)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            first = await asyncio.wait_for(reader.readexactly(1), 10)
            if first == b"\x16":  # a TLS ClientHello on this plain port: answer as HTTP servers do
                writer.write(_head(400, "Bad Request", {"Content-Type": "text/plain"}, 0))
                await writer.drain()
                return
            head = first + await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            if int(headers.get("content-length") or 0):
                await reader.readexactly(int(headers["content-length"]))
            path = urlsplit(target).path
            self.arrivals.append(Arrival(time.monotonic(), method, path, headers))
            route = "/stall" if self.stall_all else (self.route_all or path)
            await self.route(route)(self, writer, headers)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        except asyncio.CancelledError:  # server shutdown while a handler stalls: end quietly
            pass
        finally:
            self._tasks.discard(task)
            if not writer.is_closing():
                writer.close()


def _head(status: int, reason: str, headers: dict[str, str] | None = None, length: int | None = None) -> bytes:
    out = [f"HTTP/1.1 {status} {reason}", "Connection: close"]
    if length is not None:
        out.append(f"Content-Length: {length}")
    out += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")


async def _send(writer, status: int, reason: str, body: bytes = b"", headers: dict[str, str] | None = None):
    writer.write(_head(status, reason, {"Content-Type": "application/json", **(headers or {})}, len(body)) + body)
    await writer.drain()


async def _ok(server, writer, headers):
    await _send(writer, 200, "OK", json.dumps({"values": [1, 2, 3]}).encode())


async def _reset(server, writer, headers):
    sock = writer.get_extra_info("socket")
    # SO_LINGER with a zero timeout turns close() into a TCP RST.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _stall(server, writer, headers):
    # Never answers on its own: the server, not a clock, decides that a run is still mid-way.
    # The handler is cancelled when the server stops.
    await asyncio.Event().wait()


async def _drip(server, writer, headers):
    writer.write(_head(200, "OK", {"Content-Type": "application/json"}, 10_000))
    for _ in range(10_000):
        writer.write(b" ")
        await writer.drain()
        await asyncio.sleep(0.1)


def _status(status: int, reason: str, extra: dict[str, str] | None = None):
    async def route(server, writer, headers):
        await _send(writer, status, reason, json.dumps({"error": reason}).encode(), extra)
    return route


async def _huge(server, writer, headers):
    writer.write(_head(200, "OK", {"Content-Type": "application/json"}, HUGE_BYTES))
    chunk = b"[" + b"1," * 32767 + b"1"
    sent = 0
    while sent < HUGE_BYTES:
        writer.write(chunk)
        sent += len(chunk)
        await writer.drain()


async def _bad_json(server, writer, headers):
    await _send(writer, 200, "OK", b'{"values": [1, 2, "unterminated')


async def _redirect(server, writer, headers):
    # The Location carries the credential in its query: only the origin may be recorded.
    where = server.redirect_to + "/landing?from=authcat&auth=" + quote(headers.get("authorization", ""))
    await _send(writer, 302, "Found", b"", {"Location": where})


async def _echo(server, writer, headers, status: int = 200):
    """Echo the Authorization header back: in the body, decoded, and in several headers."""
    auth = headers.get("authorization", "")
    try:
        decoded = base64.b64decode(auth.split(" ", 1)[-1], validate=True).decode("utf-8", "replace")
    except ValueError:
        decoded = ""
    body = json.dumps({"authorization": auth, "decoded": decoded, "values": [auth]}).encode()
    echo = {"X-Echo-Authorization": auth, "WWW-Authenticate": f'Basic realm="{auth}"',
            "Cache-Control": f"private, {auth}", "X-Seraph-LoginReason": decoded}
    await _send(writer, status, "OK" if status == 200 else "Unauthorized", body, echo)


async def _echo_401(server, writer, headers):
    await _echo(server, writer, headers, status=401)


def _location(where: str):
    async def route(server, writer, headers):
        await _send(writer, 302, "Found", b"", {"Location": where})
    return route


# Locations the catalog must not record as an origin: each is its own cell error.
ODD_LOCATIONS = {
    "/redirect-data": "data:text/html,<script>alert(1)</script>",
    "/redirect-javascript": "javascript:alert(document.cookie)",
    "/redirect-file": "file:///etc/passwd",
    "/redirect-mailto": "mailto:someone@example.test",
    "/redirect-bad-port": "http://127.0.0.1:99999/x",
    "/redirect-bad-host": "http://exa mple.test/x",
    "/redirect-bad-ipv6": "http://[::1/x",
}


async def _deep_json(server, writer, headers):
    await _send(writer, 200, "OK", b"[" * 600 + b"]" * 600)  # 1.2 KB, 600 levels


BOMB_SIZE = 1 << 30  # what the bomb inflates to


def _gzip_zeros(size: int) -> bytes:
    """One gzip member of ``size`` zero bytes, built from a repeated fully-flushed deflate block
    (compressing 1 GiB for real takes seconds; this takes one CRC pass)."""
    block = bytes(1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size // len(block)):
        crc = zlib.crc32(block, crc)
    # \x03\x00: a final empty fixed-Huffman block; then the gzip trailer (CRC32, size mod 2^32).
    return first + again * (size // len(block) - 1) + b"\x03\x00" + struct.pack("<II", crc, size & 0xFFFFFFFF)


_BOMB: list[bytes] = []
_BOMB_LOCK = threading.Lock()


def gzip_bomb() -> bytes:
    """``Content-Encoding: gzip, gzip``: about 2 KB on the wire, 1 GiB once both codings are undone."""
    with _BOMB_LOCK:
        if not _BOMB:
            _BOMB.append(zlib.compress(_gzip_zeros(BOMB_SIZE), 9, wbits=31))
    return _BOMB[0]


async def _bomb(server, writer, headers):
    # Built off the event loop (a second of CRC work): the other routes keep answering meanwhile.
    body = await asyncio.to_thread(gzip_bomb)
    await _send(writer, 200, "OK", body, {"Content-Encoding": "gzip, gzip"})


async def _gzip_ok(server, writer, headers):
    body = zlib.compress(json.dumps({"values": [1, 2, 3]}).encode(), 9, wbits=31)
    await _send(writer, 200, "OK", body, {"Content-Encoding": "gzip"})


async def _long_header(server, writer, headers):
    await _send(writer, 200, "OK", b"{}", {"X-Long": "a" * 20_000})


async def _many_headers(server, writer, headers):
    await _send(writer, 200, "OK", b"{}", {f"X-Many-{i}": "a" for i in range(500)})


def _discover(value):
    """A JSON answer ``{"id": value}``: a value for a path parameter discovered from it."""
    async def route(server, writer, headers):
        await _send(writer, 200, "OK", json.dumps({"id": value}).encode())
    return route


DISCOVERED = {
    "/discover-huge": "x" * 2_000_000,  # 2 MB: under the body cap, far over any id
    "/discover-dot": ".",
    "/discover-dotdot": "..",
    "/discover-object": {"nested": "value"},
    # 41 bytes that take (a+)+$ 2^40 steps in a backtracking engine (tests/test_linear_patterns.py)
    "/discover-redos": "a" * 40 + "!",
}


ROUTES = {
    "/ok": _ok,
    "/reset": _reset,
    "/stall": _stall,
    "/drip": _drip,
    "/500": _status(500, "Internal Server Error"),
    "/503": _status(503, "Service Unavailable"),
    "/429": _status(429, "Too Many Requests"),
    "/429-after": _status(429, "Too Many Requests", {"Retry-After": "1"}),
    "/429-long": _status(429, "Too Many Requests", {"Retry-After": "3600"}),
    "/429-29": _status(429, "Too Many Requests", {"Retry-After": "29"}),  # under the bound, over a cell's budget
    "/huge": _huge,
    "/bad-json": _bad_json,
    "/redirect": _redirect,
    "/echo": _echo,
    "/echo-401": _echo_401,
    **{path: _location(where) for path, where in ODD_LOCATIONS.items()},
    "/deep-json": _deep_json,
    "/gzip-bomb": _bomb,
    "/gzip-ok": _gzip_ok,
    "/long-header": _long_header,
    "/many-headers": _many_headers,
    **{path: _discover(value) for path, value in DISCOVERED.items()},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stall-all", action="store_true")
    parser.add_argument("--pidfile")
    args = parser.parse_args()
    if args.pidfile:
        with open(args.pidfile, "w") as fh:
            fh.write(str(os.getpid()))
    server = FaultServer(stall_all=args.stall_all, port=args.port)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve_forever())


if __name__ == "__main__":
    main()
