"""A probe run: for each API and target, send every endpoint under every state, then classify.

The runner is the only place that knows the order of things: load definitions, start targets,
resolve path parameters, probe (reusing cached cells whose definition and target version did not
change), classify through the plugins, and hand back :class:`TargetRun` results. Writing them is
the caller's job (see ``catalog.pipeline``), so a failed run writes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from . import __version__
from .classify import Judgement, verdict
from .definitions import ApiDefinition
from .errors import InputError
from .model import (
    SAFE_METHODS,
    Api,
    AuthScheme,
    Discovery,
    Endpoint,
    NotAvailable,
    Outcome,
    Presentation,
    RunningTarget,
    TargetProfile,
    Verdict,
)
from .observe import VOLATILE_KEYS, Observation, resolve_pointer
from .plugins import Hooks
from .probe import Prober, ProbeRequest, ProbeSettings
from .recognition import mark_unrecognised
from .results import Cell, EndpointResult, TargetRun
from .scrub import Scrubber, Sealed, seal
from .store import Store
from .targets import TargetError, TargetPool, is_ready, unsendable
from .versions import resolve_version

CACHE_ENV = "AUTHCAT_CACHE_DIR"  # where launchers keep prepared corpora between runs


@dataclass
class RunOptions:
    apis: list[str] | None = None
    targets: list[str] | None = None
    refresh: bool = False  # ignore cached cells
    allow_unsafe: bool = False  # also send read-only-declared non-safe methods
    keep_bodies: bool = False
    cache_root: Path | None = None
    progress: Callable[[int], None] | None = None  # advance a progress bar by n probes
    set_total: Callable[[int], None] | None = None
    log: Callable[[str], None] = print
    rate_limit: float | None = None  # overrides the profiles' rate limit
    concurrency: int | None = None
    # (profile file, message) of every target that failed; the others' runs go on (design.md).
    failures: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Plan:
    """What one (API, target) pair will do."""

    definition: ApiDefinition
    target: RunningTarget
    states: dict[str, Presentation]
    unavailable: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)
    param_errors: dict[str, str] = field(default_factory=dict)
    static_query: dict[str, str] = field(default_factory=dict)  # the API's, then the target's
    query_errors: dict[str, str] = field(default_factory=dict)  # static query values not discovered

    def url(self, endpoint: Endpoint) -> str | None:
        return endpoint_url(self.target.base_url, endpoint, self.params, self.target.profile.queries.get(endpoint.id),
                            self.static_query)

    @property
    def hash_extra(self) -> dict[str, Any]:
        auth = self.definition.api.auth
        # The envelope is matched while probing (bodies are not kept), so a changed rule needs
        # a new probe, not only a new judgement.
        envelope = self.definition.api.envelope
        return {"headers": sorted(self.static_headers.items()),
                "declared_scheme": repr(auth) if auth else None,
                "envelope": repr(envelope) if envelope else None,
                **({"signal_fields": list(self.definition.api.signal_fields)}
                   if self.definition.api.signal_fields else {})}

    @property
    def static_headers(self) -> dict[str, str]:
        return {**self.definition.api.headers, **self.target.profile.headers}

    def request(self, url: str, presentation: Presentation) -> tuple[str, dict[str, str]]:
        """The URL and headers one state sends: static values, then the state's credential."""
        return presentation.url(url), {**self.static_headers, **presentation.headers}

    def cache_url(self, endpoint: Endpoint) -> str | None:
        """The URL as the probe cache sees it: a launcher's fixture ids (new at every launch) stay
        placeholders, so an unchanged definition on the same server version reuses its cells."""
        made = {k: "{" + k + "}" for k in self.target.parameters if k not in self.target.profile.parameters}
        return endpoint_url(self.target.base_url, endpoint, {**self.params, **made},
                            self.target.profile.queries.get(endpoint.id), self.static_query)


def selected_profiles(apis: dict[str, ApiDefinition], options: RunOptions, root: Path):
    for name, definition in apis.items():
        if options.apis and name not in options.apis:
            continue
        for profile in definition.targets.values():
            if options.targets and profile.name not in options.targets:
                continue
            ready, why = is_ready(profile, root.parent)
            if not ready:
                options.log(f"skip {name}/{profile.name}: {why}")
                continue
            yield definition, profile


