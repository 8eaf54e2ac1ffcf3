"""The engine's HTTP transport: httpx's API over aiohttp's connection handling.

Measured in ``benchmarks/b1_engine.py`` on one nginx at concurrency 16: stock httpx ~300 req/s
(its connection pool costs ~2.6 CPU ms per request), httpx over ``httpx-aiohttp`` ~950 req/s,
raw aiohttp ~2,900 req/s. The probe code keeps httpx's interface (streams, exceptions); aiohttp
only moves bytes. Four things are made explicit here:

* **No cookies, anywhere.** A ``Set-Cookie`` from the valid probe must never ride along with the
  anonymous one: aiohttp's session gets a ``DummyCookieJar`` and httpx's client a jar whose
  policy refuses every cookie.
* **No environment**: ``trust_env=False`` on both layers (no proxies, no netrc, no CA overrides).
* **One attempt is one request**: aiohttp's own silent resend is switched off (see below).
* **The URL is sent as built.** aiohttp re-quotes a string URL, which decodes ``%2E%2E`` to
  ``..`` and then drops the segment with its parent: a discovered value ``..`` would climb out
  of the endpoint's path. The URL is handed over already encoded.
* **Exceptions say what happened**, in one line (:func:`describe`): a DNS failure, a refused
  connection, a TLS handshake with a plain-HTTP port, an untrusted certificate and oversized
  headers each get their own message; none quotes bytes the server sent.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
from collections.abc import AsyncIterator
from http.cookiejar import CookieJar, DefaultCookiePolicy

import aiohttp
import httpx
import yarl
from aiohttp.abc import ResolveResult
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import AiohttpResponseStream


def no_cookies() -> CookieJar:
    """A cookie jar that keeps nothing (an empty allow-list of domains refuses every cookie)."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


class _Resolver(aiohttp.ThreadedResolver):
    """The system resolver, except that ``.invalid`` names fail at once without a query
    (RFC 6761 §6.4: resolution APIs should answer them negatively themselves)."""

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        name = host.rstrip(".").lower()
        if name == "invalid" or name.endswith(".invalid"):
            raise OSError(socket.EAI_NONAME, ".invalid names never resolve, RFC 6761")
        return await super().resolve(host, port, family)


def _where(exc: aiohttp.ClientConnectorError) -> str:
    return f"{exc.host}:{exc.port}"


def describe(exc: BaseException) -> str:
    """One line saying what went wrong, prefixed by its kind (``dns:``, ``connection:``,
    ``tls:``, ``protocol:``, ``timeout:``). The engine retries ``connection:`` and ``protocol:``."""
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return "timeout: no answer in time"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"dns: cannot resolve the host name {exc.host!r} ({exc.os_error.strerror or 'lookup failed'})"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cert = exc.certificate_error
        why = getattr(cert, "verify_message", None) or getattr(cert, "reason", None) or "not trusted"
        return f"tls: the certificate of {_where(exc)} is not trusted ({why})"
    if isinstance(exc, aiohttp.ClientConnectorSSLError):
        reason = getattr(exc.os_error, "reason", None) or type(exc.os_error).__name__
        if reason in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"):
            return f"tls: {_where(exc)} does not speak TLS (it answered the handshake in plain text: an http:// port?)"
        return f"tls: the TLS handshake with {_where(exc)} failed ({reason})"
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = exc.os_error
        if exc._conn_key.is_ssl and isinstance(os_error, (ConnectionResetError, ssl.SSLEOFError)):
            return f"tls: {_where(exc)} closed the connection during the TLS handshake (an http:// port?)"
        if os_error.errno == errno.ECONNREFUSED:
            return f"connection: refused by {_where(exc)} (nothing listens there)"
        return f"connection: cannot connect to {_where(exc)} ({os_error.strerror or type(os_error).__name__})"
    if isinstance(exc, aiohttp.ClientResponseError):
        # The parser's message quotes the offending bytes: never repeat them (they may echo a secret).
        message = exc.message or ""
        if message.startswith("Got more than"):
            return "protocol: a response header line is too long (more than 8,190 bytes)"
        if message.startswith("Too many headers"):
            return "protocol: too many response headers"
        return f"protocol: malformed HTTP response ({type(exc).__name__}, status line or headers unreadable)"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "protocol: the server closed the connection without an answer"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "protocol: the response body was cut off or malformed"
    if isinstance(exc, aiohttp.ClientOSError):
        return f"protocol: connection broken ({exc.strerror or type(exc).__name__})"
    if isinstance(exc, aiohttp.ClientError):
        return f"protocol: {type(exc).__name__}"
    return f"http: {type(exc).__name__}"


def _remap(exc: BaseException) -> httpx.HTTPError | None:
    """The httpx error an aiohttp failure really is, with :func:`describe`'s message; None when
    it is not one of aiohttp's."""
    cause = exc if isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError)) else exc.__cause__
    if isinstance(cause, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return httpx.ReadTimeout(describe(cause))
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx.ConnectError(describe(cause))
    if isinstance(cause, aiohttp.ClientError):
        return httpx.RemoteProtocolError(describe(cause))
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


# AiohttpTransport makes a TLS context for the connector it would build (httpx's, loading the CA
# bundle: ~30 ms of CPU per client). ProbeTransport builds its own connector (_session: aiohttp's
# default, verified context, made once per process), so that context is never used: it gets this
# one, made once, which would refuse every certificate (it trusts no CA) if it ever were.
_UNUSED_TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class ProbeTransport(AiohttpTransport):
    """``AiohttpTransport`` with a cookie-less, environment-free session, the URL sent exactly as
    built, and precise errors."""

    def __init__(self, limits: httpx.Limits):
        super().__init__(limits=limits, trust_env=False, client=self._session, verify=_UNUSED_TLS)

    def _session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self.limits.max_connections or 100, resolver=_Resolver(),
                                         keepalive_timeout=self.limits.keepalive_expiry)
        session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                        trust_env=False, auto_decompress=False)
        # aiohttp silently resends an idempotent request once when a connection drops. The engine
        # retries on its own terms; a hidden second request would also slip past the rate
        # limiter (the server would count two arrivals for one slot). No public switch exists.
        session._retry_connection = False
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        timeout = request.extensions.get("timeout", {})
        try:
            response = await self.client.request(
                method=request.method,
                url=yarl.URL(str(request.url), encoded=True),  # httpx encoded it; see the module doc
                headers=request.headers,
                data=request.content or None,  # an endpoint's declared body (bytes), or none
                allow_redirects=False, auto_decompress=False, compress=False,
                timeout=aiohttp.ClientTimeout(sock_connect=timeout.get("connect"), sock_read=timeout.get("read"),
                                              connect=timeout.get("pool")),
            ).__aenter__()
        except (TimeoutError, aiohttp.ClientError) as exc:
            mapped = _remap(exc)
            if mapped is None:
                raise
            raise mapped from exc
        extensions = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("latin-1", "replace")
        return httpx.Response(status_code=response.status, headers=response.raw_headers,
                              stream=_Body(AiohttpResponseStream(response)), request=request,
                              extensions=extensions)
