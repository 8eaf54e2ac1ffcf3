"""The request record: what one probe sent, with every credential part a named placeholder.

Made at probe time from the very URL and headers the prober sends, so a snippet generated from it
(``catalog.answers.reproduce``) sends what the cell was observed with. The grammar is small and
stable (it is in ``catalog.json``):

* ``{NAME}`` (upper-case letters, digits, ``_``) is a placeholder: ``{API_TOKEN}``, ``{EMAIL}``,
  ``{API_BASE_URL}``, a launcher's fixture value (``{roomId}``: new at every launch);
* ``{base64:…}`` is the base64 of what it holds, placeholders filled first (HTTP Basic:
  ``Basic {base64:{EMAIL}:{API_TOKEN}}``).

Credential parts are the target's credentials by role (``valid`` → ``API_TOKEN`` and ``EMAIL`` or
``USERNAME``, ``revoked`` → ``REVOKED_TOKEN`` …) and whatever else a state made up that a scrubber
would treat as secret (the never-issued token of ``unknown-token`` → ``UNKNOWN_TOKEN``). A
literal shorter than the scrubber's shortest part stays as sent: ``malformed`` reads ``Bearer !!!``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from catalog.model.credentials import Credentials, Presentation
from catalog.model.vocabulary import State
from catalog.secrets.scrub import MIN_PART

BASE_URL = "API_BASE_URL"
PLACEHOLDER = re.compile(r"{([A-Za-z][A-Za-z0-9_]*)}")
_KEYWORD = re.compile(r"^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (.+)$")
# States whose made-up part has a conventional name (else STATE_TOKEN / STATE_USER).
_MADE_UP: dict[tuple[str, str], str] = {(State.WRONG_IDENTITY, "user"): "OTHER_USER", (State.UNKNOWN_TOKEN, "token"): "UNKNOWN_TOKEN"}


def _name(role: str, slot: str) -> str:
    if role == "valid":
        return "API_TOKEN" if slot == "token" else slot.upper()
    return f"{role.upper().replace('-', '_')}_{'TOKEN' if slot == 'token' else slot.upper()}"


def credential_names(credentials: Credentials) -> list[tuple[str, str]]:
    """``(literal, placeholder)`` for every credential part the target has, longest first; a literal
    shared by two roles keeps the first role's name (``valid`` first)."""
    roles = sorted(credentials.roles.items(), key=lambda kv: kv[0] != "valid")
    names: dict[str, str] = {}
    for role, cred in roles:
        if cred.secret:
            names.setdefault(cred.secret, _name(role, "token"))
        if cred.identity:
            names.setdefault(cred.identity, _name(role, "email" if "@" in cred.identity else "username"))
    return sorted(names.items(), key=lambda kv: -len(kv[0]))


def _replace(text: str, names: list[tuple[str, str]]) -> str:
    for literal, name in names:
        if literal and literal in text:
            text = text.replace(literal, "{" + name + "}")
    return text


def _made_up(part: str, state: str, slot: str) -> str:
    """A part no credential explains: kept when too short to be secret, else named after the state."""
    if not part or PLACEHOLDER.fullmatch(part) or len(part) < MIN_PART:
        return part
    return "{" + _MADE_UP.get((state, slot), f"{state.upper().replace('-', '_')}_{slot.upper()}") + "}"


