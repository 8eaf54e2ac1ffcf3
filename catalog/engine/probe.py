"""The probe engine: send many requests politely and summarise each answer.

One :class:`Prober` per target puts the engine's parts together, each in its own module:

* ``catalog.engine.client``: an ``httpx.AsyncClient`` (over aiohttp's connections, see
  ``catalog.engine.transport``) that never follows redirects and keeps no cookies;
* ``catalog.engine.pacing``: a semaphore bounding concurrency and a sliding-window rate limiter
  per host (never more than R requests in any one-second window);
* ``catalog.engine.retry``: retries that honour ``Retry-After`` up to a bound;
* ``catalog.engine.body``: a cap on body bytes read — decoded bytes included: a compressed
  answer is inflated in bounded pieces (``catalog.engine.decode``) and stops at the cap;
* ``catalog.engine.observe``: the answer summarised, scrubbed and matched against the envelope.

The Prober itself adds a total deadline per attempt (a server dripping one byte a second cannot
hold a probe forever) and turns every failure into one line. One hostile answer costs one cell:
whatever a server sends (a bomb, JSON nested 600 deep, a redirect to ``data:``) ends as that
probe's ``error`` with a one-line message, never as an exception out of :meth:`Prober.run`.

Four words, one meaning each: a *probe* is one request (endpoint × state × target,
``catalog.engine.probe``); a *plan* is what one (API, target) pair will be probed with
(``catalog.engine.plan``); the *runner* carries out every plan of a run and hands back the
classified runs (``catalog.engine.runner``); the *pipeline* is the whole job around it — find the
project, probe, record, build (``catalog.pipeline``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from catalog.engine.body import mib, read_capped
from catalog.engine.client import make_client
from catalog.engine.observe import Observer
from catalog.engine.pacing import Pacing
from catalog.engine.request import ProbeRequest, ProbeSettings
from catalog.engine.retry import RetryPolicy, retry_after_seconds
from catalog.model.observation import Observation, UnreadableAnswer, parse_json
from catalog.secrets.scrub import Scrubber

__all__ = ["ProbeRequest", "ProbeSettings", "Prober", "make_client"]


class Prober:
    def __init__(self, settings: ProbeSettings, scrub: Scrubber | None = None,
                 client: httpx.AsyncClient | None = None):
        self.settings = settings
        self.scrub = scrub or Scrubber()
        self._client = client
        self._own_client = client is None
        self.pacing = Pacing(settings.concurrency, settings.rate_limit)
        self.retry = RetryPolicy(settings.retries, settings.max_retry_after)
        self.observer = Observer(self.scrub, settings.keep_bodies)
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep  # between attempts; unit tests record the waits
        self._serial: dict[str, asyncio.Lock] = {}  # request group -> lock, made at the group's first 429

    async def __aenter__(self) -> Prober:
        if self._client is None:
            self._client = make_client(self.settings)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._own_client and self._client is not None:
            await self._client.aclose()

    @property
    def client(self) -> httpx.AsyncClient:
        assert self._client is not None, "use the Prober as an async context manager"
        return self._client

    async def run(self, requests: list[ProbeRequest],
                  on_done: Callable[[ProbeRequest, Observation], Awaitable[None] | None] | None = None,
                  one_per_group: bool = False) -> dict[tuple, Observation]:
        """Probe ``requests`` side by side (within the pacing). ``one_per_group``: the requests of
        one group (an endpoint) are sent one after another, in the order given, from the start."""
        results: dict[tuple, Observation] = {}
        if one_per_group:
            for req in requests:
                if req.group:
                    self._serial.setdefault(req.group, asyncio.Lock())  # FIFO: the waiters keep the list's order

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
        """One cell: attempts and the waits between them, all within the cell's budget
        (:attr:`ProbeSettings.budget`). A wait the server asks for (``Retry-After``) that is longer
        than what is left ends the cell with that answer — a 429 is then ``rate-limited``, its
        ``Retry-After`` kept on the cell — and an attempt never runs past the budget.

        A 429 is the prober's own pace as often as the server's rule: once one request of a group
        (an endpoint) got one, every later attempt of that group is sent one at a time."""
        attempts = 0
        used = 0.0  # seconds of the budget spent: attempts (measured) and waits (as asked)
        budget = self.settings.budget
        while True:
            attempts += 1
            serial = self._serial.get(req.group) if req.group else None
            async with serial if serial is not None else contextlib.nullcontext(), self.pacing.probe_turn(req.url):
                started = time.perf_counter()
                obs, retry_after = await self._attempt(req, min(self.settings.timeout, budget - used))
                used += time.perf_counter() - started
            obs.attempts = attempts
            obs.request = req.record
            if obs.status == 429 and req.group:
                self._serial.setdefault(req.group, asyncio.Lock())
            wait = self.retry.wait_before_retry(obs, attempts, retry_after)
            if wait is None or wait >= budget - used:
                return obs
            await self.sleep(wait)
            used += wait

    async def _attempt(self, req: ProbeRequest, timeout: float) -> tuple[Observation, float | None]:
        started = time.perf_counter()
        status: int | None = None
        try:
            async with asyncio.timeout(timeout):
                async with self.client.stream(req.method, req.url, headers=dict(req.headers),
                                              content=req.content) as resp:
                    status = resp.status_code
                    body, truncated = await read_capped(resp, self.settings.max_body)
                    headers = list(resp.headers.multi_items())
            origin = urlsplit(req.url)
            obs = self.observer.observe(
                req, status=status, headers=headers, body=body, truncated=truncated,
                latency_ms=int((time.perf_counter() - started) * 1000),
                request_origin=f"{origin.scheme}://{origin.netloc}",
            )
        except (TimeoutError, httpx.TimeoutException):
            return self._error(f"timeout: no complete answer within {timeout:.3g} s", started), None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            return self._error(str(exc) or f"protocol: connection broken ({type(exc).__name__})", started), None
        except UnreadableAnswer as exc:
            kind = "redirect" if status is not None and 300 <= status < 400 and "Location" in str(exc) else "answer"
            return self._error(f"{kind}: {status} with {exc}; not recorded", started), None
        except httpx.HTTPError as exc:
            # Scrubbed before the cut: a cut first could keep most of an echoed secret.
            return self._error(f"http: {type(exc).__name__}: {self.scrub(str(exc))[:200]}", started), None
        retry_after_header = None
        for name, value in headers:  # the last one counts, as a dict of them would keep it
            if name.lower() == "retry-after":
                retry_after_header = value
        retry_after = retry_after_seconds(retry_after_header)
        return obs, retry_after

    async def fetch(self, url: str, headers: Mapping[str, str], method: str = "GET",
                    content: bytes | None = None) -> tuple[int, dict[str, str], bytes] | None:
        """GET ``url`` once (status, lower-cased headers, capped body); None when it fails.

        Another ``method`` and a body are a launched target's setup request (catalog.engine.runner).

        For the target's own statements (its version): counted against the host's rate, never
        retried, body capped like a probe's. Callers scrub what they keep.
        """
        try:
            async with (self.pacing.host_turn(url), asyncio.timeout(self.settings.timeout),
                        self.client.stream(method, url, headers=dict(headers), content=content) as resp):
                body, _ = await read_capped(resp, self.settings.max_body)
            return resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, body
        except (TimeoutError, httpx.HTTPError, UnreadableAnswer):  # a bomb states no version either
            return None

    async def fetch_json(self, url: str, headers: Mapping[str, str]) -> object:
        """GET a JSON document (for parameter discovery); None when it is not JSON or fails."""
        return (await self.fetch_json_why(url, headers))[0]

    async def fetch_json_why(self, url: str, headers: Mapping[str, str]) -> tuple[object, str | None]:
        """GET a JSON document: ``(document, None)``, or ``(None, why not)`` in one line.
        Discovery requests count against the host's rate too."""
        try:
            async with (self.pacing.host_turn(url), asyncio.timeout(self.settings.timeout),
                        self.client.stream("GET", url, headers=dict(headers)) as resp):
                body, truncated = await read_capped(resp, self.settings.max_body)
            if resp.status_code >= 300:
                return None, f"the answer was {resp.status_code}, not 2xx"
            if truncated:
                return None, f"the answer is larger than the {mib(self.settings.max_body)} body cap"
            return parse_json(body), None
        except (TimeoutError, httpx.TimeoutException):
            return None, f"timeout: no complete answer within {self.settings.timeout:g} s"
        except UnreadableAnswer as exc:
            return None, f"the answer has {exc}"
        except ValueError:
            return None, "the answer is not JSON"
        except httpx.HTTPError as exc:
            return None, self.scrub(str(exc) or type(exc).__name__)

    def _error(self, message: str, started: float) -> Observation:
        return Observation(status=None, error=self.scrub(message), latency_ms=int((time.perf_counter() - started) * 1000))
