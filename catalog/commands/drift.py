"""``authcat diff`` and ``authcat check``: what moved between two runs, and whether it regressed.

An *observation set* is an observation file, a folder of them, or a data folder holding
``observations/``. Runs are paired by (API, target); a run left without a partner is paired with
the only other unpaired run of the same API, so a target profile named ``old`` can be compared
with ``local`` (two Datasette versions, say). ``check`` probes into a temporary folder and never
touches the committed observations.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from catalog.cli import Context, pass_ctx, probe_options, run_options
from catalog.cli import err as stderr_console
from catalog.cli import out as stdout_console
from catalog.definitions.loader import ApiDefinition, load_all
from catalog.hooks.specs import hookimpl
from catalog.model.definition import Source
from catalog.model.errors import InputError, RegressionsFound
from catalog.runs.results import TargetRun
from catalog.runs.store import Store, read_file
from catalog.targets.process import scratch_folder

if TYPE_CHECKING:  # the reports and the engine load when a command runs, not at every `authcat` start
    from catalog.answers.reports import Comparison

PREVIOUS = ".previous.json"


def _observation_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    folder = path / "observations" if (path / "observations").is_dir() else path
    # A data folder also holds the replaced runs, interrupted runs and the change log: not runs to compare.
    return sorted(p for p in folder.rglob("*.json")
                  if not p.name.endswith((PREVIOUS, ".partial.json")) and p.name != "changes.json")


def load_set(path: Path) -> list[TargetRun]:
    """Every run in an observation set; a file that is not an observation file is a clear error."""
    runs = []
    for file in _observation_files(path):
        try:
            runs.append(read_file(file))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"{file}: not an authcat observation file ({type(exc).__name__}: {exc})") from None
    return runs


def previous_pairs(data_dir: Path) -> list[tuple[TargetRun, TargetRun]]:
    """Each ``<target>.previous.json`` with the ``<target>.json`` that replaced it."""
    folder = data_dir / "observations"
    pairs = []
    for previous in sorted(folder.rglob(f"*{PREVIOUS}")) if folder.is_dir() else ():
        current = previous.with_name(previous.name[: -len(PREVIOUS)] + ".json")
        if current.exists():
            pairs.append((load_set(previous)[0], load_set(current)[0]))
    return pairs


def pair_runs(old: list[TargetRun], new: list[TargetRun]) -> tuple[list[tuple[TargetRun, TargetRun]], list[TargetRun]]:
    """Pair by (API, target), then the single leftover of each side per API. Returns pairs and unpaired new runs."""
    by_key = {(r.api, r.target): r for r in old}
    pairs, left_new = [], []
    for run in new:
        match = by_key.pop((run.api, run.target), None)
        (pairs.append((match, run)) if match else left_new.append(run))
    left_old: dict[str, list[TargetRun]] = defaultdict(list)
    for run in by_key.values():
        left_old[run.api].append(run)
    unpaired = []
    for run in left_new:
        same_api_new = [r for r in left_new if r.api == run.api]
        if len(left_old[run.api]) == 1 and len(same_api_new) == 1:
            pairs.append((left_old[run.api][0], run))
        else:
            unpaired.append(run)
    return sorted(pairs, key=lambda p: (p[1].api, p[1].target)), unpaired


def _select(runs: list[TargetRun], apis: tuple[str, ...], targets: tuple[str, ...] = ()) -> list[TargetRun]:
    return [r for r in runs if (not apis or r.api in apis) and (not targets or r.target in targets)]


def comparison_json(comparisons: list[Comparison]) -> dict:
    def run_facts(run: TargetRun) -> dict:
        return {"target": run.target, "target_version": run.version, "date": run.meta.get("date")}

    return {"comparisons": [
        {
            "api": c.new.api, "old": run_facts(c.old), "new": run_facts(c.new), "compared": len(c.cells),
            "changes": [{**ch.to_dict(), "regression": ch.regression} for ch in c.changes],
        }
        for c in comparisons
    ]}


def print_changes(comparison: Comparison, only_regressions: bool = False) -> None:
    changes = comparison.regressions if only_regressions else comparison.changes
    for change in changes:
        stdout_console.print(f"  {change}" + ("   [regression]" if change.regression else ""), markup=False, soft_wrap=True)


@click.command("diff")
@click.argument("old", required=False, type=click.Path(exists=True, path_type=Path))
@click.argument("new", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--api", "apis", multiple=True, help="Only this API (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def diff_cmd(ctx: Context, old: Path | None, new: Path | None, apis: tuple[str, ...], as_json: bool) -> None:
    """Print what moved between two observation sets, per endpoint and state.

    OLD and NEW are observation files or folders of them. Without them, each
    <target>.previous.json in site/data/observations is compared with the <target>.json that
    replaced it. Unchanged cells are not printed. Changes are attributed: server behaviour
    (drift: same definition and classifier, a new answer) apart from cells that moved because
    the definition or the classifier changed.
    """
    if (old is None) != (new is None):
        raise InputError("give both OLD and NEW, or neither (to compare the last two runs in site/data)")
    if old is None or new is None:
        pairs, unpaired = previous_pairs(ctx.project.data), list[TargetRun]()
        pairs = [(o, n) for o, n in pairs if not apis or n.api in apis]
    else:
        pairs, unpaired = pair_runs(_select(load_set(old), apis), _select(load_set(new), apis))
    from catalog.answers.reports import compare

    comparisons = [compare(o, n) for o, n in pairs]
    if as_json:
        data = comparison_json(comparisons)
        data["unpaired"] = [{"api": r.api, "target": r.target} for r in unpaired]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if not comparisons:
        stdout_console.print("nothing to compare" + ("" if old else ": no <target>.previous.json in site/data/observations"))
    for comparison in comparisons:
        moved = len(comparison.changes)
        stdout_console.print(f"{comparison.title}: {moved} of {len(comparison.cells)} cells moved", markup=False, soft_wrap=True)
        # Drift first; cells that moved because their definition or the classifier changed apart.
        for drift, title in ((True, "server behaviour (drift)"), (False, "definition or classifier changed")):
            changes = [c for c in comparison.changes if c.drift is drift]
            if changes:
                stdout_console.print(f" {title}: {len(changes)}", markup=False)
                for change in changes:
                    stdout_console.print(f"  {change}" + ("   [regression]" if change.regression else ""), markup=False,
                              soft_wrap=True)
    for run in unpaired:
        stderr_console.print(f"no counterpart for {run.api} on {run.target} in {old}", markup=False)


def _locator(apis: dict[str, ApiDefinition]) -> Callable[[str, str], Source | None]:
    def locate(api: str, endpoint_id: str) -> Source | None:
        definition = apis.get(api)
        endpoint = definition.endpoint(endpoint_id) if definition else None
        return endpoint.source if endpoint else None

    return locate


@click.command("check")
@probe_options
@click.option("--new", "new_path", type=click.Path(exists=True, path_type=Path),
              help="Compare these observations instead of probing (a file or folder).")
@click.option("--baseline", type=click.Path(exists=True, path_type=Path),
              help="The observations to compare with (default: the committed site/data).")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write a JUnit XML report here.")
@click.option("--sarif", type=click.Path(dir_okay=False, path_type=Path), help="Write a SARIF 2.1.0 report here.")
@click.option("--out", "keep_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also keep the probed observations in this data folder (e.g. as a CI artifact).")
@pass_ctx
def check_cmd(ctx: Context, new_path: Path | None, baseline: Path | None, junit: Path | None,
              sarif: Path | None, keep_dir: Path | None, **kw: Any) -> None:
    """Probe (or read --new), compare with the baseline, exit 1 if a bad state is newly served.

    A regression is a bad token state that the baseline saw rejected (401, auth-failure body,
    403, 404) and that now gets a 2xx. The committed observations are never written.
    """
    from catalog.answers.reports import compare, describe, write_junit, write_sarif
    from catalog.engine.runner import probe_all

    apis = load_all(ctx.project.endpoints)  # also locates endpoints for the reports
    baseline = baseline or ctx.project.data
    old_runs = load_set(baseline)
    if new_path is not None:
        new_runs = _select(load_set(new_path), kw["apis"], kw["targets"])
    else:
        options = run_options(**kw)
        with scratch_folder("check") as scratch:
            # An empty data folder: nothing is reused from a cache, nothing committed is overwritten.
            new_runs = probe_all(apis, ctx.project.endpoints, scratch, ctx.hooks, options)
        if keep_dir is not None:
            for run in new_runs:
                Store(keep_dir).write(run)
    if not new_runs:
        raise InputError("no run to check: no target was probed (see `authcat targets`) and no --new given")
    pairs, unpaired = pair_runs(_select(old_runs, tuple({r.api for r in new_runs})), new_runs)
    for run in unpaired:
        stderr_console.print(f"warning: {baseline} has no baseline for {run.api} on {run.target}", markup=False)
    if not pairs:
        raise InputError(f"nothing to compare: {baseline} holds no observations for "
                       f"{', '.join(sorted({r.api for r in new_runs}))}")
    comparisons = [compare(o, n) for o, n in pairs]
    locate = _locator(apis)
    if junit:
        write_junit(junit, comparisons, locate, ctx.project.root)
    if sarif:
        write_sarif(sarif, comparisons, locate, ctx.project.root)
    regressions = sum(len(c.regressions) for c in comparisons)
    for comparison in comparisons:
        stdout_console.print(
            f"{comparison.new.api}: {describe(comparison.new)} against baseline {describe(comparison.old)}: "
            f"{len(comparison.cells)} cells compared, {len(comparison.changes)} moved, "
            f"{len(comparison.regressions)} regressions", markup=False, soft_wrap=True,
        )
        print_changes(comparison, only_regressions=True)
    if regressions:
        raise RegressionsFound(f"{regressions} regression(s): a bad credential that was refused is now served")
    stdout_console.print("ok: no regression")


@hookimpl(trylast=True)
def authcat_register_commands(cli: click.Group) -> None:
    cli.add_command(diff_cmd)
    cli.add_command(check_cmd)

