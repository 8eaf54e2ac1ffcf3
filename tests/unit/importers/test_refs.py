"""``$ref`` chains through the files of one spec folder (the referencing registry and its
retrieve function): relative to the file each ``$ref`` is written in, each file read once,
cycles and broken pointers unresolved, nothing outside the folder read."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.importers.openapi.refs import RefRefused, resolve
from catalog.importers.openapi.spec import read_spec


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path / "area.yaml"


AREA = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"


def test_a_chain_continues_relative_to_the_file_each_ref_is_written_in(tmp_path):
    spec = read_spec(_folder(tmp_path, {
        "area.yaml": AREA + "    thing: {$ref: 'defs/a.yaml#/wrapper'}\n",
        "defs/a.yaml": "wrapper: {$ref: 'sub/b.yaml'}\n",  # defs/sub/b.yaml, not sub/b.yaml
        "defs/sub/b.yaml": "local: {$ref: '#/target'}\ntarget: {type: array}\nstart: {$ref: '#/local'}\n",
    }))
    first = resolve(spec, spec["components"]["schemas"]["thing"])
    assert first["target"] == {"type": "array"}
    # A node handed around without its document still resolves from its own file.
    assert resolve(spec, first["start"]) == {"type": "array"}


def test_cycles_and_broken_pointers_resolve_to_nothing(tmp_path):
    spec = read_spec(_folder(tmp_path, {
        "area.yaml": AREA + "    a: {$ref: '#/components/schemas/b'}\n    b: {$ref: '#/components/schemas/a'}\n"
                            "    gone: {$ref: '#/components/schemas/nowhere'}\n    idx: {$ref: '#/paths/01'}\n",
    }))
    schemas = spec["components"]["schemas"]
    assert resolve(spec, schemas["a"]) is None
    assert resolve(spec, schemas["gone"]) is None
    assert resolve(spec, schemas["idx"]) is None


def test_a_bare_dict_follows_only_local_refs():
    doc = {"x": {"type": "string"}, "local": {"$ref": "#/x"}, "file": {"$ref": "other.yaml"}}
    assert resolve(doc, doc["local"]) == {"type": "string"}
    assert resolve(doc, doc["file"]) is None


@pytest.mark.parametrize("ref", ["../outside.yaml", "defs/../../outside.yaml", "file:///etc/hostname", "//host/x.yaml"])
def test_the_retrieve_function_reads_nothing_outside_the_folder(tmp_path, ref):
    (tmp_path / "outside.yaml").write_text("type: array\n")
    spec = read_spec(_folder(tmp_path / "spec", {"area.yaml": AREA + f"    out: {{$ref: '{ref}'}}\n"}))
    with pytest.raises(RefRefused) as refused:
        resolve(spec, spec["components"]["schemas"]["out"])
    problem = refused.value.problems[0]
    assert (problem.file, problem.line, problem.field) == ("spec/area.yaml", 6, "$ref")
