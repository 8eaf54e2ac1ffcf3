"""A test server that honours a token's revocation only after a delay, like Jira Cloud (R1).

``GET /api/me`` answers the token with the caller's items and anonymous callers with the public
ones. ``POST /admin/revoke`` revokes the token; from ``delay`` seconds later the token is either
served as anonymous (``mode="anonymous"``, Jira's silent fallback) or refused with 401
(``mode="reject"``). Runs in a thread of the test process, on 127.0.0.1 only.
"""

from __future__ import annotations

import time

from .base import JsonHandler, ThreadedServer

PUBLIC = {"user": None, "items": ["public"]}
PRIVATE = {"user": "alice", "items": ["public", "private"]}


class RevocationServer(ThreadedServer):
    def __init__(self, token: str, delay: float = 3.0, mode: str = "anonymous"):
        self.token = token
        self.delay = delay
        self.mode = mode
        self.revoked_at: float | None = None  # time.monotonic() of the admin call
        self.requests = 0
        super().__init__()

    def revoked(self) -> bool:
        return self.revoked_at is not None and time.monotonic() >= self.revoked_at + self.delay

    def _handler(self):
        server = self

        class Handler(JsonHandler):
            def do_POST(self):
                if self.path == "/admin/revoke":
                    server.revoked_at = time.monotonic()
                    return self.send(200, {"revoked": True, "effective_in_s": server.delay})
                self.send(404, {"error": "not found"})
                return None

            def do_GET(self):
                server.requests += 1
                if self.path != "/api/me":
                    return self.send(404, {"error": "not found"})
                auth = self.headers.get("Authorization")
                if auth is None:
                    return self.send(200, PUBLIC)
                if auth != f"Bearer {server.token}":
                    return self.send(401, {"error": "bad token"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
                if server.revoked():
                    if server.mode == "reject":
                        return self.send(401, {"error": "revoked"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
                    return self.send(200, PUBLIC, {"X-Login-Reason": "AUTHENTICATED_FAILED"})
                self.send(200, PRIVATE)
                return None

        return Handler
