"""Keep secrets out of everything authcat writes: observations, logs, errors, the site.

A target server is hostile: it may echo a credential back in any header name or value, the
content type, a redirect target, a JSON key, a version string — and encoded. A :class:`Scrubber`
knows every credential *part* (the secret, the identity, the whole header value, the
``identity:secret`` pair, and their base64 at every byte alignment) and redacts **generically**,
not from a list of encodings:

* every text is explored as its *views* (:func:`views`): %-encodings (``%XX`` any number of times,
  ``%uXXXX``), C/JSON/JavaScript escapes (``\\uXXXX``, ``\\UXXXXXXXX``, ``\\x``, ``\\+``), CSS escapes
  (``\\2B``), HTML entities, quoted-printable and UTF-7 undone to a fixpoint; invisible characters
  (soft hyphens, zero-width) removed and compatibility forms folded; then compared case-folded and
  without blanks or ``+``. Views that do not settle within a bound are redacted, never trusted;
* every opaque run of 16 or more characters in a view (base64 and base64url at every alignment,
  JWT segments, base32, hex) is decoded — inflated when compressed, read as UTF-8 or UTF-16 — and
  the result checked the same way, twice nested.

A string that holds a part is replaced **whole** by ``<redacted>``: never cut around it, so a
truncation or a neighbouring fragment cannot keep part of it.

The choke point is :func:`seal`: every :class:`~catalog.runs.results.TargetRun` leaves the runner
through it (to the store, the change log, the site, the export and the CLI's output), and it
scrubs every key and string of the run, *then* bounds lengths.
"""

from __future__ import annotations

import base64
import html
import json
import quopri
import re
import unicodedata
import zlib
from collections.abc import Iterable, Iterator
from functools import cached_property, lru_cache
from typing import Any, AnyStr
from urllib.parse import unquote

REDACTED = "<redacted>"
MIN_PART = 4  # shorter parts (a 3-letter user name) would redact ordinary words
MAX_VALUE = 200  # header values, notes and versions are stored up to this length (after scrubbing)
# An echoed Authorization header is a credential whatever it holds (unless already redacted).
_AUTH_HEADER = re.compile(r"(?i)(authorization\"?\s*[:=]\s*+\"?+)(?!<redacted>)([^\"\r\n,}]+)")


def _b64(text: str) -> set[str]:
    """The base64 and base64url of ``text`` at every byte alignment: whole, and the characters
    that depend on ``text`` alone when one or two bytes come before it in the encoded data."""
    raw = text.encode()
    out = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode()
        first = -(-offset * 8 // 6)  # the first character no byte of the prefix touches
        last = (offset + len(raw)) * 8 // 6  # the characters after it carry padding bits
        for enc in (encoded, encoded.replace("+", "-").replace("/", "_")):
            out.add(enc.rstrip("=") if offset == 0 else enc[first:last])
            if offset == 0:
                out.add(enc)
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


# --- Normalisation: what a server may wrap a credential in, undone to a fixpoint -------------------
#
# A text is explored as a small set of *views*: each decoder below applied to each view until no
# new view appears (bounded). Decoders disagree (``\2B`` is ``+`` to CSS and ``\x2B`` to C; a raw
# ``+`` is UTF-7's shift), so every view is kept, not one "decoded" text. A text whose views do not
# settle within the bound is treated as holding a credential: what cannot be checked is redacted.

# Characters a reader does not see, and controls: removed before comparing (a soft hyphen or a
# zero-width space inside a secret leaves it readable on the page).
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]")
_BLANK = re.compile(r"[\s+]+")  # whitespace, and "+" (a form decoder's space), ignored when comparing
MAX_VIEWS = 48
MAX_ROUNDS = 8
MIN_RUN = 16  # an opaque run this long is decoded and checked
_WORD = re.compile(rf"[^\s\"'<>]{{{MIN_PART},}}")  # a span of free text redacted on its own


def _clean(text: str) -> str:
    """Invisible characters removed, compatibility forms folded (fullwidth ``％２Ｂ`` is ``%2B``)."""
    return unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))


