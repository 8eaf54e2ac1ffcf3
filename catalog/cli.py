"""The ``authcat`` command line: each command is a few lines that call the engine."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from catalog import __version__
from catalog.model.errors import (
    AuthcatError,
    DefinitionError,
    InputError,
    Interrupted,
    TargetsFailed,
    TargetsUnreachable,
    Terminated,
    WriteFailed,
)

# Every start of `authcat` pays for what this module imports, and the test suite starts it over a
# hundred times: each command imports its own stack when it runs, so `--help` or `lint` loads no
# MkDocs and no HTTP client (tests/unit/cli/test_imports.py keeps it so).
if TYPE_CHECKING:
    from catalog.engine.runner import RunOptions
    from catalog.hooks.manager import Hooks
    from catalog.pipeline import BuildChild, Project
    from catalog.runs.diff import Change
    from catalog.runs.results import TargetRun

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


_HOOKS: Hooks | None = None


def hooks() -> Hooks:
    """The process's plugin facade, built on first use (no import-time side effects)."""
    global _HOOKS
    if _HOOKS is None:
        from catalog.hooks.manager import Hooks

        _HOOKS = Hooks()
    return _HOOKS


class Context:
    """What every command gets: the project's folders and the loaded plugins."""

    def __init__(self, root: Path | None):
        from catalog.pipeline import Project

        self.project = Project(root.resolve()) if root else Project.find()

    @property
    def hooks(self) -> Hooks:
        """The loaded plugins, on first use: a command that needs none (``build``'s parent, which
        starts the build's child) loads none."""
        return hooks()


pass_ctx = click.make_pass_decorator(Context)


def report(exc: AuthcatError) -> NoReturn:
    """Print an expected failure (its problems, then one ``error:`` line) and exit with its code."""
    for line in exc.lines():
        err.print(line, markup=False, soft_wrap=True, highlight=False)
    message = exc.summary() if isinstance(exc, DefinitionError) else str(exc)
    err.print(Text("error: ", style="red") + Text(message), soft_wrap=True)
    sys.exit(exc.exit_code)


class CatalogGroup(click.Group):
    """The one place where expected failures (:class:`AuthcatError`) become a message and an exit code.

    Plugins' commands (``authcat_register_commands``) are added when a name is not a built-in
    command's, or the list is asked for (``--help``): loading the plugins costs about as much as
    the rest of an ``authcat`` start, and a built-in command is found without them. So a plugin's
    command never takes a built-in one's name."""

    plugin_commands_added = False

    def add_plugin_commands(self) -> None:
        if self.plugin_commands_added:
            return
        self.plugin_commands_added = True
        built_in = dict(self.commands)
        try:
            hooks().register_commands(self)
        except Exception as exc:  # a broken plugin must not hide the built-in commands' errors
            err.print(f"warning: a plugin failed to add commands: {type(exc).__name__}: {exc}")
        self.commands.update(built_in)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            self.add_plugin_commands()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.add_plugin_commands()
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AuthcatError as exc:
            report(exc)
        except SigTerm:
            report(Terminated("terminated (SIGTERM); local servers were stopped, finished endpoints were kept for the next run"))
        except KeyboardInterrupt:
            report(Interrupted("interrupted; local servers were stopped, finished endpoints were kept for the next run"))
        except OSError as exc:  # a write the disk refused: every write is atomic, nothing is half-done
            report(WriteFailed.from_os_error(exc))


