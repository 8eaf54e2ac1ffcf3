"""One scrubber before anything is stored (site/docs/security.md, rule 3), against a real hostile
server: it reflects the canary credential in header names and values, the content type, a version
header, JSON keys, a Location's userinfo and a text body, raw and encoded — and in every spelling
of tests/encodings.py (base64 at offsets 1 and 2, a JWT carrying the identity, %-encoded three
times, %u, \\U, CSS escapes, quoted-printable, UTF-7, soft hyphens, hex, base32, and more). Every form of the canary
is then searched in site/data, site/build (search index included), catalog.json and every CLI
output — and the attacker origin the Location names must have received nothing."""

from __future__ import annotations

import json

import pytest

from tests.canary import Canary
from tests.servers.echo_server import ENDPOINTS, EchoServer
from tests.servers.fault_server import FaultServer
from tests.support.project import make_project, run_cli

ROLES = ("valid", "other", "unprivileged", "revoked")


@pytest.fixture()
def hostile(tmp_path):
    canary, other = Canary.new(), Canary.new()
    with FaultServer() as attacker, EchoServer(attacker_port=attacker.port) as echo:
        creds = {role: {"secret": {"env": f"ECHO_{role.upper()}_SECRET"}, "identity": {"env": f"ECHO_{role.upper()}_ID"}}
                 for role in ROLES}
        profile = {"name": "echo", "base_url_env": "ECHO_URL", "credentials": creds,
                   "version_from": {"endpoint": "headers", "header": "x-version"},
                   "parameters": {"key": {"from": {"endpoint": "json", "pointer": "/items/0/key"}}},
                   "timeout": 5, "retries": 0}
        root = make_project(tmp_path / "proj", "echo", ENDPOINTS, profile)
        env = {"ECHO_URL": echo.url}
        for role in ROLES:
            # The second identity and the revoked token are canaries too: every credential part is.
            c = other if role in ("other", "revoked") else canary
            env[f"ECHO_{role.upper()}_SECRET"], env[f"ECHO_{role.upper()}_ID"] = c.secret, c.identity
        yield root, env, (canary, other), echo, attacker


def leaks(canaries, root, texts) -> dict:
    found = {}
    for c in canaries:
        for where in ("site/data", "site/build"):
            if hits := c.find_in_tree(root / where):
                found[(c.secret, where)] = hits
        for i, text in enumerate(texts):
            if hits := c.find(text):
                found[(c.secret, f"output {i}")] = hits
    return found


def test_no_form_of_the_canary_survives_anywhere(hostile):
    root, env, canaries, echo, attacker = hostile
    canary, _ = canaries
    procs = [run_cli(root, "lint", env=env), run_cli(root, "targets", env=env), run_cli(root, "run", env=env),
             run_cli(root, "probe", "--refresh", "--keep-bodies", env=env), run_cli(root, "build", env=env),
             run_cli(root, "diff", env=env)]
    for proc in procs:
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.args[-1:] + [proc.stdout, proc.stderr]

    # The server really was sent, and reflected, the canary through every route.
    sent = {a.path: a.headers.get("authorization") for a in echo.arrivals if a.headers.get("authorization") == canary.header}
    assert set(sent) >= {"/reflect/headers", "/reflect/json", "/reflect/redirect", "/reflect/text", "/reflect/401",
                         "/reflect/forms", "/reflect/forms-text"}
    assert any(a.path.startswith("/reflect/item/") for a in echo.arrivals), "the discovered value was used"
    assert attacker.arrivals == [], "the redirect was followed to the attacker's origin"

    data = json.loads((root / "site" / "data" / "observations" / "echo" / "echo.json").read_text())
    valid = {eid: e["states"]["valid"] for eid, e in data["endpoints"].items()}
    headers = valid["headers"]["headers"]
    # Redacted whole (not cut around), the name too; the rest of the answer is kept.
    assert headers["www-authenticate"] == "<redacted>" and headers["cache-control"] == "<redacted>"
    assert headers["x-seraph-loginreason"] == "<redacted>" and headers["x-ratelimit-limit"] == "<redacted>"
    assert "<redacted>" in headers and valid["headers"]["content_type"] == "<redacted>"
    assert valid["redirect"]["location_origin"] == attacker.url  # the origin only: no userinfo, no query
    assert "<redacted>" in valid["json"]["shape"] or valid["json"]["shape"] == "<redacted>"
    assert data["run"]["target_version"] in ("<redacted>", "unknown")
    assert "echo <redacted> end" in valid["text"]["body"]  # kept bodies: the matches only, for text
    # Every generic spelling (tests/encodings.py) reached the kept bodies and the shape. Some span
    # several words (CSS escapes end in a space, MIME folds lines): the text body goes whole; every
    # JSON string holding one is redacted whole, the rest of the document kept.
    assert valid["forms-text"]["body"] == "<redacted>"
    kept = json.loads(valid["forms"]["body"])
    assert all(v["secret"] == v["pair"] == "<redacted>" and v["kind"] != "<redacted>" for v in kept["values"]), kept
    assert set(kept["keys"]) == {"<redacted>"}

    catalog = (root / "site" / "build" / "catalog.json").read_text()
    assert '"echo"' in catalog and (root / "site" / "build" / "search" / "search_index.json").exists()
    found = leaks(canaries, root, [p.stdout + p.stderr for p in procs])
    assert found == {}, found


def test_the_search_finds_every_form_it_claims_to():
    """The leak search above is not vacuous: each encoded form, and a case change of each, is found."""
    canary = Canary.new()
    forms = canary.forms()
    raw = forms["raw0"]  # the secret: its URL-encoded, \u-escaped, base64 and case-changed forms differ
    assert len({raw, forms["url0"], forms["urllower0"], forms["jsonu0"], forms["b640"], raw.swapcase()}) == 6
    for name, form in forms.items():
        assert name in canary.find(f"<p>{form}</p>"), name
        if not name.startswith(("b64", "exact-")):
            assert name in canary.find(form.swapcase()), name
    assert canary.find("nothing to see here, <redacted>") == []
