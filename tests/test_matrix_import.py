"""Importing the Matrix Client-Server spec: a real multi-file OpenAPI 3.1 spec with relative $refs.

The spec lives in ``specs/matrix-client-server/`` (one document per area, shared files under
``definitions/``). The importer follows ``$ref``s between those files, and refuses — without
reading — any ``$ref`` that names a URL, an absolute path or a file outside that folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from catalog.definitions.loader import load_api
from catalog.importers.openapi.importer import import_openapi, is_generated
from catalog.model.errors import DefinitionError
from tests.support.project import run_cli

REPO = Path(__file__).parents[1]
MATRIX = REPO / "specs" / "matrix-client-server"


def api_folder(root: Path) -> Path:
    folder = root / "matrix"
    folder.mkdir(parents=True)
    shutil.copy(REPO / "endpoints" / "matrix" / "api.yaml", folder / "api.yaml")
    return folder


def entries(folder: Path) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for f in folder.glob("*.yaml"):
        if is_generated(f):
            found.update({e["id"]: e for e in yaml.safe_load(f.read_text())["endpoints"]})
    return found


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> Path:
    folder = api_folder(tmp_path_factory.mktemp("matrix"))
    import_openapi(MATRIX, "matrix", folder, skip_outside_refs=True)
    return folder


def test_every_operation_is_imported_with_its_server_prefix(matrix):
    found = entries(matrix)
    assert len(found) == 166
    assert sum(e["method"] == "GET" for e in found.values()) == 81
    assert found["getPublicRooms"]["path"] == "/_matrix/client/v3/publicRooms"
    assert found["getTokenOwner"]["path"] == "/_matrix/client/v3/account/whoami"
    assert found["getVersions"]["path"] == "/_matrix/client/versions"
    assert found["getContentAuthed"]["path"] == "/_matrix/client/v1/media/download/{serverName}/{mediaId}"
    # The vendor wrote "/events " once; no path keeps the stray space.
    assert found["peekEvents"]["path"] == "/_matrix/client/v3/events"
    assert load_api(matrix).endpoints  # the output loads and validates


def test_security_maps_to_documented_anonymous_access(matrix):
    """absent → no credential needed; [{}, …] → optional; accessTokenBearer → required."""
    definition = {e.id: e for e in load_api(matrix).endpoints}
    public_rooms, versions, whoami = definition["getPublicRooms"], definition["getVersions"], definition["getTokenOwner"]
    assert (public_rooms.documented.security, public_rooms.documented.anonymous) == ("none", True)
    assert (versions.documented.security, versions.documented.anonymous) == ("optional", True)
    assert (whoami.documented.security, whoami.documented.anonymous) == ("required", False)
    gets = [e for e in definition.values() if e.method == "GET"]
    assert sum(e.documented.security == "none" for e in gets) == 17  # the count in specs/README.md
    assert sum(e.documented.security == "optional" for e in gets) == 1


def test_refs_into_other_files_are_followed(matrix):
    """Collections are guessed from schemas that live in definitions/ (publicRooms' chunk)."""
    found = entries(matrix)
    assert found["getPublicRooms"]["collection"] == "/chunk"  # via definitions/public_rooms_response.yaml
    assert found["getRoomEvents"]["collection"] == "/chunk"


def test_reimport_is_byte_identical_and_keeps_hand_added_fields(matrix, tmp_path):
    folder = tmp_path / "matrix"
    shutil.copytree(matrix, folder)
    assert "0 written" in import_openapi(MATRIX, "matrix", folder, skip_outside_refs=True)
    path = next(f for f in folder.glob("*.yaml") if "getTokenOwner" in f.read_text())
    text = path.read_text().replace(
        "  operation_id: getTokenOwner\n",
        "  operation_id: getTokenOwner\n  notes: The token check ~@+/= Canary.\n  collection: /user_id\n",
    )
    path.write_text(text)
    import_openapi(MATRIX, "matrix", folder, skip_outside_refs=True)  # puts the fields in order
    before = {p.name: p.read_bytes() for p in folder.glob("*.yaml")}
    assert "0 written" in import_openapi(MATRIX, "matrix", folder, skip_outside_refs=True)
    assert {p.name: p.read_bytes() for p in folder.glob("*.yaml")} == before
    entry = entries(folder)["getTokenOwner"]
    assert entry["notes"] == "The token check ~@+/= Canary." and entry["collection"] == "/user_id"


def test_refs_leaving_the_vendor_folder_stop_the_import_unless_skipped(tmp_path):
    """Four vendor $refs point at sibling folders of the upstream repository that were not copied."""
    folder = api_folder(tmp_path)
    with pytest.raises(DefinitionError) as err:
        import_openapi(MATRIX, "matrix", folder)
    assert "matrix-client-server/room_summary.yaml:78: $ref: '../client-server/" in str(err.value)
    assert sorted(p.name for p in folder.iterdir()) == ["api.yaml"]  # nothing written
    summary = import_openapi(MATRIX, "matrix", folder, skip_outside_refs=True)
    assert "Not read (4 $ref outside the spec's folder" in summary


def _spec_folder(tmp_path: Path, ref: str, where: str = "schema") -> Path:
    spec = tmp_path / "spec"
    (spec / "definitions").mkdir(parents=True)
    (spec / "definitions" / "ok.yaml").write_text("type: object\nproperties:\n  chunk: {type: array}\n")
    schema = f"$ref: '{ref}'" if where == "schema" else "$ref: definitions/ok.yaml"
    scheme = f"$ref: '{ref}'" if where == "scheme" else "type: http\n      scheme: bearer"
    (spec / "area.yaml").write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /things:\n    get:\n"
        "      operationId: getThings\n      security:\n        - bearer: []\n      responses:\n"
        "        '200':\n          description: ok\n          content:\n            application/json:\n"
        f"              schema:\n                {schema}\n"
        f"components:\n  securitySchemes:\n    bearer:\n      {scheme}\n"
    )
    return spec