class SigTerm(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be: every ``finally`` runs (servers stopped, progress kept).

    A KeyboardInterrupt subclass so that asyncio, the launchers' context managers and the progress
    writer treat it the way they already treat Ctrl-C.
    """


T = TypeVar("T")

def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one is enough; a second must not cut the cleanup
    raise SigTerm


def locked(command: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Run a command holding the project's lock (see ``catalog.runs.lock``)."""
    def wrap(f: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(f)
        def inner(ctx: Context, *args: Any, wait: bool = False, **kw: Any) -> T:
            from catalog.runs.lock import project_lock

            with project_lock(ctx.project.root, command, wait=wait):
                return f(ctx, *args, **kw)
        return click.option("--wait", is_flag=True, help="If another run or build holds the project, wait for it "
                                                         "instead of exiting (code 75).")(inner)
    return wrap


@click.group(cls=CatalogGroup)
@click.version_option(__version__, prog_name="authcat")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), help="Project folder (default: found upwards from here).")
@click.pass_context
def cli(ctx: click.Context, root: Path | None) -> None:
    """authcat: a catalog of how API endpoints treat bad credentials."""
    ctx.obj = Context(root)


def run_options(apis: tuple[str, ...], targets: tuple[str, ...], refresh: bool, unsafe: tuple[str, ...], keep_bodies: bool,
                rate_limit: float | None, concurrency: int | None) -> RunOptions:
    """The engine's run options from the :func:`probe_options` flags (for commands plugins add)."""
    from catalog.engine.runner import RunOptions

    return RunOptions(
        apis=list(apis) or None, targets=list(targets) or None, refresh=refresh,
        unsafe_targets=frozenset(unsafe), keep_bodies=keep_bodies, rate_limit=rate_limit,
        concurrency=concurrency,
        # escape: a message may quote a contributed file; soft_wrap: keep file:line lines whole.
        log=lambda m: err.print(f"[dim]{escape(m)}[/dim]", markup=True, soft_wrap=True),
    )


