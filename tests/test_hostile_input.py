"""Hostile definition files (``tests/hostile/``) get a clear ``file:line: field: message`` from
``authcat lint`` and a non-zero exit — or, for text, lint passes and the site escapes it. No file
hangs the linter or eats memory: each lint runs in a subprocess with a timeout and its peak RSS
is read from ``wait4``. A broken OpenAPI spec gets a one-line error and writes nothing."""

from __future__ import annotations

import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from catalog.hooks.manager import Hooks
from catalog.model.errors import DefinitionError
from tests.support.project import start_cli

CORPUS = Path(__file__).parent / "hostile"
LINT_TIMEOUT = 90.0  # a hang, not a slow machine: make test runs two workers side by side on 2 cores
MAX_RSS_MB = 300  # a lint of a tiny project needs ~70 MB; an alias bomb expanded would need GBs
API = "name: hostile\ntitle: Hostile inputs\n"
BASE_GROUP = "endpoints:\n  - id: base\n    method: GET\n    path: /base-of-every-case\n"  # no case defines it again


@dataclass
class Case:
    name: str
    kind: str
    text: bytes
    expect: list[tuple[int, str, str]]  # (line, field, text); empty: lint must pass


@dataclass
class Linted:
    code: int | None  # None: killed after the timeout
    out: str
    seconds: float
    peak_mb: float


def parse_case(path: Path) -> Case:
    text = path.read_bytes()
    head = text.decode("utf-8", "replace").splitlines()[:6]
    kind = next(line.split(":", 1)[1].strip() for line in head if line.startswith("# kind:"))
    expect = []
    for line in head:
        if m := re.match(r"# expect: (\d+) (\S+) :: (.+)$", line):
            expect.append((int(m[1]), m[2], m[3]))
    return Case(path.stem, kind, text, expect)


def generated_cases() -> list[Case]:
    big = b"endpoints:\n" + b"".join(
        b"  - {id: e%d, method: GET, path: /x/%d, summary: '%s'}\n" % (i, i, b"a" * 60) for i in range(60_000)
    )
    deep_list = b"endpoints: " + b"[" * 50_000 + b"]" * 50_000 + b"\n"
    deep_map = b"endpoints:\n" + b"".join(b"  " * i + b"k%d:\n" % i for i in range(1, 400)) + b"  " * 400 + b"x: 1\n"
    return [
        Case("generated-huge", "group", big, [(1, "-", "the limit is")]),
        Case("generated-deep-list", "group", deep_list, [(1, "endpoints", "maximum nesting depth")]),
        Case("generated-deep-map", "group", deep_map, [(42, "*", "nested too deeply")]),
    ]


def all_cases() -> list[Case]:
    return [parse_case(p) for p in sorted(CORPUS.glob("*.yaml"))] + generated_cases()


ALONE = {"html-in-text", "alias-bomb"}  # linted on their own: lint must pass / memory of the bomb alone


def place(case: Case, root: Path) -> str:
    """Put ``case`` in an API folder of its own under ``root``; return its file as lint names it."""
    folder = root / "endpoints" / case.name
    (folder / "targets").mkdir(parents=True)
    (root / "site").mkdir(exist_ok=True)
    (folder / "api.yaml").write_text(API.replace("hostile", case.name))
    (folder / "base.yaml").write_text(BASE_GROUP)
    rel = {"group": "case.yaml", "api": "api.yaml", "target": "targets/t.yaml"}[case.kind]
    (folder / rel).write_bytes(case.text)
    return f"endpoints/{case.name}/{rel}"


def lint(root: Path) -> Linted:
    """Run ``authcat lint`` in a child; kill it after the timeout; read its own peak RSS."""
    started = time.monotonic()
    with open(root / "lint.out", "w+b") as out:
        proc = start_cli(root, "lint", env={"COLUMNS": "400"}, stdout=out, text=False)
        killed = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > LINT_TIMEOUT:
                os.kill(proc.pid, signal.SIGKILL)
                killed = True
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)  # stop Popen from waiting again
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    return Linted(None if killed else proc.returncode, text, time.monotonic() - started, usage.ru_maxrss / 1024)


@pytest.fixture(scope="module")
def linted(tmp_path_factory) -> dict[str, tuple[Case, str, Linted]]:
    """Committed cases share one project (each its own API: problems are collected per API, so
    one case cannot hide another); generated and special cases get a project each."""
    cases = all_cases()
    shared = tmp_path_factory.mktemp("corpus")
    roots, where = {}, {}
    for case in cases:
        alone = case.name in ALONE or case.name.startswith("generated-")
        root = tmp_path_factory.mktemp(case.name) if alone else shared
        where[case.name] = place(case, root)
        roots[case.name] = root
    unique = sorted(set(roots.values()))
    with ThreadPoolExecutor(max_workers=3) as pool:
        by_root = dict(zip(unique, pool.map(lint, unique), strict=False))
    return {c.name: (c, where[c.name], by_root[roots[c.name]]) for c in cases}


def test_corpus_is_big_enough(linted):
    assert len(linted) >= 25


@pytest.mark.parametrize("name", [c.name for c in all_cases()])
def test_hostile_file(linted, name):
    case, file, result = linted[name]
    assert result.code is not None, f"lint hung on {name} (killed after {LINT_TIMEOUT} s)"
    assert result.peak_mb < MAX_RSS_MB, f"{name}: peak RSS {result.peak_mb:.0f} MB"
    assert "Traceback" not in result.out, result.out
    if not case.expect:
        assert result.code == 0, result.out
        return
    assert result.code == 2, result.out
    for line, field, text in case.expect:
        prefix = f"{file}:{line}: "
        field_part = "(file)" if field == "-" else field
        wanted = [ln for ln in result.out.splitlines() if ln.startswith(prefix) and text in ln
                  and (field == "*" or f": {field_part}: " in ln)]
        assert wanted, f"{name}: no line like {prefix} {field_part}: …{text}… in:\n{result.out}"
    mine = [ln for ln in result.out.splitlines() if ln.startswith(f"endpoints/{case.name}/")]
    assert len(mine) == len(case.expect), f"{name}: unexpected problems: {mine}"


BROKEN_SPECS = {
    "not-json.json": '{"openapi": "3.0.0", "paths": {',
    "swagger1.json": '{"swagger": "1.2", "info": {"title": "x", "version": "1"}, "paths": {}}',
    "a-list.yaml": "- openapi: 3.0.0\n",
    "not-yaml.yaml": "openapi: 3.0.0\npaths: {\n  /x: [\n",
    "empty.yaml": "",
    "html.json": "<html><body>502 Bad Gateway</body></html>",
}


@pytest.mark.parametrize("name", sorted(BROKEN_SPECS))
def test_broken_openapi_spec(tmp_path, name):
    spec = tmp_path / name
    spec.write_text(BROKEN_SPECS[name])
    out_dir = tmp_path / "endpoints" / "imported"
    out_dir.mkdir(parents=True)
    (out_dir / "api.yaml").write_text("name: imported\ntitle: Imported\n")
    before = {p.name: p.read_bytes() for p in out_dir.iterdir()}
    with pytest.raises(DefinitionError) as info:
        Hooks().importers["openapi"](spec, "imported", out_dir)
    message = str(info.value)
    assert len(info.value.problems) == 1 and "\n" not in message and message.startswith(name), message
    assert {p.name: p.read_bytes() for p in out_dir.iterdir()} == before, "nothing written"
