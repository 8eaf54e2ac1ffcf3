"""Keep secrets out of everything authcat writes: observations, logs, errors, the site."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable

REDACTED = "<redacted>"
_AUTH_HEADER = re.compile(r"(?i)(authorization\"?\s*[:=]\s*\"?)([^\"\r\n,}]+)")


def _basic_parts(value: str) -> list[str]:
    """A Basic payload's decoded ``user:secret`` and its secret, so an echo of either is caught."""
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return []
    if ":" not in decoded:
        return []
    return [decoded, decoded.split(":", 1)[1]]


class Scrubber:
    """Replace every known secret (and its Basic/base64 forms) in a text with ``<redacted>``."""

    def __init__(self, secrets: Iterable[str] = (), identities: Iterable[str | None] = ()):
        """``secrets`` may include whole header values (``Basic dXNl…``): each part counts."""
        needles: set[str] = set()
        identities = list(identities)
        self._identities = identities
        secrets = [part for s in secrets for part in (s, *s.split(" ", 1)[1:]) if part]
        secrets += [p for s in secrets for p in _basic_parts(s)]
        # An identity (an email, a user name) is personal data: an echo of it is dropped too.
        secrets += [i for i in identities if i]
        for secret in secrets:
            if not secret or len(secret) < 4:
                continue
            needles.add(secret)
            for identity in {None, *identities}:
                pair = f"{identity or ''}:{secret}".encode()
                needles.add(base64.b64encode(pair).decode())
            needles.add(base64.b64encode(secret.encode()).decode().rstrip("="))
        # Longest first so a base64 pair is replaced before a secret inside it could be.
        self._needles = sorted(needles, key=len, reverse=True)

    def plus(self, secrets: Iterable[str]) -> Scrubber:
        """A scrubber that also knows ``secrets`` (e.g. the header values one request sent)."""
        extra = Scrubber(secrets, self._identities)
        if not extra._needles:
            return self
        merged = Scrubber((), self._identities)
        merged._needles = sorted(set(self._needles) | set(extra._needles), key=len, reverse=True)
        return merged

    def __call__(self, text: str | None) -> str:
        if not text:
            return text or ""
        for needle in self._needles:
            if needle in text:
                text = text.replace(needle, REDACTED)
        # An echoed Authorization header is a credential whatever it holds.
        return _AUTH_HEADER.sub(lambda m: m.group(1) + REDACTED, text)