_PLACEHOLDER = re.compile(r"{([^{}/]+)}")


def endpoint_url(base_url: str, endpoint: Endpoint, params: Mapping[str, str],
                 query: Mapping[str, str] | None = None, static: Mapping[str, str] | None = None) -> str | None:
    """The URL to probe, or None when a path parameter has no value. Never leaves the base origin.

    Query values, later winning: ``static`` (the API's and target's), the endpoint's own, then
    the target's values for this endpoint.
    """
    path = endpoint.path
    for name in endpoint.path_params:
        if name not in params:
            return None
        path = path.replace("{" + name + "}", quote(params[name], safe=""))
    url = base_url.rstrip("/") + path
    merged = {**(static or {}), **endpoint.query, **(query or {})}
    for key, value in merged.items():  # a value written `{name}` takes a path parameter's value
        if isinstance(value, str) and (m := _PLACEHOLDER.fullmatch(value)):
            if m.group(1) not in params:
                return None
            merged[key] = params[m.group(1)]
    if merged:
        url += "?" + urlencode(sorted(merged.items()))
    base, got = urlsplit(base_url), urlsplit(url)
    if (got.scheme, got.netloc) != (base.scheme, base.netloc):  # defence in depth; paths are validated
        raise InputError(f"{endpoint.source}: {endpoint.id} would leave {base.netloc}")
    return url


def definition_hash(endpoint: Endpoint, url: str | None, target_version: str | None, api_scheme: str,
                    extra: Mapping[str, Any] | None = None) -> str:
    """A key for the probe cache: what was sent and to which version of the server.

    ``extra`` holds what only some APIs have (static headers, a declared scheme): added only
    when present, so the keys of every other API stay what they were.
    """
    stuff = {
        "method": endpoint.method, "url_path": urlsplit(url).path + "?" + urlsplit(url).query if url else None,
        "collection": endpoint.collection, "actor_fields": endpoint.actor_fields,
        "scheme": api_scheme, "target_version": target_version, "authcat": __version__,
        **{k: v for k, v in (extra or {}).items() if v},
    }
    return hashlib.sha256(json.dumps(stuff, sort_keys=True).encode()).hexdigest()[:16]


def api_scheme(hooks: Hooks, api: Api) -> AuthScheme:
    """The API's scheme: declared in its api.yaml, or a scheme plugin's by name."""
    scheme = api.auth or hooks.schemes.get(api.scheme)
    if scheme is None:
        raise InputError(f"{api.source}: scheme: no auth scheme plugin named {api.scheme!r} "
                         f"(have: {', '.join(sorted(hooks.schemes))}; or declare one, see the api.yaml reference)")
    return scheme


def _states(hooks: Hooks, definition: ApiDefinition, target: RunningTarget) -> tuple[dict, dict]:
    scheme = api_scheme(hooks, definition.api)
    wanted = definition.api.states or tuple(hooks.states)
    presentations: dict[str, Presentation] = {}
    unavailable: dict[str, str] = {}
    for name in wanted:
        state = hooks.states.get(name)
        if state is None:
            unavailable[name] = "no plugin provides this state"
            continue
        if name in target.extra_states:
            unavailable[name] = target.extra_states[name]
            continue
        result = state.present(scheme, target.credentials)
        if isinstance(result, NotAvailable):
            unavailable[name] = result.reason
        elif any(unsendable(v, secret=True) for v in result.headers.values()):
            # e.g. a launcher's token with a newline: the header cannot be sent, and the reason
            # must not quote it.
            unavailable[name] = "its credential has a control or non-ASCII character: it cannot be sent in a header"
        else:
            presentations[name] = result
    return presentations, unavailable


