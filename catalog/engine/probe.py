"""The probe engine: send many requests politely and summarise each answer.

One :class:`Prober` per target: an ``httpx.AsyncClient`` (over aiohttp's connections, see
``catalog.engine.transport``) that never follows redirects and keeps no cookies, a
semaphore bounding concurrency, a sliding-window rate limiter per host (never more than R
requests in any one-second window), retries that honour ``Retry-After`` up to a bound, a total
deadline per request (a server dripping one byte a second cannot hold a probe forever) and a cap
on body bytes read — decoded bytes included: a compressed answer is inflated in bounded pieces
(``catalog.engine.decode``) and stops at the cap.

One hostile answer costs one cell: whatever a server sends (a bomb, JSON nested 600 deep, a
redirect to ``data:``) ends as that probe's ``error`` with a one-line message, never as an
exception out of :meth:`Prober.run`.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from catalog.definitions.apifile import match_envelope
from catalog.engine.decode import BoundedDecoder, DecodeError, Overflow
from catalog.engine.transport import ProbeTransport, no_cookies
from catalog.model.observation import VOLATILE_KEYS, Observation, UnreadableAnswer, parse_json, summarise
from catalog.model.vocabulary import Envelope
from catalog.secrets.scrub import Scrubber, bound

DEFAULT_MAX_BODY = 2 * 1024 * 1024
MAX_RETRY_AFTER = 30.0  # seconds; a longer Retry-After is recorded, not waited for
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Request headers whose values are credentials: never kept in what an answer echoes back.
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token"})


@dataclass
class ProbeSettings:
    concurrency: int = 8
    rate_limit: float | None = None  # requests per second per host
    timeout: float = 10.0  # total seconds per attempt, connect to last byte
    retries: int = 2
    max_body: int = DEFAULT_MAX_BODY
    max_retry_after: float = MAX_RETRY_AFTER
    keep_bodies: bool = False


@dataclass
class ProbeRequest:
    """One probe: an endpoint × state on a target. ``key`` identifies it to the caller."""

    key: tuple
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    collection: str | None = None
    actor_fields: tuple[str, ...] = ()
    signal_fields: tuple[str, ...] = ()
    envelope: Envelope = field(default_factory=Envelope)  # the API's declared error envelope
    volatile: frozenset[str] = VOLATILE_KEYS


class RateLimiter:
    """At most ``rate`` requests in any window of one second, as the *server* counts them.

    A slot is taken when a request is sent and its window starts only when the attempt ends
    (``release``): the request certainly arrived by then, so however the network delays one
    request and not the next, the server never sees more than ``rate`` in a second. Timing the
    window from the send instead let a few requests of two consecutive batches land within one
    second (measured: 12 arrivals in a window at rate 10).
    """

    def __init__(self, rate: float):
        self.capacity = max(1, int(rate))
        self.window = self.capacity / rate  # for a fractional rate: capacity per stretched window
        self._slots: list[list[float]] = []  # [end time], inf while the request is in flight
        self._lock = asyncio.Lock()
        self._released = asyncio.Event()

    async def acquire(self) -> list[float]:
        async with self._lock:
            while True:
                now = time.monotonic()
                self._slots = [s for s in self._slots if s[0] + self.window > now]
                if len(self._slots) < self.capacity:
                    break
                soonest = min(s[0] for s in self._slots)
                if soonest == math.inf:  # every slot in flight: wait for one to end
                    self._released.clear()
                    await self._released.wait()
                else:
                    await asyncio.sleep(soonest + self.window - now)
            slot = [math.inf]
            self._slots.append(slot)
            return slot

    def release(self, slot: list[float]) -> None:
        slot[0] = time.monotonic()
        self._released.set()


def busiest_window(times: list[float], window: float = 1.0) -> int:
    """The most events in any half-open window [t, t + window) starting at an event: how a
    server-side log of arrival times checks the :class:`RateLimiter`'s promise."""
    times = sorted(times)
    best, j = 0, 0
    for i, start in enumerate(times):
        while j < len(times) and times[j] < start + window:
            j += 1
        best = max(best, j - i)
    return best


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class _Client(httpx.AsyncClient):
    def _build_redirect_request(self, request: httpx.Request, response: httpx.Response) -> httpx.Request:
        # Redirects are never followed, yet httpx still parses the Location into a next request
        # and raises (InvalidURL, outside its own error hierarchy) on ``data:`` or
        # ``javascript:``. The Location is judged in ``observe.redirect_origin`` instead.
        return request


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:g} MiB" if n >= 1024 * 1024 else f"{n:,} bytes"


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


