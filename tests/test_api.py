"""The public plugin API (catalog.api): its exports are pinned, and plugins and docs use only it.

Like httpx's tests/test_exported_members.py: a name added to or removed from the surface shows up
here as a failing test, so changing what plugins may rely on is always a deliberate change.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import catalog.api

REPO = Path(__file__).resolve().parents[1]

EXPORTED = {
    "ACCEPTED", "Api", "ApiAnswers", "ApiCatalog", "ApiDefinition", "AuthScheme", "AuthcatError",
    "Comparison", "Context", "Credential", "Credentials", "DefinitionError", "Discovery", "Endpoint",
    "EndpointResult", "InputError", "Interrupted", "Judgement", "LaunchContext", "Launched", "Launcher", "LocalServer", "Location",
    "Measurement", "NotAvailable", "OUTCOMES", "Observation", "Outcome", "PluginError", "Poll", "Presentation",
    "ProbeSettings", "Prober", "Problem", "ProjectBusy", "REJECTED", "REJECTING", "Recipe", "RegressionsFound", "SERVED_2XX",
    "Scrubber", "SecretRefError", "ServerProcess", "ServerStartError", "Signal", "SitePage", "Source",
    "State", "StateFamily", "Store", "TargetAnswers", "TargetError", "TargetRun", "TokenState", "VERDICTS", "Verdict",
    "WatchError", "WatchPlan", "api_answers", "api_presentations", "atomic_write", "build", "client_auth",
    "compare", "default_judge", "describe", "disagreements", "discover", "endpoint_url", "find_signals", "format_duration",
    "free_port", "hookimpl", "load_all", "load_api", "load_measurements", "load_yaml", "loads_yaml",
    "option_python", "origin_problem", "pass_ctx", "path_shape", "probe_all", "probe_options", "project_lock",
    "profile_base_url", "read_file",
    "recipe_script", "record_measurement", "resolve_pointer", "resolve_ref", "run_options", "schema_problems",
    "scheme_words", "signals_per_target", "slug", "stderr_console", "stdout_console", "watch_token",
    "write_junit", "write_sarif",
    "state_columns", "API_WIDE", "claimed_cells", "find_fallback", "RunningTarget", "targets_for", "Publication",
    "Snippet", "snippet", "state_order", "is_2xx", "cell_history", "ChangeIndex",
    "REFERENCE_FILES", "reference_fields", "reference_example", "CACHE_ENV", "Revocable", "TargetPool",
    "installed_version",
}


def test_the_exported_names_are_pinned():
    assert len(catalog.api.__all__) == len(set(catalog.api.__all__)), "a name is listed twice"
    assert set(catalog.api.__all__) == EXPORTED


def test_every_exported_name_exists_and_nothing_public_is_left_out():
    for name in catalog.api.__all__:
        assert getattr(catalog.api, name) is not None, name
    public = {n for n in vars(catalog.api) if not n.startswith("_") and n != "annotations"}
    assert public == EXPORTED


def _catalog_imports(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "catalog":
            found.append(node.module if node.module != "catalog" else "catalog." + ",".join(a.name for a in node.names))
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "catalog"]
    return found


def test_built_in_plugins_import_only_the_public_api():
    offenders = {}
    for path in sorted((REPO / "plugins").glob("*.py")):
        bad = [m for m in _catalog_imports(ast.parse(path.read_text(encoding="utf-8"))) if m != "catalog.api"]
        if bad:
            offenders[path.name] = bad
    assert offenders == {}


def test_the_docs_examples_import_only_the_public_api():
    pages = [*sorted((REPO / "site" / "docs").glob("*.md")), REPO / "CONTRIBUTING.md", REPO / "README.md"]
    offenders = []
    for page in pages:
        for block in re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S):
            for line in block.splitlines():
                m = re.match(r"\s*(?:from|import) (catalog[\w.]*)", line)
                if m and m.group(1) != "catalog.api":
                    offenders.append(f"{page.name}: {line.strip()}")
    assert offenders == []


def test_importing_the_api_loads_no_plugin():
    code = ("import sys, catalog.api, catalog.cli; "
            "print(sorted(m for m in sys.modules if m.startswith('authcat_plugins')), catalog.cli._HOOKS)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "None"]
