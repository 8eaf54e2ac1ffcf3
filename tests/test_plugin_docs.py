"""Meta-tests for plugin authors (as Datasette does it): every hook is documented where it is
declared and on the "Writing plugins" page, and every hook is implemented by a built-in plugin or
exercised by a test named ``test_hook_<hook>``. The code examples of the docs are executed.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import re
import sys
from pathlib import Path
from typing import Any, cast

import click
import pytest
from click.testing import CliRunner

from catalog.answers.publication import Publication
from catalog.hooks import specs as hookspecs
from catalog.hooks.manager import DEFAULT_PLUGINS, Hooks, get_plugin_manager
from catalog.hooks.specs import hookimpl
from catalog.model.credentials import Credential, Credentials, Presentation
from catalog.runs.results import CatalogData
from catalog.site.build import SitePaths, render_pages
from catalog.targets.launchers import LaunchContext

REPO = Path(__file__).resolve().parents[1]
PLUGINS_PAGE = REPO / "site" / "docs" / "plugins.md"
CONTRIBUTING_PAGE = REPO / "site" / "docs" / "contributing.md"
HOOKS = sorted(n for n, f in vars(hookspecs).items() if n.startswith("authcat_") and callable(f))


def _params(name: str) -> list[str]:
    return list(inspect.signature(getattr(hookspecs, name)).parameters)


def _section(page: str, name: str) -> str:
    match = re.search(rf"^### `{name}\(.*?$(.*?)(?=^#{{2,3}} )", page, re.S | re.M)
    assert match, f"{name} has no section on {PLUGINS_PAGE.name}"
    return match.group(1)


def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), re.S)


def _module_from(code: str, name: str, tmp_path: Path):
    path = tmp_path / f"{name}.py"
    path.write_text(code)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_there_are_hooks_to_check():
    assert len(HOOKS) >= 9 and "authcat_register_commands" in HOOKS


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_documents_each_parameter_where_declared(name):
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert doc.splitlines()[0].strip(), f"{name} has no summary line"
    for param in _params(name):
        assert f":param {param}:" in doc, f"{name}'s docstring does not describe {param}"
    if not _params(name):
        assert ":return" in doc, f"{name} takes nothing, so it must say what it returns"


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_is_on_the_plugins_page_with_its_parameters(name):
    page = PLUGINS_PAGE.read_text()
    section = _section(page, name)
    heading = re.search(rf"^### `{name}\((.*?)\)`", page, re.M)
    assert heading and [p.strip() for p in heading.group(1).split(",") if p.strip()] == _params(name)
    for param in _params(name):
        assert f"`{param}" in section, f"{name}: parameter {param} is not explained on the page"
    assert "Returns" in section, f"{name}: the page does not say what it returns"


def _tested_hooks() -> set[str]:
    names = set()
    for test_file in (REPO / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(test_file.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_hook_"):
                names.add(node.name[len("test_hook_"):])
    return names


def test_every_hook_is_implemented_by_a_builtin_or_has_a_test():
    pm = get_plugin_manager(load_external=False)
    implemented = {
        hook for hook in HOOKS
        if any(impl.plugin_name in DEFAULT_PLUGINS for impl in getattr(pm.hook, hook).get_hookimpls())
    }
    missing = set(HOOKS) - implemented - _tested_hooks()
    assert not missing, f"hooks with neither a built-in implementation nor a test_hook_<name> test: {sorted(missing)}"


def test_hook_authcat_auth_signals():
    class One:
        @hookimpl
        def authcat_auth_signals(self, api, endpoints):
            return [("x-aaccountid", "present only when authenticated", api)]

    class Two:
        @hookimpl
        def authcat_auth_signals(self, api, endpoints):
            return None  # "nothing found" is allowed

    pm = get_plugin_manager(load_external=False)
    pm.register(One(), name="one")
    pm.register(Two(), name="two")
    # With no observations the built-in finder finds nothing; the plugins' lists are concatenated.
    found: list[Any] = Hooks(pm).auth_signals(api=cast(Any, "jira-cloud"), endpoints=[])
    assert found == [("x-aaccountid", "present only when authenticated", "jira-cloud")]


def test_hook_authcat_template_dirs(tmp_path):
    (tmp_path / "hello.md.j2").write_text("# Hello {{ who | md }}\n")

    class Pages:
        @hookimpl
        def authcat_template_dirs(self):
            return [tmp_path]

        @hookimpl
        def authcat_site_pages(self, publication, render):
            return [("hello.md", render("hello.md.j2", who="*plugin*"))]

    pm = get_plugin_manager(load_external=False)
    pm.register(Pages(), name="pages")
    empty = Publication(CatalogData(apis={}, generated="now", authcat_version="0"), answers={}, questions={})
    pages = {page.path: page.text for page in render_pages(empty, SitePaths(REPO / "site"), Hooks(pm))}
    assert pages["hello.md"] == "# Hello \\*plugin\\*\n"  # escaped for Markdown by the `md` filter
    assert "index.md" in pages  # the built-in pages are still there


def test_the_complete_example_plugin_works(tmp_path):
    page = PLUGINS_PAGE.read_text()
    code = next(b for b in _python_blocks(PLUGINS_PAGE) if "authcat_register_commands" in b)
    assert page.index(code) > page.index("## A complete minimal plugin")
    module = _module_from(code, "authcat_empty_password", tmp_path)
    pm = get_plugin_manager(load_external=False)
    pm.register(module, name="empty-password")
    pm.check_pending()
    hooks = Hooks(pm)
    state = hooks.states["empty-password"]
    shown = state.present(hooks.schemes["basic"], Credentials({"valid": Credential("s3cret", "ann@example.com")}))
    assert shown == Presentation({"Authorization": "Basic YW5uQGV4YW1wbGUuY29tOg=="})  # "ann@example.com:"
    group = click.Group()
    hooks.register_commands(group)

    class Ctx:
        def __init__(self, hooks: Hooks):
            self.hooks = hooks

    ctx = Ctx(hooks)
    result = CliRunner().invoke(group, ["anonymous-states"], obj=ctx)
    assert result.exit_code == 0 and result.output.split() == ["anonymous"]


def test_the_contributing_token_state_example_works(tmp_path):
    code = next(b for b in _python_blocks(CONTRIBUTING_PAGE) if "authcat_register_states" in b)
    pm = get_plugin_manager(load_external=False)
    pm.register(_module_from(code, "example_scheme_upper", tmp_path), name="scheme-upper")
    hooks = Hooks(pm)
    shown = hooks.states["scheme-upper"].present(hooks.schemes["bearer"], Credentials({"valid": Credential("tok123")}))
    assert shown.headers == {"Authorization": "BEARER tok123"}
    missing = hooks.states["scheme-upper"].present(hooks.schemes["bearer"], Credentials())
    assert "no valid credential" in missing.reason


def test_the_contributing_target_example_starts_and_stops(tmp_path):
    import httpx

    code = next(b for b in _python_blocks(CONTRIBUTING_PAGE) if "authcat_register_targets" in b)
    pm = get_plugin_manager(load_external=False)
    pm.register(_module_from(code, "example_static_target", tmp_path), name="static")
    launcher = Hooks(pm).launchers["static"]
    (tmp_path / "scratch").mkdir()
    ctx = LaunchContext("static", tmp_path / "cache", tmp_path / "scratch", {"timeout": 10})
    with launcher(ctx) as launched:
        answer = httpx.get(launched.base_url + "/hello.json", timeout=5)
        assert answer.json() == {"items": [1, 2]}
    with pytest.raises(httpx.TransportError):
        httpx.get(launched.base_url + "/hello.json", timeout=2)