def _compared(text: str) -> str:
    """The form texts and parts are compared in: clean, case-folded, without blanks or ``+``."""
    return _BLANK.sub("", _clean(text).casefold())


_PERCENT_U = re.compile(r"%u([0-9a-fA-F]{4})")


def _percent(text: str) -> str:
    text = _PERCENT_U.sub(lambda m: chr(int(m[1], 16)), text)
    return unquote(text, errors="replace")


def _code_point(value: int) -> str:
    return chr(value) if value <= 0x10FFFF else "\ufffd"


def _join_surrogates(text: str) -> str:
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


# C, JSON, JavaScript and Python escapes; any other escaped character is itself (``\+``, ``\/``).
_C_ESCAPE = re.compile(r"\\(?:u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|x([0-9a-fA-F]{2})|([0-7]{1,3})|(.))",
                       re.DOTALL)
_C_NAMED = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "0": "\0", "a": "\a"}


def _c_unescape(match: re.Match) -> str:
    hexa = match[1] or match[2] or match[3] or match[4]
    if hexa:
        return _code_point(int(hexa, 16))
    if match[5]:
        return _code_point(int(match[5], 8))
    return _C_NAMED.get(match[6], match[6])


def _backslash_c(text: str) -> str:
    return _join_surrogates(_C_ESCAPE.sub(_c_unescape, text))


# CSS: a backslash, one to six hex digits and one optional white space; or any escaped character.
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\r\f]?|(.))", re.DOTALL)


def _backslash_css(text: str) -> str:
    return _join_surrogates(_CSS_ESCAPE.sub(lambda m: _code_point(int(m[1], 16)) if m[1] else m[2], text))


def _quoted_printable(text: str) -> str:
    return quopri.decodestring(text.encode("utf-8", "surrogatepass")).decode("utf-8", "replace")


_UTF7 = re.compile(r"\+([A-Za-z0-9+/]*)-?")
_UTF7_IMAP = re.compile(r"&([A-Za-z0-9+,]+)-")


