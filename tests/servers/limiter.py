"""A server with a concurrency limiter like Synapse's on ``/register/available``: while one
request is being answered, any other request to the same path gets ``429``. ``/always`` answers
429 to everyone, with ``Retry-After: 1``."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler

from tests.servers.base import JsonHandler, ThreadedServer


class LimiterServer(ThreadedServer):
    def __init__(self, port: int = 0, busy_s: float = 0.05):
        self.busy_s = busy_s
        self.lock = threading.Lock()
        self.statuses: list[int] = []
        super().__init__(port)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                path, _ = self.split()
                if path == "/always":
                    server.statuses.append(429)
                    self.send(429, {"errcode": "M_LIMIT_EXCEEDED"}, {"Retry-After": "1"})
                    return
                if not server.lock.acquire(blocking=False):
                    server.statuses.append(429)
                    self.send(429, {"errcode": "M_LIMIT_EXCEEDED"})
                    return
                try:
                    time.sleep(server.busy_s)
                    server.statuses.append(200)
                    self.send(200, {"available": True})
                finally:
                    server.lock.release()

        return Handler
