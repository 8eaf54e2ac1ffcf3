"""A server that records every request it gets — method, path, headers and body — and answers
like a small API: a valid Basic credential gets its data, anything else 401.

For the method policy: a test reads ``arrivals`` to prove which methods a run sent, and with
which headers and body.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from tests.servers.base import JsonHandler, ThreadedServer


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


class RecordingServer(ThreadedServer):
    def __init__(self, identity: str, secret: str, port: int = 0):
        self.expected = "Basic " + base64.b64encode(f"{identity}:{secret}".encode()).decode()
        self.arrivals: list[Recorded] = []
        self._lock = threading.Lock()
        super().__init__(port)

    def sent(self, method: str | None = None) -> list[Recorded]:
        with self._lock:
            return [a for a in self.arrivals if method is None or a.method == method]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(JsonHandler):
            def handle_one_request(self) -> None:
                # Every method token reaches one handler (BaseHTTPRequestHandler looks up do_<METHOD>).
                try:
                    self.raw_requestline = self.rfile.readline(65537)
                    if not self.raw_requestline or not self.parse_request():
                        self.close_connection = True
                        return
                    self.answer()
                    self.wfile.flush()
                except (ConnectionError, TimeoutError):
                    self.close_connection = True

            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path, _ = self.split()
                with server._lock:
                    server.arrivals.append(Recorded(self.command, path, {k.lower(): v for k, v in self.headers.items()}, body))
                if self.headers.get("Authorization") != server.expected:
                    self.send(401, {"error": "unauthorized"}, {"WWW-Authenticate": 'Basic realm="rec"'})
                elif self.command == "HEAD":
                    self.send_response(200)
                    self.end_headers()
                else:
                    self.send(200, {"values": [{"id": 1}], "method": self.command})

        return Handler