def _utf16_of_b64(chars: str) -> str | None:
    try:
        raw = base64.b64decode(chars + "=" * (-len(chars) % 4))
    except ValueError:
        return None
    return raw[: len(raw) // 2 * 2].decode("utf-16-be", "replace")


def _utf7(text: str) -> str:
    def one(match: re.Match, alt: bool = False) -> str:
        chars = match[1].replace(",", "/") if alt else match[1]
        if not chars:
            return "+"
        decoded = _utf16_of_b64(chars)
        return match[0] if decoded is None else decoded
    text = _UTF7.sub(one, text)
    return _UTF7_IMAP.sub(lambda m: one(m, alt=True), text)


# (the character that must be present, the decoder)
_DECODERS: tuple[tuple[str, Any], ...] = (
    ("%", _percent), ("\\", _backslash_c), ("\\", _backslash_css), ("&", html.unescape),
    ("=", _quoted_printable), ("+", _utf7), ("&", _utf7), ("", _clean),
)


def views(text: str) -> set[str] | None:
    """Every decoding of ``text`` (itself included), to a fixpoint; None when they do not settle
    within :data:`MAX_VIEWS` views and :data:`MAX_ROUNDS` rounds (the caller then redacts)."""
    seen = {text}
    frontier = [text]
    for _ in range(MAX_ROUNDS):
        fresh = []
        for view in frontier:
            for trigger, decode in _DECODERS:
                if trigger and trigger not in view:
                    continue
                decoded = decode(view)
                if decoded not in seen:
                    seen.add(decoded)
                    fresh.append(decoded)
                    if len(seen) > MAX_VIEWS:
                        return None
        if not fresh:
            return seen
        frontier = fresh
    return None


# --- Opaque runs: decoded at every alignment ----------------------------------------------------

# The lookbehind starts a match only where a run starts: linear, where a bare {16,} retried at
# every character of every shorter word.
_RUN_B64 = re.compile(rf"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{{{MIN_RUN},}}")
_RUN_B32 = re.compile(rf"[A-Z2-7]{{{MIN_RUN},}}|[a-z2-7]{{{MIN_RUN},}}")
_RUN_B32HEX = re.compile(rf"[0-9A-V]{{{MIN_RUN},}}|[0-9a-v]{{{MIN_RUN},}}")
_RUN_HEX = re.compile(rf"[0-9A-Fa-f]{{{MIN_RUN},}}")
_B32_TAIL = {0: 0, 1: -1, 2: 6, 3: -1, 4: 4, 5: 3, 6: -1, 7: 1}  # chars left over -> "=" to add (-1: drop one)


def _b64_decodings(run: str) -> Iterator[bytes]:
    run = run.replace("-", "+").replace("_", "/")
    for offset in range(4):  # one of the four starts is on the encoder's 4-character grid
        chars = run[offset:]
        extra = len(chars) % 4
        chars = chars[:-1] if extra == 1 else chars + "=" * (-len(chars) % 4)
        try:
            yield base64.b64decode(chars)
        except ValueError:
            continue


def _b32_decodings(run: str, decode: Any) -> Iterator[bytes]:
    run = run.upper()
    for offset in range(8):  # the encoder's grid is 8 characters
        chars = run[offset:]
        while (pad := _B32_TAIL[len(chars) % 8]) < 0:
            chars = chars[:-1]
        try:
            yield decode(chars + "=" * pad)
        except ValueError:
            continue


def _hex_decodings(run: str) -> Iterator[bytes]:
    for offset in range(2):
        chars = run[offset:]
        yield bytes.fromhex(chars[: len(chars) // 2 * 2])


_RUNS = ((_RUN_B64, _b64_decodings), (_RUN_B32, lambda run: _b32_decodings(run, base64.b32decode)),
         (_RUN_B32HEX, lambda run: _b32_decodings(run, base64.b32hexdecode)), (_RUN_HEX, _hex_decodings))


def _runs(text: str) -> Iterator[tuple[str, Any]]:
    """Each distinct opaque run of ``text`` with the decoder of its alphabet (the base32 and hex
    alphabets are inside the base64 one: their runs are looked for inside its runs only)."""
    found = set(_RUN_B64.findall(text))
    for run in found:
        yield run, _b64_decodings
    for pattern, decodings in _RUNS[1:]:
        for sub in {sub for run in found for sub in pattern.findall(run)}:
            yield sub, decodings


_COMPRESSED = (b"\x1f\x8b\x08", b"\x78\x9c", b"\x78\xda", b"\x78\x01", b"\x78\x5e")  # gzip, zlib


def _texts_of(raw: bytes) -> Iterator[str]:
    """What decoded bytes may read as: UTF-8 (invalid bytes replaced), UTF-16 when it has NULs,
    and what a compressed stream in them inflates to (bounded)."""
    yield raw.decode("utf-8", "replace")
    if b"\0" in raw:
        for start in (0, 1):
            chunk = raw[start:]
            chunk = chunk[: len(chunk) // 2 * 2]
            yield chunk.decode("utf-16-le", "replace")
            yield chunk.decode("utf-16-be", "replace")
    for magic in _COMPRESSED:
        at = raw.find(magic)
        if at >= 0:
            try:
                yield zlib.decompressobj(47).decompress(raw[at:], 1 << 16).decode("utf-8", "replace")  # 47: either header
            except zlib.error:
                continue


_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\t\r\n"


def _readable(raw: bytes) -> bool:
    """Mostly printable ASCII or UTF-8: worth reading as text and decoding again. The decodings
    at the three wrong alignments are noise: those are only searched byte for byte."""
    other = len(raw.translate(None, _PRINTABLE))
    return other <= 0.15 * len(raw)


def _char(c: str) -> str:
    """A pattern for one character in the common encodings (for span redaction in free text)."""
    code = ord(c)
    forms = [re.escape(c), "".join(f"%(?:25)*{b:02x}" for b in c.encode()), f"&#0*{code};", f"&#x0*{code:x};"]
    units = c.encode("utf-16-be").hex()
    forms.append("".join(f"\\\\u{units[i:i + 4]}" for i in range(0, len(units), 4)))
    if code < 0x80:
        forms.append(f"\\\\x{code:02x}")
    forms += {"/": [r"\\/"], " ": [r"\+"], "+": [" "]}.get(c, [])
    return "(?:" + "|".join(forms) + ")"


def _minimal(parts: set[AnyStr]) -> list[AnyStr]:
    """The parts that contain no other part: a text holding a longer one holds the shorter too."""
    ordered = sorted(parts, key=len)
    kept: list[AnyStr] = []
    for part in ordered:
        if not any(k in part for k in kept):
            kept.append(part)
    return kept


def _pattern(part: str) -> str:
    return "".join(_char(c) for c in part)


@lru_cache(maxsize=512)  # a run has a few hundred parts at most
def _part_regex(part: str) -> re.Pattern:
    """One part in the common (mixed) encodings, compiled once per process: ``Scrubber.plus``
    makes a scrubber per presentation, and compiling every part again for each (one alternation of
    them all, ~100,000 characters of pattern) took ~0.25 CPU s a scrubber."""
    return re.compile(_pattern(part), re.IGNORECASE)


def _replace_parts(patterns: list[re.Pattern], text: str) -> str:
    """``re.compile("|".join(patterns)).sub(REDACTED, text)``, exactly, from the compiled parts:
    scanning left to right, the match that starts first, and at one position the first pattern
    in order that matches there (an alternation's choice); the scan goes on after it."""
    done, at = [], 0
    ahead = [p.search(text) for p in patterns]  # each pattern's next match at or after `at`
    while True:
        first: re.Match | None = None
        for i, found in enumerate(ahead):
            if found is not None and found.start() < at:  # overlapped by the last replacement
                found = ahead[i] = patterns[i].search(text, at)
            if found is not None and (first is None or found.start() < first.start()):
                first = found
        if first is None:
            break
        done += [text[at:first.start()], REDACTED]
        at = first.end()
    done.append(text[at:])
    return "".join(done)


class Scrubber:
    """Recognise every known credential part in any encoding; redact what holds one."""

    def __init__(self, secrets: Iterable[str] = (), identities: Iterable[str | None] = (), personal: bool = True):
        """``secrets`` may include whole header values (``Basic dXNl…``): each part counts.
        ``personal=False`` (public fixture users): an identity on its own is kept, paired with a
        secret it is still a part."""
        self._secrets = [s for s in secrets if s]
        self._identities = [i for i in identities if i]
        self._personal = personal
        parts: set[str] = set()
        for value in self._secrets:
            parts.add(value)
            if " " in value:  # "Basic xyz": the payload alone, and what it decodes to
                payload = value.split(" ", 1)[1]
                parts.add(payload)
                basic = _basic_parts(payload)
                # user:secret, the secret and the user; a public fixture user is not a part alone.
                parts.update(basic if personal else basic[:1] + basic[2:])
        for identity in [*self._identities, None]:
            for secret in self._secrets:
                parts.add(f"{identity or ''}:{secret}")
        # An identity (an email, a user name) is personal data: an echo of it is dropped too.
        if personal:
            parts.update(self._identities)
        for part in list(parts):
            parts |= _b64(part)
        self._parts = sorted((p for p in parts if len(p) >= MIN_PART), key=len, reverse=True)
        self._forms = _minimal({f for p in self._parts if len(f := _compared(p)) >= MIN_PART})
        # For binary decodings: each part's bytes, lower-cased (bytes.lower folds ASCII only).
        byte_forms = _minimal({p.encode().lower() for p in self._parts})
        self._byte_regex = re.compile(b"|".join(re.escape(f) for f in byte_forms)) if byte_forms else None
        self._memo: dict[str, str] = {}
        self._run_memo: dict[tuple[str, int, int], bool] = {}

    @cached_property
    def _regexes(self) -> list[re.Pattern]:
        """Each part in the common (mixed) encodings, for replacing spans of long free text only."""
        return [_part_regex(p) for p in self._parts]

    def plus(self, secrets: Iterable[str]) -> Scrubber:
        """A scrubber that also knows ``secrets`` (e.g. the header values one request sent)."""
        extra = [s for s in secrets if s and s not in self._secrets]
        return Scrubber([*self._secrets, *extra], self._identities, self._personal) if extra else self

    def _in(self, text: str) -> bool:
        compared = _compared(text)
        return any(form in compared for form in self._forms)

    def _holds(self, text: str, depth: int) -> bool:
        found = views(text)
        if found is None:  # decodings that do not settle: what cannot be checked is redacted
            return bool(self._forms)
        for view in found:
            if "uthorization" in view.casefold() and _AUTH_HEADER.search(_clean(view)):
                return True
            if self._in(view):
                return True
        if not self._forms:
            return False
        return any(self._run_holds(run, decodings, depth) for view in found for run, decodings in _runs(view))

    def _run_holds(self, run: str, decodings: Any, depth: int) -> bool:
        """Whether one opaque run decodes, at some alignment, to something holding a part
        (memoised: the same runs recur in every cell)."""
        key = (run, id(decodings), depth)
        found = self._run_memo.get(key)
        if found is not None:
            return found
        found = False
        for raw in decodings(run):
            if not _readable(raw):
                if self._byte_regex is not None and self._byte_regex.search(raw.lower()):
                    found = True
                    break
                if not any(magic in raw for magic in _COMPRESSED) and b"\0" not in raw:
                    continue
            if any(self._in(decoded) or (depth and self._holds(decoded, depth - 1)) for decoded in _texts_of(raw)):
                found = True
                break
        if len(self._run_memo) < 100_000:
            self._run_memo[key] = found
        return found

    def holds(self, text: str) -> bool:
        """Whether ``text`` holds a credential part or an Authorization echo: in any of its
        decodings (:func:`views`), or in what any opaque run in them decodes to (base64 and
        base64url at every alignment, JWT segments, base32, hex; twice nested)."""
        return self._holds(text, 2)

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
        """For long free text (a kept non-JSON body): each match replaced (and each opaque run or
        word that holds one), the rest kept; the whole text when a part is still found afterwards
        (an encoding the spans missed)."""
        if not self.holds(text):
            return text
        text = _WORD.sub(lambda m: REDACTED if self.holds(m[0]) else m[0], text)
        text = _replace_parts(self._regexes, text)
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


# Hashes authcat computes itself, never a server's text: not checked (decoding every one of them
# at every alignment was most of the cost of a seal).
_OWN_HASHES = frozenset({"body_sha256", "definition", "judged"})


def _strings(value: Any, out: set[str], key: str | None = None) -> set[str]:
    """Every key and string of a JSON-like value, once (but not authcat's own hashes)."""
    if isinstance(value, str):
        if key not in _OWN_HASHES:
            out.add(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str):
                out.add(k)
            _strings(v, out, k)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _strings(v, out)
    return out


def seal_value(value: Any, scrub: Scrubber) -> Any:
    """A JSON-like value scrubbed then bounded; the value itself when none of its distinct strings
    holds anything to redact (the common case: the prober scrubbed each observation already, and
    the scrubber remembers the strings it has seen)."""
    if all(scrub(text) == text for text in _strings(value, set())):
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
    # The run's own classes rebuild what was sealed: the scrubber sits below the runs it seals.
    endpoints = {}
    for endpoint_id, result in run.endpoints.items():
        hit = memo.get(endpoint_id) if memo is not None else None
        if hit is not None and hit[0] is result:
            endpoints[endpoint_id] = hit[1]
            continue
        data = result.to_dict()
        sealed_data = seal_value(data, scrub)
        sealed = result if sealed_data is data else type(result).from_dict(endpoint_id, sealed_data)
        if memo is not None:
            memo[endpoint_id] = (result, sealed)
        endpoints[endpoint_id] = sealed
    head = seal_value({"run": run.meta, "states": run.states}, scrub)
    return type(run)(run.api, run.target, head["run"], head["states"], endpoints)
