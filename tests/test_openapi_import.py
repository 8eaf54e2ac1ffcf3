"""The OpenAPI importer: counts on the real Atlassian specs, safe re-import, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pluggy
import pytest
import yaml

from catalog.definitions.loader import load_api
from catalog.hooks import specs as hookspecs
from catalog.hooks.manager import DEFAULT_PLUGINS
from catalog.importers.openapi import importer as openapi_importer
from catalog.importers.openapi.importer import HEADER, import_openapi, is_generated
from catalog.model.errors import DefinitionError

REPO = Path(__file__).parents[1]
SPECS = REPO / "specs"
JIRA_SPEC = SPECS / "jira-cloud-platform-v3.openapi.json"
CONFLUENCE_SPEC = SPECS / "confluence-cloud-v2.openapi.json"


def api_folder(root: Path, api: str) -> Path:
    """A fresh API folder holding only the repository's api.yaml."""
    folder = root / api
    folder.mkdir(parents=True)
    shutil.copy(REPO / "endpoints" / api / "api.yaml", folder / "api.yaml")
    return folder


def generated_only(src: Path, dst: Path) -> Path:
    """Copy api.yaml and the generated files: the importer's own output, without others' work."""
    dst.mkdir(parents=True)
    for f in src.glob("*.yaml"):
        if f.name == "api.yaml" or is_generated(f):
            shutil.copy(f, dst / f.name)
    return dst


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def entries(folder: Path) -> dict[str, dict]:
    found = {}
    for f in folder.glob("*.yaml"):
        if is_generated(f):
            found.update({e["id"]: e for e in yaml.safe_load(f.read_text())["endpoints"]})
    return found


@pytest.fixture(scope="module")
def jira_spec() -> dict:
    return json.loads(JIRA_SPEC.read_text())


@pytest.fixture(scope="module")
def jira(tmp_path_factory) -> Path:
    folder = api_folder(tmp_path_factory.mktemp("import"), "jira-cloud")
    import_openapi(JIRA_SPEC, "jira-cloud", folder)
    return folder


@pytest.fixture
def small_spec(tmp_path, jira_spec):
    """Write a real Jira spec cut down to a few paths: fast, and still vendor data."""

    def write(paths: list[str], name: str = "jira-small.json", rename: dict[str, str] | None = None) -> Path:
        spec = {k: v for k, v in jira_spec.items() if k != "paths"}
        spec["paths"] = {p: json.loads(json.dumps(jira_spec["paths"][p])) for p in paths}
        for op in (o for item in spec["paths"].values() for o in item.values()):
            op["operationId"] = (rename or {}).get(op["operationId"], op["operationId"])
        path = tmp_path / name
        path.write_text(json.dumps(spec))
        return path

    return write


# --------------------------------------------------------------------------------------------
# The real specs
# --------------------------------------------------------------------------------------------


def test_jira_counts(jira):
    gets = [e for e in load_api(jira).endpoints if e.method == "GET"]
    assert len(load_api(jira).endpoints) == 616
    assert len(gets) == 274
    assert sum(bool(e.documented.anonymous_sentence) for e in gets) == 99
    assert sum(bool(e.documented.security_optional) for e in gets) == 120
    assert sum(e.documented.markers_disagree for e in gets) == 21
    assert sum(e.documented.anonymous is True for e in gets) == 120


def test_jira_entries(jira):
    api = load_api(jira)
    search = next(e for e in api.endpoints if e.key == "GET /rest/api/3/project/search")
    assert search.docs == "https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-projects/#api-rest-api-3-project-search-get"
    assert (search.collection, search.collection_guessed) == ("/values", True)
    assert next(e for e in api.endpoints if e.key == "GET /rest/api/3/project").collection == ""
    assert next(e for e in api.endpoints if e.key == "GET /rest/api/3/search/jql").collection == "/issues"
    assert next(e for e in api.endpoints if e.key == "GET /rest/api/3/myself").collection is None
    # The one POST whose markers disagree: sentence without {}.
    post = next(e for e in api.endpoints if e.key == "POST /rest/api/3/issue/properties")
    assert (post.documented.anonymous_sentence, post.documented.security_optional) == (True, False)
    untagged = yaml.safe_load((jira / "untagged.yaml").read_text())
    assert untagged["group"] == "untagged" and len(untagged["endpoints"]) == 1


def test_generated_header(jira):
    first = (jira / "projects.yaml").read_text().splitlines()[0]
    assert first.startswith(HEADER) and JIRA_SPEC.name in first and "notes" in first


