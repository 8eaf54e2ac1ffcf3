"""A probe run: for each API and target, send every endpoint under every state, then classify.

The runner is the only place that knows the order of things: load definitions, decide which
targets have anything to probe (a launched target whose cells are all current for the version its
launcher states is not started at all), start those at once, resolve path parameters, probe
(reusing cached cells, re-judging stored observations when only the classifier or the judged
definition changed: see ``catalog.engine.cache``), classify through the plugins, and hand back
:class:`TargetRun` results. Writing them is the caller's job (see ``catalog.pipeline``), so a
failed run writes nothing.

Four words, one meaning each: a *probe* is one request (endpoint × state × target,
``catalog.engine.probe``); a *plan* is what one (API, target) pair will be probed with
(``catalog.engine.plan``); the *runner* carries out every plan of a run and hands back the
classified runs (``catalog.engine.runner``); the *pipeline* is the whole job around it — find the
project, probe, record, build (``catalog.pipeline``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import os
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING, Any

from catalog import __version__
from catalog.answers.recognition import mark_unrecognised
from catalog.definitions.loader import ApiDefinition
from catalog.engine.cache import classifier_fingerprint
from catalog.engine.plan import (
    MAX_PARAM_CHARS,
    Plan,
    RunOptions,
    classify_endpoint,
    endpoint_url,
    selected_profiles,
    state_order,
    states_for,
)
from catalog.engine.request import ProbeRequest, ProbeSettings
from catalog.engine.reuse import Keys, reuse_without_start, sort_endpoints
from catalog.engine.versions import resolve_version
from catalog.hooks.manager import Hooks
from catalog.model.credentials import Credentials, Presentation
from catalog.model.definition import Discovery, Endpoint, SetupRequest, TargetProfile
from catalog.model.errors import TargetError
from catalog.model.judgement import verdict
from catalog.model.observation import VOLATILE_KEYS, Observation, resolve_pointer
from catalog.model.vocabulary import State, Verdict
from catalog.runs.results import EndpointResult, TargetRun
from catalog.runs.store import Encoded, Store
from catalog.secrets.binding import identities_public
from catalog.secrets.record import credential_names, published_values, request_record
from catalog.secrets.scrub import Scrubber, Sealed, seal
from catalog.targets.process import scratch_folder
from catalog.targets.profiles import TargetPool
from catalog.targets.readiness import profile_problem

if TYPE_CHECKING:
    from catalog.engine.probe import Prober

__all__ = ["CACHE_ENV", "Plan", "RunOptions", "discover", "endpoint_url", "probe_all"]  # also imported from here

CACHE_ENV = "AUTHCAT_CACHE_DIR"  # where launchers keep prepared corpora between runs


async def _resolve_params(plan: Plan, prober: Prober) -> None:
    """Literal values first, then values discovered from other endpoints' valid answers.

    Static query values are discovered the same way, first, so path parameter discovery
    already sends them. A query value that cannot be discovered is left out (and said why).

    A discovered value is server-controlled: it must be a string or a number of at most
    :data:`MAX_PARAM_CHARS` characters; anything else makes the endpoints needing it
    ``not-probed`` with a reason saying what came back (never the value itself).
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
    """A discovered value, or None with the reason in the plan's errors (never the value itself)."""
    errors = plan.query_errors if kind else plan.param_errors
    valid = plan.states.get(State.VALID)
    source = plan.definition.endpoint(value.endpoint)
    url = plan.url(source) if source else None
    request = plan.request(url, valid) if url is not None and valid is not None else None
    found, why = await discover(prober, name, value, request, kind)
    if why is not None:
        errors[name] = why
    return found


