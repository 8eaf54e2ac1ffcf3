"""Summarise one HTTP answer into an observation: what the catalog keeps of a probe.

An observation never holds the raw body or a credential. It keeps the status, the body's size,
a hash of the body with volatile fields normalised away (so two answers can be compared across
runs), the body's JSON shape, the item count at the endpoint's collection pointer, the values of
a few allow-listed headers and the mere presence of all the others.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from jsonpointer import EndOfList, JsonPointer, JsonPointerException

# Headers whose *values* are kept: they say how the server read the credential.
HEADER_VALUES = frozenset(
    {
        "www-authenticate",
        "x-seraph-loginreason",
        "content-type",
        "cache-control",
        "x-aaccountid",
        "retry-after",
        "x-ratelimit-limit",
    }
)
# Values kept as presence only even though allow-listed above: they identify a person.
HEADER_PRESENCE_ONLY = frozenset({"x-aaccountid"})
# Headers that vary per request and say nothing about auth: not even their presence is kept.
HEADER_IGNORED = frozenset(
    {"date", "server", "content-length", "connection", "keep-alive", "transfer-encoding", "vary"}
)
# Body keys whose values change per request or per host.
VOLATILE_KEYS = frozenset(
    {"self", "timestamp", "serverTime", "requestId", "traceId", "_links", "expand", "now", "time"}
)
_TIMESTAMPISH = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
# Deeper JSON is refused: real APIs nest a dozen levels; 600 levels in 1 KB is an attack on every
# recursive walk of the body (normalising, hashing, shapes).
MAX_JSON_DEPTH = 100
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)$")


class UnreadableAnswer(ValueError):
    """An answer the catalog will not summarise (hostile or broken): its cell becomes ``error``
    with this message, which names what was wrong and quotes no byte of the answer."""


def is_2xx(status: int | None) -> bool:
    """The one test of "the request succeeded" (a 2xx status); no answer is not a success."""
    return status is not None and 200 <= status < 300


@dataclass
class Observation:
    """The summary of one probe's answer: status, content type, body size and hash (normalised),
    JSON shape, item count at the collection pointer, allow-listed headers (the presence of the
    others), actor and signal fields, or the transport error. Never a credential; the raw body
    only when the maintainer asks for it (scrubbed)."""

    status: int | None = None
    content_type: str | None = None
    body_bytes: int = 0
    body_sha256: str | None = None
    shape: str | None = None
    count: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)  # pointer -> "null" | "present" | "absent"
    location_origin: str | None = None
    latency_ms: int | None = None
    attempts: int = 1
    truncated: bool = False
    error: str | None = None
    body: str | None = None  # only with --keep-bodies, scrubbed
    # The request as sent, credential parts as named placeholders (catalog.secrets.record).
    request: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copy was most of the export's time at 1,000 endpoints
        # (benchmarks/b3_site.py); the two dicts are copied shallowly, their values are strings.
        d = {k: getattr(self, k) for k in _OBS_FIELDS}
        d["headers"], d["fields"] = dict(self.headers), dict(self.fields)
        # Drop what is unset; keep zeros (an empty collection's count: 0 is the catalog's point).
        return {k: v for k, v in d.items() if k == "status" or not (v is None or v is False or v == {})}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Observation:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)

    @property
    def ok(self) -> bool:
        return is_2xx(self.status)


_OBS_FIELDS = tuple(Observation.__dataclass_fields__)


def same_answer(a: Observation | None, b: Observation | None) -> bool:
    """The one test of "the same answer": two observations with the same status and the same
    normalised body (its hash). A missing observation is never the same as another."""
    return a is not None and b is not None and a.status == b.status and a.body_sha256 == b.body_sha256


def normalise(value: Any, volatile: frozenset[str], origin: str | None = None) -> Any:
    """Drop volatile keys and timestamp-like strings, and write the server's own origin (which
    differs per launch of a local server) as ``{origin}``, so equal answers hash equal."""
    if isinstance(value, dict):
        return {k: normalise(v, volatile, origin) for k, v in sorted(value.items()) if k not in volatile}
    if isinstance(value, list):
        return [normalise(v, volatile, origin) for v in value]
    if isinstance(value, str):
        if _TIMESTAMPISH.match(value):
            return "<timestamp>"
        if origin:
            return without_origin(value, origin)
    return value


@functools.lru_cache(maxsize=64)
def _origin_needles(origin: str) -> tuple[str, ...]:
    """The forms of an origin found in answers: plain and URL-encoded, with and without scheme
    (remembered: a run has a handful of origins, and quoting them per answer was measurable)."""
    netloc = origin.split("://", 1)[-1]
    return tuple(n for n in (origin, netloc, quote(origin, safe=""), quote(netloc, safe="")) if n)


def without_origin(text: str, origin: str) -> str:
    """``text`` with the origin ``scheme://host:port`` (plain or URL-encoded) as ``{origin}``."""
    for needle in _origin_needles(origin):
        if needle in text:
            text = text.replace(needle, "{origin}")
    return text


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep containers nest in ``value`` (walked without recursion); stops past ``limit``."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def parse_json(body: bytes) -> Any:
    """The body as JSON; ValueError when it is not JSON, :class:`UnreadableAnswer` when it nests
    deeper than :data:`MAX_JSON_DEPTH` (the C parser itself gives up far deeper, with a
    RecursionError, which is the same answer)."""
    try:
        parsed = json.loads(body)
    except RecursionError:
        raise UnreadableAnswer(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    if json_depth(parsed) > MAX_JSON_DEPTH:
        raise UnreadableAnswer(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return parsed


def redirect_origin(location: str, request_origin: str | None) -> str:
    """:func:`location_origin` for a Location the catalog records; raises :class:`UnreadableAnswer`
    for one that is not an http(s) URL or a relative reference (``data:``, ``javascript:``,
    ``file:``, a bad port, a host with odd characters): that probe's cell is an ``error``."""
    try:
        parts = urlsplit(location.strip())
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise UnreadableAnswer("a Location that is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme and scheme not in ("http", "https"):
        shown = scheme if len(scheme) <= 20 else scheme[:20] + "…"
        raise UnreadableAnswer(f"a Location with the scheme {shown!r}: only http and https are recorded")
    if parts.netloc and not _HOST.match(parts.hostname or ""):
        raise UnreadableAnswer("a Location whose host is not a valid host name")
    return location_origin(location, request_origin)


def shape_of(value: Any, depth: int = 0) -> str:
    """A compact type signature of a JSON value (keys and types, first item of lists)."""
    if depth > 3:
        return "…"
    if isinstance(value, dict):
        inner = ",".join(f"{k}:{shape_of(v, depth + 1)}" for k, v in sorted(value.items()))
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + (shape_of(value[0], depth + 1) if value else "") + "]"
    if value is None:
        return "null"
    return type(value).__name__


@functools.lru_cache(maxsize=256)
def _pointer(pointer: str) -> JsonPointer:
    """A parsed pointer, remembered: a run resolves the same few pointers in every answer."""
    return JsonPointer(pointer)


def resolve_pointer(doc: Any, pointer: str) -> Any:
    """RFC 6901 JSON pointer lookup (the ``jsonpointer`` library); raises KeyError when the
    pointer is absent or malformed: ``/01`` and ``/²`` are no array index, ``/-`` names no item.
    ``""`` and ``"/"`` both mean the whole document, as definitions have always used them."""
    if pointer in ("", "/"):
        return doc
    try:
        found = _pointer(pointer).resolve(doc)
    except JsonPointerException:
        raise KeyError(pointer) from None  # its message may quote the document: never repeated
    if isinstance(found, EndOfList):
        raise KeyError(pointer)
    return found


def location_origin(location: str, request_origin: str | None) -> str:
    """Where a redirect points, as ``scheme://host[:port]`` only: never its userinfo, path or query."""
    try:
        parts = urlsplit(location.strip())
        port = parts.port
    except ValueError:
        return "(invalid location)"
    if parts.scheme and parts.scheme.lower() not in ("http", "https"):
        return f"{parts.scheme.lower()}:"  # data:, javascript:, …: the scheme says enough
    if not parts.netloc:
        return request_origin or "same-origin"
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    # A scheme-relative Location (//host/x) keeps the request's scheme.
    scheme = parts.scheme.lower() or (request_origin or "http:").split(":", 1)[0]
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


_SIGNAL_VALUE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def signal_value(parsed: Any, pointer: str) -> str:
    """The value of a body field the API names as a signal (``/errcode``), kept as text.

    Only short code-like scalars are kept (``M_UNKNOWN_TOKEN``, ``true``, ``401``): anything
    else a server sends there is "other", so no free text from an answer is stored this way.
    """
    try:
        value = resolve_pointer(parsed, pointer)
    except KeyError:
        return "absent"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value) if isinstance(value, (str, int)) else ""
    return text if _SIGNAL_VALUE.match(text) else "other"


def summarise_headers(headers: list[tuple[str, str]], origin: str | None = None) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers:
        name = name.lower()
        if name in HEADER_IGNORED or (name == "set-cookie" and name in out):
            continue
        if name in HEADER_VALUES and name not in HEADER_PRESENCE_ONLY:
            # Not cut here: catalog.secrets.scrub.seal scrubs first, then bounds the length.
            out[name] = without_origin(value, origin) if origin else value
        else:
            out[name] = "(present)"
    return dict(sorted(out.items()))


def summarise(
    *,
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
    truncated: bool,
    collection: str | None,
    actor_fields: tuple[str, ...] = (),
    signal_fields: tuple[str, ...] = (),
    volatile: frozenset[str] = VOLATILE_KEYS,
    latency_ms: int | None = None,
    attempts: int = 1,
    request_origin: str | None = None,
) -> Observation:
    """Summarise one answer; raises :class:`UnreadableAnswer` for one that cannot be kept."""
    obs = Observation(
        status=status,
        body_bytes=len(body),
        truncated=truncated,
        latency_ms=latency_ms,
        attempts=attempts,
        headers=summarise_headers(headers, request_origin),
    )
    obs.content_type = obs.headers.get("content-type")
    if 300 <= status < 400:
        location = {k.lower(): v for k, v in headers}.get("location")
        if location:
            obs.location_origin = redirect_origin(location, request_origin)
    parsed: Any = None
    is_json = False
    if body and not truncated:
        try:
            parsed = parse_json(body)
            is_json = True
        except UnreadableAnswer:
            raise
        except ValueError:
            is_json = False
    if is_json:
        norm = normalise(parsed, volatile, request_origin)
        canonical = json.dumps(norm, sort_keys=True, separators=(",", ":")).encode()
        obs.body_sha256 = hashlib.sha256(canonical).hexdigest()
        obs.shape = shape_of(parsed)
        if isinstance(parsed, list) and collection in (None, "", "/"):
            obs.count = len(parsed)
        elif collection:
            try:
                found = resolve_pointer(parsed, collection)
                if isinstance(found, list):
                    obs.count = len(found)
            except KeyError:
                pass
        for pointer in signal_fields:
            obs.fields[pointer] = signal_value(parsed, pointer)
        for pointer in actor_fields:
            try:
                value = resolve_pointer(parsed, pointer)
                obs.fields[pointer] = "null" if value is None else "present"
            except KeyError:
                obs.fields[pointer] = "absent"
    elif body:
        obs.body_sha256 = hashlib.sha256(body).hexdigest()
        obs.shape = "text" if not truncated else "truncated"
    return obs