def test_confluence_anonymous_is_unknown(tmp_path):
    folder = api_folder(tmp_path, "confluence-cloud")
    import_openapi(CONFLUENCE_SPEC, "confluence-cloud", folder)
    api = load_api(folder)
    assert len(api.endpoints) == 188
    assert {e.documented.anonymous for e in api.endpoints} == {None}
    pages = next(e for e in api.endpoints if e.id == "getPages")
    assert pages.path == "/wiki/api/v2/pages"  # the server's path prefix: paths are relative to the site
    assert pages.docs == "https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-page/#api-pages-get"
    assert pages.collection == "/results"


@pytest.mark.parametrize(("api", "spec"), [("jira-cloud", JIRA_SPEC), ("confluence-cloud", CONFLUENCE_SPEC)])
def test_committed_catalog_reimports_byte_identical(tmp_path, api, spec):
    folder = tmp_path / api
    shutil.copytree(REPO / "endpoints" / api, folder)
    before = snapshot(folder)
    import_openapi(spec, api, folder)
    assert snapshot(folder) == before


@pytest.mark.parametrize("api", ["jira-cloud", "confluence-cloud"])
def test_committed_generated_files_load(tmp_path, api):
    folder = generated_only(REPO / "endpoints" / api, tmp_path / api)
    assert len(load_api(folder).endpoints) == len(entries(folder)) > 0


# --------------------------------------------------------------------------------------------
# Safe re-import
# --------------------------------------------------------------------------------------------

PATHS = ["/rest/api/3/project", "/rest/api/3/project/search", "/rest/api/3/myself"]


def edit(folder: Path, file: str, endpoint_id: str, **fields) -> None:
    path = folder / file
    text = path.read_text()
    data = yaml.safe_load(text)
    next(e for e in data["endpoints"] if e["id"] == endpoint_id).update(fields)
    header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
    path.write_text(header + yaml.safe_dump(data, sort_keys=False))


def test_human_fields_survive_reimport(tmp_path, small_spec):
    spec, folder = small_spec(PATHS), api_folder(tmp_path, "jira-cloud")
    import_openapi(spec, "jira-cloud", folder)
    claim = {"ref": "R2", "claim": "expired token got 200 []", "source": "https://example.org/r2", "state": "expired"}
    edit(folder, "projects.yaml", "searchProjects", notes="kept", query={"maxResults": 1}, reported=[claim],
         collection="/values/0/issues", collection_guessed=False, summary="edited by hand",
         documented={"anonymous": False, "anonymous_sentence": False})
    # Where the importer had no guess, a collection a person adds needs no flag.
    edit(folder, "myself.yaml", "getCurrentUser", collection="/groups/items")
    import_openapi(spec, "jira-cloud", folder)
    found = entries(folder)
    search = found["searchProjects"]
    assert search["notes"] == "kept" and search["query"] == {"maxResults": 1} and search["reported"] == [claim]
    assert (search["collection"], search["collection_guessed"]) == ("/values/0/issues", False)
    assert search["summary"] == "Get projects paginated"  # spec fields are refreshed
    assert search["documented"]["anonymous"] is False  # a person's override is kept …
    assert search["documented"]["anonymous_sentence"] is True  # … the spec's marker is refreshed
    assert found["getCurrentUser"]["collection"] == "/groups/items"
    before = snapshot(folder)
    import_openapi(spec, "jira-cloud", folder)
    assert snapshot(folder) == before


def test_guessed_collection_is_refreshed(tmp_path, small_spec):
    spec, folder = small_spec(PATHS), api_folder(tmp_path, "jira-cloud")
    import_openapi(spec, "jira-cloud", folder)
    edit(folder, "projects.yaml", "searchProjects", collection="/stale", collection_guessed=True)
    import_openapi(spec, "jira-cloud", folder)
    assert entries(folder)["searchProjects"]["collection"] == "/values"


def test_vanished_operation_is_marked_removed(tmp_path, small_spec):
    folder = api_folder(tmp_path, "jira-cloud")
    import_openapi(small_spec(PATHS), "jira-cloud", folder)
    edit(folder, "myself.yaml", "getCurrentUser", notes="the token check")
    summary = import_openapi(small_spec(PATHS[:2], "jira-smaller.json"), "jira-cloud", folder)
    gone = entries(folder)["getCurrentUser"]
    assert gone["removed"] is True and gone["notes"] == "the token check"
    assert "1 marked removed" in summary
    assert load_api(folder).endpoint("getCurrentUser").removed
    import_openapi(small_spec(PATHS), "jira-cloud", folder)  # back in the spec: no longer removed
    assert "removed" not in entries(folder)["getCurrentUser"]