async def discover(prober: Prober, name: str, value: Discovery,
                   request: tuple[str, Mapping[str, str]] | None, kind: str = "") -> tuple[str | None, str | None]:
    """The value at ``value.pointer`` in the answer to ``request`` (the source endpoint's URL and
    headers with the valid token; None when that endpoint cannot be probed): ``(value, None)``,
    or ``(None, why not)`` in one line that never quotes the value.

    The value is server-controlled: only a non-empty string or a number of at most
    :data:`MAX_PARAM_CHARS` characters is taken (``endpoint_url`` then encodes it as exactly one
    path segment). Every command that discovers values goes through here.
    """
    what = f"cannot discover {kind}{name}"
    if request is None:
        return None, f"{what}: {value.endpoint} is not probeable"
    found, why = await prober.fetch_json_why(*request)
    if why is not None:
        return None, f"{what}: {value.endpoint}: {why}"
    try:
        got = resolve_pointer(found, value.pointer)
    except KeyError:
        return None, f"{what}: {value.endpoint}'s valid answer has nothing at {value.pointer}"
    if isinstance(got, bool) or not isinstance(got, (str, int, float)):
        kind_of = "null" if got is None else type(got).__name__
        return None, f"{what}: {value.endpoint} has a {kind_of} at {value.pointer}, not a string or number"
    if not str(got):
        return None, f"{what}: {value.endpoint} has an empty string at {value.pointer}"
    if len(str(got)) > MAX_PARAM_CHARS:
        return None, (f"{what}: {value.endpoint}'s value at {value.pointer} is "
                      f"{len(str(got)):,} characters long (at most {MAX_PARAM_CHARS:,})")
    return str(got), None


def _requests(plan: Plan, endpoint: Endpoint, states: Mapping[str, Presentation],
              params: Mapping[str, str]) -> list[ProbeRequest]:
    """One request per state: the state's credential, the endpoint's headers and body."""
    url = endpoint_url(plan.target.base_url, endpoint, params, plan.target.profile.queries.get(endpoint.id),
                       plan.static_query)
    assert url is not None
    content, own = plan.content(endpoint, params)
    # The record shows the request as the cache sees it: fixtures (and a setup's per-state values) as {name}.
    names = credential_names(plan.target.credentials)
    # A setup's per-state values ({probe}, a captured room id) are placeholders like a fixture's.
    fixtures = frozenset({*(k for k in plan.target.parameters if k not in plan.target.profile.parameters),
                          *(k for k, v in plan.made_params(endpoint).items() if v == "{" + k + "}")})
    record_url = plan.cache_url(endpoint)
    body = plan.body(endpoint)
    shown = body.encoded({n: "{" + n + "}" for n in body.params}) if body is not None else None
    out = []
    for state, presentation in states.items():
        state_url, headers = plan.request(url, presentation, own)
        record = request_record(endpoint.method, record_url or url, plan.target.base_url, presentation,
                                {**plan.static_headers, **own}, state, names, fixtures)
        if shown is not None:
            record["body"] = shown.decode("utf-8", errors="replace")
        out.append(ProbeRequest(
            key=(endpoint.id, state), method=endpoint.method, url=state_url,
            headers=headers, content=content, collection=endpoint.collection,
            actor_fields=endpoint.actor_fields,
            signal_fields=plan.definition.api.signal_fields,
            envelope=plan.definition.api.envelope,
            volatile=VOLATILE_KEYS | frozenset(plan.definition.api.volatile_fields),
            group=endpoint.id, record=record,
        ))
    return out


class SetupFailed(Exception):
    """A state's setup request did not make what the probe needs: the endpoint is not probed."""