async def _resolve_params(plan: Plan, prober: Prober) -> None:
    """Literal values first, then values discovered from other endpoints' valid answers.

    Static query values are discovered the same way, first, so path parameter discovery
    already sends them. A query value that cannot be discovered is left out (and said why).
    """
    profile = plan.target.profile
    plan.static_query = {**plan.definition.api.query,
                         **{k: v for k, v in profile.query.items() if not isinstance(v, Discovery)}}
    plan.params.update(plan.target.parameters)  # the launcher's fixtures; the profile's literals win
    for name, value in profile.parameters.items():
        if not isinstance(value, Discovery):
            plan.params[name] = value
    for name, value in profile.query.items():
        if isinstance(value, Discovery):
            found = await _discover(plan, prober, name, value, "query ")
            if found is not None:
                plan.static_query[name] = found
    for name, value in profile.parameters.items():
        if isinstance(value, Discovery):
            found = await _discover(plan, prober, name, value)
            if found is not None:
                plan.params[name] = found


async def _discover(plan: Plan, prober: Prober, name: str, value: Discovery, kind: str = "") -> str | None:
    errors = plan.query_errors if kind else plan.param_errors
    valid = plan.states.get("valid")
    source = plan.definition.endpoint(value.endpoint)
    url = plan.url(source) if source else None
    if source is None or url is None or valid is None:
        errors[name] = f"cannot discover {kind}{name}: {value.endpoint} is not probeable"
        return None
    found = await prober.fetch_json(*plan.request(url, valid))
    try:
        return str(resolve_pointer(found, value.pointer))
    except (KeyError, TypeError):
        errors[name] = f"cannot discover {kind}{name}: {value.endpoint}'s valid answer has nothing at {value.pointer}"
        return None


def _why_not_probed(endpoint: Endpoint, plan: Plan, url: str | None, options: RunOptions) -> tuple[str, str] | None:
    if endpoint.removed:
        return Verdict.NOT_PROBED, "removed from the vendor's spec"
    if endpoint.method not in SAFE_METHODS and not (endpoint.read_only and options.allow_unsafe):
        return Verdict.NOT_PROBED, f"{endpoint.method} is not a safe method: catalogued from documentation only"
    if plan.target.serves is not None and not plan.target.serves(endpoint):
        return Verdict.NOT_SERVED, f"not served by {plan.target.profile.name}"
    if plan.query_errors:  # a required static query value (an API version, a tenant) is missing
        return Verdict.NOT_PROBED, "; ".join(plan.query_errors.values())
    if url is None:
        missing = [p for p in endpoint.path_params if p not in plan.params]
        reasons = [plan.param_errors.get(p, f"no value for {{{p}}} in the target profile") for p in missing]
        return Verdict.NOT_PROBED, "; ".join(reasons)
    return None


def classify_endpoint(hooks: Hooks, plan: Plan, endpoint: Endpoint, observations: dict[str, Observation]) -> dict[str, Cell]:
    valid, anonymous = observations.get("valid"), observations.get("anonymous")
    cells: dict[str, Cell] = {}
    for state in plan.states:
        obs = observations[state]
        judged: Judgement = hooks.classify(
            state=state, observation=obs, valid=valid, anonymous=anonymous,
            endpoint=endpoint, api=plan.definition.api,
        )
        cells[state] = Cell(state, judged.outcome, judged.note, obs)
    for state, reason in plan.unavailable.items():
        cells[state] = Cell(state, Outcome.NOT_AVAILABLE, reason)
    return cells


PARTIAL_EVERY = 1.0  # seconds between progress-file writes while endpoints finish