def test_renamed_operation_keeps_human_fields(tmp_path, small_spec):
    folder = api_folder(tmp_path, "jira-cloud")
    import_openapi(small_spec(PATHS), "jira-cloud", folder)
    edit(folder, "myself.yaml", "getCurrentUser", notes="the token check")
    import_openapi(small_spec(PATHS, rename={"getCurrentUser": "getMyself"}), "jira-cloud", folder)
    found = entries(folder)
    assert "getCurrentUser" not in found and found["getMyself"]["notes"] == "the token check"


def test_hand_written_files_are_respected(tmp_path, small_spec):
    folder = api_folder(tmp_path, "jira-cloud")
    hand = folder / "rest-api-3.yaml"
    hand.write_text(
        "# Hand-written.\ngroup: Mine\nendpoints:\n"
        "  - {id: getCurrentUser, method: GET, path: /rest/api/3/myself}\n"
    )
    before = hand.read_bytes()
    summary = import_openapi(small_spec(PATHS), "jira-cloud", folder)
    assert hand.read_bytes() == before
    assert "getCurrentUser (rest-api-3.yaml)" in summary
    assert "getCurrentUser" not in entries(folder)
    assert load_api(folder).endpoint("getCurrentUser").group == "Mine"


def test_a_hand_written_file_name_is_never_reused(tmp_path, small_spec):
    folder = api_folder(tmp_path, "jira-cloud")
    (folder / "projects.yaml").write_text("group: Projects by hand\nendpoints: []\n")
    import_openapi(small_spec(PATHS), "jira-cloud", folder)
    assert (folder / "projects.yaml").read_text() == "group: Projects by hand\nendpoints: []\n"
    assert "searchProjects" in entries(folder)  # written beside it, as projects-2.yaml
    assert is_generated(folder / "projects-2.yaml")


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "line", "field"),
    [
        ("broken.json", '{\n  "openapi": "3.0.1",\n  "paths": {,}\n}', 3, ""),
        ("broken.yaml", "openapi: 3.0.1\npaths: [unclosed\n", 3, ""),
        ("swagger.json", '{\n  "swagger": "1.2",\n  "paths": {}\n}', 2, "swagger"),
        ("nothing.yaml", "info:\n  title: no version\npaths: {}\n", 1, "openapi"),
        ("openapi2.yaml", "x: 1\nopenapi: 2.0.0\npaths: {}\n", 2, "openapi"),
        ("list.json", "[1, 2]", 1, "(file)"),
        ("nopaths.yaml", "openapi: 3.0.0\npaths: 5\n", 2, "paths"),
    ],
)
def test_bad_spec_is_one_problem_and_writes_nothing(tmp_path, name, text, line, field):
    spec = tmp_path / name
    spec.write_text(text)
    folder = api_folder(tmp_path, "jira-cloud")
    before = snapshot(folder)
    with pytest.raises(DefinitionError) as err:
        import_openapi(spec, "jira-cloud", folder)
    [problem] = err.value.problems
    assert (problem.file, problem.line, problem.field) == (name, line, field)
    assert snapshot(folder) == before
    with pytest.raises(DefinitionError):
        import_openapi(spec, "jira-cloud", tmp_path / "never-created")
    assert not (tmp_path / "never-created").exists()


def test_invalid_merge_writes_nothing(tmp_path, small_spec):
    spec, folder = small_spec(PATHS), api_folder(tmp_path, "jira-cloud")
    import_openapi(spec, "jira-cloud", folder)
    edit(folder, "projects.yaml", "searchProjects", notez="typo")
    before = snapshot(folder)
    with pytest.raises(DefinitionError) as err:
        import_openapi(spec, "jira-cloud", folder)
    assert "notez" in str(err.value) and "projects.yaml" in str(err.value)
    assert snapshot(folder) == before


# --------------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------------


def test_registered_as_built_in_plugin():
    assert "catalog.importers.openapi.importer" in DEFAULT_PLUGINS
    pm = pluggy.PluginManager("authcat")
    pm.add_hookspecs(hookspecs)
    pm.register(openapi_importer)
    found: dict[str, object] = {}
    pm.hook.authcat_register_importers(register=lambda name, importer: found.setdefault(name, importer))
    assert found == {"openapi": import_openapi}
