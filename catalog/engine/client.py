"""The probe client: an ``httpx.AsyncClient`` that follows no redirect, keeps no cookie, reads no
proxy from the environment and asks only for the encodings ``catalog.engine.decode`` inflates."""

from __future__ import annotations

from typing import Any

import httpx

from catalog.engine.request import ProbeSettings
from catalog.engine.transport import ProbeTransport, no_cookies


class _NoCookies(httpx.Cookies):
    """The client's cookie store: it keeps nothing, so a ``Set-Cookie`` is not even parsed
    (httpx read every answer's cookies into a jar that refused them: a tenth of the engine's
    CPU per probe in benchmarks/b1)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _Client(httpx.AsyncClient):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cookies = _NoCookies(no_cookies())  # the jar refuses every cookie too, should one be set

    def _build_redirect_request(self, request: httpx.Request, response: httpx.Response) -> httpx.Request:
        # Redirects are never followed, yet httpx still parses the Location into a next request
        # and raises (InvalidURL, outside its own error hierarchy) on ``data:`` or
        # ``javascript:``. The Location is judged in ``observe.redirect_origin`` instead.
        return request


def make_client(settings: ProbeSettings, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """The probe client. The default transport is aiohttp's (3× stock httpx, benchmarks/b1)."""
    limits = httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency)
    return _Client(
        follow_redirects=False,  # never carry a credential to wherever a redirect points
        timeout=httpx.Timeout(settings.timeout),
        limits=limits,
        transport=transport or ProbeTransport(limits),
        cookies=no_cookies(),  # one probe's Set-Cookie must not authenticate the next probe
        trust_env=False,  # no proxies from the environment: probes go where the profile says
        # Only the codings catalog.engine.decode inflates with a bound.
        headers={"User-Agent": "authcat (+https://github.com/authcat/authcat)", "Accept": "application/json",
                 "Accept-Encoding": "gzip, deflate"},
    )
