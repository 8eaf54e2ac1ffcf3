"""What the purpose-built test servers share: a threaded HTTP server on 127.0.0.1 and a handler
that answers JSON (or HTML), quietly.

A server subclasses :class:`ThreadedServer` and returns its handler class (a
:class:`JsonHandler` subclass closing over the server) from ``_handler``; tests use it as
``with Server(...) as server: server.url``.
"""

from __future__ import annotations

import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit

# How often a serving thread looks for ``shutdown()``: the default half second made every
# ``with server:`` end up to 0.5 s late (several seconds a module); 20 wake-ups a second cost nothing.
SHUTDOWN_POLL_S = 0.05


def serve_in_thread(httpd: socketserver.BaseServer) -> threading.Thread:
    """Start serving ``httpd`` in a daemon thread; ``httpd.shutdown()`` returns within ``SHUTDOWN_POLL_S``."""
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_S}, daemon=True)
    thread.start()
    return thread


class ThreadedServer:
    """A test server on a free (or given) loopback port, run in a thread of the test process."""

    def __init__(self, port: int = 0):
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread: threading.Thread | None = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> Self:
        self._thread = serve_in_thread(self._httpd)
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Serve in this thread (a server run as a child process: ``python -m tests.servers.…``)."""
        self._httpd.serve_forever()


class JsonHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def split(self) -> tuple[str, dict[str, list[str]]]:
        """The request's path and its query parameters."""
        parts = urlsplit(self.path)
        return parts.path, parse_qs(parts.query)

    def send(self, status: int, body: object, extra: dict[str, str] | None = None, html: str | None = None) -> None:
        """``body`` as JSON (or ``html`` as an HTML page), with ``extra`` headers."""
        data = html.encode() if html is not None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8" if html is not None else "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
