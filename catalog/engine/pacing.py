"""Pacing: how many probes may be in flight, and how fast one host may be asked.

:class:`Pacing` owns a target's two politeness limits: a semaphore bounding concurrency and one
sliding-window :class:`RateLimiter` per host. Probes take both (:meth:`Pacing.probe_turn`); the
engine's own reads of a target (its version, discovery documents) count against the host's rate
only (:meth:`Pacing.host_turn`).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from urllib.parse import urlsplit


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


class Pacing:
    """A target's concurrency bound and per-host rate limits (``rate`` requests per second per
    host; None for no rate limit)."""

    def __init__(self, concurrency: int, rate: float | None):
        self.rate = rate
        self._sem = asyncio.Semaphore(concurrency)
        self._limiters: dict[str, RateLimiter] = {}

    def limiter(self, url: str) -> RateLimiter | None:
        if not self.rate:
            return None
        host = urlsplit(url).netloc
        if host not in self._limiters:
            self._limiters[host] = RateLimiter(self.rate)
        return self._limiters[host]

    @asynccontextmanager
    async def host_turn(self, url: str) -> AsyncIterator[None]:
        """One request to ``url``'s host, counted against its rate."""
        limiter = self.limiter(url)
        slot = await limiter.acquire() if limiter is not None else None
        try:
            yield
        finally:
            if limiter is not None and slot is not None:
                limiter.release(slot)

    def probe_turn(self, url: str) -> AbstractAsyncContextManager[Any]:
        """One probe attempt: a place among the concurrent ones, then a turn at the host's rate
        (without a rate, the place alone: the semaphore itself, one context manager less per
        attempt, which B1 measures)."""
        return self._limited_turn(url) if self.rate else self._sem

    @asynccontextmanager
    async def _limited_turn(self, url: str) -> AsyncIterator[None]:
        async with self._sem, self.host_turn(url):
            yield
