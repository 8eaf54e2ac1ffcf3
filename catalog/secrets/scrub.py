"""Keep secrets out of everything authcat writes: observations, logs, errors, the site.

A target server is hostile: it may echo a credential back in any header name or value, the
content type, a redirect target, a JSON key, a version string — and encoded (URL-encoded with
``%2B`` or ``+``, JSON ``\\u``-escaped, base64, upper- or lower-cased). A :class:`Scrubber` knows
every credential *part* (the secret, the identity, the whole header value, the ``identity:secret``
pair, and the base64 of each) and matches each part character by character in any mix of those
encodings, ignoring case. A string that holds a part is replaced **whole** by ``<redacted>``:
never cut around it, so a truncation or a neighbouring fragment cannot keep part of it.

The choke point is :func:`seal`: every :class:`~catalog.runs.results.TargetRun` leaves the runner
through it (to the store, the change log, the site, the export and the CLI's output), and it
scrubs every key and string of the run, *then* bounds lengths.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from functools import cached_property
from typing import Any
from urllib.parse import unquote

REDACTED = "<redacted>"
MIN_PART = 4  # shorter parts (a 3-letter user name) would redact ordinary words
MAX_VALUE = 200  # header values, notes and versions are stored up to this length (after scrubbing)
# An echoed Authorization header is a credential whatever it holds (unless already redacted).
_AUTH_HEADER = re.compile(r"(?i)(authorization\"?\s*[:=]\s*+\"?+)(?!<redacted>)([^\"\r\n,}]+)")


def _b64(text: str) -> set[str]:
    raw = text.encode()
    out = set()
    for enc in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        out |= {enc, enc.rstrip("=")}
    return out


def _basic_parts(value: str) -> list[str]:
    """A Basic payload's decoded ``user:secret`` and both halves, so an echo of any is caught."""
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return []
    if ":" not in decoded:
        return []
    return [decoded, *decoded.split(":", 1)]


_U_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_X_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")


def _fold(text: str) -> str:
    """``text`` with the encodings a server could echo a credential in undone, case-folded, and
    ``+`` read as a space (a form decoder's view): equal parts fold to equal strings."""
    for _ in range(2):  # %252B is %2B encoded once more
        if "%" in text:
            text = unquote(text)
    if "\\" in text:
        text = _U_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text).replace("\\/", "/")
        text = _X_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")  # join \u pairs
    if "&" in text:
        text = html.unescape(text)
    return text.casefold().replace("+", " ")


def _char(c: str) -> str:
    """A pattern for one character in the encodings :func:`_fold` undoes (for span redaction)."""
    code = ord(c)
    forms = [re.escape(c), "".join(f"%(?:25)?{b:02x}" for b in c.encode()), f"&#0*{code};", f"&#x0*{code:x};"]
    units = c.encode("utf-16-be").hex()
    forms.append("".join(f"\\\\u{units[i:i + 4]}" for i in range(0, len(units), 4)))
    if code < 0x80:
        forms.append(f"\\\\x{code:02x}")
    forms += {"/": [r"\\/"], " ": [r"\+"], "+": [" "]}.get(c, [])
    return "(?:" + "|".join(forms) + ")"


def _minimal(parts: set[str]) -> list[str]:
    """The parts that contain no other part: a text holding a longer one holds the shorter too."""
    ordered = sorted(parts, key=len)
    kept: list[str] = []
    for part in ordered:
        if not any(k in part for k in kept):
            kept.append(part)
    return kept


def _pattern(part: str) -> str:
    return "".join(_char(c) for c in part)


