"""The contributor-file reference is generated from the JSON Schemas, every field with its
meaning and an example; lint refuses unknown state names and group titles that collide with
generated pages, before anything is probed or written."""

from __future__ import annotations

import json

import pytest
import yaml

from catalog.definitions.reference import FILES, fields, full_example
from tests.support.project import copy_project, run_cli


@pytest.mark.parametrize("kind", list(FILES))
def test_every_schema_field_has_words_and_an_example(kind):
    found = fields(kind)
    assert len(found) > 10
    bare = [f.path for f in found if not f.description or not f.example]
    assert not bare, f"document these {kind} fields in the schema or catalog/schemas/reference.yaml: {bare}"
    for f in found:
        yaml.safe_load(f.example)  # every example is YAML


@pytest.mark.parametrize("kind", list(FILES))
def test_the_whole_example_file_is_valid(kind):
    doc = yaml.safe_load(full_example(kind))
    from catalog.definitions.loader import _validator  # lint's own validator (the files refer to each other)

    errors = [e.message for e in _validator(kind).iter_errors(doc)]
    assert not errors


def test_nested_and_free_key_fields_are_listed():
    paths = {f.path for f in fields("api")}
    assert {"scheme.keyword", "auth_failure[].when.<name>.one_of", "reported[].source"} <= paths
    target = {f.path for f in fields("target")}
    assert {"credentials.<name>.secret.env", "version_from.header", "parameters.<name>.from.pointer"} <= target


def test_reference_page_is_built(empty_project):
    from catalog.hooks.manager import Hooks
    from catalog.pipeline import load_publication
    from catalog.site.build import render_pages

    hooks = Hooks()
    pages = {p.path: p for p in render_pages(load_publication(empty_project, hooks), empty_project.site, hooks)}
    page = pages["reference.md"]
    assert page.nav == ("Reference", "Contributor files")
    for kind in FILES:
        for f in fields(kind):
            assert f'id="{kind}-' in page.text and f"<code>{f.path}</code>" in page.text.replace("&lt;", "<").replace("&gt;", ">")


def test_lint_refuses_an_unknown_state_name(tmp_path):
    root = copy_project(tmp_path / "p", with_data=False)
    api = root / "endpoints" / "datasette" / "api.yaml"
    api.write_text(api.read_text() + "states: [valid, anonymous, unknwon-token]\n")
    done = run_cli(root, "lint")
    assert done.returncode == 2
    assert "endpoints/datasette/api.yaml:" in done.stderr
    assert "states.2: no token state named 'unknwon-token', did you mean `unknown-token`?" in done.stderr


@pytest.mark.parametrize("title", ["Index", "Guide", "guide!"])
def test_a_group_titled_like_a_generated_page_is_refused_before_anything_is_written(tmp_path, title):
    root = copy_project(tmp_path / "p")
    group = root / "endpoints" / "datasette" / "instance.yaml"
    text = group.read_text()
    group.write_text(text.replace(text.splitlines()[0], f"group: {json.dumps(title)}", 1))
    data = root / "site" / "data" / "observations" / "datasette" / "local.json"
    before = data.read_bytes()
    lint = run_cli(root, "lint")
    assert lint.returncode == 2 and "endpoints/datasette/instance.yaml:1: group:" in lint.stderr
    assert "which the site generates" in lint.stderr
    if title != "Index":
        return
    # `run` refuses before probing: no traceback, the observations untouched, no site half-built.
    run = run_cli(root, "run", "--api", "datasette", timeout=200)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert data.read_bytes() == before
    build = run_cli(root, "build")
    assert build.returncode == 2 and "Traceback" not in build.stderr


def test_two_groups_making_one_page_are_refused(tmp_path):
    root = copy_project(tmp_path / "p", with_data=False)
    folder = root / "endpoints" / "datasette"
    (folder / "extra.yaml").write_text("group: Instance and Introspection!\nendpoints:\n"
                                       "  - {id: extra, method: GET, path: /-/extra.json}\n")
    lint = run_cli(root, "lint")
    assert lint.returncode == 2
    assert "makes the same page (instance-and-introspection.html)" in lint.stderr