class _Progress:
    """Finished endpoints of a running plan, saved now and then as ``<target>.partial.json``.

    A run interrupted (Ctrl-C) or killed keeps what it finished: the next run reuses those cells
    like any cached cell (same definition hash, same target version). ``Store.write`` of the
    completed run removes the file.
    """

    def __init__(self, plan: Plan, hooks: Hooks, store: Store | None, started: datetime, scrub: Scrubber):
        self.plan, self.hooks, self.store, self.started, self.scrub = plan, hooks, store, started, scrub
        self.sealed: Sealed = {}  # each endpoint's result is sealed once, not at every save
        self.results: dict[str, EndpointResult] = {}
        self.dirty = False

    def snapshot(self, meta: dict[str, Any]) -> TargetRun:
        states_info: dict[str, dict[str, Any]] = {s: {"available": True} for s in self.plan.states}
        states_info.update({s: {"available": False, "reason": r} for s, r in self.plan.unavailable.items()})
        for state, info in states_info.items():
            if (family := self.hooks.family(state)) is not None:
                info["family"] = family.value
        ordered = {s: states_info[s] for s in _state_order(self.hooks, states_info)}
        run = TargetRun(self.plan.definition.api.name, self.plan.target.profile.name, meta, ordered, dict(self.results))
        # The one way a run leaves the runner (to the store, change log, site, export and CLI):
        # every string in it, server-derived or not, passes the scrubber here.
        return seal(run, self.scrub, self.sealed)

    def save(self) -> None:
        if self.store is None or not self.dirty:
            return
        self.dirty = False
        meta = {"partial": True, "target_version": self.plan.target.version,
                "date": self.started.strftime("%Y-%m-%dT%H:%M:%SZ"), "authcat_version": __version__}
        self.store.write_partial(self.snapshot(meta))

    async def save_periodically(self) -> None:
        while True:
            await asyncio.sleep(PARTIAL_EVERY)
            self.save()


def _cached(endpoint_id: str, key: str, plan: Plan, sources: list[TargetRun | None]) -> EndpointResult | None:
    """A finished result for this endpoint whose definition, target version and states still match."""
    state_names = sorted(plan.states)
    for source in sources:
        cached = source.endpoints.get(endpoint_id) if source else None
        if cached and cached.definition == key and sorted(
            s for s, c in cached.cells.items() if c.outcome != Outcome.NOT_AVAILABLE
        ) == state_names and set(cached.cells) == set(plan.states) | set(plan.unavailable):
            return cached
    return None


async def _probe_plan(plan: Plan, hooks: Hooks, options: RunOptions, previous: TargetRun | None,
                      settings: ProbeSettings, scrub: Scrubber, store: Store | None = None,
                      partial: TargetRun | None = None) -> TargetRun:
    started = datetime.now(UTC)
    progress = _Progress(plan, hooks, store, started, scrub)
    results = progress.results
    latencies: dict[str, dict[str, int]] = {}
    async with Prober(settings, scrub) as prober:
        await _resolve_params(plan, prober)
        await resolve_version(plan, prober)
        requests: list[ProbeRequest] = []
        todo: dict[str, tuple[Endpoint, str]] = {}
        reused = 0
        for endpoint in plan.definition.endpoints:
            if endpoint.method not in SAFE_METHODS and not endpoint.read_only:
                continue  # documented-only operations do not appear in observations
            url = plan.url(endpoint)
            key = definition_hash(endpoint, url and plan.cache_url(endpoint), plan.target.version,
                                  plan.definition.api.scheme, plan.hash_extra)
            skipped = _why_not_probed(endpoint, plan, url, options)
            if skipped:
                results[endpoint.id] = EndpointResult(endpoint.id, endpoint.method, endpoint.path, skipped[0], skipped[1], key)
                continue
            cached = None if options.refresh else _cached(endpoint.id, key, plan, [partial, previous])
            if cached is not None:
                results[endpoint.id] = cached
                reused += 1
                continue
            todo[endpoint.id] = (endpoint, key)
            assert url is not None
            for state, presentation in plan.states.items():
                state_url, headers = plan.request(url, presentation)
                requests.append(ProbeRequest(
                    key=(endpoint.id, state), method=endpoint.method, url=state_url,
                    headers=headers, collection=endpoint.collection,
                    actor_fields=endpoint.actor_fields,
                    signal_fields=plan.definition.api.signal_fields,
                    envelope=plan.definition.api.envelope,
                    volatile=VOLATILE_KEYS | frozenset(plan.definition.api.volatile_fields),
                ))
        if options.set_total:
            options.set_total(len(requests))
        observed: dict[str, dict[str, Observation]] = {eid: {} for eid in todo}

        def finished(req: ProbeRequest, obs: Observation) -> None:
            if options.progress:
                options.progress(1)
            endpoint_id, state = req.key
            observations = observed[endpoint_id]
            observations[state] = obs
            if len(observations) < len(plan.states):
                return
            endpoint, key = todo[endpoint_id]
            latencies[endpoint_id] = {s: o.latency_ms or 0 for s, o in observations.items()}
            cells = classify_endpoint(hooks, plan, endpoint, observations)
            judged, reason = verdict({s: c.outcome for s, c in cells.items()}, observations.get("valid"),
                                     {s: hooks.family(s) for s in cells})
            results[endpoint_id] = EndpointResult(endpoint_id, endpoint.method, endpoint.path, judged, reason, key, cells)
            progress.dirty = True

        saver = asyncio.create_task(progress.save_periodically())
        try:
            await prober.run(requests, on_done=finished)
        finally:  # interrupted or not, keep what is finished (a completed run replaces it)
            saver.cancel()
            progress.dirty = progress.dirty or bool(results)
            progress.save()
    all_latency = [ms for per in latencies.values() for ms in per.values()]
    run_meta: dict[str, Any] = {
        "target_version": plan.target.version,
        "version_source": plan.target.version_source,
        "date": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "authcat_version": __version__,
        "probes": len(requests),
        "reused": reused,
        "duration_s": round((datetime.now(UTC) - started).total_seconds(), 2),
        "latency_ms": {"median": int(median(all_latency)), "max": max(all_latency)} if all_latency else {},
    }
    return progress.snapshot(run_meta)


