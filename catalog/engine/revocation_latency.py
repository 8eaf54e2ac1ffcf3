"""Revocation latency: how long a revoked token keeps being served (the engine's part; the
``authcat watch-revocation`` command around it, with its pages, is ``catalog.commands.watch_revocation``).

The user revokes a token by hand (there is no API for that on most vendors); authcat takes a
baseline first (the token's answer and the anonymous answer on one endpoint), then polls the
endpoint with the token, classifies each answer with the plugins' classifier against those two
baselines, and reports when the answer changed and to what (``as-valid → as-anonymous after
9 m 40 s`` or ``as-valid → rejected``). Jira Cloud's revocation goes through identity
replication and session caches (evidence R1, R3, R4), so an answer may flap between nodes before
it settles: the watch stops only once the new answer held for ``confirm`` polls in a row.

The token lives in request headers only: it never reaches a :class:`Measurement`, the log, or an
error message (transport errors are scrubbed).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog import __version__
from catalog.engine.request import ProbeRequest, ProbeSettings
from catalog.model.credentials import Presentation
from catalog.model.definition import Api, Endpoint
from catalog.model.errors import WatchError
from catalog.model.observation import VOLATILE_KEYS, Observation, same_answer
from catalog.model.vocabulary import SAFE_METHODS, Outcome, State
from catalog.runs.store import atomic_write, dumps
from catalog.secrets.scrub import Scrubber, seal_value

if TYPE_CHECKING:
    from catalog.engine.probe import Prober

# Answers that say nothing about the credential: a blip, not a revocation.
NOISE = frozenset({Outcome.ERROR, Outcome.RATE_LIMITED, Outcome.SERVER_ERROR})
MAX_POLLS = 10_000  # a hard bound whatever --interval and --max-wait say


@dataclass
class Poll:
    after_s: float  # seconds since the clock started (right after the baseline)
    status: int | None
    outcome: str


@dataclass
class Measurement:
    """One revocation watch, as stored in ``site/data/revocation/<api>.json``."""

    api: str
    target: str
    endpoint: str  # endpoint id
    method: str
    path: str
    date: str  # when the clock started (UTC)
    interval_s: float
    max_wait_s: float
    baseline: dict[str, Any]  # {"token": {status, outcome}, "anonymous": {status}}
    from_outcome: str
    to_outcome: str | None = None  # None: nothing changed within max_wait
    first_changed_after_s: float | None = None  # upper bound of the latency
    last_unchanged_after_s: float | None = None  # lower bound of the latency
    settled: bool = False  # the new answer held for `confirm` polls in a row
    polls: int = 0
    noise: int = 0  # polls that got a transport error, 429 or 5xx
    transitions: list[dict[str, Any]] = field(default_factory=list)
    target_version: str | None = None
    authcat_version: str = __version__
    revoked_by: str | None = None  # how a launched target revoked the token (POST /logout, …)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        if self.first_changed_after_s is None and self.from_outcome == Outcome.IGNORED:
            return (f"never rejected: {self.method} {self.path} serves everybody the same, so it never checks the "
                    f"token (watched {format_duration(self.max_wait_s)}, {self.polls} polls)")
        if self.first_changed_after_s is None:
            return f"still {self.from_outcome} after {format_duration(self.max_wait_s)} ({self.polls} polls): gave up"
        text = f"{self.from_outcome} → {self.to_outcome} after {format_duration(self.first_changed_after_s)}"
        low = self.last_unchanged_after_s or 0.0
        text += f" (unchanged at {format_duration(low)}; {self.polls} polls)"
        if not self.settled:
            text += "; the new answer did not hold before --max-wait"
        if len(self.transitions) > 1:
            text += f"; it flapped ({len(self.transitions)} transitions)"
        return text


def format_duration(seconds: float) -> str:
    """``9 m 40 s`` for long waits, ``3.2 s`` for short ones (tests and fast vendors)."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} m {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} m {secs} s"


@dataclass
class WatchPlan:
    """Everything the watch needs, resolved: where to send, which headers, how to judge."""

    api: Api
    endpoint: Endpoint
    target: str
    url: str
    token_headers: Mapping[str, str]  # the scheme's headers for the token (with the static ones)
    scrub: Scrubber
    classify: Callable[..., Any]  # Hooks().classify
    interval: float
    max_wait: float
    confirm: int = 2
    timeout: float = 10.0
    target_version: str | None = None
    token_query: Mapping[str, str] = field(default_factory=dict)  # a query-parameter scheme's token
    static_headers: Mapping[str, str] = field(default_factory=dict)  # sent anonymously too


def _request(plan: WatchPlan, headers: Mapping[str, str], key: str) -> ProbeRequest:
    token = key != State.ANONYMOUS
    url = Presentation(query=plan.token_query).url(plan.url) if token else plan.url
    return ProbeRequest(
        key=(key,), method=plan.endpoint.method, url=url, headers={**plan.static_headers, **headers},
        collection=plan.endpoint.collection, actor_fields=plan.endpoint.actor_fields,
        envelope=plan.api.envelope,
        volatile=VOLATILE_KEYS | frozenset(plan.api.volatile_fields),
    )


def _judge(plan: WatchPlan, obs: Observation, valid: Observation, anonymous: Observation) -> str:
    # Judged as the `revoked` state: the token is on its way to being one.
    judged = plan.classify(state=State.REVOKED, observation=obs, valid=valid, anonymous=anonymous,
                           endpoint=plan.endpoint, api=plan.api)
    return judged.outcome


