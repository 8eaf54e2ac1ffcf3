"""A server that records every request (path with query, parsed query, lower-cased headers) and
answers ``200 {}``: what a snippet really sent."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

from tests.servers.base import JsonHandler, ThreadedServer


class RecordingServer(ThreadedServer):
    def __init__(self, port: int = 0):
        self.requests: list[dict] = []
        super().__init__(port)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(JsonHandler):
            def _record(self) -> None:
                _path, query = self.split()
                server.requests.append({"method": self.command, "path": self.path, "query": query,
                                        "headers": {k.lower(): v for k, v in self.headers.items()}})
                self.send(200, {})

            do_GET = do_POST = do_PUT = do_DELETE = _record

            def do_HEAD(self) -> None:
                self._record()

        return Handler
