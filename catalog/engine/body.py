"""Reading an answer's body: decoded, never more than a cap.

A plain body over the cap is cut and flagged (the status still tells something). A *compressed*
body that inflates past the cap is a decompression bomb: :class:`UnreadableAnswer`. Nothing past
the cap is ever decompressed or held (``catalog.engine.decode`` inflates in bounded pieces).
"""

from __future__ import annotations

import httpx

from catalog.engine.decode import BoundedDecoder, DecodeError, Overflow
from catalog.model.observation import UnreadableAnswer


def mib(n: int) -> str:
    """A byte count as people read it: ``2 MiB``, ``512 bytes``."""
    return f"{n / 1024 / 1024:g} MiB" if n >= 1024 * 1024 else f"{n:,} bytes"


async def read_capped(resp: httpx.Response, cap: int) -> tuple[bytes, bool]:
    """The body of a streamed answer, decoded, at most ``cap`` bytes, and whether it was cut."""
    try:
        decoder = BoundedDecoder(resp.headers.get("content-encoding"), cap)
    except DecodeError as exc:
        raise UnreadableAnswer(str(exc)) from None
    chunks: list[bytes] = []
    received = 0
    try:
        async for raw in resp.aiter_raw():
            received += len(raw)
            decoder.feed(raw, chunks)
    except Overflow:
        if decoder.encoded:
            raise UnreadableAnswer(
                f"a body that inflates past the {mib(cap)} cap (Content-Encoding "
                f"{', '.join(decoder.applied)}, {received:,} bytes received): a decompression bomb"
            ) from None
        return b"".join(chunks)[:cap], True
    except DecodeError as exc:
        raise UnreadableAnswer(str(exc)) from None
    return b"".join(chunks), False
