"""One error model: every expected failure is an AuthcatError, handled once by the CLI."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from catalog.cli import CatalogGroup
from catalog.model import errors
from catalog.model.errors import (
    AuthcatError,
    DefinitionError,
    InputError,
    Interrupted,
    Problem,
    RegressionsFound,
    ServerStartError,
    TargetError,
    WatchError,
)
from tests.support.project import make_project, run_cli

REPO = Path(__file__).resolve().parents[1]


def test_the_tree_in_the_docstring_is_the_class_tree():
    drawn = {}
    for line in (errors.__doc__ or "").splitlines():
        m = re.match(r"^\s+([│ ]*)(?:[├└]── )?([A-Z]\w+)\s+exit (\d+)", line)
        if m:
            drawn[m.group(2)] = int(m.group(3))
    classes = {name: cls for name, cls in vars(errors).items()
               if isinstance(cls, type) and issubclass(cls, AuthcatError)}
    assert drawn.keys() == classes.keys()
    assert {name: cls.exit_code for name, cls in classes.items()} == drawn


def _invoke(exc: BaseException) -> click.testing.Result:
    group = CatalogGroup(name="authcat")

    @group.command("boom")
    def boom() -> None:
        raise exc

    return CliRunner().invoke(group, ["boom"])


@pytest.mark.parametrize(
    ("exc", "code", "message"),
    [
        pytest.param(AuthcatError("plain failure"), 1, "plain failure", id="root"),
        pytest.param(InputError("--api: no such API"), 2, "--api: no such API", id="input"),
        pytest.param(TargetError("datasette did not start"), 1, "datasette did not start", id="target"),
        pytest.param(ServerStartError("no answer from http://127.0.0.1:1/ within 30 s"), 1,
                     "no answer from http://127.0.0.1:1/ within 30 s", id="server-start"),
        pytest.param(WatchError("baseline answer is HTTP 401"), 1, "baseline answer is HTTP 401", id="watch"),
        pytest.param(RegressionsFound("2 regression(s)"), 1, "2 regression(s)", id="regressions"),
        pytest.param(Interrupted("interrupted"), 130, "interrupted", id="interrupted"),
        pytest.param(KeyboardInterrupt(), 130, "interrupted; local servers were stopped", id="ctrl-c"),
        # Square brackets are text, not rich markup: a message quoting input must print as given.
        pytest.param(InputError("field [bold]x[/bold]: bad"), 2, "field [bold]x[/bold]: bad", id="markup-inert"),
    ],
)
def test_each_expected_failure_is_one_line_and_an_exit_code(exc, code, message):
    result = _invoke(exc)
    assert result.exit_code == code
    assert result.output.strip().splitlines() == [f"error: {message}"] or (
        code == 130 and result.output.startswith(f"error: {message}"))
    assert "Traceback" not in result.output


def test_definition_problems_come_first_then_one_error_line():
    problems = [Problem("endpoints/x/a.yaml", 3, "endpoints.0.path", "must start with /"),
                Problem("endpoints/x/a.yaml", 9, "endpoints.1.id", "duplicate endpoint id 'a'")]
    result = _invoke(DefinitionError(problems))
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "endpoints/x/a.yaml:3: endpoints.0.path: must start with /",
        "endpoints/x/a.yaml:9: endpoints.1.id: duplicate endpoint id 'a'",
        "error: 2 problem(s) in the definitions; nothing was written",
    ]


def test_an_unexpected_exception_is_not_swallowed():
    result = _invoke(RuntimeError("a bug"))
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)


def test_bad_input_through_the_real_cli_exits_2_with_file_line_field_and_no_traceback(tmp_path):
    root = make_project(tmp_path / "p", "demo", [{"id": "a", "method": "GET", "path": "/a"}],
                        {"name": "local", "base_url": "http://127.0.0.1:9"})
    group = root / "endpoints" / "demo" / "things.yaml"
    group.write_text("group: G\nendpoints:\n  - id: a\n    method: GET\n    path: no-slash\n")
    done = run_cli(root, "lint")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert re.fullmatch(r".*things\.yaml:5: endpoints\[0\]\.path: .+", lines[0]), done.stderr
    assert lines[-1] == "error: 1 problem(s) in the definitions; nothing was written"


def test_a_missing_importer_is_an_input_error_not_a_traceback(tmp_path):
    root = make_project(tmp_path / "p", "demo", [{"id": "a", "method": "GET", "path": "/a"}],
                        {"name": "local", "base_url": "http://127.0.0.1:9"})
    spec = tmp_path / "spec.json"
    spec.write_text("{}")
    done = run_cli(root, "import-openapi", str(spec), "--api", "demo", "--format", "no-such-format")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: --format: no importer named 'no-such-format'; available: openapi"]


def _raised_and_exits(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            call = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = call.attr if isinstance(call, ast.Attribute) else getattr(call, "id", "")
            if name in {"ValueError", "ClickException", "SystemExit", "UsageError", "Abort"}:
                found.append(f"raise {name} (line {node.lineno})")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "exit" \
                and getattr(node.func.value, "id", "") == "sys":
            found.append(f"sys.exit (line {node.lineno})")
    return found


def test_engine_and_plugins_fail_only_through_the_error_tree():
    offenders = {}
    for folder in ("catalog", "plugins"):
        for path in sorted((REPO / folder).glob("*.py")):
            if path.name == "cli.py":  # the one place that exits
                continue
            found = _raised_and_exits(ast.parse(path.read_text(encoding="utf-8")))
            if found:
                offenders[f"{folder}/{path.name}"] = found
    assert offenders == {}


def test_cli_exits_in_one_place():
    source = inspect.getsource(__import__("catalog.cli", fromlist=["cli"]))
    assert source.count("sys.exit(") == 1