async def _probe_serial(plan: Plan, hooks: Hooks, prober: Prober, endpoint: Endpoint,
                        finished: Callable[[ProbeRequest, Observation], None], nonce: str
                        ) -> tuple[list[ProbeRequest], list[str]]:
    """Probe one endpoint that changes the world (a destructive write, or one with a ``setup``),
    state by state.

    For a destructive endpoint where the launcher makes fresh credentials, each state presents its
    own new login of the valid and unprivileged users (a logout then spends that login, never the
    run's tokens) with the parameters that go with it. A ``setup`` makes each state's resources
    afresh (``{probe}`` is unique to the state) with the valid credential before its probe. With
    neither, ``valid`` goes last, so what it destroys is destroyed after the others were answered.
    Returns the requests sent and the fresh secrets (for the run's scrubber); raises SetupFailed.
    """
    fresh = plan.target.fresh if endpoint.destructive else None
    setup = plan.target.profile.setup.get(endpoint.id)
    sent: list[ProbeRequest] = []
    made: list[str] = []
    order = sorted(plan.states, key=lambda s: s == State.VALID) if fresh is None and setup is None else list(plan.states)
    for state in order:
        presentations, params = dict(plan.states), {**plan.params, "probe": f"{state}-{nonce}"}
        if fresh is not None:
            roles = dict(plan.target.credentials.roles)
            for role in (State.UNPRIVILEGED, State.VALID):  # valid last: its parameters win
                if role in roles and _presents(plan, hooks, state, role) \
                        and (new := await asyncio.to_thread(fresh, role)) is not None:
                    roles[role], extra = new
                    made.append(roles[role].secret)
                    params.update(extra)
            target = dataclasses.replace(plan.target, credentials=Credentials(roles))
            presentations.update(states_for(hooks, plan.definition, target)[0])
            prober.scrub = prober.scrub.plus(made)
        if setup is not None:
            for name, template in setup.set.items():
                params[name] = _fill(template, params)
            for request in setup.requests:
                await _setup_request(plan, prober, presentations.get(State.VALID), request, params, state)
        batch = _requests(plan, endpoint, {state: presentations[state]}, params)
        await prober.run(batch, on_done=finished)
        sent += batch
    return sent, made


def _presents(plan: Plan, hooks: Hooks, state: str, role: str) -> bool:
    """Whether ``state`` presents ``role``'s secret (scheme-case presents valid's): it then needs a
    fresh one. Told by presenting a stand-in secret for the role, no request sent."""
    roles = dict(plan.target.credentials.roles)
    roles[role] = dataclasses.replace(roles[role], secret=roles[role].secret + "-stand-in")
    target = dataclasses.replace(plan.target, credentials=Credentials(roles))
    return states_for(hooks, plan.definition, target)[0].get(state) != plan.states.get(state)


_NAME = re.compile(r"{([A-Za-z0-9_.-]+)}")


def _fill(template: str, params: Mapping[str, str]) -> str:
    """``template`` with each ``{name}`` replaced by that parameter's value (unknown ones kept)."""
    return _NAME.sub(lambda m: params.get(m.group(1), m.group(0)), template)


async def _setup_request(plan: Plan, prober: Prober, valid: Presentation | None, request: SetupRequest,
                         params: dict[str, str], state: str) -> None:
    what = f"setup {request.method} {request.path} for {state}"
    if valid is None:
        raise SetupFailed(f"{what}: no valid credential to make it with")
    shape = Endpoint(plan.definition.api.name, "setup", request.method, request.path, group="", query=request.query)
    url = endpoint_url(plan.target.base_url, shape, params, static=plan.static_query)
    if url is None:
        raise SetupFailed(f"{what}: a path parameter has no value")
    content: bytes | None = None
    own: dict[str, str] = {}
    if request.body is not None:
        content = request.body.encoded(params)
        own["Content-Type"] = request.body.content_type
    got = await prober.fetch(*plan.request(url, valid, own), method=request.method, content=content)
    if got is None or not 200 <= got[0] < 300:
        raise SetupFailed(f"{what} answered {got[0] if got else 'nothing'}")
    if request.capture:
        try:
            doc = json.loads(got[2])
        except ValueError:
            raise SetupFailed(f"{what}: the answer is not JSON") from None
        for name, pointer in request.capture.items():
            try:
                value = resolve_pointer(doc, pointer)
            except (KeyError, TypeError):
                raise SetupFailed(f"{what}: nothing at {pointer} in the answer") from None
            if isinstance(value, bool) or not isinstance(value, (str, int, float)) or not str(value) \
                    or len(str(value)) > MAX_PARAM_CHARS:
                raise SetupFailed(f"{what}: {pointer} is not a short string or number")
            params[name] = str(value)


