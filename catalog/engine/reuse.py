"""Reuse what a stored run already knows: cells whose keys still match, judgements made again from
stored observations, and whole runs of launched targets that need not be started (``catalog.engine.cache``
defines the keys)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from catalog import __version__
from catalog.definitions.loader import ApiDefinition
from catalog.engine.cache import api_request_part, api_whole, definition_key, judged_key, profile_key
from catalog.engine.plan import Plan, RunOptions, classify_endpoint, state_order, why_not_probed
from catalog.hooks.manager import Hooks
from catalog.model.credentials import Credentials, Presentation
from catalog.model.definition import Discovery, Endpoint, RunningTarget, TargetProfile
from catalog.model.judgement import verdict
from catalog.model.vocabulary import Outcome, State, Verdict
from catalog.runs.results import EndpointResult, TargetRun


@dataclass
class Keys:
    """What a plan's cache keys are computed from, worked out once per plan (see catalog.engine.cache)."""

    api_part: dict[str, Any]
    profile: str
    api_whole: dict[str, Any]
    classifier: dict[str, Any]

    @classmethod
    def of(cls, plan: Plan, classifier: dict[str, Any]) -> Keys:
        api = plan.definition.api
        return cls(api_request_part(api), profile_key(plan.target.profile), api_whole(api), classifier)

    def definition(self, endpoint: Endpoint, url: str | None) -> str:
        return definition_key(endpoint, url, self.api_part)

    def judged(self, endpoint: Endpoint) -> str:
        return judged_key(endpoint, self.api_whole, self.classifier)


def cached_result(endpoint_id: str, key: str, plan: Plan, sources: list[TargetRun | None], profile: str
            ) -> EndpointResult | None:
    """A finished result for this endpoint whose definition, target profile and version, and states
    still match."""
    state_names = sorted(plan.states)
    for source in sources:
        cached = source.endpoints.get(endpoint_id) if source else None
        if cached and source and cached.definition_key == key and source.version == plan.target.version \
                and source.meta.get("profile") == profile and sorted(
            s for s, c in cached.cells.items() if c.outcome != Outcome.NOT_AVAILABLE
        ) == state_names and set(cached.cells) == set(plan.states) | set(plan.unavailable):
            return cached
    return None


def rejudge(hooks: Hooks, plan: Plan, endpoint: Endpoint, cached: EndpointResult, judged: str) -> EndpointResult | None:
    """The cached result judged again from its stored observations (no request), or None when an
    observation is missing and the endpoint must be probed."""
    observations = {s: c.observation for s, c in cached.cells.items() if s in plan.states}
    if not cached.cells or any(o is None for o in observations.values()) or len(observations) != len(plan.states):
        return None
    cells = classify_endpoint(hooks, plan, endpoint, observations)  # type: ignore[arg-type]
    judgement, reason = verdict({s: c.outcome for s, c in cells.items()}, observations.get(State.VALID),
                                {s: hooks.family(s) for s in cells})
    return EndpointResult(endpoint.id, endpoint.method, endpoint.path, judgement, reason, cached.definition_key, cells,
                          judged=judged)


@dataclass
class Sorted:
    """A plan's endpoints sorted into what is already known (reused, re-judged, skipped) and what
    needs probing (``todo``: endpoint id -> (endpoint, definition key, judged key))."""

    results: dict[str, EndpointResult] = field(default_factory=dict)
    todo: dict[str, tuple[Endpoint, str, str]] = field(default_factory=dict)
    reused: int = 0
    rejudged: int = 0


