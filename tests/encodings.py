"""Every spelling a server could echo a credential part in, beyond the plain ones of
:mod:`tests.canary`: base64 at byte offsets 1 and 2, a JWT carrying the identity, %-encoding three
times, ``%uXXXX``, ``\\UXXXXXXXX``, CSS ``\\2B ``, ``\\+``, quoted-printable, UTF-7, a soft hyphen or
zero-width space inside, hex, base32 — and a few no list named (fullwidth forms, gzip and UTF-16
under base64, base64 of base64, HTML named entities, MIME-folded base64).

Shared by the hostile echo server (which sends each of them) and the tests (which search for them).
"""

from __future__ import annotations

import base64
import gzip
import json
from urllib.parse import quote


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def jwt(claims: dict) -> str:
    """An unsigned-looking JWT (a server's session token) whose payload carries ``claims``."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    return f"{header}.{_b64url(json.dumps(claims).encode())}.{_b64url(b'signature-bytes-here-32-long!!!!')}"


def utf7_full(text: str) -> str:
    """Every character shifted into UTF-7's modified base64 (Python's codec leaves ASCII as is)."""
    return "+" + base64.b64encode(text.encode("utf-16-be")).decode().rstrip("=") + "-"


def _chunks(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


def forms(part: str, identity: str = "") -> dict[str, str]:
    """name -> the part spelled that way (each differs from the raw part)."""
    raw = part.encode()
    return {
        "b64-offset1": base64.b64encode(b"x" + raw).decode(),
        "b64-offset2": base64.b64encode(b"xy" + raw).decode(),
        "b64url-offset1": base64.urlsafe_b64encode(b"\xfb" + raw).decode().rstrip("="),
        "b64url-offset2": base64.urlsafe_b64encode(b"\xfb\xff" + raw).decode().rstrip("="),
        "b64-in-word": "tok_" + base64.b64encode(b"z" + raw).decode().rstrip("="),
        "jwt": jwt({"sub": identity or part, "scope": "read", "x": part}),
        "jwt-sub-only": jwt({"sub": part, "iat": 1700000000}),
        "percent-3x": quote(quote(quote(part, safe=""), safe=""), safe=""),
        "percent-u": "".join(f"%u{ord(c):04X}" for c in part),
        "backslash-U": "".join(f"\\U{ord(c):08x}" for c in part),
        "css": "".join(f"\\{ord(c):X} " if not c.isalnum() else c for c in part),
        "css-all": "".join(f"\\{ord(c):x} " for c in part),
        "backslash-char": "".join(f"\\{c}" if not c.isalnum() else c for c in part),
        "quoted-printable": "".join(f"={b:02X}" for b in raw),
        "quoted-printable-soft": "=\r\n".join(_chunks("".join(f"={b:02X}" for b in raw), 24)),
        "utf7": utf7_full(part),
        "utf7-codec": part.encode("utf-7").decode(),
        "soft-hyphen": "\u00ad".join(part),
        "zero-width": "".join(c + "\u200b\u2060\ufeff\u200d"[i % 4] for i, c in enumerate(part)),
        "hex": raw.hex(),
        "hex-upper-offset": "F" + raw.hex().upper(),
        "base32": base64.b32encode(raw).decode(),
        "base32-offset": base64.b32encode(b"xyz" + raw).decode().rstrip("=").lower(),
        # No list named these:
        "fullwidth": "".join(chr(ord(c) + 0xFEE0) if 0x21 <= ord(c) <= 0x7E else c for c in part),
        "gzip-b64": base64.b64encode(gzip.compress(raw, mtime=0)).decode(),
        "utf16-b64": base64.b64encode(part.encode("utf-16-le")).decode(),
        "b64-of-b64": base64.b64encode(base64.b64encode(b"q" + raw)).decode(),
        "html-named": part.replace("+", "&plus;").replace("/", "&sol;").replace("=", "&equals;").replace("@", "&commat;"),
        "mime-folded": "\r\n ".join(_chunks(base64.b64encode(b"12" + raw).decode(), 8)),
        "percent-css-mix": "".join(quote(c, safe="") if i % 2 else f"\\{ord(c):x} " for i, c in enumerate(part)),
    }