async def _baseline_broken(plan: Plan, prober: Prober, results: Mapping[str, EndpointResult]) -> str | None:
    """Whether the run's valid credential stopped working: the endpoint that best shows it is read
    (valid 2xx where anonymous was refused) is asked again; None when it still answers 2xx."""
    valid = plan.states.get(State.VALID)
    if valid is None:
        return None
    for endpoint_id, result in results.items():
        endpoint = plan.definition.endpoint(endpoint_id)
        cells = result.cells
        if endpoint is None or endpoint.method != "GET" or endpoint.destructive or State.VALID not in cells:
            continue
        v = cells[State.VALID].observation
        a = cells[State.ANONYMOUS].observation if State.ANONYMOUS in cells else None
        if v is None or not v.ok or (a is not None and a.ok):
            continue
        url = plan.url(endpoint)
        if url is None:
            continue
        got = await prober.fetch(*plan.request(url, valid, endpoint.headers))
        if got is None:
            return f"{endpoint.key} got no answer"
        return None if 200 <= got[0] < 300 else f"{endpoint.key} now answers {got[0]}"
    return None


class TargetUnreachable(TargetError):
    """Not one probe of a target reached a server: nothing is recorded for it."""


# Transport failures (see catalog.engine.transport.describe): when every probe of a run ends in one
# of these — timeouts included (a TLS handshake a plain server never completes) — no server was
# reached and nothing is recorded. When some probes got an answer, a failure is its cell's ``error``.
UNREACHABLE = ("dns:", "connection:", "tls:", "timeout:")


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
        self.encoded: Encoded = {}  # and encoded once (Store.write_partial)
        self.results: dict[str, EndpointResult] = {}
        self.dirty = False
        self.profile = ""  # the profile key (catalog.engine.cache), so resumed cells pass the cache check

    def snapshot(self, meta: dict[str, Any]) -> TargetRun:
        states_info: dict[str, dict[str, Any]] = {s: {"available": True} for s in self.plan.states}
        states_info.update({s: {"available": False, "reason": r} for s, r in self.plan.unavailable.items()})
        for state, info in states_info.items():
            if (family := self.hooks.family(state)) is not None:
                info["family"] = family.value
        ordered = {s: states_info[s] for s in state_order(self.hooks, states_info)}
        run = TargetRun(self.plan.definition.api.name, self.plan.target.profile.name, meta, ordered, dict(self.results))
        # The one way a run leaves the runner (to the store, change log, site, export and CLI):
        # every string in it, server-derived or not, passes the scrubber here.
        return seal(run, self.scrub, self.sealed)

    def save(self) -> None:
        if self.store is None or not self.dirty:
            return
        self.dirty = False
        meta = {"partial": True, "target_version": self.plan.target.version, "profile": self.profile,
                "date": self.started.strftime("%Y-%m-%dT%H:%M:%SZ"), "authcat_version": __version__}
        self.store.write_partial(self.snapshot(meta), self.encoded)

    async def save_periodically(self) -> None:
        while True:
            await asyncio.sleep(PARTIAL_EVERY)
            try:
                self.save()
            except OSError:  # full or read-only disk: the final save (in _probe_plan) reports it
                return


def _discovered(plan: Plan, scrub: Scrubber) -> dict[str, dict[str, str]]:
    """The discovered path parameter and static query values, kept with the run so a later run can
    compute its cache keys without starting the target. A value the scrubber would change is not
    kept (the run then discovers it again)."""
    profile = plan.target.profile

    def kept(declared: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, str]:
        names = [n for n, v in declared.items() if isinstance(v, Discovery)]
        return {n: values[n] for n in names if n in values and scrub(values[n]) == values[n]}

    return {"params": kept(profile.parameters, plan.params), "query": kept(profile.query, plan.static_query)}