def probe_options(f: Callable[..., T]) -> Callable[..., T]:
    options = [
        click.option("--api", "apis", multiple=True, help="Only this API (repeatable)."),
        click.option("--target", "targets", multiple=True, help="Only this target (repeatable)."),
        click.option("--refresh", is_flag=True, help="Probe everything again, ignoring cached cells."),
        click.option("--unsafe", "unsafe", multiple=True, metavar="TARGET",
                     help="Also send unsafe methods (POST, PUT, DELETE, ...) to this target, named TARGET or "
                          "API/TARGET (repeatable); launched targets get them anyway."),
        click.option("--keep-bodies", is_flag=True, help="Keep response bodies in observations (credentials scrubbed)."),
        click.option("--rate-limit", type=click.FloatRange(min=0.01), help="Requests per second per host."),
        click.option("--concurrency", type=click.IntRange(1, 64), help="Requests in flight per target."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


PLAIN_STEPS = 4  # without a terminal: a line at each quarter of a target's probes
PLAIN_FROM = 100  # … for targets with at least this many probes (short ones say enough when done)


@contextlib.contextmanager
def probe_progress(options: RunOptions, console: Console) -> Iterator[None]:
    """Show a long probe run's progress: a bar per target in a terminal; plain lines when the
    output is not a terminal or ``CI`` is set (a log keeps lines, not redrawn bars)."""
    if console.is_terminal and os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as bars:
            def bar(label: str, total: int) -> Callable[[int], None]:
                task = bars.add_task(label, total=total)
                return lambda n: bars.advance(task, n)

            options.track = bar
            yield
        return

    def lines(label: str, total: int) -> Callable[[int], None]:
        done = [0, 0]  # probes finished, quarters reported

        def advance(n: int) -> None:
            done[0] += n
            step = done[0] * PLAIN_STEPS // total
            if total >= PLAIN_FROM and step > done[1]:
                done[1] = step
                console.print(f"{label}: {done[0]:,}/{total:,} probes", markup=False, highlight=False)

        return advance

    options.track = lines
    yield


def _run_probe(ctx: Context, options: RunOptions) -> tuple[list[TargetRun], list[Change]]:
    from catalog.pipeline import probe

    with probe_progress(options, err):
        runs, changes = probe(ctx.project, ctx.hooks, options)
    for run in runs:
        err.print(f"{run.api} on {run.target}: {run.meta['probes']} probes, "
                  f"{run.meta['reused']} endpoints reused from cache, {run.meta['duration_s']} s")
    for change in changes:
        err.print(f"changed: {change}")
    return runs, changes


SITE_URL = click.option(
    "--site-url", default=None, metavar="URL",
    help="Where the site is published, e.g. https://example.org/authcat/ (sitemap, 404 page); "
         "default: $AUTHCAT_SITE_URL, else none.",
)


ALLOW_MKDOCS = click.option(
    "--allow-mkdocs", "allow_mkdocs", multiple=True, metavar="NAME",
    help="Allow a MkDocs plugin, Markdown extension or theme that site/mkdocs.yml names beyond the "
         "built-in allow-list (repeatable; the operator's decision, see the Security page).",
)


@cli.command("run")
@probe_options
@SITE_URL
@ALLOW_MKDOCS
@pass_ctx
@locked("run")
def run_cmd(ctx: Context, site_url: str | None, allow_mkdocs: tuple[str, ...], **kw: Any) -> None:
    """Probe every configured target, classify, and build the site (the main job)."""
    from catalog.pipeline import BuildChild

    options = run_options(**kw)
    # The build's process starts now and gets ready while the targets are probed.
    child = BuildChild(ctx.project, site_url, allow_mkdocs)
    try:
        _run_probe(ctx, options)
        _build(ctx, site_url, allow_mkdocs, child)
    finally:
        child.cancel()
    _fail_on_target_failures(options)


@cli.command("probe")
@probe_options
@click.option("--shard", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the one probed target's run and change-log entries to this file, for "
                   "`authcat merge` (a matrix of probe jobs; see the Security page).")
@pass_ctx
@locked("probe")
def probe_cmd(ctx: Context, shard: Path | None, **kw: Any) -> None:
    """Probe and classify; write observations under site/data (no site build)."""
    options = run_options(**kw)
    if shard is not None and (len(options.apis or ()) != 1 or len(options.targets or ()) != 1):
        raise InputError("--shard needs exactly one --api and one --target: a shard is one pair's run")
    runs, _ = _run_probe(ctx, options)
    if shard is not None:
        if len(runs) != 1:
            raise InputError(f"--shard: {len(runs)} targets were probed, not one (is the pair ready? see `authcat targets`)")
        from catalog.pipeline import write_shard

        write_shard(ctx.project, runs[0], shard)
    _fail_on_target_failures(options)


def _fail_on_target_failures(options: RunOptions) -> None:
    """The other targets were probed and written; say which failed and exit non-zero: 1 when the
    only failures are unreachable targets (one line naming each), 3 when a target failed otherwise."""
    if options.failures:
        raise TargetsFailed(options.failures + options.unreachable)
    if options.unreachable:
        raise TargetsUnreachable(options.unreachable)


def _build(ctx: Context, site_url: str | None = None, allow_mkdocs: tuple[str, ...] = (),
           child: BuildChild | None = None) -> None:
    from catalog.pipeline import build

    report = build(ctx.project, None, site_url, allow_mkdocs=allow_mkdocs, isolated=True, child=child)
    out.print(f"built {ctx.project.site.build / 'index.html'} ({report.pages} generated pages; "
              f"render {report.render_s:.1f} s, mkdocs {report.mkdocs_s:.1f} s)")


@cli.command("build")
@SITE_URL
@ALLOW_MKDOCS
@pass_ctx
@locked("build")
def build_cmd(ctx: Context, site_url: str | None, allow_mkdocs: tuple[str, ...]) -> None:
    """Build the site from the committed observations (no probing), in a child process that
    holds no secret."""
    _build(ctx, site_url, allow_mkdocs)


@cli.command("build-isolated", hidden=True)
@SITE_URL
@ALLOW_MKDOCS
@click.option("--wait-for-go", is_flag=True, hidden=True)
@pass_ctx
def build_isolated_cmd(ctx: Context, site_url: str | None, allow_mkdocs: tuple[str, ...], wait_for_go: bool) -> None:
    """The build itself, as the child process of ``build``, ``run`` and ``serve`` runs it (its
    parent holds the project lock and stripped the environment); prints its report as JSON.

    ``--wait-for-go`` (``run``): get ready — MkDocs imported, the definitions loaded, which the
    run does not change — then build only once the parent writes ``go`` on stdin; on anything
    else (the run failed, authcat died) exit without building."""
    from catalog.definitions.loader import load_all
    from catalog.pipeline import BUILD_GO, build

    apis = None
    if wait_for_go:
        import mkdocs.commands.build  # noqa: F401 - imported now, while the parent probes

        with contextlib.suppress(AuthcatError):  # the build itself says it, once asked to build
            apis = load_all(ctx.project.endpoints)
        _ready_to_build(ctx.project, allow_mkdocs)
        if sys.stdin.readline().strip() != BUILD_GO:
            return
    report = build(ctx.project, ctx.hooks, site_url, allow_mkdocs=allow_mkdocs, apis=apis)
    click.echo(json.dumps({"pages": report.pages, "render_s": report.render_s, "mkdocs_s": report.mkdocs_s}))


def _ready_to_build(project: Project, allow_mkdocs: tuple[str, ...]) -> None:
    """What a waiting build child can do before any observation is final: import the site build,
    and the theme, plugins and Markdown extensions ``mkdocs.yml`` names (MkDocs imports them as it
    reads the file; checked first, as the build checks it). Nothing is kept: the build reads
    everything again. A problem is left for the build to report."""
    import logging
    import multiprocessing.queues  # noqa: F401 - the build's helper processes talk through queues

    import catalog.site.build  # noqa: F401
    from catalog.site.mkdocs_yml import check_mkdocs

    log = logging.getLogger("mkdocs")
    level = log.level
    log.setLevel(logging.CRITICAL)  # whatever it would say, the build says once it reads the file
    try:
        check_mkdocs(project.site.config, allow_mkdocs)
        from mkdocs.config import load_config

        load_config(config_file=str(project.site.config))
    except Exception:  # the build reports it
        pass
    finally:
        log.setLevel(level)


@cli.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--mark-stale", is_flag=True,
              help="List the endpoints whose definition changed since a submission observed them in its run.stale.")
@ALLOW_MKDOCS
@pass_ctx
def lint_cmd(ctx: Context, paths: tuple[Path, ...], mark_stale: bool, allow_mkdocs: tuple[str, ...]) -> None:
    """Check the endpoint definitions, site/mkdocs.yml and the submissions; print every problem as
    file:line: field: message."""
    from catalog.definitions.evidence import check_claims
    from catalog.definitions.loader import load_all, plugin_problems
    from catalog.engine.plan import not_sent_by_policy, policy_line
    from catalog.pipeline import lint_submissions
    from catalog.runs import submissions
    from catalog.site.mkdocs_yml import mkdocs_problems

    data = ctx.project.data.resolve()
    submitted = [p for p in paths if p.resolve().is_relative_to(data)]
    paths = tuple(p for p in paths if p not in submitted)
    only = sorted({_api_of(ctx.project, p) for p in paths}) or None
    # lint=True: where credentials may go (catalog.secrets.binding) is checked too. Elsewhere a profile
    # that breaks it loads, and `targets` shows why it is not ready.
    apis = load_all(ctx.project.endpoints, only=only, lint=True)
    problems = [p for a in apis.values() for p in plugin_problems(a, ctx.hooks)]
    if not paths and ctx.project.site.config.exists():  # site/mkdocs.yml is contributed code too
        problems += mkdocs_problems(ctx.project.site.config, allow=allow_mkdocs)
    if problems:
        raise DefinitionError(problems)
    check_claims(apis, ctx.hooks.states)  # reported/documented claims name real token states
    count = sum(len(a.endpoints) for a in apis.values())
    tenants = ""
    if submitted or not paths:  # the committed submissions: schema, definition keys, baselines, no credential
        found = submissions.paths(ctx.project.data)
        every = apis if not only else load_all(ctx.project.endpoints)
        if problems := lint_submissions(ctx.project.data, every, mark_stale):
            raise DefinitionError(problems)
        tenants = f", {len(found)} submissions"
    out.print(f"ok: {len(apis)} APIs, {count} endpoints{tenants}")
    for name, definition in apis.items():  # what the method policy will not send, and why
        for profile in definition.targets.values():
            if not_sent_by_policy(definition, profile):
                out.print(escape(f"{name}/{profile.name}: {policy_line(definition, profile)}"), soft_wrap=True)


def _api_of(project: Project, path: Path) -> str:
    rel = path.resolve().relative_to(project.endpoints.resolve())
    return rel.parts[0]


@cli.command("states")
@pass_ctx
def states_cmd(ctx: Context) -> None:
    """List the token states the loaded plugins provide."""
    from rich.table import Table

    table = Table("state", "family", "how it is made", "needs")
    for state in ctx.hooks.states.values():
        table.add_row(state.name, str(state.family), state.description, state.needs)
    out.print(table)


@cli.command("targets")
@pass_ctx
def targets_cmd(ctx: Context) -> None:
    """List target profiles and whether each can be probed now."""
    from rich.table import Table

    from catalog.definitions.loader import load_all
    from catalog.engine.plan import policy_line
    from catalog.targets.readiness import is_ready

    apis = load_all(ctx.project.endpoints)
    table = Table("api", "target", "ready", "how", "unsafe methods")
    for name, definition in apis.items():
        for profile in definition.targets.values():
            ready, why = is_ready(profile, ctx.project.root)
            table.add_row(name, profile.name, "yes" if ready else "no", why, policy_line(definition, profile))
    out.print(table)
    out.print("launchers: " + ", ".join(sorted(ctx.hooks.launchers)))


@cli.command("plugins")
@pass_ctx
def plugins_cmd(ctx: Context) -> None:
    """List loaded plugins and the hooks each implements."""
    from rich.table import Table

    table = Table("plugin", "hooks")
    for name, hooks in ctx.hooks.describe():
        table.add_row(name, ", ".join(hooks))
    out.print(table)


@cli.command("import-openapi")
@click.argument("spec", type=click.Path(exists=True, dir_okay=True, path_type=Path))
@click.option("--api", required=True, help="The API folder to write into: endpoints/<api>/.")
@click.option("--format", "fmt", default="openapi", show_default=True, help="An importer plugin.")
@click.option("--skip-outside-refs", is_flag=True,
              help="Import even if a $ref leaves the spec's folder: such a $ref is not read, only listed.")
@pass_ctx
def import_cmd(ctx: Context, spec: Path, api: str, fmt: str, skip_outside_refs: bool) -> None:
    """Import a vendor spec into endpoints/<api>/ (one YAML file per tag; re-import is safe).

    SPEC is one OpenAPI file, or the folder of a multi-file spec (every top-level file is a
    document; $refs may reach other files of that folder, never outside it).
    """
    importer = ctx.hooks.importers.get(fmt)
    if importer is None:
        raise InputError(f"--format: no importer named {fmt!r}; available: {', '.join(sorted(ctx.hooks.importers))}")
    out_dir = ctx.project.endpoints / api
    if not (out_dir / "api.yaml").exists():
        raise InputError(f"--api: {out_dir / 'api.yaml'} does not exist: create the API first (name, title, scheme)")
    options = {"skip_outside_refs": True} if skip_outside_refs else {}
    out.print(importer(spec, api, out_dir, **options))


def main() -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)  # CI cancels and `timeout` send SIGTERM: clean up as for Ctrl-C
    cli(prog_name="authcat")


if __name__ == "__main__":
    main()
