"""Swagger 2.0 import beside OpenAPI 3, and the spec's security schemes mapped onto api.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from catalog.definitions.loader import load_api
from catalog.importers.openapi.importer import import_openapi
from catalog.importers.openapi.security import map_scheme, spec_scheme
from catalog.importers.openapi.spec import read_spec
from catalog.model.credentials import Location
from tests.support.project import run_cli

REPO = Path(__file__).parents[1]
GITEA = REPO / "tests" / "data" / "gitea-excerpt.swagger.json"
SPECS = REPO / "specs"


def new_api(root: Path, name: str = "gitea") -> Path:
    folder = root / "endpoints" / name
    folder.mkdir(parents=True)
    (folder / "api.yaml").write_text(f"# Gitea, imported by hand from a Swagger 2.0 document.\nname: {name}\ntitle: Gitea API\n")
    return folder


def generated(folder: Path) -> dict[str, dict]:
    found = {}
    for f in folder.glob("*.yaml"):
        if f.name != "api.yaml":
            found.update({e["id"]: e for e in yaml.safe_load(f.read_text())["endpoints"]})
    return found


def test_a_swagger_2_document_imports_like_openapi_3(tmp_path):
    folder = new_api(tmp_path)
    summary = import_openapi(GITEA, "gitea", folder)
    assert summary.splitlines()[0].startswith("gitea: 9 operations (8 GET) in gitea-excerpt.swagger.json")
    found = generated(folder)
    # basePath prefixes every path (the host is never used: a target's origin is the operator's).
    assert found["repoGet"]["path"] == "/api/v1/repos/{owner}/{repo}"
    assert found["repoDelete"]["method"] == "DELETE"
    # Collections through reusable `responses` and `definitions`: a bare array, a named array.
    assert found["userCurrentListRepos"]["collection"] == ""
    assert found["repoSearch"]["collection"] == "/data"
    assert "collection" not in found["userGetCurrent"]
    # The same anonymous markers as OpenAPI 3: `{}` among the requirements, on this spec only.
    assert found["getVersion"]["documented"]["security_optional"] is True
    assert found["userGetCurrent"]["documented"]["security_optional"] is False
    assert found["userGetCurrent"]["documented"]["documents_401"] is True
    assert found["repoGet"]["documented"]["source"] == "gitea-excerpt.swagger.json 1.21.0"
    # securityDefinitions → api.yaml: BasicAuth first, the query token as the query presentation.
    expected = ("Auth scheme: `scheme: {keyword: Basic, value: {identity}:{secret}, encoding: base64, "
                "query_parameter: token}` from securitySchemes.BasicAuth, added to api.yaml.")
    assert expected in summary
    text = (folder / "api.yaml").read_text()
    assert text.startswith("# Gitea, imported by hand")  # the person's file is kept, only appended to
    definition = load_api(folder, folder.parent)  # and it lints
    auth = definition.api.auth
    assert auth is not None and auth.keyword == "Basic" and auth.carries_identity
    assert auth.query_parameter == "token" and auth.encoding == "base64"
    # A re-import changes nothing and says the scheme is already there.
    before = {p.name: p.read_bytes() for p in folder.glob("*.yaml")}
    again = import_openapi(GITEA, "gitea", folder)
    assert " 0 written; 0 new, 9 refreshed, 0 marked removed." in again
    assert "api.yaml already declares securitySchemes.BasicAuth" in again
    assert {p.name: p.read_bytes() for p in folder.glob("*.yaml")} == before


def test_a_persons_scheme_is_kept_and_the_difference_reported(tmp_path):
    folder = new_api(tmp_path)
    (folder / "api.yaml").write_text("name: gitea\ntitle: Gitea API\nscheme: token\n")
    summary = import_openapi(GITEA, "gitea", folder)
    assert "api.yaml keeps its own scheme; securitySchemes.BasicAuth would map to" in summary
    assert (folder / "api.yaml").read_text() == "name: gitea\ntitle: Gitea API\nscheme: token\n"


@pytest.mark.parametrize(("raw", "expected"), [
    ({"type": "http", "scheme": "basic"}, "basic"),
    ({"type": "http", "scheme": "Bearer", "bearerFormat": "JWT"}, "bearer"),
    ({"type": "http", "scheme": "Digest"}, None),  # challenge-response: no static credential
    ({"type": "oauth2", "flows": {}}, "bearer"),
    ({"type": "openIdConnect", "openIdConnectUrl": "https://id.example/.well-known"}, "bearer"),
    ({"type": "apiKey", "in": "header", "name": "X-API-Key"}, {"header": "X-API-Key"}),
    ({"type": "apiKey", "in": "header", "name": "PRIVATE-TOKEN"}, {"header": "PRIVATE-TOKEN"}),
    ({"type": "apiKey", "in": "query", "name": "api_key"}, {"query": "api_key"}),
    ({"type": "apiKey", "in": "cookie", "name": "session"}, {"cookie": "session"}),
    # Okta documents its key as an apiKey named Authorization with the word in the description.
    ({"type": "apiKey", "in": "header", "name": "Authorization", "description": "SSWS {API Token}"}, {"keyword": "SSWS"}),
    ({"type": "apiKey", "in": "header", "name": "Authorization",
      "description": 'API tokens must be prepended with "token" followed by a space.'}, {"keyword": "token"}),
    ({"type": "apiKey", "in": "header", "name": "Authorization", "description": "An API key."}, None),
    ({"type": "apiKey", "in": "header", "name": "X Bad\nName"}, None),
])
def test_security_schemes_map_onto_declared_schemes(raw, expected):
    assert map_scheme(raw) == expected


def test_the_vendor_specs_map_to_their_working_schemes():
    assert spec_scheme(read_spec(SPECS / "jira-cloud-platform-v3.openapi.json")) == ("basic", "securitySchemes.basicAuth")
    assert spec_scheme(read_spec(SPECS / "confluence-cloud-v2.openapi.json"))[0] == "basic"
    # Bitbucket offers OAuth 2, Basic and an API key equally: a static credential wins the tie.
    assert spec_scheme(read_spec(SPECS / "bitbucket-cloud.openapi.json")) == ("basic", "securitySchemes.basic")


def test_a_declared_query_scheme_reaches_the_states(tmp_path):
    spec = {"openapi": "3.0.3", "info": {"title": "K", "version": "1"}, "paths": {"/items": {"get": {"responses": {}}}},
            "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "query", "name": "api_key"}}},
            "security": [{"key": []}]}
    path = tmp_path / "k.json"
    path.write_text(json.dumps(spec))
    folder = new_api(tmp_path, "keyed")
    import_openapi(path, "keyed", folder)
    auth = load_api(folder, folder.parent).api.auth
    assert auth is not None and auth.location is Location.QUERY and auth.parameter == "api_key"


def test_cli_imports_swagger_2_and_refuses_swagger_1(tmp_path):
    folder = new_api(tmp_path)
    (tmp_path / "site").mkdir()
    done = run_cli(tmp_path, "import-openapi", str(GITEA), "--api", "gitea")
    assert done.returncode == 0, done.stderr
    assert (folder / "repository.yaml").is_file()
    old = tmp_path / "old.json"
    old.write_text('{\n  "swaggerVersion": "1.2",\n  "swagger": "1.2",\n  "apis": []\n}\n')
    done = run_cli(tmp_path, "import-openapi", str(old), "--api", "gitea")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "old.json:3: swagger: Swagger 1.2 is not supported; OpenAPI 3.x and Swagger 2.0 are" in done.stderr