async def _probe_plan(plan: Plan, hooks: Hooks, options: RunOptions, previous: TargetRun | None,
                      settings: ProbeSettings, scrub: Scrubber, store: Store | None = None,
                      partial: TargetRun | None = None, keys: Keys | None = None) -> TargetRun:
    started = datetime.now(UTC)
    progress = _Progress(plan, hooks, store, started, scrub)
    results = progress.results
    latencies: dict[str, dict[str, int]] = {}
    keys = keys or Keys.of(plan, classifier_fingerprint(hooks))
    progress.profile = keys.profile
    # Imported here: the HTTP stack (httpx, aiohttp) is a measurable share of a run that probes
    # nothing (every cell current), and only a plan with probes needs it.
    from catalog.engine.probe import Prober

    async with Prober(settings, scrub) as prober:
        await _resolve_params(plan, prober)
        await resolve_version(plan, prober)
        known = sort_endpoints(plan, hooks, keys, options, [partial, previous])
        results.update(known.results)
        todo = known.todo
        # Reads first, all at once; then the writes (a message sent must not show in a read's
        # answer to one state and not another's), endpoints side by side but each endpoint's states
        # one after another (two states writing one resource at once race: Synapse answered bob's
        # upload to alice's media id with 409 while alice's upload held the media's lock, else 403);
        # then the destructive writes, one at a time.
        reads = [item[0] for item in todo.values() if item[0].reads_only]
        writes = [item[0] for item in todo.values()
                  if not item[0].reads_only and not item[0].destructive and item[0].id not in plan.target.profile.setup]
        setups = plan.target.profile.setup
        # Writes with a setup first, then those that may destroy a token state (a logout).
        serial = sorted((eid for eid, item in todo.items()
                         if (item[0].destructive or eid in setups) and not item[0].reads_only),
                        key=lambda eid: todo[eid][0].destructive)
        destructive = {eid: todo[eid] for eid in serial}
        requests: list[ProbeRequest] = []
        batches: list[list[ProbeRequest]] = []
        for phase in (reads, writes):
            batches.append([r for endpoint in phase for r in _requests(plan, endpoint, plan.states, plan.params)])
            requests += batches[-1]
        label = f"{plan.definition.api.name} on {plan.target.profile.name}"
        total = len(requests) + len(destructive) * len(plan.states)
        advance = options.track(label, total) if options.track and total else None
        observed: dict[str, dict[str, Observation]] = {eid: {} for eid in todo}

        def finished(req: ProbeRequest, obs: Observation) -> None:
            if advance is not None:
                advance(1)
            endpoint_id, state = req.key
            observations = observed[endpoint_id]
            observations[state] = obs
            if len(observations) < len(plan.states):
                return
            endpoint, key, judged = todo[endpoint_id]
            latencies[endpoint_id] = {s: o.latency_ms or 0 for s, o in observations.items()}
            cells = classify_endpoint(hooks, plan, endpoint, observations)
            judgement, reason = verdict({s: c.outcome for s, c in cells.items()}, observations.get(State.VALID),
                                        {s: hooks.family(s) for s in cells})
            results[endpoint_id] = EndpointResult(endpoint_id, endpoint.method, endpoint.path, judgement, reason, key,
                                                  cells, judged=judged)
            progress.dirty = True

        saver = asyncio.create_task(progress.save_periodically())
        try:
            for n, batch in enumerate(batches):
                await prober.run(batch, on_done=finished, one_per_group=n > 0)
            # Writes that can destroy a token state come last, one endpoint at a time, and the
            # valid credential is checked after each: no cell is judged against a broken baseline.
            broken = None
            nonce = secrets.token_hex(3)  # {probe}: a resource name unique to each state of this run
            for endpoint_id, (endpoint, key, judged) in destructive.items():
                if broken is not None:
                    observed.pop(endpoint_id, None)
                    results[endpoint_id] = EndpointResult(endpoint_id, endpoint.method, endpoint.path,
                                                          Verdict.NOT_PROBED, broken, key, judged=judged)
                    continue
                try:
                    sent, made = await _probe_serial(plan, hooks, prober, endpoint, finished, nonce)
                except SetupFailed as exc:
                    observed.pop(endpoint_id, None)
                    results[endpoint_id] = EndpointResult(endpoint_id, endpoint.method, endpoint.path,
                                                          Verdict.NOT_PROBED, f"not probed: {exc}", key, judged=judged)
                    continue
                requests += sent
                progress.scrub = progress.scrub.plus(made)
                why = await _baseline_broken(plan, prober, results)
                if why is not None:
                    broken = f"not probed: the valid credential stopped working after {endpoint.key} ({why})"
                    options.log(f"{plan.definition.api.name} on {plan.target.profile.name}: {broken}")
        finally:  # interrupted or not, keep what is finished (a completed run replaces it)
            saver.cancel()
            progress.dirty = progress.dirty or bool(results)
            progress.save()
        answers = [obs for per in observed.values() for obs in per.values()]
        # A resumed run whose interrupted part got answers has reached the server: its failures are cells.
        resumed = partial is not None and any(eid in partial.endpoints for eid in known.results)
        if answers and not resumed and all(obs.status is None and (obs.error or "").startswith(UNREACHABLE)
                                           for obs in answers):
            # A target down, misnamed or behind a broken TLS setup: its previous observations are
            # worth more than a file of errors, and its progress must not cache the errors.
            for endpoint_id in todo:
                results.pop(endpoint_id, None)
            progress.dirty = True
            progress.save()
            why = collections.Counter(obs.error or "no answer" for obs in answers).most_common(1)[0][0]
            raise TargetUnreachable(f"{plan.definition.api.name} on {plan.target.profile.name}: no answer to any of "
                                    f"{len(answers)} probes ({why})")
    all_latency = [ms for per in latencies.values() for ms in per.values()]
    run_meta: dict[str, Any] = {
        "target_version": plan.target.version,
        "version_source": plan.target.version_source,
        "profile": keys.profile,
        "date": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "authcat_version": __version__,
        "probes": len(requests),
        "reused": known.reused,
        "rejudged": known.rejudged,
        "duration_s": round((datetime.now(UTC) - started).total_seconds(), 2),
        "latency_ms": {"median": int(median(all_latency)), "max": max(all_latency)} if all_latency else {},
        **_discovered(plan, scrub),
        # names only: the values are new at every launch (Plan.cache_url keeps them out of the keys)
        "launcher_params": sorted(k for k in plan.target.parameters if k not in plan.target.profile.parameters),
        # The launcher's non-default settings that change what is observed (shown with the cells).
        **({"settings": dict(sorted(plan.target.settings.items()))} if plan.target.settings else {}),
    }
    return progress.snapshot(run_meta)


