"""A canary credential never leaves the process: not in observations, the site, the export, the
change log, logs, progress output or error messages — not even when the server echoes it back or
a request fails. Raw bodies are not kept by default; ``--keep-bodies`` keeps them scrubbed."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

import pytest

from tests.servers.fault_server import FaultServer
from tests.support.project import make_project, remote_target, run_cli

ROLES = ("valid", "other", "unprivileged", "expired", "revoked")
PATHS = ("/ok", "/echo", "/echo-401", "/redirect", "/500", "/reset", "/stall", "/bad-json")


def canary_forms(canary: str, identities: list[str]) -> list[str]:
    """Every spelling of the canary a leak could take: raw, base64 (padded or not), Basic pairs."""
    forms = {canary, base64.b64encode(canary.encode()).decode().rstrip("=")}
    for identity in identities:
        forms.add(identity)
        forms.add(base64.b64encode(f"{identity}:{canary}".encode()).decode().rstrip("="))
    return sorted(forms)


def count_in_tree(root: Path, forms: list[str], skip: Path) -> dict[str, int]:
    found: dict[str, int] = {}
    for path in root.rglob("*"):
        if not path.is_file() or skip in path.parents:
            continue
        data = path.read_bytes()
        n = sum(data.count(f.encode()) for f in forms)
        if n:
            found[str(path.relative_to(root))] = n
    return found


def count_in_text(text: str, forms: list[str]) -> int:
    return sum(text.count(f) for f in forms)


@pytest.fixture()
def canary_project(tmp_path):
    canary = "cnry" + secrets.token_hex(16)
    identities = {role: f"{role}-{canary}@example.test" for role in ROLES}
    env = {}
    for role in ROLES:
        env[f"CANARY_{role.upper()}_SECRET"] = canary
        env[f"CANARY_{role.upper()}_ID"] = identities[role]
    endpoints = [{"id": p.strip("/").replace("-", "_"), "method": "GET", "path": p, "summary": f"canary {p}",
                  "collection": "/values"} for p in PATHS]
    with FaultServer() as other, FaultServer() as server:
        server.redirect_to = other.url
        root = make_project(tmp_path / "proj", "canary", endpoints,
                            remote_target("echo", "CANARY_URL", "CANARY", ROLES, timeout=1, retries=1, concurrency=16))
        env["CANARY_URL"] = server.url
        yield root, canary, list(identities.values()), env, server, other


def test_canary_never_leaks(canary_project):
    root, canary, identities, env, server, other = canary_project
    forms = canary_forms(canary, identities)
    outputs = []

    probe = run_cli(root, "probe", env=env)
    outputs.append(probe)
    assert probe.returncode == 0, probe.stderr
    observations = root / "site" / "data" / "observations" / "canary" / "echo.json"
    data = json.loads(observations.read_text())
    # The server really did get (and echo) the canary in every credentialed form.
    assert any(canary in base64.b64decode(a.headers.get("authorization", "x y").split(" ", 1)[1] + "==").decode("latin-1")
               for a in server.hits("/echo") if a.headers.get("authorization", "").startswith("Basic "))
    assert other.arrivals == []
    # Privacy by default: no raw body anywhere in the observations.
    cells = [c for e in data["endpoints"].values() for c in e.get("states", {}).values()]
    assert len(cells) >= 40 and not any("body" in c for c in cells)

    build = run_cli(root, "build", env=env)
    outputs.append(build)
    assert build.returncode == 0, build.stderr
    assert (root / "site" / "build" / "index.html").exists()

    # A failing run: the target is down (connection refused) — its error messages too.
    env_down = {**env}
    env_down["CANARY_URL"] = "http://127.0.0.1:9"
    kept = observations.read_bytes()
    down = run_cli(root, "probe", "--refresh", env=env_down)
    outputs.append(down)
    # No probe reached a server: one line says so and the previous observations stay.
    assert down.returncode == 1, down.stderr
    assert "connection: refused by 127.0.0.1:9 (nothing listens there)" in down.stderr
    assert observations.read_bytes() == kept

    leaks = count_in_tree(root, forms, skip=root / "endpoints")
    leaks_out = sum(count_in_text(p.stdout + p.stderr, forms) for p in outputs)
    assert leaks == {} and leaks_out == 0, (leaks, leaks_out)
    assert count_in_tree(root / "site" / "build", forms, skip=root / "none") == {}


def test_keep_bodies_scrubs_credentials(canary_project):
    root, canary, identities, env, _server, _other = canary_project
    forms = canary_forms(canary, identities)
    kept = run_cli(root, "probe", "--keep-bodies", env=env)
    assert kept.returncode == 0, kept.stderr
    data = json.loads((root / "site" / "data" / "observations" / "canary" / "echo.json").read_text())
    echo = data["endpoints"]["echo"]["states"]
    bodies = [c["body"] for c in echo.values() if c.get("body")]
    assert len(bodies) >= 8, "bodies are kept with --keep-bodies"
    valid_body = json.loads(echo["valid"]["body"])
    assert valid_body["authorization"].endswith("<redacted>") and "<redacted>" in valid_body["decoded"]
    # A value that held a credential is redacted whole, never cut around it.
    assert echo["valid"]["headers"]["www-authenticate"] == "<redacted>"
    assert count_in_tree(root, forms, skip=root / "endpoints") == {}
    assert count_in_text(kept.stdout + kept.stderr, forms) == 0
