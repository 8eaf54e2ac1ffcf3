"""The folder tree is the architecture note: every sub-package of ``catalog`` is a layer of the
import-linter contract (``[tool.importlinter]`` in pyproject.toml, run by ``make test``), says its
job in its docstring, and is named in ARCHITECTURE.md. The import rules themselves are
import-linter's to check."""

from __future__ import annotations

import ast
import tomllib

from tests.support.project import REPO


def _contract(contract_id: str) -> dict:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    return next(c for c in config["contracts"] if c["id"] == contract_id)


def _layer_names() -> set[str]:
    return {name.strip() for layer in _contract("layers")["layers"] for name in layer.split("|")}


def test_every_sub_package_and_top_module_is_a_layer():
    found = {p.name for p in (REPO / "catalog").iterdir() if (p / "__init__.py").is_file()}
    found |= {p.stem for p in (REPO / "catalog").glob("*.py") if p.stem != "__init__"}
    assert found == _layer_names(), "add the new package or module to the layers contract in pyproject.toml"


def test_every_layer_says_its_job_and_is_in_the_architecture_note():
    note = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for name in sorted(_layer_names()):
        package = REPO / "catalog" / name / "__init__.py"
        source = package if package.is_file() else REPO / "catalog" / f"{name}.py"
        doc = ast.get_docstring(ast.parse(source.read_text(encoding="utf-8")))
        assert doc and len(doc) > 40, f"catalog/{name}: say the layer's job in its docstring"
        assert f"`catalog/{name}" in note, f"ARCHITECTURE.md does not name catalog/{name}"


def test_the_contracts_forbid_plugins_reaching_past_the_public_api():
    forbidden = set(_contract("plugins-use-the-public-api")["forbidden_modules"])
    assert forbidden == {f"catalog.{n}" for n in _layer_names() - {"api", "__main__"}}