def sort_endpoints(plan: Plan, hooks: Hooks, keys: Keys, options: RunOptions,
                   sources: list[TargetRun | None], started: bool = True) -> Sorted:
    out = Sorted()
    for endpoint in plan.definition.endpoints:
        url = plan.url(endpoint)
        key, judged = keys.definition(endpoint, url and plan.cache_url(endpoint)), keys.judged(endpoint)
        if not started:  # whether the server serves it was learnt from the server: keep that answer
            known = next((s.endpoints[endpoint.id] for s in sources if s and endpoint.id in s.endpoints), None)
            if known and known.verdict == Verdict.NOT_SERVED and not known.cells and known.definition_key == key:
                out.results[endpoint.id] = EndpointResult(endpoint.id, endpoint.method, endpoint.path, known.verdict,
                                                          known.reason, key, judged=judged)
                continue
        skipped = why_not_probed(endpoint, plan, url, options)
        if skipped:
            out.results[endpoint.id] = EndpointResult(endpoint.id, endpoint.method, endpoint.path, skipped[0],
                                                      skipped[1], key, judged=judged)
            continue
        cached = None if options.refresh else cached_result(endpoint.id, key, plan, sources, keys.profile)
        if cached is not None and cached.judged != judged:
            cached = rejudge(hooks, plan, endpoint, cached, judged)
            out.rejudged += cached is not None
        if cached is not None:
            out.results[endpoint.id] = cached
            out.reused += 1
            continue
        out.todo[endpoint.id] = (endpoint, key, judged)
    return out


def reuse_without_start(definition: ApiDefinition, profile: TargetProfile, version: str, hooks: Hooks,
                        options: RunOptions, previous: TargetRun | None, classifier: dict[str, Any]
                        ) -> TargetRun | None:
    """The run of a launched target built from its stored run alone, when every cell is current for
    the version the launcher states (re-judged where only the judgement changed); None when
    anything needs a probe, so the target must be started.

    What only a started server knows comes from the stored run: which states it could provide,
    the discovered parameter values, and which endpoints it does not serve.
    """
    if previous is None or previous.version != version or options.refresh:
        return None
    wanted = set(definition.api.states or hooks.states)
    if set(previous.states) != wanted:
        return None
    states = {s: Presentation() for s, info in previous.states.items() if info.get("available")}
    unavailable = {s: str(info.get("reason", "")) for s, info in previous.states.items() if not info.get("available")}
    # A launcher's fixture ids are new at every launch: their names stand in for them (cache_url).
    made = [n for n in previous.meta.get("launcher_params") or () if isinstance(n, str)]
    target = RunningTarget(profile=profile, base_url="http://unstarted.invalid" + profile.prefix, version=version,
                           credentials=Credentials(), parameters={n: "{" + n + "}" for n in made})
    plan = Plan(definition, target, states, unavailable)
    params, query = previous.meta.get("params") or {}, previous.meta.get("query") or {}
    plan.params.update(target.parameters)
    for name, value in profile.parameters.items():
        if not isinstance(value, Discovery):
            plan.params[name] = value
        elif isinstance(params.get(name), str):
            plan.params[name] = params[name]
    plan.static_query = {**definition.api.query}
    for name, value in profile.query.items():
        if not isinstance(value, Discovery):
            plan.static_query[name] = value
        elif isinstance(query.get(name), str):
            plan.static_query[name] = query[name]
    started = time.perf_counter()
    keys = Keys.of(plan, classifier)
    known = sort_endpoints(plan, hooks, keys, options, [previous], started=False)
    if known.todo:
        return None
    meta: dict[str, Any] = {
        "target_version": version,
        "version_source": f"launcher {profile.launcher} (stated without starting)",
        "profile": keys.profile,
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "authcat_version": __version__,
        "probes": 0,
        "reused": known.reused,
        "rejudged": known.rejudged,
        "duration_s": round(time.perf_counter() - started, 2),
        "latency_ms": {},
        "params": {n: v for n, v in params.items() if n in plan.params},
        "query": {n: v for n, v in query.items() if n in plan.static_query},
        "launcher_params": made,
        "target_started": False,
    }
    ordered = {s: previous.states[s] for s in state_order(hooks, previous.states)}
    return TargetRun(definition.api.name, profile.name, meta, ordered, known.results)