@pytest.mark.parametrize("ref", [
    "../../../../../../etc/passwd",
    "/etc/passwd",
    "file:///etc/passwd",
    "https://example.org/schema.yaml",
    "definitions/../../outside.yaml",
    "definitions/missing.yaml",
])
@pytest.mark.parametrize("where", ["schema", "scheme"])
def test_a_ref_outside_the_folder_is_an_error_naming_file_line_and_field(tmp_path, ref, where):
    spec = _spec_folder(tmp_path, ref, where)
    (tmp_path / "outside.yaml").write_text("type: array\n")
    out = api_folder(tmp_path / "out")
    with pytest.raises(DefinitionError) as err:
        import_openapi(spec, "matrix", out)
    problem = err.value.problems[0]
    assert (problem.file, problem.field) == ("spec/area.yaml", "$ref")
    assert problem.line == (15 if where == "schema" else 19)
    assert ref in problem.message
    assert sorted(p.name for p in out.iterdir()) == ["api.yaml"]


def test_a_symlink_out_of_the_folder_is_refused(tmp_path):
    spec = _spec_folder(tmp_path, "definitions/link.yaml")
    secret = tmp_path / "secret.yaml"
    secret.write_text("type: array\n")
    (spec / "definitions" / "link.yaml").symlink_to(secret)
    with pytest.raises(DefinitionError) as err:
        import_openapi(spec, "matrix", api_folder(tmp_path / "out"))
    assert "outside the spec's folder" in str(err.value)


def test_a_ref_inside_the_folder_is_followed(tmp_path):
    spec = _spec_folder(tmp_path, "definitions/ok.yaml")
    out = api_folder(tmp_path / "out")
    import_openapi(spec, "matrix", out)
    assert entries(out)["getThings"]["collection"] == "/chunk"


def test_cli_error_has_no_traceback(tmp_path):
    spec = _spec_folder(tmp_path, "../../../../etc/passwd")
    root = tmp_path / "project"
    api_folder(root / "endpoints")
    done = run_cli(root, "import-openapi", str(spec), "--api", "matrix")
    assert done.returncode != 0
    assert "spec/area.yaml:15: $ref: '../../../../etc/passwd' points outside the spec's folder" in done.stderr
    assert "Traceback" not in done.stderr


def test_committed_matrix_catalog_reimports_byte_identical(tmp_path):
    folder = tmp_path / "matrix"
    shutil.copytree(REPO / "endpoints" / "matrix", folder)
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    import_openapi(MATRIX, "matrix", folder, skip_outside_refs=True)
    assert {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
