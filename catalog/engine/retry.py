"""Retries: which answers are worth asking again, and how long to wait first.

A 429 or a 5xx that says "later" (502, 503, 504) is retried after its ``Retry-After`` (or an
exponential back-off when it gives none), unless the wait is longer than the user would accept:
then the answer is recorded as it is. A connection that broke (``connection:``/``protocol:``
errors, see ``catalog.engine.transport.describe``) is retried after a short, growing pause.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from catalog.model.observation import Observation

MAX_RETRY_AFTER = 30.0  # seconds; a longer Retry-After is recorded, not waited for
RETRY_STATUSES = frozenset({429, 502, 503, 504})


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` value (delay-seconds or an HTTP date) in seconds from now; None when
    absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 2  # attempts after the first
    max_retry_after: float = MAX_RETRY_AFTER

    def wait_before_retry(self, obs: Observation, attempts: int, retry_after: float | None) -> float | None:
        """Seconds to wait before attempt ``attempts + 1``, or None: keep ``obs`` as the answer."""
        if attempts > self.retries:
            return None
        if obs.status in RETRY_STATUSES:
            wait = retry_after if retry_after is not None else 0.5 * 2 ** (attempts - 1)
            # Longer than that is recorded as it is; waiting that long is not polite to our user.
            return wait if wait <= self.max_retry_after else None
        if obs.status is None and obs.error and obs.error.startswith(("connection:", "protocol:")):
            return 0.2 * attempts
        return None