class Prober:
    def __init__(self, settings: ProbeSettings, scrub: Scrubber | None = None,
                 client: httpx.AsyncClient | None = None):
        self.settings = settings
        self.scrub = scrub or Scrubber()
        self._client = client
        self._own_client = client is None
        self._sem = asyncio.Semaphore(settings.concurrency)
        self._limiters: dict[str, RateLimiter] = {}
        self._scrubbers: dict[tuple[str, ...], Scrubber] = {}

    async def __aenter__(self) -> Prober:
        if self._client is None:
            self._client = make_client(self.settings)
        return self

    async def __aexit__(self, *exc) -> None:
        if self._own_client and self._client is not None:
            await self._client.aclose()

    def _limiter(self, url: str) -> RateLimiter | None:
        if not self.settings.rate_limit:
            return None
        host = urlsplit(url).netloc
        if host not in self._limiters:
            self._limiters[host] = RateLimiter(self.settings.rate_limit)
        return self._limiters[host]

    async def run(self, requests: list[ProbeRequest],
                  on_done: Callable[[ProbeRequest, Observation], Awaitable[None] | None] | None = None
                  ) -> dict[tuple, Observation]:
        results: dict[tuple, Observation] = {}

        async def one(req: ProbeRequest) -> None:
            obs = await self.probe(req)
            results[req.key] = obs
            if on_done is not None:
                maybe = on_done(req, obs)
                if asyncio.iscoroutine(maybe):
                    await maybe

        await asyncio.gather(*(one(r) for r in requests))
        return results

    async def probe(self, req: ProbeRequest) -> Observation:
        attempts = 0
        while True:
            attempts += 1
            async with self._sem:
                limiter = self._limiter(req.url)
                slot = await limiter.acquire() if limiter is not None else None
                try:
                    obs, retry_after = await self._attempt(req)
                finally:
                    if limiter is not None and slot is not None:
                        limiter.release(slot)
            obs.attempts = attempts
            if attempts > self.settings.retries:
                return obs
            if obs.status in RETRY_STATUSES:
                wait = retry_after if retry_after is not None else 0.5 * 2 ** (attempts - 1)
                if wait > self.settings.max_retry_after:
                    return obs  # recorded as it is; waiting that long is not polite to our user
                await asyncio.sleep(wait)
                continue
            if obs.status is None and obs.error and obs.error.startswith(("connection:", "protocol:")):
                await asyncio.sleep(0.2 * attempts)
                continue
            return obs

    async def _attempt(self, req: ProbeRequest) -> tuple[Observation, float | None]:
        assert self._client is not None
        started = time.perf_counter()
        status: int | None = None
        try:
            async with asyncio.timeout(self.settings.timeout):
                async with self._client.stream(req.method, req.url, headers=dict(req.headers)) as resp:
                    status = resp.status_code
                    body, truncated = await self._read_capped(resp)
                    headers = list(resp.headers.multi_items())
            origin = urlsplit(req.url)
            obs = summarise(
                status=status, headers=headers, body=body, truncated=truncated,
                collection=req.collection, actor_fields=req.actor_fields, signal_fields=req.signal_fields,
                volatile=req.volatile, latency_ms=int((time.perf_counter() - started) * 1000),
                request_origin=f"{origin.scheme}://{origin.netloc}",
            )
        except (TimeoutError, httpx.TimeoutException):
            return self._error(f"timeout: no complete answer within {self.settings.timeout:g} s", started), None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            return self._error(str(exc) or f"protocol: connection broken ({type(exc).__name__})", started), None
        except UnreadableAnswer as exc:
            kind = "redirect" if status is not None and 300 <= status < 400 and "Location" in str(exc) else "answer"
            return self._error(f"{kind}: {status} with {exc}; not recorded", started), None
        except httpx.HTTPError as exc:
            # Scrubbed before the cut: a cut first could keep most of an echoed secret.
            return self._error(f"http: {type(exc).__name__}: {self.scrub(str(exc))[:200]}", started), None
        # The request's own credential is scrubbed even when the caller's Scrubber does not know
        # it. Everything else an answer gave is scrubbed again where the run leaves the runner
        # (catalog.secrets.scrub.seal); here it is done early so a plugin never classifies an echo.
        scrub = self._scrubber_for(req)
        obs.headers = {k: bound(v) or "" for k, v in scrub.deep(obs.headers).items()}  # scrubbed, then cut
        obs.content_type = bound(scrub(obs.content_type)) or None
        obs.shape = scrub(obs.shape) or None
        if req.envelope and obs.ok and not truncated:
            # The matched rule's name is kept on the cell: the site says which rule matched.
            kind, rule = _match_envelope(body, req.envelope) or ("", "")
            obs.fields["auth-failure"] = rule if kind == "auth" else "no"
            if kind == "error":
                obs.fields["error-envelope"] = rule
        if self.settings.keep_bodies:
            obs.body = scrub.body(body.decode("utf-8", errors="replace"))
        retry_after = retry_after_seconds({k.lower(): v for k, v in headers}.get("retry-after"))
        return obs, retry_after

    def _scrubber_for(self, req: ProbeRequest) -> Scrubber:
        """The run's scrubber plus this request's own credentials, built once per presentation
        (a target has a dozen; building one per probe was a measurable share of B1's CPU)."""
        sent = tuple(v for k, v in req.headers.items() if k.lower() in SENSITIVE_HEADERS)
        scrub = self._scrubbers.get(sent)
        if scrub is None:
            if len(self._scrubbers) >= 256:  # bounded, whatever a caller sends
                self._scrubbers.clear()
            scrub = self._scrubbers[sent] = self.scrub.plus(sent)
        return scrub

    async def fetch(self, url: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes] | None:
        """GET ``url`` once (status, lower-cased headers, capped body); None when it fails.

        For the target's own statements (its version): counted against the host's rate, never
        retried, body capped like a probe's. Callers scrub what they keep.
        """
        assert self._client is not None
        limiter = self._limiter(url)
        slot = await limiter.acquire() if limiter is not None else None
        try:
            async with asyncio.timeout(self.settings.timeout):
                async with self._client.stream("GET", url, headers=dict(headers)) as resp:
                    body, _ = await self._read_capped(resp)
            return resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, body
        except (TimeoutError, httpx.HTTPError, UnreadableAnswer):  # a bomb states no version either
            return None
        finally:
            if limiter is not None and slot is not None:
                limiter.release(slot)

    async def fetch_json(self, url: str, headers: Mapping[str, str]) -> object:
        """GET a JSON document (for parameter discovery); None when it is not JSON or fails."""
        return (await self.fetch_json_why(url, headers))[0]

    async def fetch_json_why(self, url: str, headers: Mapping[str, str]) -> tuple[object, str | None]:
        """GET a JSON document: ``(document, None)``, or ``(None, why not)`` in one line."""
        assert self._client is not None
        limiter = self._limiter(url)  # discovery requests count against the host's rate too
        slot = await limiter.acquire() if limiter is not None else None
        try:
            async with asyncio.timeout(self.settings.timeout):
                async with self._client.stream("GET", url, headers=dict(headers)) as resp:
                    body, truncated = await self._read_capped(resp)
            if resp.status_code >= 300:
                return None, f"the answer was {resp.status_code}, not 2xx"
            if truncated:
                return None, f"the answer is larger than the {_mib(self.settings.max_body)} body cap"
            return parse_json(body), None
        except (TimeoutError, httpx.TimeoutException):
            return None, f"timeout: no complete answer within {self.settings.timeout:g} s"
        except UnreadableAnswer as exc:
            return None, f"the answer has {exc}"
        except ValueError:
            return None, "the answer is not JSON"
        except httpx.HTTPError as exc:
            return None, self.scrub(str(exc) or type(exc).__name__)
        finally:
            if limiter is not None and slot is not None:
                limiter.release(slot)

    async def _read_capped(self, resp: httpx.Response) -> tuple[bytes, bool]:
        """The body, decoded, at most ``max_body`` bytes, and whether it was cut.

        A plain body over the cap is cut and flagged (the status still tells something). A
        *compressed* body that inflates past the cap is a decompression bomb: UnreadableAnswer.
        Nothing past the cap is ever decompressed or held.
        """
        cap = self.settings.max_body
        try:
            decoder = BoundedDecoder(resp.headers.get("content-encoding"), cap)
        except DecodeError as exc:
            raise UnreadableAnswer(str(exc)) from None
        chunks: list[bytes] = []
        received = 0
        try:
            async for raw in resp.aiter_raw():
                received += len(raw)
                chunks += decoder.feed(raw)
        except Overflow:
            if decoder.encoded:
                raise UnreadableAnswer(
                    f"a body that inflates past the {_mib(cap)} cap (Content-Encoding "
                    f"{', '.join(decoder.applied)}, {received:,} bytes received): a decompression bomb"
                ) from None
            return b"".join(chunks)[:cap], True
        except DecodeError as exc:
            raise UnreadableAnswer(str(exc)) from None
        return b"".join(chunks), False

    def _error(self, message: str, started: float) -> Observation:
        return Observation(status=None, error=self.scrub(message), latency_ms=int((time.perf_counter() - started) * 1000))


def _match_envelope(body: bytes, envelope: Envelope) -> tuple[str, str] | None:
    try:
        doc = parse_json(body)
    except ValueError:
        return None
    return match_envelope(doc, envelope)
