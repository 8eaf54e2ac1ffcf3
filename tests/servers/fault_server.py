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
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

HUGE_BYTES = 4 * 1024 * 1024  # far above the caps the tests set
STALL_SECONDS = 120  # longer than any test's timeout; the handler is cancelled on stop


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
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
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
            route = "/stall" if self.stall_all else path
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
    await asyncio.sleep(STALL_SECONDS)


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
    "/huge": _huge,
    "/bad-json": _bad_json,
    "/redirect": _redirect,
    "/echo": _echo,
    "/echo-401": _echo_401,
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
