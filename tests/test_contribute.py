"""``authcat new`` and the contributor's loop: stub → lint → run → the endpoint is on the site.

``new`` must append text (existing bytes untouched, in both list indent styles the catalog uses),
refuse duplicates with a clear message and a non-zero exit, and leave the file as it was when
the result does not validate. The last test takes a new endpoint from nothing to an observed
section of the built site, through the real CLI and a real Datasette.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from catalog.commands.contribute import append_entry, derive_id
from catalog.definitions.loader import load_api
from catalog.engine.runner import CACHE_ENV
from tests.support.project import CACHE, copy_project, run_cli

PLUGINS_JSON = ["--api", "datasette", "--group", "data", "--method", "GET", "--path", "/-/plugins.json",
                "--summary", "Installed plugins", "--docs", "https://docs.datasette.io/en/latest/introspection.html",
                "--collection", "", "--id", "plugins"]


@pytest.fixture
def root(tmp_path) -> Path:
    """A copy of the project's endpoints (and site) to add endpoints to."""
    return copy_project(tmp_path / "project")


def new(root: Path, *args: str, input: str | None = None):
    return run_cli(root, "new", *args, input=input)


def test_appends_to_a_hand_written_file_without_touching_its_bytes(root):
    group_file = root / "endpoints" / "datasette" / "data.yaml"
    before = group_file.read_bytes()
    result = new(root, *PLUGINS_JSON)
    assert result.returncode == 0, result.output
    after = group_file.read_bytes()
    assert after.startswith(before)
    assert after[len(before):].decode() == (
        "  - id: plugins\n    method: GET\n    path: /-/plugins.json\n    summary: Installed plugins\n"
        "    docs: https://docs.datasette.io/en/latest/introspection.html\n    collection: ''\n"
    )
    endpoint = load_api(root / "endpoints" / "datasette").endpoint("plugins")
    assert (endpoint.group, endpoint.collection, endpoint.source.file) == (
        "Databases, tables and queries", "", "endpoints/datasette/data.yaml")


def test_follows_the_indent_of_the_file_it_appends_to():
    flush = "group: G\nendpoints:\n- id: a\n  method: GET\n  path: /a\n"
    assert append_entry(flush, {"id": "b", "method": "GET", "path": "/b"}).endswith("\n- id: b\n  method: GET\n  path: /b\n")
    appended = append_entry("endpoints: []\n", {"id": "b", "method": "GET", "path": "/b"})
    assert appended == "endpoints:\n  - id: b\n    method: GET\n    path: /b\n"


def test_creates_the_group_file_when_missing(root):
    result = new(root, "--api", "jira-cloud", "--group", "Hand picked", "--method", "get", "--path", "/rest/api/2/myself")
    assert result.returncode == 0, result.output
    text = (root / "endpoints" / "jira-cloud" / "hand-picked.yaml").read_text()
    assert text == "group: Hand picked\nendpoints:\n  - id: get-rest-api-2-myself\n    method: GET\n    path: /rest/api/2/myself\n"
    assert derive_id("GET", "/rest/api/3/issue/{key}") == "get-rest-api-3-issue-key"


def test_asks_for_what_is_not_given(root):
    answers = "datasette\nextra\nGET\n/-/threads.json\nThreads\n\n\n"  # summary, no docs, default id
    result = new(root, input=answers)
    assert result.returncode == 0, result.output
    assert "Path (relative, starts with /)" in result.output
    entry = load_api(root / "endpoints" / "datasette").endpoint("get-threads-json")
    assert (entry.path, entry.summary, entry.docs) == ("/-/threads.json", "Threads", None)


@pytest.mark.parametrize("args, message", [
    (["--id", "versions", "--path", "/-/new.json"], "endpoint id 'versions' already exists (endpoints/datasette/instance.yaml:"),
    (["--id", "fresh", "--path", "/-/versions.json"], "GET /-/versions.json is already defined as 'versions'"),
    (["--id", "fresh", "--path", "/{database}/{table}.json"], "GET /{database}/{table}.json is already defined as"),
])
def test_refuses_duplicates_and_leaves_the_file_alone(root, args, message):
    group_file = root / "endpoints" / "datasette" / "data.yaml"
    before = group_file.read_bytes()
    result = new(root, "--api", "datasette", "--group", "data", "--method", "GET", *args)
    assert result.returncode == 1
    assert message in result.output
    assert group_file.read_bytes() == before