def probe_all(apis: dict[str, ApiDefinition], root: Path, data_dir: Path, hooks: Hooks, options: RunOptions) -> list[TargetRun]:
    """Probe every selected (API, target) pair; return the classified runs (nothing is written).

    First every pair whose cells are all current is answered from the store without starting its
    target; then the targets the remaining pairs need are started together; then those are probed.
    One target failing never stops the others (``options.failures``); its previous observations stay.
    """
    store = Store(data_dir)
    pairs = list(selected_profiles(apis, options, root))
    runs: dict[int, TargetRun] = {}
    classifier = classifier_fingerprint(hooks)
    cache_root = options.cache_root or Path(os.environ.get(CACHE_ENV) or root.parent / ".cache" / "authcat")
    with scratch_folder("run") as scratch, \
            contextlib.nullcontext(options.pool) if options.pool is not None \
            else TargetPool(hooks.launchers, cache_root, scratch, log=options.log) as pool:
        needed: list[int] = []
        for n, (definition, profile) in enumerate(pairs):
            name = definition.api.name
            if profile.launcher and not options.refresh and store.read_partial(name, profile.name) is None \
                    and not profile_problem(profile, root.parent):
                try:
                    version = pool.version(profile)
                except Exception:
                    version = None
                current = version is not None and reuse_without_start(
                    definition, profile, version, hooks, options, store.read(name, profile.name), classifier)
                if current:
                    runs[n] = current
                    options.log(f"{name} on {profile.name} ({version}): every cell current, "
                                f"{profile.launcher} not started")
                    continue
            needed.append(n)
        def probe_pair(n: int) -> None:
            definition, profile = pairs[n]
            try:
                runs[n] = _probe_target(definition, profile, pool, root, store, hooks, options, classifier)
            except TargetError as exc:
                # One target failing never stops the others; its previous observations stay.
                message = str(exc)  # launchers scrub what they report (catalog.targets.process)
                failed = options.unreachable if isinstance(exc, TargetUnreachable) else options.failures
                failed.append((str(profile.source.file), message))
                options.log(f"{profile.source.file}: target {profile.name} failed, its previous observations are kept: {message}")

        # Every launcher starts at once; each target is probed as soon as its own server is up,
        # while the others still start (remote targets and profiles with a problem first).
        launched = [n for n in needed if pairs[n][1].launcher and not profile_problem(pairs[n][1], root.parent)]
        waiting: dict[str | None, list[int]] = {}
        for n in launched:
            waiting.setdefault(pool.key(pairs[n][1]), []).append(n)
        with pool.starting(pairs[n][1] for n in launched) as ready:
            for n in needed:
                if n not in launched:
                    probe_pair(n)
            for key in ready:
                for n in waiting.pop(key, []):
                    probe_pair(n)
        for ns in waiting.values():  # already running before (none today), or not reported: in order
            for n in ns:
                probe_pair(n)
        options.timings = dict(pool.timings)
    for n, run in runs.items():
        _attach_and_mark(run, pairs[n][0], pairs[n][1], options)
    return [runs[n] for n in sorted(runs)]