def _decoded_pair(payload: str) -> str | None:
    try:
        text = base64.b64decode(payload, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return text if ":" in text and text.isprintable() else None


def credential_template(value: str, state: str, names: list[tuple[str, str]]) -> str:
    """One sent credential value (a header value, a query or cookie value) as a template."""
    keyword, payload = "", value
    if m := _KEYWORD.match(value):
        keyword, payload = m.group(1) + " ", m.group(2)
    pair = _decoded_pair(payload)
    if pair is not None:
        user, _, secret = pair.partition(":")
        user, secret = _replace(user, names), _replace(secret, names)
        return f"{keyword}{{base64:{_made_up(user, state, 'user')}:{_made_up(secret, state, 'token')}}}"
    replaced = _replace(payload, names)
    return keyword + (_made_up(payload, state, "token") if replaced == payload else replaced)


def _header_template(name: str, value: str, state: str, names: list[tuple[str, str]]) -> str:
    if name.lower() == "cookie" and "=" in value:
        cookie, _, inner = value.partition("=")
        return f"{cookie}={credential_template(inner, state, names)}"
    return credential_template(value, state, names)


def request_record(method: str, url_template: str, base_url: str, presentation: Presentation,
                   static_headers: Mapping[str, str], state: str, names: list[tuple[str, str]],
                   fixtures: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The record of one state's request: ``url_template`` is the endpoint's URL as the cache sees
    it (a launcher's fixture values as ``{name}``); the state's query values and headers are added
    as templates. Static headers (the API's and the profile's) are kept as they are."""
    url = url_template
    for name in fixtures:  # endpoint_url percent-encoded the braces of the fixture placeholders
        url = url.replace(f"%7B{name}%7D", "{" + name + "}")
    if url.startswith(base_url.rstrip("/")):
        url = "{" + BASE_URL + "}" + url[len(base_url.rstrip("/")):]
    if presentation.query:
        parts = urlsplit(url)
        query = [*parse_qsl(parts.query, keep_blank_values=True),
                 *sorted((k, credential_template(v, state, names)) for k, v in presentation.query.items())]
        # Placeholders stay readable: braces are not percent-encoded in the record.
        encoded = urlencode(query, safe="{}:")
        url = url.split("?", 1)[0] + "?" + encoded
    headers = [[k, v] for k, v in static_headers.items() if k not in presentation.headers]
    headers += [[k, _header_template(k, v, state, names)] for k, v in presentation.headers.items()]
    # Headers as [name, value] pairs: never "authorization": "…" in the JSON, which a scrubber
    # reads as an echoed credential.
    record: dict[str, Any] = {"method": method, "url": url, "headers": headers, "body": None}
    record["placeholders"] = {
        name: {"kind": "base-url" if name == BASE_URL else "fixture" if name in fixtures else "credential",
               "means": describe(name, fixtures)} for name in placeholders(record)}
    return record


def placeholders(record: Mapping[str, Any]) -> list[str]:
    """The placeholder names a record uses, in order of first use."""
    text = " ".join([record.get("url") or "", *(v for _, v in record.get("headers") or [])])
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


_WORDS = {
    BASE_URL: "the target's base URL",
    "API_TOKEN": "your valid token",
    "EMAIL": "the valid token's user (email)",
    "USERNAME": "the valid token's user name",
    "UNKNOWN_TOKEN": "a random token of your token's shape that was never issued",
    "OTHER_USER": "another user's name or email",
}


def describe(name: str, fixtures: frozenset[str] = frozenset()) -> str:
    """What a reader puts in a placeholder."""
    if name in _WORDS:
        return _WORDS[name]
    if name in fixtures:
        return "a value the target's launcher made for this run (as it goes in the URL, percent-encoded)"
    role, _, slot = name.rpartition("_")
    words = role.lower().replace("_", "-")
    return {"TOKEN": f"a {words} token", "EMAIL": f"the {words} token's user (email)",
            "USERNAME": f"the {words} token's user name", "USER": f"the user name the {words} state sends "
            "(any value)"}.get(slot, f"the value the {words} state sends")


def is_literal(record_value: str) -> bool:
    """Whether a templated value holds no placeholder: sent as written, no credential in it."""
    return not PLACEHOLDER.search(record_value)


def published_values(state: str, presentation: Presentation, names: list[tuple[str, str]]) -> set[str]:
    """The values ``state`` sends that its record shows as sent (no credential part in them)."""
    values = {**presentation.headers, **presentation.query}
    return {v for k, v in values.items()
            if is_literal(_header_template(k, v, state, names) if k in presentation.headers
                          else credential_template(v, state, names))}