def test_new_and_lint_agree(root):
    """What lint accepts, `new` accepts, and the reverse: the same shape under other parameter
    names is another fixture of an operation (datasette's private table beside its public one);
    an exact duplicate, a group title naming a generated page, are refused by both."""
    from catalog.model.errors import DefinitionError

    ok = new(root, "--api", "datasette", "--group", "data", "--method", "GET", "--id", "other-table",
             "--path", "/{database}/{other_table}.json")
    assert ok.returncode == 0, ok.output
    load_api(root / "endpoints" / "datasette")  # lint accepts it too
    guide = new(root, "--api", "datasette", "--group", "Guide", "--method", "GET", "--path", "/-/x.json")
    assert guide.returncode != 0 and "guide.html" in guide.output
    assert not (root / "endpoints" / "datasette" / "guide.yaml").exists()
    data = root / "endpoints" / "datasette" / "data.yaml"
    data.write_text(data.read_text() + "  - {id: again, method: GET, path: /-/versions.json}\n")
    with pytest.raises(DefinitionError, match=r"GET /-/versions\.json is already defined as"):
        load_api(root / "endpoints" / "datasette")


def test_an_invalid_entry_is_rolled_back_with_the_loader_s_message(root):
    data = root / "endpoints" / "datasette" / "data.yaml"
    before = data.read_bytes()
    result = new(root, "--api", "datasette", "--group", "data", "--method", "GET", "--path", "/x", "--docs", "http://insecure")
    assert result.returncode == 2
    assert re.search(r"datasette/data\.yaml:\d+: endpoints\[\d+\]\.docs: 'http://insecure' does not match", result.output)
    assert "nothing was written" in result.output and data.read_bytes() == before
    result = new(root, "--api", "datasette", "--group", "brand new", "--method", "GET", "--path", "/a/../admin")
    assert result.returncode == 2 and "'.' or '..'" in result.output
    assert not (root / "endpoints" / "datasette" / "brand-new.yaml").exists()


def test_refuses_generated_files_and_unknown_apis(root):
    myself = root / "endpoints" / "jira-cloud" / "myself.yaml"
    before = myself.read_bytes()
    result = new(root, "--api", "jira-cloud", "--group", "myself", "--method", "GET", "--path", "/rest/api/3/mine")
    assert result.returncode == 1 and "generated by `authcat import-openapi`" in result.output
    assert myself.read_bytes() == before
    result = new(root, "--api", "gitlab", "--group", "x", "--method", "GET", "--path", "/x")
    assert result.returncode == 1 and "no API named 'gitlab'" in result.output and "datasette" in result.output


def test_lint_suggests_the_field_a_typo_meant(root):
    (root / "endpoints" / "datasette" / "typo.yaml").write_text(
        "endpoints:\n  - id: typo\n    method: GET\n    path: /-/typo.json\n    colection_pointer: /items\n")
    result = run_cli(root, "lint")
    assert result.returncode == 2
    assert ("endpoints/datasette/typo.yaml:5: endpoints[0].colection_pointer: "
            "unknown field `colection_pointer`, did you mean `collection`?") in result.output


def _authcat(root: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    result = run_cli(root, *args, env={CACHE_ENV: os.environ.get(CACHE_ENV, str(CACHE))}, timeout=timeout)
    assert result.returncode == 0, f"authcat {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def _section(root: Path, group_slug: str, endpoint_slug: str) -> str:
    page = (root / "site" / "build" / "apis" / "datasette" / f"{group_slug}.html").read_text()
    match = re.search(rf'<section class="authcat-endpoint" data-endpoint="{endpoint_slug}"[^>]*>(.*?)</section>', page, re.S)
    assert match, f"no section {endpoint_slug} on {group_slug}"
    return match.group(1)


@pytest.mark.slow
def test_new_endpoint_from_nothing_to_the_site(tmp_path):
    """new → lint → build (documented only) → run --api datasette (observed) on a real Datasette.
    A copy of the datasette API alone: both builds then render its pages, not the whole catalog's."""
    root = copy_project(tmp_path / "project", apis=["datasette"])
    _authcat(root, "new", *PLUGINS_JSON)
    assert "ok:" in _authcat(root, "lint").stdout
    _authcat(root, "build")
    section = _section(root, "databases-tables-and-queries", "plugins")
    assert "GET /-/plugins.json" in section and "Installed plugins" in section
    assert "badge-documented" in section and "badge-observed" not in section

    _authcat(root, "run", "--api", "datasette")
    section = _section(root, "databases-tables-and-queries", "plugins")
    assert "badge-observed" in section and "on <strong>local</strong>" in section
    assert re.search(r"<td>valid</td><td>200</td>", section)
    observed = (root / "site" / "data" / "observations" / "datasette" / "local.json").read_text()
    assert '"plugins"' in observed
