"""A small API server whose auth scheme is configurable, for the declarative-scheme tests.

``SchemeServer(where, secret, ...)`` reads its key from one place — ``("keyword", "SSWS")`` (an
``Authorization`` keyword), ``("basic", None)`` (HTTP Basic ``identity:secret``), ``("header",
"PRIVATE-TOKEN")``, ``("query", "api_key")`` or ``("cookie", "sid")`` — and optionally also
accepts the same secret presented another way (``accepts``): ``"any-case"`` (the keyword in any
case, as RFC 7235 §2.1 says), ``"bearer"`` (``Authorization: Bearer <secret>``), or a query
parameter name (``"access_token"``).

``crash_on`` makes it answer ``500`` to one presented value (a server that crashes on ``!!!``).
It can require a static header (``require_header=(name, value)``) and a static query value
(``require_query=(name, value)``): without them every request gets ``400``. The query value is
discoverable from ``/api/tenants`` (which needs only the static header and a valid credential).

Endpoints: ``/api/items`` (three items for the key's user; ``401`` for anonymous and bad keys),
``/api/me`` (the caller), ``/api/tenants`` (``{"tenants": [{"id": ...}]}``).
"""

from __future__ import annotations

import base64

from .base import JsonHandler, ThreadedServer

ITEMS = [{"id": 1, "name": "anvil"}, {"id": 2, "name": "rope"}, {"id": 3, "name": "lamp"}]


class SchemeServer(ThreadedServer):
    def __init__(self, where: tuple[str, str | None], secret: str, identity: str | None = None,
                 accepts: tuple[str, ...] = (), require_header: tuple[str, str] | None = None,
                 require_query: tuple[str, str] | None = None, crash_on: str | None = None):
        self.where, self.secret, self.identity, self.accepts = where, secret, identity, accepts
        self.crash_on = crash_on  # a presented value that makes the server answer 500
        self.require_header, self.require_query = require_header, require_query
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        super().__init__()

    # -- who is calling: "user", "anonymous" or "bad" ---------------------------------------
    def presented(self, headers, query: dict[str, list[str]]) -> list[str | None]:
        """Every secret the request presents in a place this server reads (None: malformed)."""
        kind, name = self.where
        found: list[str | None] = []
        auth = headers.get("Authorization")
        if auth is not None:
            word, _, rest = auth.partition(" ")
            if kind == "keyword" and name is not None and (
                    word == name or ("any-case" in self.accepts and word.lower() == name.lower())):
                found.append(rest)
            elif kind == "basic" and (word == "Basic" or ("any-case" in self.accepts and word.lower() == "basic")):
                found.append(self._basic(rest))
            elif "bearer" in self.accepts and word.lower() == "bearer":
                found.append(rest)
            elif kind in ("keyword", "basic"):
                found.append(None)  # an Authorization header this server cannot read: refused
        if kind == "header" and name is not None and headers.get(name) is not None:
            found.append(headers.get(name))
        if kind == "query" and name is not None and name in query:
            found.append(query[name][0])
        if kind == "cookie" and name is not None and headers.get("Cookie"):
            # RFC 6265 cookie-octets include "/" and "=", which http.cookies would refuse.
            pairs = dict(p.strip().partition("=")[::2] for p in headers.get("Cookie").split(";"))
            found.append(pairs.get(name))
        for param in self.accepts:
            if param not in ("any-case", "bearer") and param in query:
                found.append(query[param][0])
        return found

    def _basic(self, value: str) -> str | None:
        try:
            user, colon, secret = base64.b64decode(value, validate=True).decode().partition(":")
        except ValueError:
            return None
        return secret if colon and user == self.identity else None

    def caller(self, headers, query) -> str:
        found = self.presented(headers, query)
        if not found:
            return "anonymous"
        return "user" if all(f == self.secret for f in found) else "bad"

    def _handler(self):
        server = self

        class Handler(JsonHandler):
            def do_GET(self):
                path, query = self.split()
                server.requests.append((path, query, dict(self.headers.items())))
                if server.require_header:
                    name, value = server.require_header
                    if self.headers.get(name) != value:
                        return self.send(400, {"error": f"{name} missing or wrong"})
                if server.crash_on is not None and server.crash_on in server.presented(self.headers, query):
                    return self.send(500, {"error": "internal error"})
                who = server.caller(self.headers, query)
                if who == "bad":
                    return self.send(401, {"error": "invalid credential"}, {"WWW-Authenticate": "ApiKey"})
                if path == "/api/tenants":
                    if who != "user":
                        return self.send(401, {"error": "authentication required"})
                    return self.send(200, {"tenants": [{"id": server.require_query[1] if server.require_query else "none"}]})
                if server.require_query:
                    name, value = server.require_query
                    if query.get(name) != [value]:
                        return self.send(400, {"error": f"query {name} missing or wrong"})
                if path == "/api/me":
                    return self.send(200, {"actor": "alice" if who == "user" else None})
                if path == "/api/items":
                    if who != "user":
                        return self.send(401, {"error": "authentication required"}, {"WWW-Authenticate": "ApiKey"})
                    return self.send(200, {"items": ITEMS, "total": len(ITEMS)})
                return self.send(404, {"error": "not found"})

        return Handler
