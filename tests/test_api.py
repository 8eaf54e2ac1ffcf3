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
    "hookimpl",
    "AuthScheme", "Credential", "Credentials", "Location", "NotAvailable", "Presentation", "State", "StateFamily",
    "TokenState",
    "Api", "Endpoint", "EndpointResult", "Judgement", "Observation", "Outcome", "Signal", "SignalMeaning", "Verdict",
    "default_judge", "find_signals",
    "LaunchContext", "Launched", "Launcher", "LocalServer", "Revocable", "Scrubber", "installed_version",
    "option_python", "path_shape",
    "ApiAnswers", "ApiCatalog", "CatalogData", "Publication", "SitePage", "TargetRun",
    "AuthcatError", "DefinitionError", "InputError", "PluginError", "ServerStartError", "TargetError",
}


def test_the_exported_names_are_pinned():
    assert len(catalog.api.__all__) == len(set(catalog.api.__all__)), "a name is listed twice"
    assert set(catalog.api.__all__) == EXPORTED
    assert len(EXPORTED) <= 45  # a designed surface: the nouns of the hooks and launchers, not every helper


def test_every_exported_name_has_a_docstring_and_a_line_on_the_plugins_page():
    page = (REPO / "site" / "docs" / "plugins.md").read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| `(\w+)` \| (.+) \|$", page, re.M))
    undocumented, no_docstring = [], []
    for name in catalog.api.__all__:
        obj = getattr(catalog.api, name)
        doc = (obj.__doc__ or "").strip()
        # A dataclass without a docstring gets its signature as __doc__: that is no docstring.
        if not doc or doc.startswith(f"{getattr(obj, '__name__', name)}("):
            no_docstring.append(name)
        if len(table.get(name, "")) < 10:
            undocumented.append(name)
    assert no_docstring == [] and undocumented == []
    assert set(table) == EXPORTED, "the page lists a name the API does not export"


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


def test_importing_the_api_loads_no_command_line_mkdocs_or_http_server():
    heavy = ("catalog.cli", "click", "mkdocs", "aiohttp", "catalog.site", "catalog.engine", "catalog.commands")
    code = ("import sys, catalog.api; "
            f"print(sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in {heavy!r})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_importing_the_api_loads_no_plugin():
    code = ("import sys, catalog.api, catalog.cli; "
            "print(sorted(m for m in sys.modules if m.startswith('authcat_plugins')), catalog.cli._HOOKS)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "None"]
