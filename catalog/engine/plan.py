"""What one run plans: its options, and for each (API, target) pair the states, parameters and URLs.

Shared by the runner (``catalog.engine.runner``), which probes plans, and the cache (``catalog.engine.reuse``),
which decides from stored runs what a plan still needs.

Four words, one meaning each: a *probe* is one request (endpoint × state × target,
``catalog.engine.probe``); a *plan* is what one (API, target) pair will be probed with
(``catalog.engine.plan``); the *runner* carries out every plan of a run and hands back the
classified runs (``catalog.engine.runner``); the *pipeline* is the whole job around it — find the
project, probe, record, build (``catalog.pipeline``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode, urlsplit

from catalog.definitions.loader import ApiDefinition, climbs
from catalog.hooks.manager import Hooks
from catalog.model.credentials import AuthScheme, NotAvailable, Presentation
from catalog.model.definition import Api, Body, Endpoint, RunningTarget, TargetProfile
from catalog.model.errors import InputError
from catalog.model.judgement import Judgement
from catalog.model.observation import Observation
from catalog.model.vocabulary import NEVER_SENT, SAFE_METHODS, Outcome, State, Verdict
from catalog.runs.results import Cell
from catalog.targets.readiness import is_ready
from catalog.targets.secret_refs import unsendable

if TYPE_CHECKING:
    from catalog.targets.profiles import TargetPool


@dataclass
class RunOptions:
    apis: list[str] | None = None
    targets: list[str] | None = None
    refresh: bool = False  # ignore cached cells
    # Targets the operator allows unsafe methods on (``--unsafe NAME``: a target name, or API/name).
    unsafe_targets: frozenset[str] = frozenset()
    keep_bodies: bool = False
    cache_root: Path | None = None
    # A progress display: track("jira-cloud on backlot", probes) before a target's probes start
    # returns the function that advances it by n finished probes.
    track: Callable[[str, int], Callable[[int], None]] | None = None
    log: Callable[[str], None] = print
    rate_limit: float | None = None  # overrides the profiles' rate limit
    concurrency: int | None = None
    timings: dict[str, float] = field(default_factory=dict)  # filled in: seconds each launcher took to start
    # (profile file, message) of every target that failed; the others' runs go on (design.md).
    failures: list[tuple[str, str]] = field(default_factory=list)
    # (profile file, message) of every target no probe of which got an answer (nothing recorded).
    unreachable: list[tuple[str, str]] = field(default_factory=list)
    # Servers the caller started (or lets the run start) and stops itself: several runs against one
    # launched server. None: the run starts its own and stops them at its end.
    pool: TargetPool | None = None


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
        return endpoint_url(self.target.base_url, endpoint, self.made_params(endpoint),
                            self.target.profile.queries.get(endpoint.id), self.static_query)

    def made_params(self, endpoint: Endpoint) -> dict[str, str]:
        """The plan's parameters, plus placeholders for those the endpoint's setup makes per state."""
        setup = self.target.profile.setup.get(endpoint.id)
        if setup is None:
            return self.params
        made = [*setup.set, *(n for r in setup.requests for n in r.capture), "probe"]
        return {**{n: "{" + n + "}" for n in made}, **self.params}

    @property
    def static_headers(self) -> dict[str, str]:
        return {**self.definition.api.headers, **self.target.profile.headers}

    def request(self, url: str, presentation: Presentation,
                own: Mapping[str, str] | None = None) -> tuple[str, dict[str, str]]:
        """The URL and headers one state sends: static values, the endpoint's ``own`` headers
        (``Depth``, the body's ``Content-Type``), then the state's credential."""
        return presentation.url(url), {**self.static_headers, **(own or {}), **presentation.headers}

    def body(self, endpoint: Endpoint) -> Body | None:
        """The body sent with ``endpoint``: the target's for it, else the endpoint's, else the spec's example."""
        return self.target.profile.bodies.get(endpoint.id) or endpoint.sent_body

    def content(self, endpoint: Endpoint, params: Mapping[str, str] | None = None) -> tuple[bytes | None, dict[str, str]]:
        """The body's bytes and the endpoint's own headers (with the body's Content-Type)."""
        headers = dict(endpoint.headers)
        body = self.body(endpoint)
        if body is None:
            return None, headers
        data = body.encoded(params if params is not None else self.params)
        headers["Content-Type"] = body.content_type
        return data, headers

    def cache_url(self, endpoint: Endpoint) -> str | None:
        """The URL as the probe cache sees it: a launcher's fixture ids (new at every launch) stay
        placeholders, so an unchanged definition on the same server version reuses its cells."""
        made = {k: "{" + k + "}" for k in self.target.parameters if k not in self.target.profile.parameters}
        return endpoint_url(self.target.base_url, endpoint, {**self.made_params(endpoint), **made},
                            self.target.profile.queries.get(endpoint.id), self.static_query)


def selected_profiles(apis: dict[str, ApiDefinition], options: RunOptions, root: Path
                      ) -> Iterator[tuple[ApiDefinition, TargetProfile]]:
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
MAX_PARAM_CHARS = 1024  # a discovered path value longer than this is not an id: refused


def path_segment(value: str) -> str:
    """``value`` as exactly one path segment: every reserved character percent-encoded, and the
    dot segments ``.`` and ``..`` too (``%2E``), which servers would otherwise resolve away."""
    encoded = quote(value, safe="")
    return encoded.replace(".", "%2E") if encoded in (".", "..") else encoded


def endpoint_url(base_url: str, endpoint: Endpoint, params: Mapping[str, str],
                 query: Mapping[str, str] | None = None, static: Mapping[str, str] | None = None) -> str | None:
    """The URL to probe, or None when a path parameter has no value. Never leaves the base origin
    nor climbs out of the base path.

    Query values, later winning: ``static`` (the API's and target's), the endpoint's own, then
    the target's values for this endpoint.
    """
    if climbs(urlsplit(base_url).path + endpoint.path):  # defence in depth; lint refuses these
        raise InputError(f"{endpoint.source}: {endpoint.id} would climb out of {base_url}")
    path = endpoint.path
    for name in endpoint.path_params:
        if name not in params:
            return None
        path = path.replace("{" + name + "}", path_segment(params[name]))
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


def api_scheme(hooks: Hooks, api: Api) -> AuthScheme:
    """The API's scheme: declared in its api.yaml, or a scheme plugin's by name."""
    scheme = api.auth or hooks.schemes.get(api.scheme)
    if scheme is None:
        raise InputError(f"{api.source}: scheme: no auth scheme plugin named {api.scheme!r} "
                         f"(have: {', '.join(sorted(hooks.schemes))}; or declare one, see the api.yaml reference)")
    return scheme


def states_for(hooks: Hooks, definition: ApiDefinition, target: RunningTarget) -> tuple[dict, dict]:
    scheme = api_scheme(hooks, definition.api)
    wanted = definition.api.states or tuple(hooks.states)
    presentations: dict[str, Presentation] = {}
    unavailable: dict[str, str] = {}
    for name in wanted:
        state = hooks.states.get(name)
        if state is None:
            unavailable[name] = "no plugin provides this state"
            continue
        if name in target.unavailable_states:
            unavailable[name] = target.unavailable_states[name]
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


def unsafe_allowed(profile: TargetProfile, unsafe_targets: frozenset[str]) -> bool:
    """Whether the operator named this target with ``--unsafe`` (its name, or ``API/name``)."""
    return profile.name in unsafe_targets or f"{profile.api}/{profile.name}" in unsafe_targets


def not_sent(endpoint: Endpoint, profile: TargetProfile, unsafe_targets: frozenset[str] = frozenset()) -> str | None:
    """Why the method policy keeps ``endpoint`` from ``profile``'s server, or None when it is sent.

    Safe methods are always sent; an unsafe one goes to a launched target (its data is disposable),
    to an endpoint declared ``safe: true``, or to a target the operator named with ``--unsafe``.
    """
    if endpoint.method in NEVER_SENT:
        return NEVER_SENT[endpoint.method]
    if endpoint.reads_only or profile.launcher or unsafe_allowed(profile, unsafe_targets):
        return None
    return (f"{endpoint.method} is not a safe method and {profile.name} is not a launched target: sent only "
            f"with --unsafe {profile.name} (or when the endpoint declares safe: true)")


def not_sent_by_policy(definition: ApiDefinition, profile: TargetProfile,
                       unsafe_targets: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """The endpoints the method policy keeps from ``profile``'s server, by method: for ``lint``
    and ``targets``, which say so before anything is sent."""
    out: dict[str, list[str]] = {}
    for endpoint in definition.endpoints:
        if not endpoint.removed and not_sent(endpoint, profile, unsafe_targets) is not None:
            out.setdefault(endpoint.method, []).append(endpoint.id)
    return out


def policy_line(definition: ApiDefinition, profile: TargetProfile) -> str:
    """One line: what the method policy sends to this target."""
    kept = not_sent_by_policy(definition, profile)
    unsafe = sum(1 for e in definition.endpoints if not e.reads_only and not e.removed)
    if not kept:
        if profile.launcher and unsafe:
            return f"all {unsafe} unsafe-method endpoints sent (launched: its data is disposable)"
        return "every endpoint sent"
    count = sum(len(v) for v in kept.values())
    methods = ", ".join(f"{m} {len(v)}" for m, v in sorted(kept.items()))
    never = [m for m in kept if m in NEVER_SENT]
    tail = "" if never and len(never) == len(kept) else f"; --unsafe {profile.name} sends them"
    return f"{count} not sent ({methods}): unsafe methods to a target that is not launched{tail}"


def why_not_probed(endpoint: Endpoint, plan: Plan, url: str | None, options: RunOptions) -> tuple[str, str] | None:
    if endpoint.removed:
        return Verdict.NOT_PROBED, "removed from the vendor's spec"
    profile = plan.target.profile
    if (why := not_sent(endpoint, profile, options.unsafe_targets)) is not None:
        return Verdict.NOT_PROBED, why
    if endpoint.id in profile.skip:
        return Verdict.NOT_PROBED, profile.skip[endpoint.id]
    setup = profile.setup.get(endpoint.id)
    writes = setup is not None and any(r.method not in SAFE_METHODS for r in setup.requests)
    if writes and not (profile.launcher or unsafe_allowed(profile, options.unsafe_targets)):
        return Verdict.NOT_PROBED, (f"its setup writes, and {profile.name} is not a launched target: "
                                    f"sent only with --unsafe {profile.name}")
    if plan.target.serves is not None and not plan.target.serves(endpoint):
        return Verdict.NOT_SERVED, f"not served by {plan.target.profile.name}"
    if plan.query_errors:  # a required static query value (an API version, a tenant) is missing
        return Verdict.NOT_PROBED, "; ".join(plan.query_errors.values())
    if url is None:
        missing = [p for p in endpoint.path_params if p not in plan.params]
        reasons = [plan.param_errors.get(p, f"no value for {{{p}}} in the target profile") for p in missing]
        return Verdict.NOT_PROBED, "; ".join(reasons)
    body = plan.body(endpoint)
    if body is not None and (missing := [p for p in body.params if p not in plan.made_params(endpoint)]):
        return Verdict.NOT_PROBED, "; ".join(plan.param_errors.get(p, f"no value for {{{p}}} in the request body")
                                             for p in missing)
    return None


def classify_endpoint(hooks: Hooks, plan: Plan, endpoint: Endpoint, observations: dict[str, Observation]) -> dict[str, Cell]:
    valid, anonymous = observations.get(State.VALID), observations.get(State.ANONYMOUS)
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


def state_order(hooks: Hooks, states: dict) -> list[str]:
    known = list(hooks.states)
    return sorted(states, key=lambda s: (known.index(s) if s in known else len(known), s))
