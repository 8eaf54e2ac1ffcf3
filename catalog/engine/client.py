"""The probe client: an ``httpx.AsyncClient`` that follows no redirect, keeps no cookie, reads no
proxy from the environment and asks only for the encodings ``catalog.engine.decode`` inflates."""

from __future__ import annotations

import httpx

from catalog.engine.request import ProbeSettings
from catalog.engine.transport import ProbeTransport, no_cookies


class _Client(httpx.AsyncClient):
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
