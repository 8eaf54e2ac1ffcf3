"""A zoo of small purpose-built API servers, one behaviour each (127.0.0.1 only).

Every behaviour is a real HTTP server with the same three endpoints — ``/api/items`` (a
collection: three items for the token's user, none for anybody else), ``/api/me`` (the caller,
``{"actor": null}`` when anonymous) and ``/api/status`` (public) — and differs only in how it reads
the credential:

``envelope``        always ``200``; a refused credential is ``{"ok": false, "error": <code>}`` with
                    several auth codes (``not_authed``, ``invalid_auth``, ``token_expired``), and
                    ``/api/missing`` is a non-auth error in the same envelope (``channel_not_found``)
``static-header``   every request needs ``X-Api-Version: 2`` (else ``400``), whatever the credential
``key-header``      the key in ``X-Api-Key``
``key-query``       the key in the ``api_key`` query parameter
``case-sensitive``  ``Bearer <t>`` only with that exact capitalisation (``bearer`` → ``401``)
``bearer-only``     a Bearer token; the same secret under Basic is refused
``ignores``         ignores every credential: everybody is anonymous (``actor: null``)
``version-header``  Bearer, and its version exists only in an ``X-Server-Version`` header (and in
                    the HTML of ``/about``), never in a JSON body
``status-field``    every answer a ``200``, whatever the credential: ``/api/items`` serves everybody
                    the same, ``/api/me`` does not exist, and only ``/api/status`` says in its body
                    how the credential was read (``result.authstatus``: ``["ok"]``, ``["anonymous"]``
                    or ``["failed"]``)

``ZooServer(behaviour, token=...)`` runs in a thread of the test process; ``python -m
tests.servers.zoo BEHAVIOUR --port N`` runs it as a child process (the token from ``ZOO_TOKEN``).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os

from .base import JsonHandler, ThreadedServer

BEHAVIOURS = (
    "envelope", "static-header", "key-header", "key-query", "case-sensitive", "bearer-only",
    "ignores", "version-header", "status-field",
)
VERSION = "7.3.1-zoo"
USER = "alice"
ITEMS = [{"id": 1, "name": "anvil"}, {"id": 2, "name": "rope"}, {"id": 3, "name": "lamp"}]
AUTH_CODES = {"missing": "not_authed", "bad": "invalid_auth", "expired": "token_expired"}


class ZooServer(ThreadedServer):
    """One behaviour on a free loopback port. ``expired`` is a token the server knows as expired;
    ``other`` is a second valid token whose user owns nothing (the unprivileged caller)."""

    def __init__(self, behaviour: str, token: str, expired: str | None = None, other: str | None = None,
                 port: int = 0):
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        self.behaviour = behaviour
        self.token, self.expired, self.other = token, expired, other
        self.requests: list[tuple[str, dict[str, str]]] = []
        super().__init__(port)

    # -- who is calling ------------------------------------------------------------------
    def caller(self, headers, query: dict[str, list[str]]) -> tuple[str, str | None]:
        """("anonymous" | "user" | "other" | "expired" | "bad", user name)."""
        b = self.behaviour
        if b == "ignores":
            return "anonymous", None
        if b == "key-header":
            secret = headers.get("X-Api-Key")
        elif b == "key-query":
            secret = query["api_key"][0] if query.get("api_key") else None
        else:
            auth = headers.get("Authorization")
            if auth is None:
                secret = None
            else:
                word, _, rest = auth.partition(" ")
                if b == "case-sensitive":
                    ok_word = word == "Bearer"
                elif b in ("bearer-only", "version-header", "static-header", "envelope", "status-field"):
                    ok_word = word.lower() == "bearer"
                else:
                    ok_word = False
                if not ok_word:
                    return "bad", None
                secret = rest.strip()
        if secret is None:
            return "anonymous", None
        if secret == self.token:
            return "user", USER
        if self.other and secret == self.other:
            return "other", "bob"
        if self.expired and secret == self.expired:
            return "expired", None
        return "bad", None

    def _handler(self):
        server = self

        class Handler(JsonHandler):
            def do_GET(self):
                path, query = self.split()
                server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                b = server.behaviour
                extra = {"X-Server-Version": VERSION} if b == "version-header" else {}
                if b == "static-header" and self.headers.get("X-Api-Version") != "2":
                    return self.send(400, {"error": "missing or unsupported X-Api-Version"})
                if path == "/about" and b == "version-header":
                    return self.send(200, None, extra, html=f"<html><body><footer>zoo server v{VERSION}</footer></body></html>")
                who, user = server.caller(self.headers, query)
                if b == "envelope":
                    return self.envelope(path, who, user)
                if b == "status-field":
                    return self.status_field(path, who)
                refused = who in ("bad", "expired")
                if path == "/api/status":
                    return self.send(200, {"status": "ok"}, extra)
                if refused:
                    challenge = 'Bearer error="invalid_token"' if b in ("case-sensitive", "bearer-only", "version-header") else "ApiKey"
                    return self.send(401, {"error": "invalid credential"}, {**extra, "WWW-Authenticate": challenge})
                if path == "/api/me":
                    return self.send(200, {"actor": user}, extra)
                if path == "/api/items":
                    if who == "anonymous" and b != "ignores":
                        return self.send(401, {"error": "authentication required"}, {**extra, "WWW-Authenticate": "Bearer"})
                    items = ITEMS if who == "user" or b == "ignores" else []
                    return self.send(200, {"items": items, "total": len(items)}, extra)
                return self.send(404, {"error": "not found"}, extra)

            def status_field(self, path: str, who: str) -> None:
                """One status endpoint reports the authentication result; nothing else looks."""
                if path == "/api/status":
                    result = {"user": "ok", "other": "ok", "anonymous": "anonymous"}.get(who, "failed")
                    return self.send(200, {"status": "ok", "result": {"authstatus": [result]}})
                if path == "/api/items":
                    return self.send(200, {"items": ITEMS, "total": len(ITEMS)})
                return self.send(404, {"error": "not found"})

            def envelope(self, path: str, who: str, user: str | None) -> None:
                """Slack's way: every answer is a 200, ``ok`` says whether it worked."""
                if path == "/api/status":
                    return self.send(200, {"ok": True, "status": "ok"})
                if who != "user" and who != "other":
                    code = AUTH_CODES["missing" if who == "anonymous" else "expired" if who == "expired" else "bad"]
                    return self.send(200, {"ok": False, "error": code})
                if path == "/api/me":
                    return self.send(200, {"ok": True, "actor": user})
                if path == "/api/items":
                    items = ITEMS if who == "user" else []
                    return self.send(200, {"ok": True, "items": items})
                if path == "/api/missing":  # an error that has nothing to do with the credential
                    return self.send(200, {"ok": False, "error": "channel_not_found"})
                return self.send(200, {"ok": False, "error": "unknown_method"})

        return Handler


def basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("behaviour", choices=BEHAVIOURS)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = ZooServer(args.behaviour, os.environ["ZOO_TOKEN"], os.environ.get("ZOO_EXPIRED"),
                       os.environ.get("ZOO_OTHER"), port=args.port)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