async def watch(plan: WatchPlan, on_baseline: Callable[[Measurement, list[str]], object] | None = None,
                on_poll: Callable[[Poll], None] | None = None) -> Measurement:
    """Take the baselines, call ``on_baseline`` (time to revoke), then poll until settled or timed out."""
    if plan.endpoint.method not in SAFE_METHODS:
        raise WatchError(f"{plan.endpoint.id}: {plan.endpoint.method} is not a safe method; pick a GET endpoint")
    if plan.interval <= 0 or plan.max_wait < plan.interval:
        raise WatchError("--interval must be > 0 and --max-wait at least one interval")
    if plan.max_wait / plan.interval > MAX_POLLS:
        raise WatchError(f"--max-wait / --interval allows more than {MAX_POLLS} polls; poll less often")
    # No retries: a retry would blur the moment an answer changed. Errors count as noise instead.
    settings = ProbeSettings(concurrency=1, timeout=min(plan.timeout, max(plan.interval * 4, 1.0)), retries=0)
    from catalog.engine.probe import Prober  # the HTTP stack only when a watch runs (see runner._probe_plan)

    async with Prober(settings, plan.scrub) as prober:
        valid = await prober.probe(_request(plan, plan.token_headers, "token"))
        anonymous = await prober.probe(_request(plan, {}, State.ANONYMOUS))
        if not valid.ok:
            why = valid.error or f"HTTP {valid.status}"
            raise WatchError(f"the token's baseline answer is {why}: it must work before it is revoked")
        start_outcome = _judge(plan, valid, valid, anonymous)
        warnings = []
        if anonymous.ok and same_answer(anonymous, valid):
            warnings.append(f"{plan.endpoint.id} gives anonymous callers the same answer as the token: "
                            "a fallback to anonymous cannot show here, only a rejection; an endpoint whose "
                            "anonymous answer differs (e.g. /myself) measures both")
        m = Measurement(
            api=plan.api.name, target=plan.target, endpoint=plan.endpoint.id, method=plan.endpoint.method,
            path=plan.endpoint.path, date=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            interval_s=plan.interval, max_wait_s=plan.max_wait, from_outcome=start_outcome,
            baseline={"token": {"status": valid.status, "outcome": start_outcome},
                      "anonymous": {"status": anonymous.status, "error": anonymous.error}},
            target_version=plan.target_version,
        )
        if on_baseline is not None:
            on_baseline(m, warnings)
        await _poll(plan, prober, m, valid, anonymous, on_poll)
    return m


async def _poll(plan: WatchPlan, prober: Prober, m: Measurement, valid: Observation,
                anonymous: Observation, on_poll: Callable[[Poll], None] | None) -> None:
    from asyncio import sleep  # here: this module loads with the watch-revocation plugin, at every start

    t0 = time.monotonic()
    current = m.from_outcome
    held = 0  # polls in a row that gave the current (changed) answer
    last_same = 0.0
    k = 0
    while m.polls < MAX_POLLS:
        # Polls sit on a fixed grid (t0 + k·interval) so a slow answer does not drift the clock.
        k = max(k + 1, math.ceil((time.monotonic() - t0) / plan.interval))
        due = t0 + k * plan.interval
        if due - t0 > plan.max_wait + 1e-9:
            break
        await sleep(max(0.0, due - time.monotonic()))
        sent = round(time.monotonic() - t0, 3)
        obs = await prober.probe(_request(plan, plan.token_headers, "poll"))
        outcome = _judge(plan, obs, valid, anonymous)
        m.polls += 1
        poll = Poll(sent, obs.status, outcome)
        if on_poll is not None:
            on_poll(poll)
        if outcome in NOISE:
            m.noise += 1
            continue
        if outcome != current:
            m.transitions.append({"after_s": sent, "from": current, "to": outcome, "status": obs.status})
            if m.first_changed_after_s is None:
                m.first_changed_after_s = sent
                m.last_unchanged_after_s = last_same
            current = outcome
            held = 1 if outcome != m.from_outcome else 0
        elif current != m.from_outcome:
            held += 1
        if current == m.from_outcome:
            last_same = sent
        m.to_outcome = current if m.first_changed_after_s is not None else None
        if held >= plan.confirm:
            m.settled = True
            return


def record(data_dir: Path, measurement: Measurement, scrub: Scrubber | None = None) -> Path:
    """Append a measurement to ``<data_dir>/revocation/<api>.json`` (atomic; history kept).

    With ``scrub`` (the watch's), the measurement passes the same choke point as a run's
    observations (``catalog.secrets.scrub.seal_value``): the server's version and answers are in it."""
    path = data_dir / "revocation" / f"{measurement.api}.json"
    doc: dict[str, Any] = {"api": measurement.api, "measurements": []}
    if path.exists():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise WatchError(f"{path}: not valid JSON ({exc}); fix or remove it, nothing was written") from None
    entry = measurement.to_dict()
    doc.setdefault("measurements", []).append(seal_value(entry, scrub) if scrub is not None else entry)
    atomic_write(path, dumps(doc))
    return path


def load(data_dir: Path, api: str) -> list[dict[str, Any]]:
    """The stored measurements of one API, newest first (empty when none or unreadable)."""
    path = data_dir / "revocation" / f"{api}.json"
    if not path.exists():
        return []
    try:
        items = json.loads(path.read_text(encoding="utf-8")).get("measurements", [])
    except (ValueError, AttributeError):
        return []
    return sorted(items, key=lambda m: m.get("date", ""), reverse=True)