def _state_order(hooks: Hooks, states: dict) -> list[str]:
    known = list(hooks.states)
    return sorted(states, key=lambda s: (known.index(s) if s in known else len(known), s))


def probe_all(apis: dict[str, ApiDefinition], root: Path, data_dir: Path, hooks: Hooks, options: RunOptions) -> list[TargetRun]:
    """Probe every selected (API, target) pair; return the classified runs (nothing is written)."""
    store = Store(data_dir)
    runs: list[TargetRun] = []
    cache_root = options.cache_root or Path(os.environ.get(CACHE_ENV) or root.parent / ".cache" / "authcat")
    with tempfile.TemporaryDirectory(prefix="authcat-") as scratch, \
            TargetPool(hooks.launchers, cache_root, Path(scratch), log=options.log) as pool:
        for definition, profile in selected_profiles(apis, options, root):
            try:
                run = _probe_target(definition, profile, pool, root, store, hooks, options)
            except TargetError as exc:
                # One target failing never stops the others; its previous observations stay.
                message = str(exc)  # launchers scrub what they report (catalog.process)
                options.failures.append((str(profile.source.file), message))
                options.log(f"{profile.source.file}: target {profile.name} failed, its previous observations are kept: {message}")
                continue
            runs.append(run)
    return runs


def _probe_target(definition: ApiDefinition, profile: TargetProfile, pool: TargetPool, root: Path, store: Store,
                  hooks: Hooks, options: RunOptions) -> TargetRun:
    """Start (or reuse) the profile's target and probe every endpoint of the API on it."""
    target = pool.running(profile, root)
    presentations, unavailable = _states(hooks, definition, target)
    plan = Plan(definition, target, presentations, unavailable)
    secrets = target.credentials.secrets() + [v for p in presentations.values() for v in p.values()]
    scrub = Scrubber(secrets, [c.identity for c in target.credentials.roles.values()])
    settings = ProbeSettings(
        concurrency=options.concurrency or profile.concurrency,
        rate_limit=options.rate_limit or profile.rate_limit,
        timeout=profile.timeout, retries=profile.retries, keep_bodies=options.keep_bodies,
    )
    previous = store.read(definition.api.name, profile.name)
    partial = store.read_partial(definition.api.name, profile.name)
    options.log(f"probing {definition.api.name} on {profile.name} ({target.version or 'version unknown'})")
    run = asyncio.run(_probe_plan(plan, hooks, options, previous, settings, scrub, store, partial))
    by_id = {e.id: e for e in definition.endpoints}
    for endpoint_id, result in run.endpoints.items():
        result.endpoint = by_id.get(endpoint_id)
    found = mark_unrecognised(run)  # a credential the server never read makes nothing public
    if not found.recognised:
        options.log(f"{profile.source}: {found.reason}")
    return run
