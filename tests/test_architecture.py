"""ARCHITECTURE.md matches the code: every module sits in one layer, and no layer imports a lower one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTE = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")


def layers() -> dict[str, int]:
    """Module -> layer rank, read from the layer table in ARCHITECTURE.md (first row = rank 0)."""
    section = NOTE.split("## Layers and import rules", 1)[1].split("\n## ", 1)[0]
    rows = [r for r in section.splitlines() if r.startswith("| ") and not r.startswith("| layer")]
    rank: dict[str, int] = {}
    for i, row in enumerate(rows):
        for module in re.findall(r"`(\w+)`", row.split("|")[2]):
            assert module not in rank, f"{module} is in two layers"
            rank[module] = i
    return rank


def relative_imports(tree: ast.AST) -> list[tuple[str, int]]:
    """``from .x import y`` targets, skipping ``if TYPE_CHECKING:`` blocks (annotations only)."""
    found: list[tuple[str, int]] = []

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                self.generic_visit(node)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level == 1:
                names = [node.module.split(".")[0]] if node.module else [a.name for a in node.names]
                found.extend((name, node.lineno) for name in names)

    Visitor().visit(tree)
    return found


def test_every_catalog_module_is_in_exactly_one_layer():
    modules = {p.stem for p in (REPO / "catalog").glob("*.py")}
    rank = layers()
    assert modules - rank.keys() == set(), "add the new module to a layer in ARCHITECTURE.md"
    assert rank.keys() - modules == set(), "ARCHITECTURE.md names a module that does not exist"


def test_no_module_imports_from_a_lower_layer():
    rank = layers()
    wrong = []
    for path in sorted((REPO / "catalog").glob("*.py")):
        for dep, line in relative_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if dep in rank and rank[dep] > rank[path.stem]:
                wrong.append(f"catalog/{path.name}:{line} imports {dep} (a lower layer)")
    assert wrong == []


def test_the_core_never_imports_a_plugin_and_names_every_step_owner():
    for path in sorted((REPO / "catalog").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.ImportFrom) and node.level == 0) or isinstance(node, ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert not any(n.split(".")[0] in ("authcat_plugins", "plugins") for n in names), path.name
    # The flow table names real files.
    for named in set(re.findall(r"`(catalog/\w+\.py)`", NOTE)):
        assert (REPO / named).is_file(), named
