"""What a probe is asked to do (:class:`ProbeRequest`) and how politely (:class:`ProbeSettings`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from catalog.engine.retry import MAX_RETRY_AFTER
from catalog.model.definition import Envelope
from catalog.model.observation import VOLATILE_KEYS

DEFAULT_MAX_BODY = 2 * 1024 * 1024


@dataclass
class ProbeSettings:
    concurrency: int = 8
    rate_limit: float | None = None  # requests per second per host
    timeout: float = 10.0  # total seconds per attempt, connect to last byte
    retries: int = 2
    max_body: int = DEFAULT_MAX_BODY
    max_retry_after: float = MAX_RETRY_AFTER
    keep_bodies: bool = False

    @property
    def budget(self) -> float:
        """Seconds one cell may take, every attempt and every wait between them included: as many
        timeouts as attempts (a 429 asking for 29 s under a 5 s timeout and 2 retries ends at once)."""
        return self.timeout * (self.retries + 1)


@dataclass
class ProbeRequest:
    """One probe: an endpoint × state on a target. ``key`` identifies it to the caller."""

    key: tuple
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes | None = None  # the request body, if the endpoint has one
    collection: str | None = None
    actor_fields: tuple[str, ...] = ()
    signal_fields: tuple[str, ...] = ()
    envelope: Envelope = field(default_factory=Envelope)  # the API's declared error envelope
    volatile: frozenset[str] = VOLATILE_KEYS
    # Requests with the same group (one endpoint) are sent one at a time once any of them got a
    # 429: a limiter that counts concurrent requests then sees the prober's pace, not a burst.
    group: str = ""
    record: dict | None = None  # the request as sent, placeholders for credentials (catalog.secrets.record)
