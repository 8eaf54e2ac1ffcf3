"""``authcat collect``: observe an API on your own tenant and write one shareable submission.

The run is the ordinary probe of a remote target profile (URL and credential references from the
environment, as the "Probe your own Jira site" guide describes), made into a submission by
:mod:`catalog.runs.submissions`: nothing is written under ``site/data`` and nothing leaves the
machine; the contributor reviews the file and adds it by pull request. Before writing, the file is
searched for every credential part of the run in every form the scrubber knows (the user's own
secrets are the canaries), for the tenant's address, identities and discovered keys, and for
anything shaped like a credential; one hit and nothing is written.

``lint`` validates committed submissions (``catalog.pipeline.lint_submissions``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from catalog.answers.columns import state_order
from catalog.answers.publication import Publication
from catalog.answers.tenants import tenant_cells, tenant_runs
from catalog.definitions.loader import load_all
from catalog.hooks.manager import Hooks
from catalog.hooks.specs import hookimpl
from catalog.model.errors import AuthcatError, InputError, TargetsFailed
from catalog.pipeline import template_keys
from catalog.runs import submissions
from catalog.runs.results import SitePage, TargetRun
from catalog.runs.store import atomic_write, dumps
from catalog.secrets.scrub import Scrubber
from catalog.targets.readiness import is_ready, profile_base_url
from catalog.targets.secret_refs import SecretRefError, profile_credentials

# How to make a state a tenant lacks: the credential a contributor can keep for it.
HOW_TO_ADD = {
    "revoked": "a token you created and then revoked (keep it: a revoked token stays revoked)",
    "expired": "a token created with the shortest expiry, kept until it has expired",
    "wrong-identity": "the email of a second account on the tenant (no token needed)",
    "unprivileged": "a token of a second account that may not see your projects",
    "deactivated": "a token of an account an admin has deactivated",
}


class SubmissionRefused(AuthcatError):
    """The submission would have shared what it must not: nothing was written."""


def _say(message: str) -> None:
    click.echo(message, err=True)


def salt() -> bytes:
    """The contributor's own salt (``catalog.runs.submissions.salt``)."""
    return submissions.salt(os.environ, Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"))


def write_checked(doc: Mapping[str, Any], out: Path, canaries: Scrubber, private: submissions.Private) -> None:
    """Write a submission only when :func:`catalog.runs.submissions.problems` finds nothing in it."""
    text = dumps(doc)
    if found := submissions.problems(text, canaries, private):
        raise SubmissionRefused(f"not written: {'; '.join(found)}. This is a bug in authcat's scrubbing: please report "
                                "it without the file")
    atomic_write(out, text)


def _discovered(run: TargetRun) -> dict[str, str]:
    """The values the run discovered on the tenant (project and issue keys …), by parameter name."""
    found = {**(run.meta.get("query") or {}), **(run.meta.get("params") or {})}
    return {str(k): str(v) for k, v in found.items() if v}


def _missing(run: TargetRun) -> list[str]:
    """One line per state the tenant could not provide: why, and how to add it."""
    lines = []
    for state, info in run.states.items():
        if info.get("available", True) or info.get("family") == "presentation":
            continue
        how = HOW_TO_ADD.get(state)
        lines.append(f"  {state}: n/a ({info.get('reason') or 'not available'})" + (f" — add it with {how}" if how else ""))
    return lines


def shared_lines(doc: Mapping[str, Any]) -> list[str]:
    """What the submission shares, in a few lines (printed before the contributor sends it)."""
    meta = doc["run"]
    endpoints = doc["endpoints"]
    observed = [e for e in endpoints.values() if e.get("states")]
    cells = sum(len(e["states"]) for e in observed)
    available = [s for s, i in doc["states"].items() if i.get("available")]
    return [
        (f"  {doc['api']} ({meta.get('vendor')}), version {meta.get('target_version') or 'not reported'}, "
         f"{meta.get('date')}, authcat {meta.get('authcat_version')}"),
        (f"  {len(observed)} endpoints observed ({len(endpoints)} listed), {cells} cells: outcome, status, "
         "content type, size, shape, count, allow-listed headers"),
        f"  states: {', '.join(available)}",
        (f"  the tenant only as {doc['target']} (a key of its address with your own salt); no URL, identity, "
         "account id, project or issue key"),
    ]


def collect_run(root: Path, hooks: Hooks, api: str, target: str, out: Path, rate_limit: float | None = None,
                concurrency: int | None = None) -> dict[str, Any]:
    """Probe ``target`` (a remote profile of ``api``), write its submission to ``out``; return it."""
    from catalog.engine.runner import RunOptions, probe_all  # loaded by every `authcat` start: the engine only here

    endpoints_dir = root / "endpoints"
    definition = load_all(endpoints_dir, only=[api]).get(api)
    if definition is None:
        raise InputError(f"--api: no API {api!r} under {endpoints_dir}")
    profile = definition.targets.get(target)
    if profile is None:
        raise InputError(f"--target: {api} has no target {target!r} (have: {', '.join(sorted(definition.targets))})")
    if profile.launcher:
        raise InputError(f"--target: {target!r} is started locally by the {profile.launcher!r} plugin; collect "
                         "observes your own tenant: use a profile whose URL comes from the environment "
                         "(e.g. base_url_env)")
    ready, why = is_ready(profile, root)
    if not ready:
        raise InputError(f"--target {target}: not ready: {why}")
    base_url = profile_base_url(profile)
    assert base_url  # is_ready checked it
    try:
        credentials, _ = profile_credentials(profile, root)
    except SecretRefError as exc:
        raise InputError(str(exc)) from None
    _say(f"collecting {api} on {target}: {len(definition.endpoints)} endpoints, only safe methods, "
         f"at most {rate_limit or profile.rate_limit or 'unlimited'} requests/s")
    options = RunOptions(apis=[api], targets=[target], refresh=True, rate_limit=rate_limit, concurrency=concurrency,
                         log=lambda m: _say(f"  {m}"))
    with tempfile.TemporaryDirectory(prefix="authcat-collect-") as scratch:  # never the project's site/data
        runs = probe_all({api: definition}, endpoints_dir, Path(scratch), hooks, options)
    if options.failures:
        raise TargetsFailed(options.failures)
    if not runs:
        raise InputError(f"--target {target}: nothing was probed")
    [run] = runs
    identities = tuple(c.identity for c in credentials.roles.values() if c.identity)
    private = submissions.Private(base_url, identities, _discovered(run))
    tenant = submissions.tenant_key(submissions.origin_of(base_url), salt())
    doc = submissions.build(run, vendor=definition.api.title, tenant=tenant, keys=template_keys(definition),
                            private=private)
    write_checked(doc, out, Scrubber(credentials.secrets(), identities), private)
    if missing := _missing(run):
        _say("states this tenant could not provide (they stay n/a in the submission):")
        for line in missing:
            _say(line)
    click.echo("This is exactly what will be shared:")
    for line in shared_lines(doc):
        click.echo(line)
    click.echo(f"Written to {out}. To submit it, copy it to site/data/submissions/{api}/{doc['target']}.json and "
               "open a pull request (`authcat lint` checks it first).")
    return doc


@click.command("collect")
@click.option("--api", required=True, help="The API folder under endpoints/.")
@click.option("--target", required=True, help="A remote target profile of that API: your own tenant.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Where to write the submission.")
@click.option("--rate-limit", type=click.FloatRange(min=0.01), help="Requests per second (default: the profile's).")
@click.option("--concurrency", type=click.IntRange(1, 64), help="Requests in flight (default: the profile's).")
@click.pass_obj
def collect(ctx: Any, api: str, target: str, out: Path, rate_limit: float | None, concurrency: int | None) -> None:
    """Observe an API on your own tenant and write one submission to share.

    The tenant's URL and your credentials come from the environment, as for `run`. The file holds
    no URL, identity, account id, project or issue key; it is refused (not written) if it holds
    any form of one of your credentials.
    """
    collect_run(ctx.project.root, ctx.hooks, api, target, out, rate_limit, concurrency)


@hookimpl(trylast=True)
def authcat_register_commands(cli: click.Group) -> None:
    cli.add_command(collect)


@hookimpl(trylast=True)
def authcat_site_pages(publication: Publication, render: Callable[..., str]) -> list[SitePage] | None:
    """One page per API with submissions: every cell as the tenants observed it, splits first."""
    pages = []
    for name, api in sorted(publication.data.apis.items()):
        tenants = tenant_runs(api)
        if not tenants:
            continue
        cells = tenant_cells(api)
        order = {s: i for i, s in enumerate(state_order(publication.data))}
        rows = []
        for endpoint in api.definition.endpoints:
            if endpoint.id in cells:
                rows.append((endpoint, sorted(cells[endpoint.id].values(), key=lambda c: order.get(c.state, 99))))
        flat = [c for _, row in rows for c in row]
        splits = [(e, c) for e, row in rows for c in row if not c.agree]
        counts = {"cells": len(flat), "agree": sum(c.agree for c in flat), "split": len(splits)}
        text = render("tenants.md.j2", api=api, tenants=tenants, rows=rows, splits=splits, counts=counts)
        pages.append(SitePage(f"apis/{name}/tenants.md", text, nav=("Vendor tenants", api.definition.api.title)))
    return pages or None
