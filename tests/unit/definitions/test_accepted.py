"""The accepted-definitions store (catalog.definitions.accepted): a file that parsed and passed its
schema is taken from it on the next load, unchecked; anything else is checked as if the store did
not exist, with the same messages (file:line: field)."""

from __future__ import annotations

import json
import marshal
import os
import shutil
from pathlib import Path

import pytest

from catalog.definitions import accepted, loader
from catalog.definitions.sealed import seal
from catalog.definitions.yamlfile import load
from catalog.model.errors import DefinitionError
from tests.support.project import REPO

GROUP = """group: Things
endpoints:
  - id: list-things
    method: GET
    path: /things
    summary: Lists the things.
"""
BROKEN = GROUP.replace("    summary: Lists the things.\n", "    summary: Lists the things.\n    safe: maybe\n")


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    """An empty user cache folder of this test's own (the store lives under it)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    return tmp_path / "user-cache" / "authcat" / "definitions"


def project(root: Path, group: str = GROUP) -> Path:
    api = root / "endpoints" / "tiny"
    (api / "targets").mkdir(parents=True)
    (api / "api.yaml").write_text("name: tiny\ntitle: Tiny API\nscheme: basic\n")
    (api / "things.yaml").write_text(group)
    (api / "targets" / "local.yaml").write_text("name: local\nbase_url_env: TINY_URL\n")
    return root / "endpoints"


def opened(where: Path) -> accepted.Accepted:
    """The store as the loader opens it (the same key, the same names)."""
    return accepted.Accepted(where, loader.ACCEPTANCE_CODE)


def problems(endpoints: Path) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        loader.load_all(endpoints)
    return [str(p) for p in caught.value.problems]


def entries(store: Path) -> list[Path]:
    return [p for p in store.glob("*/*") if not p.name.startswith(".")]


def refuse_to_check(monkeypatch) -> None:
    def checked(*args, **kwargs):
        raise AssertionError("checked against the schema again")
    monkeypatch.setattr(loader, "schema_problems", checked)


def test_the_bundled_definitions_load_the_same_from_the_store(store, monkeypatch):
    first = loader.load_all(REPO / "endpoints")
    assert len(entries(store)) == len(list((REPO / "endpoints").rglob("*.yaml")))
    refuse_to_check(monkeypatch)  # every file is taken from the store now
    assert loader.load_all(REPO / "endpoints") == first


def test_a_remembered_parse_is_the_parse_value_for_value_and_line_for_line(store):
    remembered = opened(store)
    for path in sorted((REPO / "endpoints").rglob("*.yaml")):
        raw, fresh = path.read_bytes(), load(path)
        kind = "api" if path.name == "api.yaml" else "target" if path.parent.name == "targets" else "endpoints"
        remembered.remember(kind, raw, fresh.data, fresh.lines)
        found = opened(store).get(kind, raw)
        assert found is not None, path
        # json.dumps tells true from 1 from 1.0, which == does not
        assert json.dumps(found[0]) == json.dumps(fresh.data), path
        assert found[1] == fresh.lines, path


def test_an_edited_file_is_checked_again_and_its_problem_named_by_file_and_line(store, tmp_path, monkeypatch):
    endpoints = project(tmp_path / "p")
    loader.load_all(endpoints)  # accepted: remembered
    (endpoints / "tiny" / "things.yaml").write_text(BROKEN)
    found = problems(endpoints)
    assert found == ["endpoints/tiny/things.yaml:7: endpoints[0].safe: 'maybe' is not of type 'boolean'"]
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "no-store-yet"))
    assert problems(endpoints) == found  # exactly what a load with no store says
    (endpoints / "tiny" / "things.yaml").write_text(GROUP)  # mended: accepted again
    assert [e.id for e in loader.load_all(endpoints)["tiny"].endpoints] == ["list-things"]


def test_an_invalid_file_is_never_remembered(store, tmp_path):
    endpoints = project(tmp_path / "p", BROKEN)
    first = problems(endpoints)
    assert problems(endpoints) == first
    assert len(entries(store)) == 2  # api.yaml and the target, not the broken group


def test_a_tampered_store_cannot_make_an_invalid_file_pass(store, tmp_path):
    endpoints = project(tmp_path / "p")
    loader.load_all(endpoints)  # the valid files' entries are in the store
    (endpoints / "tiny" / "things.yaml").write_text(BROKEN)
    expected = problems(endpoints)
    real = opened(store)
    assert real._dir is not None
    name = real._name("endpoints", (endpoints / "tiny" / "things.yaml").read_bytes())  # the forger even knows it
    parse = marshal.dumps(({"group": "Things", "endpoints": []}, {(): 1}))  # a parse as the store keeps one
    someone_else = opened(tmp_path / "another-store")  # the same code, another key
    forgeries = {
        "another entry's genuine content": entries(store)[0].read_bytes(),
        "sealed with another key": seal(someone_else._key, name, parse) + b"\n" + parse,
        "the right seal over another body": seal(real._key, name, b"[]") + b"\n" + parse,
        "no seal": b"\n" + parse,
        "a seal of zeros": b"0" * 64 + b"\n" + parse,
        "nothing": b"",
    }
    for what, content in forgeries.items():
        (real._dir / name).write_bytes(content)
        assert problems(endpoints) == expected, what
    # Only the key seals: the same parse sealed with it is taken (so the checks above did test the seal).
    (real._dir / name).write_bytes(seal(real._key, name, parse) + b"\n" + parse)
    assert loader.load_all(endpoints)["tiny"].endpoints == []


def test_a_key_others_can_write_is_not_used(store, tmp_path, monkeypatch):
    endpoints = project(tmp_path / "p")
    loader.load_all(endpoints)
    os.chmod(store / "key", 0o666)
    loader._STORES.clear()
    assert opened(store)._dir is None
    assert loader.load_all(endpoints)["tiny"].endpoints  # checked again, and loads


@pytest.mark.parametrize("damage", ["missing", "corrupt entries", "empty entries", "entries are folders",
                                    "short key", "no folder at all"])
def test_a_missing_unreadable_or_corrupt_store_means_checking_again(store, tmp_path, monkeypatch, damage):
    endpoints = project(tmp_path / "p")
    first = loader.load_all(endpoints)
    found = entries(store)
    if damage == "missing":
        shutil.rmtree(store)
    for entry in found:
        if damage == "corrupt entries":
            entry.write_bytes(entry.read_bytes()[:-7] + b"garbage")
        elif damage == "empty entries":
            entry.write_bytes(b"")
        elif damage == "entries are folders":
            entry.unlink()
            entry.mkdir()
    if damage == "short key":
        (store / "key").write_bytes(b"abc")
    if damage == "no folder at all":
        (tmp_path / "a-file").write_text("")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))
    loader._STORES.clear()
    checks = []
    real = loader.schema_problems

    def counted(doc, kind):
        checks.append(kind)
        return real(doc, kind)

    monkeypatch.setattr(loader, "schema_problems", counted)
    assert loader.load_all(endpoints) == first
    assert sorted(checks) == ["api", "endpoints", "target"]  # each file checked again


def test_no_home_and_no_cache_folder_means_no_store():
    assert accepted.folder({"HOME": "relative"}) is None
    assert accepted.folder({"XDG_CACHE_HOME": "relative", "HOME": "/h"}) == Path("/h/.cache/authcat/definitions")
    assert accepted.folder({"XDG_CACHE_HOME": "/x"}) == Path("/x/authcat/definitions")
    assert accepted.Accepted(None).get("api", b"name: x\n") is None
