"""Endpoint definitions: the committed ones are valid; broken ones get file:line: field errors."""

from __future__ import annotations

import json
import textwrap

import pytest

from catalog.definitions.loader import load_all
from catalog.model.errors import DefinitionError
from tests.support.project import REPO, run_cli


def test_committed_definitions_lint_clean():
    apis = load_all(REPO / "endpoints")
    assert {"jira-cloud", "confluence-cloud"} <= set(apis)
    served = [e for e in apis["jira-cloud"].endpoints if e.path.startswith("/rest/api/2/")]
    assert len(served) >= 5


def write_group(project, text: str, name: str = "broken.yaml"):
    path = project.endpoints / "jira-cloud" / name
    path.write_text(textwrap.dedent(text))
    return path


def test_wrong_type_names_file_line_and_field(project):
    write_group(project, """\
        group: Broken
        endpoints:
          - id: brokenOne
            method: GET
            path: /rest/api/3/broken
            collection_guessed: "yes please"
        """)
    with pytest.raises(DefinitionError) as exc:
        load_all(project.endpoints)
    [problem] = exc.value.problems
    assert problem.file == "endpoints/jira-cloud/broken.yaml"
    assert problem.line == 6
    assert problem.field == "endpoints[0].collection_guessed"


def test_unknown_field_suggests_the_right_one(project):
    write_group(project, """\
        endpoints:
          - id: brokenTwo
            method: GET
            path: /rest/api/3/broken
            colection: /values
        """)
    with pytest.raises(DefinitionError) as exc:
        load_all(project.endpoints)
    assert "did you mean `collection`" in str(exc.value)
    assert exc.value.problems[0].line == 5


def test_absolute_url_in_path_is_refused(project):
    write_group(project, """\
        endpoints:
          - id: leaky
            method: GET
            path: https://evil.example/steal
        """)
    with pytest.raises(DefinitionError) as exc:
        load_all(project.endpoints)
    assert "not a relative path" in str(exc.value)


@pytest.mark.parametrize(("path", "problem"), [
    ("/" + "a" * 5000, "is too long"),
    ("/" + "a" * 5000 + "?q=1", "is not a relative path"),
], ids=["too-long", "too-long-with-a-query"])
def test_a_long_value_never_hides_what_is_wrong_with_it(project, path, problem):
    write_group(project, f"endpoints:\n  - id: long\n    method: GET\n    path: {path}\n")
    with pytest.raises(DefinitionError) as exc:
        load_all(project.endpoints)
    [found] = [p for p in exc.value.problems if problem in p.message]
    assert found.field == "endpoints[0].path" and found.line == 4
    assert "(5,001 characters)" in found.message or "(5,005 characters)" in found.message
    assert len(str(found)) < 300, str(found)


@pytest.mark.parametrize("command", [["lint"], ["run", "--api", "jira-cloud"]])
def test_broken_yaml_fails_the_cli_and_leaves_data_untouched(project, command):
    write_group(project, "endpoints:\n  - id: x\n    method: [GET\n")
    data = project.data
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    result = run_cli(project.root, *command)
    assert result.returncode != 0
    assert "endpoints/jira-cloud/broken.yaml:3" in result.output
    after = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    assert after == before
    assert not (project.site.build / "index.html").exists()


def test_target_profile_discovery_must_name_an_endpoint(project):
    path = project.endpoints / "jira-cloud" / "targets" / "backlot.yaml"
    path.write_text(path.read_text().replace("endpoint: searchProjects", "endpoint: noSuchEndpoint"))
    with pytest.raises(DefinitionError) as exc:
        load_all(project.endpoints)
    assert "noSuchEndpoint" in str(exc.value)
    assert exc.value.problems[0].file.endswith("targets/backlot.yaml")


def test_schemas_are_published_json():
    for name in ("api", "endpoints", "target"):
        doc = json.loads((REPO / "catalog" / "schemas" / f"{name}.schema.json").read_text())
        assert doc["$schema"].startswith("https://json-schema.org/")
