"""``authcat watch-revocation`` and the site pages that show its measurements (the command's part:
the measurement itself is the engine's, ``catalog.engine.revocation_latency``).

The command resolves an API, a remote target profile and an endpoint, reads the token from an
environment variable (never from an argument: arguments end up in shell history and process
lists), and hands the watch to :mod:`catalog.engine.revocation_latency`. Measurements are stored with the
API's data in ``site/data/revocation/<api>.json`` and published on ``apis/<api>/revocation.md``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

from catalog.answers.publication import Publication
from catalog.cli import Context
from catalog.commands import collect
from catalog.definitions.loader import ApiDefinition, load_api
from catalog.engine.request import ProbeSettings
from catalog.engine.revocation_latency import Measurement, Poll, WatchPlan, format_duration
from catalog.engine.revocation_latency import load as load_measurements
from catalog.engine.revocation_latency import record as record_measurement
from catalog.engine.revocation_latency import watch as watch_token
from catalog.hooks.manager import Hooks
from catalog.hooks.specs import hookimpl
from catalog.model.credentials import Credential, Presentation
from catalog.model.definition import Discovery, RunningTarget, TargetProfile
from catalog.model.errors import WatchError
from catalog.model.vocabulary import State
from catalog.runs import submissions
from catalog.runs.results import SitePage
from catalog.secrets.binding import runtime_problem as origin_problem
from catalog.secrets.scrub import Scrubber, seal_value
from catalog.targets.launchers import Revocable
from catalog.targets.process import scratch_folder
from catalog.targets.profiles import TargetPool
from catalog.targets.readiness import profile_base_url
from catalog.targets.secret_refs import SecretRefError, resolve_ref


def _echo(message: str) -> None:
    # stderr, flushed: a script driving the watch (or a test) waits for the "revoke now" line.
    click.echo(message, err=True)
    sys.stderr.flush()


def _env(name: str, what: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise WatchError(f"{what}: environment variable {name} is not set or empty")
    return value


async def _discover(definition: ApiDefinition, profile: TargetProfile, base_url: str, headers: dict[str, str],
                    scrub: Scrubber, presentation: Presentation,
                    params: dict, static_query: dict) -> dict[str, str]:
    """Static query values, then path parameters, discovered from other endpoints' answers to the
    token as `run` does (``catalog.api.discover``: the same checks on the server's values).
    Fills ``static_query`` and ``params``; returns why each value that could not be found was not."""
    errors: dict[str, str] = {}
    from catalog.engine.probe import Prober  # the HTTP stack only when the command runs
    from catalog.engine.runner import discover, endpoint_url

    async with Prober(ProbeSettings(concurrency=1, retries=0), scrub) as prober:
        for kind, declared, into in (("query ", profile.query, static_query), ("", profile.parameters, params)):
            for name, value in declared.items():
                if not isinstance(value, Discovery):
                    continue
                source = definition.endpoint(value.endpoint)
                url = endpoint_url(base_url, source, params, profile.queries.get(source.id), static_query) if source else None
                found, why = await discover(prober, name, value, (presentation.url(url), headers) if url else None, kind)
                if found is not None:
                    into[name] = found
                else:
                    errors[name] = scrub(why or "")
    return errors


def load_profile(root: Path, api: str, target: str) -> tuple[ApiDefinition, TargetProfile]:
    definition = load_api(root / "endpoints" / api, root / "endpoints")
    profile = definition.targets.get(target)
    if profile is None:
        raise WatchError(f"{api} has no target {target!r} (have: {', '.join(sorted(definition.targets)) or 'none'})")
    return definition, profile


def build_plan(root: Path, hooks: Hooks, api: str, target: str, endpoint_id: str, token_env: str | None,
               identity_env: str | None, interval: float, max_wait: float, confirm: int,
               launched: RunningTarget | None = None, revocable: Revocable | None = None) -> WatchPlan:
    """The watch of a remote target (the token from ``token_env``), or of a launched one
    (``launched``, with a fresh token from one of its ``revocable`` ways)."""
    from catalog.engine.runner import endpoint_url  # the engine only when the command runs

    definition, profile = load_profile(root, api, target)
    if launched is not None and revocable is not None:
        base_url = launched.base_url  # the plugin's own server on 127.0.0.1, its own fresh token
    else:
        if profile.launcher:
            raise WatchError(f"target {target!r} is started locally by the {profile.launcher!r} plugin: pass "
                             "--revoke with one of the ways it can revoke a token")
        remote = profile_base_url(profile)
        if not remote:
            raise WatchError(f"target {target!r} has no base URL: set {profile.base_url_env or 'base_url in its profile'}")
        # The token is the operator's (--token-env), but the profile is contributed: the URL must be
        # one the operator named too (catalog.secrets.binding).
        if why := origin_problem(profile, remote, credentialed=True):
            raise WatchError(f"{profile.source}: {why}")
        base_url = remote.rstrip("/") + profile.prefix
    endpoint = definition.endpoint(endpoint_id)
    if endpoint is None:
        raise WatchError(f"{api} has no endpoint with id {endpoint_id!r}")
    scheme = definition.api.auth or hooks.schemes.get(definition.api.scheme)
    if scheme is None:
        raise WatchError(f"no auth scheme plugin named {definition.api.scheme!r}")
    if revocable is not None:
        secret = revocable.credential.secret
    elif token_env:
        secret = _env(token_env, "--token-env")
    else:
        raise WatchError("--token-env: name the environment variable that holds the token you will revoke")
    if identity_env:
        identity = _env(identity_env, "--identity-env")
    else:  # the profile's own identity reference for the valid role, when it has one
        try:
            identity = resolve_ref(profile.credentials.get(State.VALID, {}).get("identity"), root) or ""
        except SecretRefError as exc:
            raise WatchError(f"{profile.source}: credentials.valid.identity: {exc}") from None
    presentation = scheme.present(Credential(secret, identity))
    scrub = Scrubber([secret, *presentation.values()], [identity])
    static_headers = {**definition.api.headers, **profile.headers}
    static_query = {**definition.api.query, **{k: v for k, v in profile.query.items() if isinstance(v, str)}}
    headers = {**static_headers, **presentation.headers}
    params = {**(launched.parameters if launched else {}),
              **{k: v for k, v in profile.parameters.items() if not isinstance(v, Discovery)}}
    unfound: dict[str, str] = {}
    if any(isinstance(v, Discovery) for v in (*profile.parameters.values(), *profile.query.values())):
        import asyncio  # the event loop only when the command runs (the plugin loads at every start)

        unfound = asyncio.run(_discover(definition, profile, base_url, headers, scrub, presentation, params,
                                        static_query))
    url = endpoint_url(base_url, endpoint, params, profile.queries.get(endpoint.id), static_query)
    if url is None:
        missing = [p for p in endpoint.path_params if p not in params]
        if why := "; ".join(unfound[p] for p in missing if p in unfound):
            raise WatchError(f"{endpoint_id}: {why}")
        raise WatchError(f"{endpoint_id}: no value for {', '.join('{' + p + '}' for p in missing)} in the target profile")
    return WatchPlan(api=definition.api, endpoint=endpoint, target=target, url=url, token_headers=headers,
                     token_query=presentation.query, static_headers=static_headers, scrub=scrub,
                     classify=hooks.classify, interval=interval, max_wait=max_wait,
                     confirm=confirm, timeout=profile.timeout,
                     target_version=launched.version if launched else None)


@click.command("watch-revocation")
@click.option("--api", required=True, help="The API folder under endpoints/.")
@click.option("--target", required=True, help="A remote target profile of that API.")
@click.option("--endpoint", "endpoint_id", required=True, help="The endpoint id to poll (a GET).")
@click.option("--token-env", metavar="VAR", help="Env var holding the token you are about to revoke (remote targets).")
@click.option("--revoke", "revoke_by", metavar="HOW",
              help="A launched target: let it issue a fresh token and revoke it this way (e.g. logout, deactivate).")
@click.option("--identity-env", metavar="VAR", help="Env var holding the identity (email) sent with it (Basic schemes).")
@click.option("--interval", type=click.FloatRange(min=0.1), default=10.0, show_default=True, help="Seconds between polls.")
@click.option("--max-wait", type=click.FloatRange(min=0.1), default=1800.0, show_default=True, help="Give up after this many seconds.")
@click.option("--confirm", type=click.IntRange(1, 100), default=3, show_default=True,
              help="Polls in a row the new answer must hold before the watch stops.")
@click.option("--no-record", is_flag=True, help="Print the measurement; do not store it under site/data.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Your own tenant: write the measurement as a submission to share (no URL, identity or key "
                   "of the tenant), instead of storing it under site/data.")
@click.pass_obj
def watch_revocation(ctx: Context, api: str, target: str, endpoint_id: str, token_env: str | None, revoke_by: str | None,
                     identity_env: str | None, interval: float, max_wait: float, confirm: int, no_record: bool,
                     out: Path | None) -> None:
    """Measure how long a token keeps working after you revoke it.

    Takes a baseline (the token's answer and the anonymous answer), tells you to revoke the token,
    then polls the endpoint every --interval seconds and reports when and how the answer changed.
    On a target a plugin starts (Synapse), --revoke lets the plugin issue and revoke the token.
    """
    args = (ctx, api, target, endpoint_id, token_env, identity_env, interval, max_wait, confirm, no_record)
    if not revoke_by:
        _watch(*args, out=out)
        return
    if out is not None:
        raise WatchError("--out shares a measurement on your own tenant: a target a plugin starts is no tenant")
    root = ctx.project.root
    _, profile = load_profile(root, api, target)
    if not profile.launcher:
        raise WatchError(f"--revoke needs a target started by a plugin; {target!r} is remote: revoke it yourself")
    from catalog.engine.runner import CACHE_ENV

    cache = Path(os.environ.get(CACHE_ENV) or root / ".cache" / "authcat")
    with scratch_folder("watch") as scratch, TargetPool(ctx.hooks.launchers, cache, scratch, log=_echo) as pool:
        running = pool.running(profile, root / "endpoints")
        if revoke_by not in running.revocations:
            ways = ", ".join(sorted(running.revocations)) or "none"
            raise WatchError(f"--revoke {revoke_by!r}: the {profile.launcher!r} plugin can revoke by: {ways}")
        _watch(*args, launched=running, revocable=running.revocations[revoke_by]())


def _watch(ctx: Context, api: str, target: str, endpoint_id: str, token_env: str | None, identity_env: str | None,
           interval: float, max_wait: float, confirm: int, no_record: bool,
           launched: RunningTarget | None = None, revocable: Revocable | None = None, out: Path | None = None) -> None:
    root = ctx.project.root
    plan = build_plan(root, ctx.hooks, api, target, endpoint_id, token_env, identity_env, interval, max_wait,
                      confirm, launched, revocable)

    def on_baseline(m: Measurement, warnings: list[str]) -> None:
        anon = m.baseline[State.ANONYMOUS]
        _echo(f"baseline: token → {m.from_outcome} (HTTP {m.baseline['token']['status']}); "
              f"anonymous → HTTP {anon['status'] if anon['status'] is not None else anon['error']}")
        for warning in warnings:
            _echo(f"warning: {warning}")
        if revocable is not None:
            revocable.revoke()
            m.revoked_by = revocable.how
            _echo(f"Revoked the token ({revocable.how}). Polling {plan.endpoint.method} {plan.endpoint.path} "
                  f"every {interval:g} s for up to {format_duration(max_wait)}.")
            return
        _echo(f"Revoke the token now. Polling {plan.endpoint.method} {plan.endpoint.path} every "
              f"{interval:g} s for up to {format_duration(max_wait)}.")

    def on_poll(poll: Poll) -> None:
        _echo(f"  {format_duration(poll.after_s):>10}  {poll.status if poll.status is not None else '—'}  {poll.outcome}")

    import asyncio

    try:
        measurement = asyncio.run(watch_token(plan, on_baseline, on_poll))
    except WatchError as exc:
        raise WatchError(plan.scrub(str(exc))) from None
    click.echo(measurement.describe())
    if out is not None:
        _submit(ctx, plan, measurement, out)
    elif not no_record:
        path = record_measurement(ctx.project.data, measurement, plan.scrub)
        _echo(f"stored in {path}")


def _submit(ctx: Context, plan: WatchPlan, measurement: Measurement, out: Path) -> None:
    """The measurement as a submission (``catalog.runs.submissions.revocation``), checked like
    ``collect``'s before it is written."""
    private = submissions.Private(plan.url)
    tenant = submissions.tenant_key(submissions.origin_of(plan.url), collect.salt())
    doc = submissions.revocation(seal_value(measurement.to_dict(), plan.scrub), plan.api.name, tenant, private)
    collect.write_checked(doc, out, plan.scrub, private)
    click.echo(f"Written to {out}: the measurement, the tenant only as {doc['target']}. To submit it, copy it to "
               f"site/data/submissions/{plan.api.name}/revocation/{doc['target']}-{measurement.date[:10]}.json and "
               "open a pull request.")


@hookimpl(trylast=True)
def authcat_register_commands(cli: click.Group) -> None:
    cli.add_command(watch_revocation)


@hookimpl(trylast=True)
def authcat_site_pages(publication: Publication, render: Callable[..., str]) -> list[SitePage] | None:
    data = publication.data
    if data.data_dir is None:
        return None
    pages = []
    rows: list[dict] = []  # the overview: measured latencies beside reported ones, per API
    for name, api in sorted(data.apis.items()):
        title = api.definition.api.title
        # Measured here, and on users' own tenants (submissions, labelled "vendor tenant").
        measurements = sorted([*load_measurements(data.data_dir, name), *submissions.revocations(data.data_dir, name)],
                              key=lambda m: m.get("date", ""), reverse=True)
        latest: dict[tuple, dict] = {}
        for m in measurements:  # newest first: the latest per target, endpoint and way of revoking
            latest.setdefault((m.get("target"), m.get("endpoint"), m.get("revoked_by")), m)
        rows += [{"api": name, "title": title, "measured": m, "reported": None} for m in latest.values()]
        rows += [{"api": name, "title": title, "measured": None, "reported": r} for r in api.definition.api.reported
                 if r.state in (State.REVOKED, State.DEACTIVATED)]
        if not measurements:
            continue
        text = render("revocation.md.j2", api=api, measurements=measurements, duration=format_duration)
        pages.append(SitePage(f"apis/{name}/revocation.md", text, nav=("Revocation latency", title)))
    if rows:
        text = render("revocation-overview.md.j2", rows=rows, duration=format_duration)
        pages.insert(0, SitePage("revocation.md", text, nav=("Revocation latency", "All APIs")))
    return pages