def _probe_target(definition: ApiDefinition, profile: TargetProfile, pool: TargetPool, root: Path, store: Store,
                  hooks: Hooks, options: RunOptions, classifier: dict[str, Any]) -> TargetRun:
    """Start (or reuse) the profile's target and probe every endpoint of the API on it."""
    target = pool.running(profile, root)
    presentations, unavailable = states_for(hooks, definition, target)
    plan = Plan(definition, target, presentations, unavailable)
    # A value a state sends that holds no credential part (malformed's `Bearer !!!`) is no secret:
    # its request record shows it as sent.
    secrets = target.credentials.secrets() + [
        v for state, p in presentations.items() for v in p.values()
        if v not in published_values(state, p, credential_names(target.credentials))]
    scrub = Scrubber(secrets, [c.identity for c in target.credentials.roles.values()],
                     personal=not identities_public(profile, target.base_url))
    settings = ProbeSettings(
        concurrency=options.concurrency or profile.concurrency,
        rate_limit=options.rate_limit or profile.rate_limit,
        timeout=profile.timeout, retries=profile.retries, keep_bodies=options.keep_bodies,
    )
    previous = store.read(definition.api.name, profile.name)
    partial = store.read_partial(definition.api.name, profile.name)
    options.log(f"probing {definition.api.name} on {profile.name} ({target.version or 'version unknown'})")
    return asyncio.run(_probe_plan(plan, hooks, options, previous, settings, scrub, store, partial,
                                   Keys.of(plan, classifier)))


def _attach_and_mark(run: TargetRun, definition: ApiDefinition, profile: TargetProfile, options: RunOptions) -> None:
    by_id = {e.id: e for e in definition.endpoints}
    for endpoint_id, result in run.endpoints.items():
        result.endpoint = by_id.get(endpoint_id)
    found = mark_unrecognised(run)  # a credential the server never read makes nothing public
    if not found.recognised:
        options.log(f"{profile.source}: {found.reason}")
