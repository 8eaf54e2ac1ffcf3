"""Content-Encoding decoding that never holds more than the body cap.

httpx decodes ``gzip``/``deflate`` with ``zlib.decompressobj().decompress(chunk)``, which has no
output bound: one 2 KB chunk of ``Content-Encoding: gzip, gzip`` inflates to 1 MB, and the inner
coding turns that single megabyte into 1 GiB in one call (measured before this module: 3 GB RSS,
30 s past a 5 s timeout, since a C call cannot be interrupted by ``asyncio.timeout``). Here every
``decompress`` call is given a ``max_length``, each coding of a chain hands the next one bounded
pieces, and decoding stops as soon as the output passes the cap: memory stays around
``cap + codings × PIECE`` and the work done is proportional to the cap, not to the bomb.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

PIECE = 64 * 1024  # most bytes one coding hands the next at a time
MAX_CODINGS = 4  # more stacked codings than this is not an API, it is an attack
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class DecodeError(ValueError):
    """The body cannot be decoded as its Content-Encoding says (message says why, no body bytes)."""


class Overflow(Exception):
    """Decoding passed the cap; the answer is a decompression bomb as far as the catalog cares."""


def codings(header: str | None) -> list[str]:
    """The codings named by a Content-Encoding header, in the order they were applied."""
    if not header:
        return []
    names = [c.strip().lower() for c in header.split(",")]
    return [c for c in names if c and c != "identity"]


class _Stage:
    """One zlib coding, decompressed in pieces of at most ``PIECE`` bytes."""

    def __init__(self, name: str):
        self.name = name
        self._z = zlib.decompressobj(_WBITS[name])
        self._raw_deflate_tried = name != "deflate"
        self._seen_output = False
        self._pending = b""

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Yield the decoded pieces of ``data`` (bounded each); keeps what it could not consume."""
        self._pending += data
        while self._pending:
            before = len(self._pending)
            try:
                out = self._z.decompress(self._pending, PIECE)
            except zlib.error as exc:
                if not self._raw_deflate_tried and not self._seen_output:
                    # ``deflate`` is sent zlib-wrapped or raw in the wild; httpx accepts both.
                    self._raw_deflate_tried = True
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise DecodeError(f"Content-Encoding {self.name} does not decode ({exc})") from None
            self._pending = self._z.unconsumed_tail
            if self._z.eof and self._z.unused_data:
                # A second gzip member (concatenated streams are valid gzip): start over on it.
                self._pending = self._z.unused_data + self._pending
                self._z = zlib.decompressobj(_WBITS[self.name])
            if out:
                self._seen_output = True
                yield out
            elif len(self._pending) >= before:
                break  # nothing consumed, nothing produced: zlib wants more input


class BoundedDecoder:
    """Decode a body through its codings; :class:`Overflow` once the output passes ``cap``.

    Unknown codings (``br``, ``zstd``, ``compress``: never asked for, see ``Accept-Encoding`` in
    ``catalog.engine.client``) leave the body as sent, as httpx does: it is then hashed as opaque bytes.
    """

    def __init__(self, header: str | None, cap: int):
        names = codings(header)
        if len(names) > MAX_CODINGS:
            raise DecodeError(f"Content-Encoding stacks {len(names)} codings (at most {MAX_CODINGS} are decoded)")
        self.applied = names if all(n in _WBITS for n in names) else []
        self.encoded = bool(self.applied)
        self.cap = cap
        self.size = 0
        self._stages = [_Stage(n) for n in reversed(self.applied)]  # last applied, first undone

    def feed(self, data: bytes, out: list[bytes]) -> None:
        """Append the decoded pieces of ``data`` to ``out``; on :class:`Overflow`, ``out`` already
        holds the piece that passed the cap (so a plain body is cut at exactly the cap)."""
        self._push(0, data, out)

    def _push(self, i: int, data: bytes, out: list[bytes]) -> None:
        if i == len(self._stages):
            self.size += len(data)
            out.append(data)
            if self.size > self.cap:
                raise Overflow
            return
        for piece in self._stages[i].feed(data):
            self._push(i + 1, piece, out)
