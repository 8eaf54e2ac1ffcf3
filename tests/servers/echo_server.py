"""A hostile target that reflects the credential it is sent through every channel a summary keeps.

Each ``/reflect/…`` route decodes the request's ``Authorization`` (Basic ``identity:secret`` or a
Bearer token) and sends its parts back: in header *names* and values (one behind 190 characters,
so a cut at 200 before scrubbing would keep most of it), the content type, a version header, JSON
*keys* and values, a ``Location`` with the credential as userinfo pointing at another origin, a
text body — raw, URL-encoded (``%2B`` and ``+``), JSON ``\\u``-escaped, base64 and upper-cased;
``/reflect/forms`` and ``/reflect/forms-text`` send every spelling of :mod:`tests.encodings`.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

from tests import encodings
from tests.servers.fault_server import FaultServer, _send


def parts(headers: dict[str, str]) -> tuple[str, str]:
    """(identity, secret) of the request's credential; empty strings when it has none."""
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return "", value
    try:
        identity, _, secret = base64.b64decode(value, validate=True).decode("utf-8", "replace").partition(":")
    except ValueError:
        return "", value
    return identity, secret


def u_escape(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in text)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def _headers(server, writer, headers):
    identity, secret = parts(headers)
    echo = {
        "X-Seraph-LoginReason": identity.upper() or "none",
        "WWW-Authenticate": 'Basic realm="' + "r" * 190 + secret + '"',
        "Cache-Control": f"private, token={u_escape(secret)}",
        "X-RateLimit-Limit": b64(secret) or "0",
        "X-Version": f"9.9-{secret.lower()}",
        "Content-Type": f'application/json; charset="{quote(secret, safe="")}"',
    }
    if secret:  # header *names* carry it too (% and ~ and + are token characters)
        echo["X-" + quote(secret, safe="~")] = "1"
        echo["X-Id-" + quote_plus(identity, safe="~")] = "1"
    await _send(writer, 200, "OK", json.dumps({"values": [1, 2]}).encode(), echo)


async def _json(server, writer, headers):
    identity, secret = parts(headers)
    body = {
        "values": [{secret or "s": 1, identity or "i": {"inner": secret}}],
        "k" + quote(secret, safe=""): 2,
        "items": [{"key": secret or "none"}],
        "who": identity.upper(),
    }
    await _send(writer, 200, "OK", json.dumps(body).encode())


async def _redirect(server, writer, headers):
    identity, secret = parts(headers)
    where = f"http://{quote(identity, safe='')}:{quote(secret, safe='')}@127.0.0.1:{server.attacker_port}/landing"
    await _send(writer, 302, "Found", b"", {"Location": f"{where}?t={quote_plus(secret)}"})


async def _text(server, writer, headers):
    identity, secret = parts(headers)
    lines = [secret, quote(secret, safe=""), quote_plus(secret), u_escape(secret), b64(secret), secret.upper(),
             identity.swapcase(), b64(f"{identity}:{secret}"), headers.get("authorization", "")]
    body = ("\n".join(f"echo {line} end" for line in lines)).encode()
    await _send(writer, 200, "OK", body, {"Content-Type": "text/plain"})


async def _unauthorized(server, writer, headers):
    identity, secret = parts(headers)
    challenge = f'Bearer error="invalid_token", error_description="{b64(f"{identity}:{secret}")}"'
    await _send(writer, 401, "Unauthorized", json.dumps({"error": secret.swapcase()}).encode(),
                {"WWW-Authenticate": challenge})


async def _item(server, writer, headers):
    # Reached with a discovered value (the secret itself, from /reflect/json): echo it back.
    _, secret = parts(headers)
    await _send(writer, 200, "OK", json.dumps({"values": [quote(secret, safe="")]}).encode(),
                {"Cache-Control": f"max-age=0, {quote_plus(secret)}"})


async def _forms(server, writer, headers):
    # Every spelling of tests/encodings.py: values and keys of a JSON body (the shape keeps keys,
    # a kept body keeps both), and a JWT carrying the identity in a challenge.
    identity, secret = parts(headers)
    pair = f"{identity}:{secret}"
    body = {"values": [{"kind": name, "secret": spelled, "pair": encodings.forms(pair, identity)[name]}
                       for name, spelled in encodings.forms(secret, identity).items()],
            "keys": dict.fromkeys(encodings.forms(identity or "anonymous").values(), 1)}
    token = encodings.jwt({"sub": identity, "iat": 1700000000})
    await _send(writer, 200, "OK", json.dumps(body).encode(),
                {"WWW-Authenticate": f'Bearer realm="x", error_description="{token}"',
                 "Cache-Control": "private, " + encodings.forms(secret)["b64-offset2"]})


async def _forms_text(server, writer, headers):
    identity, secret = parts(headers)
    lines = [spelled for part in (secret, identity, f"{identity}:{secret}")
             for spelled in encodings.forms(part, identity).values()]
    body = "\n".join(f"echo {line} end" for line in lines).encode()
    await _send(writer, 200, "OK", body, {"Content-Type": "text/plain"})


ECHO_ROUTES = {
    "/reflect/headers": _headers,
    "/reflect/json": _json,
    "/reflect/redirect": _redirect,
    "/reflect/text": _text,
    "/reflect/401": _unauthorized,
    "/reflect/forms": _forms,
    "/reflect/forms-text": _forms_text,
}

# The endpoints a project needs to probe every route (ids are what the profile refers to).
ENDPOINTS = [
    {"id": "headers", "method": "GET", "path": "/reflect/headers", "summary": "echo in headers", "collection": "/values"},
    {"id": "json", "method": "GET", "path": "/reflect/json", "summary": "echo in JSON keys", "collection": "/values"},
    {"id": "redirect", "method": "GET", "path": "/reflect/redirect", "summary": "echo in Location"},
    {"id": "text", "method": "GET", "path": "/reflect/text", "summary": "echo in a text body"},
    {"id": "unauthorized", "method": "GET", "path": "/reflect/401", "summary": "echo in a 401"},
    {"id": "forms", "method": "GET", "path": "/reflect/forms", "summary": "echo in every spelling", "collection": "/values"},
    {"id": "forms-text", "method": "GET", "path": "/reflect/forms-text", "summary": "every spelling in text"},
    {"id": "item", "method": "GET", "path": "/reflect/item/{key}", "summary": "a discovered value", "collection": "/values"},
]


@dataclass
class EchoServer(FaultServer):
    """A :class:`FaultServer` serving the ``/reflect/…`` routes; its redirect names ``attacker_port``."""

    attacker_port: int = 9

    def route(self, path: str):
        if path.startswith("/reflect/item/"):
            return _item
        return ECHO_ROUTES.get(path) or super().route(path)
