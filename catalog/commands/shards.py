"""``authcat plan``, ``probe --shard`` and ``authcat merge``: the catalog probed as a matrix of jobs.

CI splits the job by privilege (site/docs/security.md): a plan job with no secret lists the
(API, target) pairs (``authcat plan --json``, the shape of a GitHub Actions ``strategy.matrix``);
one probe job per pair holds only that target's secrets and writes a *shard* — that pair's sealed
run and its change-log entries (``authcat probe --api A --target T --shard FILE``); a merge job
with no secret records every shard into ``site/data`` (``authcat merge SHARD…``) and builds.

Merging is deterministic: the shards are recorded in the order one process probing everything
records its runs (APIs, then targets, as the definitions list them), whatever order they are given
in, through the same ``pipeline.record``; so the merged ``site/data`` is byte-identical to one
process's. Each shard's change-log entries are recomputed against the data being merged into and
must agree: a shard probed from other data is refused rather than merged into a wrong history.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from catalog.cli import Context, out, pass_ctx
from catalog.definitions.loader import load_all
from catalog.hooks.specs import hookimpl
from catalog.model.errors import InputError
from catalog.pipeline import SHARD_FORMAT, Project, read_changes, record
from catalog.runs.results import TargetRun
from catalog.runs.store import dumps
from catalog.secrets.binding import credential_refs


def pairs(project: Project) -> list[dict[str, Any]]:
    """Every (API, target) pair of the definitions, in the order one process probes them, with
    the environment variables its profile names (what its probe job must be given, and no more)."""
    out_pairs = []
    for name, definition in load_all(project.endpoints).items():
        for profile in definition.targets.values():
            names = sorted({ref.split(" ", 1)[1] for _, _, ref in credential_refs(profile) if ref.startswith("env ")}
                           | ({profile.base_url_env} if profile.base_url_env else set()))
            out_pairs.append({"api": name, "target": profile.name, "launched": bool(profile.launcher), "variables": names})
    return out_pairs


def _read_shard(path: Path, known: dict[tuple[str, str], int]) -> tuple[int, TargetRun, list[dict[str, Any]]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a shard ({exc})") from None
    if not isinstance(doc, dict) or doc.get("shard") != SHARD_FORMAT or not isinstance(doc.get("run"), dict):
        raise InputError(f"{path}: not a shard of format {SHARD_FORMAT}")
    key = (str(doc.get("api")), str(doc.get("target")))
    if key not in known:
        raise InputError(f"{path}: {key[0]}/{key[1]} is not a target of the definitions")
    try:
        run = TargetRun.from_dict(doc["run"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path}: its run cannot be read ({exc})") from None
    if (run.api, run.target) != key:
        raise InputError(f"{path}: its run is of {run.api}/{run.target}, not {key[0]}/{key[1]}")
    return known[key], run, list(doc.get("changes") or [])


def merge(project: Project, shard_paths: list[Path]) -> list[TargetRun]:
    """Record every shard into the project's data, in the one-process order; returns the runs."""
    known = {(p["api"], p["target"]): i for i, p in enumerate(pairs(project))}
    shards = sorted((_read_shard(path, known) for path in shard_paths), key=lambda s: s[0])
    seen: set[tuple[str, str]] = set()
    for _, run, _ in shards:
        if (run.api, run.target) in seen:
            raise InputError(f"two shards of {run.api}/{run.target}")
        seen.add((run.api, run.target))
    before = len(read_changes(project))
    runs = [run for _, run, _ in shards]
    record(project, runs)
    added = read_changes(project)[before:] if len(read_changes(project)) >= before else []
    expected = [e for _, _, entries in shards for e in entries]
    if sorted(map(dumps, added)) != sorted(map(dumps, expected)):
        raise InputError("the shards' change-log entries differ from what their runs give against this data: "
                         "they were probed from other observations (probe and merge one checkout)")
    return runs


@click.command("plan")
@click.option("--json", "as_json", is_flag=True, help="One line of JSON for a GitHub Actions strategy.matrix.")
@pass_ctx
def plan_cmd(ctx: Context, as_json: bool) -> None:
    """List the (API, target) pairs a matrix of probe jobs runs, each with the variables its
    profile names (its job holds those secrets and no other)."""
    found = pairs(ctx.project)
    if as_json:
        click.echo(json.dumps({"include": found}, separators=(",", ":")))
        return
    for pair in found:
        out.print(f"{pair['api']}/{pair['target']}: {', '.join(pair['variables']) or 'no secret'}", markup=False)


@click.command("merge")
@click.argument("shards", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def merge_cmd(ctx: Context, shards: tuple[Path, ...]) -> None:
    """Record the shards of a matrix of probe jobs into site/data (any order gives the same bytes)."""
    from catalog.runs.lock import project_lock

    with project_lock(ctx.project.root, "merge"):
        runs = merge(ctx.project, list(shards))
    for run in runs:
        out.print(f"merged {run.api} on {run.target}", markup=False)


@hookimpl(trylast=True)
def authcat_register_commands(cli: click.Group) -> None:
    cli.add_command(plan_cmd)
    cli.add_command(merge_cmd)