class Scrubber:
    """Recognise every known credential part in any encoding; redact what holds one."""

    def __init__(self, secrets: Iterable[str] = (), identities: Iterable[str | None] = ()):
        """``secrets`` may include whole header values (``Basic dXNl…``): each part counts."""
        self._secrets = [s for s in secrets if s]
        self._identities = [i for i in identities if i]
        parts: set[str] = set()
        for value in self._secrets:
            parts.add(value)
            if " " in value:  # "Basic xyz": the payload alone, and what it decodes to
                payload = value.split(" ", 1)[1]
                parts.add(payload)
                parts.update(_basic_parts(payload))
        for identity in [*self._identities, None]:
            for secret in self._secrets:
                parts.add(f"{identity or ''}:{secret}")
        # An identity (an email, a user name) is personal data: an echo of it is dropped too.
        parts.update(self._identities)
        for part in list(parts):
            parts |= _b64(part)
        self._parts = sorted((p for p in parts if len(p) >= MIN_PART), key=len, reverse=True)
        self._folded = _minimal({_fold(p) for p in self._parts})
        # For a whole JSON document at once: each part also as JSON writes it inside a string.
        self._json_folded = _minimal({*self._folded, *(_fold(json.dumps(p, ensure_ascii=False)[1:-1]) for p in self._parts)})
        self._memo: dict[str, str] = {}

    @cached_property
    def _regex(self) -> re.Pattern | None:
        """Each part in any (mixed) encoding, for replacing spans of long free text only."""
        return re.compile("|".join(_pattern(p) for p in self._parts), re.IGNORECASE) if self._parts else None

    def plus(self, secrets: Iterable[str]) -> Scrubber:
        """A scrubber that also knows ``secrets`` (e.g. the header values one request sent)."""
        extra = [s for s in secrets if s and s not in self._secrets]
        return Scrubber([*self._secrets, *extra], self._identities) if extra else self

    def holds(self, text: str) -> bool:
        """Whether ``text`` holds a credential part (in any encoding) or an Authorization echo."""
        folded = _fold(text)
        if "authorization" in folded and _AUTH_HEADER.search(text):
            return True
        return any(part in folded for part in self._folded)

    def holds_json(self, document: str) -> bool:
        """Whether a JSON document (as text) may hold a credential part in any of its strings: a
        quick whole-document check, so a run without any echo is sealed without visiting every
        string. It may answer yes for a match across two strings (then each string is checked)."""
        folded = _fold(document)
        if "authorization" in folded and _AUTH_HEADER.search(document):
            return True
        return any(part in folded for part in self._json_folded)

    def __call__(self, text: str | None) -> str:
        """``text`` itself, or ``<redacted>`` when it holds a credential part: redacted whole."""
        if not text:
            return text or ""
        found = self._memo.get(text)
        if found is None:
            found = REDACTED if self.holds(text) else text
            if len(self._memo) < 100_000 and len(text) < 4096:  # the same values recur per cell
                self._memo[text] = found
        return found

    def spans(self, text: str) -> str:
        """For long free text (a kept non-JSON body): each match replaced, the rest kept; the
        whole text when a part is still found afterwards (an encoding the spans missed)."""
        if not self.holds(text):
            return text
        if self._regex is not None:
            text = self._regex.sub(REDACTED, text)
        text = _AUTH_HEADER.sub(lambda m: m.group(1) + REDACTED, text)
        return REDACTED if self.holds(text) else text

    def deep(self, value: Any) -> Any:
        """Every key and string of a JSON-like value, scrubbed (keys that collide are merged)."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {self(k) if isinstance(k, str) else k: self.deep(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.deep(v) for v in value]
        return value

    def body(self, text: str) -> str:
        """A kept body: a JSON body has each key and string scrubbed whole; other text by span."""
        try:
            doc = json.loads(text)
        except ValueError:
            return self.spans(text)
        return json.dumps(self.deep(doc), ensure_ascii=False)


_BOUNDED = frozenset({"note", "reason", "error", "content_type", "target_version", "location_origin"})


def bound(text: str | None) -> str | None:
    """A stored value's length bound. Only ever applied to a string already scrubbed."""
    return text[:MAX_VALUE] + "…" if text is not None and len(text) > MAX_VALUE else text


def _bounded(value: Any, key: str | None = None, in_headers: bool = False) -> Any:
    """Lengths bounded *after* scrubbing (a cut before it could keep most of a secret)."""
    if isinstance(value, dict):
        return {k: _bounded(v, k, key == "headers") for k, v in value.items()}
    if isinstance(value, list):
        return [_bounded(v) for v in value]
    if isinstance(value, str) and (in_headers or key in _BOUNDED) and len(value) > MAX_VALUE:
        return value[:MAX_VALUE] + "…"
    return value


def seal_value(value: Any, scrub: Scrubber) -> Any:
    """A JSON-like value scrubbed then bounded; the value itself when a quick check of the whole
    finds nothing to redact (the common case: the prober scrubbed each observation already)."""
    if not scrub.holds_json(json.dumps(value, ensure_ascii=False)):
        return value
    return _bounded(scrub.deep(value))


Sealed = dict  # endpoint id -> (the result as given, the result sealed): one seal per result


def seal(run: Any, scrub: Scrubber, memo: Sealed | None = None) -> Any:
    """The choke point: a :class:`~catalog.runs.results.TargetRun` with every key and string scrubbed
    (header names and values, content type, redirect origin, shape, notes, errors, version, kept
    bodies, reasons) and then bounded. Everything the runner hands out passes here.

    ``memo`` (kept by the caller across the progress saves of one run) seals each endpoint's
    result once: a save every second re-checks only what changed (benchmarks/scrub_seal.py).
    """
    from catalog.runs.results import EndpointResult, TargetRun  # results imports observe; keep this light

    endpoints = {}
    for endpoint_id, result in run.endpoints.items():
        hit = memo.get(endpoint_id) if memo is not None else None
        if hit is not None and hit[0] is result:
            endpoints[endpoint_id] = hit[1]
            continue
        data = result.to_dict()
        sealed_data = seal_value(data, scrub)
        sealed = result if sealed_data is data else EndpointResult.from_dict(endpoint_id, sealed_data)
        if memo is not None:
            memo[endpoint_id] = (result, sealed)
        endpoints[endpoint_id] = sealed
    head = seal_value({"run": run.meta, "states": run.states}, scrub)
    return TargetRun(run.api, run.target, head["run"], head["states"], endpoints)
