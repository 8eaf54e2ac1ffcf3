"""The main job, end to end: probe → classify → store → build. The CLI calls these.

The *pipeline* is the whole job around the runner: find the project, probe, record, build (the
four words probe, plan, runner and pipeline are defined in ``catalog.engine.plan``).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog import __version__
from catalog.definitions.containment import symlinks_out
from catalog.definitions.evidence import check_claims
from catalog.definitions.loader import ApiDefinition, load_all, passes, schema
from catalog.definitions.yamlfile import DefinitionError
from catalog.engine.cache import api_request_part, template_key
from catalog.model.errors import AuthcatError, Problem
from catalog.model.vocabulary import Outcome
from catalog.runs import submissions
from catalog.runs.diff import NOT_JUDGED, Change, diff_runs
from catalog.runs.results import ApiCatalog, CatalogData, TargetRun
from catalog.runs.store import Store, atomic_write, dumps
from catalog.site.mkdocs_yml import build_environ, check_mkdocs
from catalog.site.paths import SitePaths

if TYPE_CHECKING:  # imported where used: a command that neither probes nor builds loads no HTTP client nor MkDocs
    import jsonschema

    from catalog.answers.publication import Publication
    from catalog.engine.runner import RunOptions
    from catalog.hooks.manager import Hooks
    from catalog.site.report import BuildReport


@dataclass
class Project:
    """Where a checkout keeps things. Everything is relative to the project root."""

    root: Path

    @property
    def endpoints(self) -> Path:
        return self.root / "endpoints"

    @property
    def site(self) -> SitePaths:
        return SitePaths(self.root / "site")

    @property
    def data(self) -> Path:
        return self.root / "site" / "data"

    @property
    def changes_file(self) -> Path:
        return self.data / "changes.json"

    @classmethod
    def find(cls, start: Path | None = None) -> Project:
        """The nearest folder upwards holding ``endpoints/`` (the current folder by default)."""
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / "endpoints").is_dir() and (folder / "site").is_dir():
                return cls(folder)
        return cls(here)


def read_changes(project: Project) -> list[dict[str, Any]]:
    if not project.changes_file.exists():
        return []
    entries = json.loads(project.changes_file.read_text(encoding="utf-8"))
    for entry in entries:
        # A cell still 429 after backing off is not judged, never drift: logged before that rule or not.
        if isinstance(entry, dict) and Outcome.RATE_LIMITED in (entry.get("before"), entry.get("after")):
            entry["cause"] = NOT_JUDGED
    return entries


def load_catalog(project: Project, hooks: Hooks, apis: dict[str, ApiDefinition] | None = None) -> CatalogData:
    apis = apis if apis is not None else load_all(project.endpoints)
    if links := symlinks_out(project.data, project.root):  # committed data is contributed too
        raise DefinitionError(links)
    check_claims(apis, hooks.states)
    store = Store(project.data)
    catalog = CatalogData(
        apis={},
        generated=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        authcat_version=__version__,
        changes=read_changes(project),
        states=dict(hooks.states),
        data_dir=project.data,
        schemes=dict(hooks.schemes),  # the guide's recipe needs the API's scheme object
    )
    for name, definition in apis.items():
        # Submissions from users' own tenants count as targets of kind "vendor tenant".
        runs = store.runs(name) + submitted_runs(project.data, name, definition)
        by_id = {e.id: e for e in definition.endpoints}
        for run in runs:
            for endpoint_id, result in run.endpoints.items():
                result.endpoint = by_id.get(endpoint_id)
        catalog.apis[name] = ApiCatalog(definition, runs)
    return catalog


def load_publication(project: Project, hooks: Hooks) -> Publication:
    """The catalog's data with every API's answers computed once (every signal plugin consulted):
    what the site pages are rendered from."""
    from catalog.answers.publication import publication_of

    return publication_of(load_catalog(project, hooks), hooks.auth_signals)


def record(project: Project, runs: list[TargetRun]) -> list[Change]:
    """Write the runs' observations and append every cell that moved to the change log.

    Each log entry says when (the new run's date), where (API, target, and the target versions
    before and after: drift between releases shows as a version change), what moved, and why
    (``cause``: the server's behaviour, or the definition / classifier; see ``catalog.runs.diff``).
    """
    store = Store(project.data)
    entries: list[dict[str, Any]] = []
    changes: list[Change] = []
    diffed_from: dict[tuple[object, object], str | None] = {}
    for run in runs:
        previous = store.read(run.api, run.target)
        diffed_from[(run.api, run.target)] = _run_date(previous)
        moved = diff_runs(previous, run)
        changes += moved
        entries += [change_entry(change, previous, run) for change in moved]
    # The log first, then the observations. A run killed between the two leaves entries whose
    # observations never landed: they are recognised (same API and target, diffed from the very
    # run that is still stored) and replaced by this run's, so the log never holds a move twice
    # or a move the observations contradict. The project lock (catalog.runs.lock) keeps two runs from
    # interleaving this read-append-replace.
    logged = read_changes(project)
    kept = [e for e in logged if diffed_from.get((e.get("api"), e.get("target")), _NOT_RUN) != e.get("previous_date")]
    if entries or len(kept) != len(logged):
        atomic_write(project.changes_file, dumps(kept + entries))
    for run in runs:
        store.write(run)
    return changes


_NOT_RUN = object()


def _run_date(run: TargetRun | None) -> str | None:
    return run.meta.get("date") if run else None


def change_entry(change: Change, previous: TargetRun | None, run: TargetRun) -> dict[str, Any]:
    """One change-log line, keys in a stable order so the committed log diffs cleanly."""
    return {
        "date": run.meta.get("date"),
        "previous_date": previous.meta.get("date") if previous else None,
        "api": change.api,
        "target": change.target,
        "target_version": run.version,
        "previous_version": previous.version if previous else None,
        "endpoint": change.endpoint,
        "method": change.method,
        "path": change.path,
        "state": change.state,
        "before": change.before,
        "after": change.after,
        "before_status": change.before_status,
        "after_status": change.after_status,
        "regression": change.regression,
        "cause": change.cause,
    }


def probe(project: Project, hooks: Hooks, options: RunOptions) -> tuple[list[TargetRun], list[Change]]:
    apis = load_all(project.endpoints)  # raises DefinitionError before anything is started
    from catalog.engine.runner import probe_all

    runs = probe_all(apis, project.endpoints, project.data, hooks, options)
    return runs, record(project, runs)


SHARD_FORMAT = 1


def write_shard(project: Project, run: TargetRun, path: Path) -> None:
    """One probe job's output for ``authcat merge`` (``catalog.commands.shards``): its run as
    stored (sealed) and the change-log entries it added."""
    entries = [e for e in read_changes(project)
               if e.get("api") == run.api and e.get("target") == run.target and e.get("date") == run.meta.get("date")]
    doc = {"shard": SHARD_FORMAT, "api": run.api, "target": run.target, "run": run.to_dict(), "changes": entries}
    atomic_write(path, dumps(doc))


SITE_URL_ENV = "AUTHCAT_SITE_URL"


def build(project: Project, hooks: Hooks | None, site_url: str | None = None, *, allow_mkdocs: tuple[str, ...] = (),
          isolated: bool = False, child: BuildChild | None = None,
          apis: dict[str, ApiDefinition] | None = None) -> BuildReport:
    """Build the site from the committed observations.

    ``site/mkdocs.yml`` is checked first (``catalog.site.guard``). ``isolated`` (the CLI's ``build``,
    ``run`` and ``serve``) builds in a child process whose environment holds no secret: templates
    and the theme are contributed code, sandboxed, and even code that left the sandbox finds no
    credential in its process. ``child``: that process, started earlier by :class:`BuildChild`
    with the same ``site_url`` and ``allow_mkdocs`` (``run`` starts it before probing).
    ``apis``: the definitions, already loaded. ``hooks``: the loaded plugins, or None to load them
    here (an isolated build needs none: its child loads its own).
    """
    check_mkdocs(project.site.config, allow_mkdocs)
    if site_url is None:
        site_url = os.environ.get(SITE_URL_ENV) or None
    if isolated:
        return (child or BuildChild(project, site_url, allow_mkdocs, wait=False)).finish()
    if hooks is None:
        from catalog.hooks.manager import Hooks

        hooks = Hooks()
    catalog = load_catalog(project, hooks, apis)
    from catalog.site.build import build_site

    return build_site(catalog, project.site, hooks, site_url=site_url)


def submitted_runs(data_dir: Path, api: str, definition: ApiDefinition | None = None) -> list[TargetRun]:
    """The reviewed submissions of ``api`` as runs. A file that is no submission (``lint`` says
    why) stops the build naming it; the endpoints a submission lists as stale, or whose definition
    changed since (with ``definition``), are left out: their cells answer another definition."""
    found = submissions.paths(data_dir, api)
    if not found:  # most catalogs: no jsonschema import, no schema compiled
        return []
    runs = []
    current = template_keys(definition) if definition is not None else None
    for path in found:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise DefinitionError([Problem(str(path), 1, "", f"not valid JSON ({exc}): see `authcat lint`")]) from None
        if not passes("submission", doc) and (error := next(iter(_validator().iter_errors(doc)), None)) is not None:
            where = "/".join(str(p) for p in error.absolute_path)
            raise DefinitionError([Problem(str(path), 1, where, f"not a submission ({error.message[:200]}): see `authcat lint`")])
        run = submissions.read(path)
        stale = set(run.meta.get("stale") or [])
        if current is not None:
            stale |= {e for e, r in doc["endpoints"].items() if current.get(e) != r["definition"]}
        for endpoint_id in stale:
            run.endpoints.pop(endpoint_id, None)
        runs.append(run)
    return runs


def template_keys(definition: ApiDefinition) -> dict[str, str]:
    """Each endpoint's definition key from its template (what a submission records and lint compares)."""
    part = api_request_part(definition.api)
    return {e.id: template_key(e, part) for e in definition.endpoints}


# --- submissions (catalog.runs.submissions) ---------------------------------------------------

@cache
def _validator() -> jsonschema.protocols.Validator:
    """The reference validator of submissions: asked only about a document that does not pass
    (:func:`catalog.definitions.loader.passes`), for its errors."""
    import jsonschema

    doc = schema("submission")
    return jsonschema.validators.validator_for(doc)(doc)


def lint_submissions(data_dir: Path, apis: Mapping[str, ApiDefinition], mark_stale: bool = False) -> list[Problem]:
    """Every problem of the committed submissions: the schema, the API and its definition keys (each
    endpoint's key current, or the endpoint listed in ``run.stale``), both baselines present, and
    nothing that looks like a credential. ``mark_stale`` lists every endpoint whose definition
    changed in its submission's ``run.stale`` (the file is rewritten) instead of reporting it."""
    out: list[Problem] = []
    keys: dict[str, dict[str, str]] = {}  # each API's template keys, computed once for all its submissions
    for path in submissions.paths(data_dir):
        where = str(path)

        def problem(field: str, message: str) -> None:
            out.append(Problem(where, 1, field, message))  # noqa: B023 (used at once)

        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            problem("", f"not valid JSON: {exc}")
            continue
        errors = [] if passes("submission", doc) else sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
        for err in errors[:20]:
            problem("/".join(str(p) for p in err.absolute_path), err.message[:200])
        if errors:
            continue
        api = path.parent.name
        if doc["api"] != api:
            problem("api", f"{doc['api']!r}, but the file is in the folder of {api!r}")
        if path.stem != doc["target"]:
            problem("target", f"the file is named {path.stem!r}: name it {doc['target']}.json")
        definition = apis.get(api)
        if definition is None:
            problem("api", f"no API {api!r} under endpoints/")
            continue
        if api not in keys:
            keys[api] = template_keys(definition)
        current = keys[api]
        stale = set(doc["run"].get("stale") or [])
        changed = sorted(e for e, entry in doc["endpoints"].items()
                         if e not in stale and (e not in current or entry["definition"] != current[e]))
        if mark_stale and changed:  # the cells stay for the record; the catalog leaves them out
            doc["run"]["stale"] = sorted(stale | set(changed))
            atomic_write(path, dumps(doc))
            stale |= set(changed)
        for endpoint_id, entry in doc["endpoints"].items():
            if endpoint_id not in current and endpoint_id not in stale:
                problem(f"endpoints/{endpoint_id}", "no such endpoint any more: list it in run.stale "
                        "(authcat lint --mark-stale)")
            elif endpoint_id in current and entry["definition"] != current[endpoint_id] and endpoint_id not in stale:
                problem(f"endpoints/{endpoint_id}/definition", "the endpoint's definition changed since it was "
                        "observed: list it in run.stale (authcat lint --mark-stale), or collect again")
        for base in ("valid", "anonymous"):
            if not doc["states"].get(base, {}).get("available"):
                problem(f"states/{base}", f"the {base} baseline is missing: no cell can be judged without it")
        for found in submissions.looks_like_credential(doc):
            problem("", f"{found}: a submission holds no credential")
    out += _lint_revocations(data_dir, apis)
    return out


_REVOCATION_KEYS = {"submission": int, "api": str, "target": str, "kind": str, "revocation": dict}


def _lint_revocations(data_dir: Path, apis: Mapping[str, ApiDefinition]) -> list[Problem]:
    """Submitted revocation measurements: their shape, their API and endpoint, no credential."""
    out: list[Problem] = []
    for path in submissions.revocation_paths(data_dir):
        api = path.parent.parent.name
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            out.append(Problem(str(path), 1, "", f"not valid JSON: {exc}"))
            continue
        wrong = [k for k, kind in _REVOCATION_KEYS.items() if not isinstance(doc.get(k), kind)]
        extra = sorted(set(doc) - set(_REVOCATION_KEYS)) if isinstance(doc, dict) else []
        for key in [*wrong, *extra]:
            out.append(Problem(str(path), 1, key, "missing or of the wrong type" if key in wrong else "not a field "
                               "of a revocation submission"))
        if wrong or extra:
            continue
        definition = apis.get(api)
        endpoint = doc["revocation"].get("endpoint")
        if doc["api"] != api or doc["kind"] != submissions.KIND or not re.fullmatch(r"tenant-[0-9a-f]{16}", doc["target"]):
            out.append(Problem(str(path), 1, "api", f"expected api {api!r}, kind {submissions.KIND!r} and a tenant key"))
        elif definition is None or definition.endpoint(str(endpoint)) is None:
            out.append(Problem(str(path), 1, "revocation/endpoint", f"{api} has no endpoint {endpoint!r}"))
        extra_fields = sorted(set(doc["revocation"]) - set(submissions.MEASUREMENT_FIELDS))
        if extra_fields:
            out.append(Problem(str(path), 1, "revocation", f"not fields of a measurement: {', '.join(extra_fields)}"))
        for found in submissions.looks_like_credential(doc):
            out.append(Problem(str(path), 1, "", f"{found}: a submission holds no credential"))
    return out


def referenced_variables(project: Project) -> set[str]:
    """Every environment variable a target profile names (credentials and base URLs), read from
    the profile files as YAML: a file the loader would refuse still names what it names."""
    names: set[str] = set()
    for path in sorted(project.endpoints.glob("*/targets/*.y*ml")):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")[:4 * 1024 * 1024]
        except OSError:
            continue
        names.update(_ENV_NAME.findall(text))
    return names


# `env: NAME`, `{env: NAME}` and `base_url_env: NAME` in any layout a YAML file may use.
_ENV_NAME = re.compile(r"""(?:\benv|base_url_env)["']?\s*:\s*["']?([A-Za-z_][A-Za-z0-9_]*)""")


class BuildFailed(AuthcatError):
    """The isolated build failed: its own lines and message, its exit code."""

    def __init__(self, message: str, lines: list[str], exit_code: int):
        super().__init__(message)
        self._lines = lines
        self.exit_code = exit_code

    def lines(self) -> list[str]:
        return self._lines


def not_dumpable() -> None:
    """Make this process's memory and ``/proc/<pid>/environ`` — the secrets ``run`` holds —
    unreadable by the build child it starts (and any other process of the same user, root aside):
    Linux ``prctl(PR_SET_DUMPABLE, 0)``. Elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # 4: PR_SET_DUMPABLE


BUILD_GO = "go"  # what a waiting build child reads on its stdin before it builds


class BuildChild:
    """The build's child process (see :func:`build`, ``isolated``).

    With ``wait``, the child starts now and gets ready — Python, authcat and MkDocs imported,
    plugins and definitions loaded — then waits on its stdin until :meth:`finish` says go, so
    ``run`` overlaps that start with probing (none of it reads the observations). :meth:`cancel`
    (or authcat's exit: the stdin closes) ends a waiting child without a build.
    """

    def __init__(self, project: Project, site_url: str | None = None, allow_mkdocs: tuple[str, ...] = (),
                 wait: bool = True):
        if site_url is None:
            site_url = os.environ.get(SITE_URL_ENV) or None
        not_dumpable()
        env = build_environ(os.environ, referenced_variables(project))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "catalog", "--root", str(project.root), "build-isolated"]
        if site_url is not None:
            command += ["--site-url", site_url]
        for name in allow_mkdocs:
            command += ["--allow-mkdocs", name]
        if wait:
            command.append("--wait-for-go")
        self.site_url, self.allow_mkdocs = site_url, allow_mkdocs
        self.proc = subprocess.Popen(command, env=env, cwd=project.site.root, stdin=subprocess.PIPE if wait else
                                     subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def cancel(self) -> None:
        """End a child that has not been told to build (it has written nothing of the site).

        Stopped at once, not left to notice its closed stdin: that happens only once its start is
        over, seconds on a busy machine, which a Ctrl-C or SIGTERM would wait out. Its cache writes
        are atomic renames."""
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                self.proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.communicate()

    def finish(self) -> BuildReport:
        """Let the child build and wait for it; :class:`BuildFailed` when it did not."""
        # (A child that already died says why below; communicate ignores the broken pipe.)
        out, errors = self.proc.communicate(BUILD_GO + "\n" if self.proc.stdin is not None else None)
        proc = subprocess.CompletedProcess(self.proc.args, self.proc.returncode, out, errors)
        if proc.returncode < 0:
            raise BuildFailed(f"the build process was killed (signal {-proc.returncode}); the published site is unchanged",
                              proc.stderr.rstrip("\n").splitlines(), 128 - proc.returncode)
        if proc.returncode != 0:
            lines = proc.stderr.rstrip("\n").splitlines()
            last = lines.pop() if lines else "the build failed"
            message = last.removeprefix("error: ")
            raise BuildFailed(message, lines, proc.returncode)
        done = json.loads(proc.stdout.strip().splitlines()[-1])
        from catalog.site.report import BuildReport

        return BuildReport(pages=done["pages"], render_s=done["render_s"], mkdocs_s=done["mkdocs_s"])
