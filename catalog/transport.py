"""The engine's HTTP transport: httpx's API over aiohttp's connection handling.

Measured in ``benchmarks/b1_engine.py`` on one nginx at concurrency 16: stock httpx ~300 req/s
(its connection pool costs ~2.6 CPU ms per request), httpx over ``httpx-aiohttp`` ~950 req/s,
raw aiohttp ~2,900 req/s. The probe code keeps httpx's interface (streams, ``aiter_bytes``
decoding, exceptions); aiohttp only moves bytes. Three things are made explicit here:

* **No cookies, anywhere.** A ``Set-Cookie`` from the valid probe must never ride along with the
  anonymous one: aiohttp's session gets a ``DummyCookieJar`` and httpx's client a jar whose
  policy refuses every cookie.
* **No environment**: ``trust_env=False`` on both layers (no proxies, no netrc, no CA overrides).
* **One attempt is one request**: aiohttp's own silent resend is switched off (see below).
* **Exceptions say what happened.** ``httpx-aiohttp`` maps a dropped connection
  (``ServerDisconnectedError``) to ``ConnectTimeout``; the engine retries broken connections but
  not timeouts, so errors are re-mapped here from their aiohttp cause.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from http.cookiejar import CookieJar, DefaultCookiePolicy

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport


def no_cookies() -> CookieJar:
    """A cookie jar that keeps nothing (an empty allow-list of domains refuses every cookie)."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def _remap(exc: BaseException) -> httpx.HTTPError | None:
    """The httpx error an aiohttp failure really is, or None when it is not one of aiohttp's."""
    cause = exc if isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError)) else exc.__cause__
    if isinstance(cause, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return httpx.ReadTimeout(str(cause) or "timed out")
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(cause))
    if isinstance(cause, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError,
                          aiohttp.ClientResponseError)):
        return httpx.RemoteProtocolError(str(cause) or type(cause).__name__)
    if isinstance(cause, aiohttp.ClientOSError):
        return httpx.ReadError(str(cause))
    if isinstance(cause, aiohttp.ClientError):
        return httpx.RemoteProtocolError(f"{type(cause).__name__}: {cause}")
    return None


class _Body(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream):
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except (httpx.HTTPError, aiohttp.ClientError) as exc:
            mapped = _remap(exc)
            if mapped is None:
                raise
            raise mapped from exc

    async def aclose(self) -> None:
        await self._inner.aclose()


class ProbeTransport(AiohttpTransport):
    """``AiohttpTransport`` with a cookie-less, environment-free session and precise errors."""

    def __init__(self, limits: httpx.Limits):
        super().__init__(limits=limits, trust_env=False, client=self._session)

    def _session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self.limits.max_connections or 100,
                                         keepalive_timeout=self.limits.keepalive_expiry)
        session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                        trust_env=False, auto_decompress=False)
        # aiohttp silently resends an idempotent request once when a connection drops. The engine
        # retries on its own terms; a hidden second request would also slip past the rate
        # limiter (the server would count two arrivals for one slot). No public switch exists.
        session._retry_connection = False
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except (httpx.HTTPError, aiohttp.ClientError) as exc:
            mapped = _remap(exc)
            if mapped is None:
                raise
            raise mapped from exc
        assert isinstance(response.stream, httpx.AsyncByteStream)  # an async transport's body
        response.stream = _Body(response.stream)
        return response
