"""Credential binding and secret references (site/docs/security.md, rules 1 and 2), tried as an
attacker would with a YAML-only pull request, against real local servers: the operator's target
and an *attacker* origin that must receive nothing at all."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from tests.canary import Canary
from tests.servers.fault_server import FaultServer
from tests.support.project import make_project, run_cli

ENDPOINTS = [{"id": "ok", "method": "GET", "path": "/ok", "summary": "ok", "collection": "/values"}]
ROLES = ("valid", "other", "revoked")


def creds(prefix: str = "CAN") -> dict:
    return {role: {"secret": {"env": f"{prefix}_{role.upper()}_SECRET"}, "identity": {"env": f"{prefix}_{role.upper()}_ID"}}
            for role in ROLES}


def canary_env(canary: Canary, prefix: str = "CAN") -> dict[str, str]:
    env = {}
    for role in ROLES:
        env[f"{prefix}_{role.upper()}_SECRET"] = canary.secret
        env[f"{prefix}_{role.upper()}_ID"] = canary.identity
    return env


def add_target(root, profile: dict) -> None:
    path = root / "endpoints" / "bind" / "targets" / f"{profile['name']}.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))


@pytest.fixture()
def servers():
    with FaultServer() as target, FaultServer() as attacker:
        yield target, attacker


def outputs(*procs: subprocess.CompletedProcess) -> str:
    return "\n".join(p.stdout + p.stderr for p in procs)


def test_a_contributed_origin_never_gets_a_credential(tmp_path, servers):
    target, attacker = servers
    canary = Canary.new()
    root = make_project(tmp_path / "p", "bind", ENDPOINTS,
                        {"name": "good", "base_url_env": "GOOD_URL", "credentials": creds()})
    # The pull request: a literal URL of its own, and a launched profile asking for env credentials.
    add_target(root, {"name": "evil", "base_url": attacker.url, "credentials": creds()})
    add_target(root, {"name": "launched", "launcher": "backlot", "prefix": "/atlassian", "credentials": creds()})
    env = {**canary_env(canary), "GOOD_URL": target.url}

    lint = run_cli(root, "lint", env=env)
    assert lint.returncode == 2, lint.stdout + lint.stderr
    assert "endpoints/bind/targets/evil.yaml:2: base_url: a literal base_url would send the credentials" in lint.stderr
    assert f"to {attacker.url}, an origin no operator named" in lint.stderr
    assert "endpoints/bind/targets/launched.yaml:4: credentials: a launched target gets its credentials" in lint.stderr

    targets = run_cli(root, "targets", env={**env, "COLUMNS": "400"})
    assert targets.returncode == 0, targets.stderr
    rows = {line.split("│")[2].strip(): line for line in targets.stdout.splitlines() if line.count("│") >= 4}
    assert "│ yes " in rows["good"] and "│ no " in rows["evil"] and "│ no " in rows["launched"]
    assert "evil.yaml:2: base_url:" in rows["evil"]

    probe = run_cli(root, "probe", env=env)
    assert probe.returncode == 0, probe.stderr
    assert "skip bind/evil: endpoints/bind/targets/evil.yaml:2: base_url:" in probe.stderr
    assert "skip bind/launched:" in probe.stderr
    build = run_cli(root, "build", env=env)
    assert build.returncode == 0, build.stderr

    assert attacker.arrivals == [], "the attacker's origin received a request"
    sent = [a.headers.get("authorization") for a in target.hits("/ok")]
    assert canary.header in sent, "the operator's target did get the valid credential"
    assert not (root / "site" / "data" / "observations" / "bind" / "evil.json").exists()
    assert canary.find(outputs(lint, targets, probe, build)) == []
    assert canary.find_in_tree(root / "site") == {}


def test_the_allow_list_binds_every_credentialed_origin(tmp_path, servers):
    target, attacker = servers
    canary = Canary.new()
    root = make_project(tmp_path / "p", "bind", ENDPOINTS,
                        {"name": "named", "base_url": target.url, "credentials": creds()})
    # A variable the operator set for another purpose (CI sets GITHUB_API_URL) named by a profile.
    add_target(root, {"name": "borrowed", "base_url_env": "SOME_OTHER_URL", "credentials": creds()})
    env = {**canary_env(canary), "AUTHCAT_ALLOWED_ORIGINS": f"https://example.invalid, {target.url}/",
           "SOME_OTHER_URL": attacker.url}

    lint = run_cli(root, "lint", env=env)
    assert lint.returncode == 0, lint.stdout  # the operator named the literal origin
    probe = run_cli(root, "probe", env=env)
    assert probe.returncode == 0, probe.stderr
    assert f"skip bind/borrowed: {attacker.url} (the value of SOME_OTHER_URL)" in probe.stderr
    assert "is not in AUTHCAT_ALLOWED_ORIGINS" in probe.stderr
    assert attacker.arrivals == []
    assert canary.header in [a.headers.get("authorization") for a in target.hits("/ok")]
    assert canary.find(outputs(lint, probe)) == []

    # Without the allow-list the literal URL is a contributed one again: refused.
    env.pop("AUTHCAT_ALLOWED_ORIGINS")
    before = len(target.arrivals)
    lint = run_cli(root, "lint", env=env)
    assert lint.returncode == 2 and "named.yaml:2: base_url:" in lint.stderr
    probe = run_cli(root, "probe", "--refresh", "--target", "named", env=env)
    assert probe.returncode == 0 and "skip bind/named:" in probe.stderr
    assert len(target.arrivals) == before


@pytest.mark.parametrize("empty", ["", " ", ", "])
def test_an_empty_allow_list_allows_nothing_and_says_so(tmp_path, servers, empty):
    """CI sets the allow-list from a secret; when that secret is missing the variable is "" and
    another job variable names the attacker: no credential may go anywhere."""
    target, attacker = servers
    canary = Canary.new()
    root = make_project(tmp_path / "p", "bind", ENDPOINTS,
                        {"name": "borrowed", "base_url_env": "SOME_OTHER_URL", "credentials": creds()})
    add_target(root, {"name": "named", "base_url": attacker.url, "credentials": creds()})
    env = {**canary_env(canary), "AUTHCAT_ALLOWED_ORIGINS": empty, "SOME_OTHER_URL": attacker.url}
    lint = run_cli(root, "lint", env=env)
    assert lint.returncode == 2 and "named.yaml:2: base_url: AUTHCAT_ALLOWED_ORIGINS is set but empty" in lint.stderr
    probe = run_cli(root, "probe", env=env)
    assert "skip bind/borrowed: AUTHCAT_ALLOWED_ORIGINS is set but empty: it allows no origin" in probe.stderr
    assert attacker.arrivals == [] and target.arrivals == []
    assert canary.find(outputs(lint, probe)) == []


def test_a_url_with_userinfo_is_refused_without_repeating_it(tmp_path, servers):
    target, attacker = servers
    canary = Canary.new()
    root = make_project(tmp_path / "p", "bind", ENDPOINTS,
                        {"name": "good", "base_url_env": "GOOD_URL", "credentials": creds()})
    env = {**canary_env(canary), "GOOD_URL": f"http://admin:{canary.secret.replace('/', '%2F')}@127.0.0.1:{target.port}"}
    procs = [run_cli(root, "targets", env={**env, "COLUMNS": "400"}), run_cli(root, "probe", env=env)]
    assert all(p.returncode == 0 and "Traceback" not in p.stderr for p in procs), outputs(*procs)
    assert "the value of GOOD_URL contains a user name or password" in procs[0].stdout
    assert "skip bind/good: the value of GOOD_URL contains a user name or password" in procs[1].stderr
    assert target.arrivals == [] and attacker.arrivals == []
    assert canary.find(outputs(*procs)) == [] and "admin" not in outputs(*procs)


def _file_cases(tmp_path, root, canary: Canary) -> dict[str, tuple[str, str]]:
    """name -> (file reference, expected message) for every kind of file a secret may not be."""
    outside = tmp_path / "outside"
    outside.mkdir()
    real = outside / "real-secret"
    real.write_text(canary.secret + "\n")
    link = outside / "link-secret"
    link.symlink_to(real)
    fifo = outside / "fifo-secret"
    os.mkfifo(fifo)
    big = outside / "big-secret"
    big.write_text(canary.secret * 5000)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text(f"[http]\n\textraheader = AUTHORIZATION: {canary.header}\n")
    return {
        "symlink": (str(link), "is a symlink"),
        "fifo": (str(fifo), "is not a regular file"),
        "folder": (str(outside), "is not a regular file"),
        "big": (str(big), "is larger than 65,536 bytes"),
        "proc": ("/proc/self/environ", "is under /proc, /sys or /dev"),
        "repository": (".git/config", "is inside the repository"),
        "repository-absolute": (str(root / ".git" / "config"), "is inside the repository"),
    }


def test_secret_files_only_regular_files_outside_the_repository(tmp_path, servers):
    target, attacker = servers
    canary = Canary.new()
    root = make_project(tmp_path / "p", "bind", ENDPOINTS,
                        {"name": "plain", "base_url_env": "GOOD_URL",
                         "credentials": {"valid": {"identity": {"env": "CAN_ID"},
                                                   "secret": {"file": str(tmp_path / "outside" / "real-secret")}}}})
    cases = _file_cases(tmp_path, root, canary)
    for name, (ref, _) in cases.items():
        add_target(root, {"name": name, "base_url_env": "GOOD_URL",
                          "credentials": {"valid": {"identity": {"env": "CAN_ID"}, "secret": {"file": ref}}}})
    env = {"GOOD_URL": target.url, "CAN_ID": canary.identity, "COLUMNS": "400"}
    targets = run_cli(root, "targets", env=env, timeout=60)  # a FIFO must not hang it
    probe = run_cli(root, "probe", env=env, timeout=60)
    assert targets.returncode == 0 and probe.returncode == 0, outputs(targets, probe)
    for name, (_, message) in cases.items():
        line = f"skip bind/{name}: endpoints/bind/targets/{name}.yaml:"
        assert any(ln.startswith(line) and "credentials.valid.secret:" in ln and message in ln
                   for ln in probe.stderr.splitlines()), (name, probe.stderr)
        assert not (root / "site" / "data" / "observations" / "bind" / f"{name}.json").exists()
    # The one regular file outside the repository works: its secret (stripped) was sent.
    assert canary.header in [a.headers.get("authorization") for a in target.hits("/ok")]
    written = {p.name for p in (root / "site" / "data" / "observations" / "bind").glob("*.json")}
    assert written == {"plain.json"}
    lint = run_cli(root, "lint", env=env)
    assert lint.returncode == 2
    assert "proc.yaml:" in lint.stderr and "repository.yaml:" in lint.stderr
    assert attacker.arrivals == []
    assert canary.find(outputs(targets, probe, lint)) == []
    assert canary.find_in_tree(root / "site") == {}


@pytest.mark.parametrize("bad", ["\n", "\r\nX-Injected: 1", "\u00e9", "\x1b", "\u2028"])
def test_a_secret_with_a_control_or_non_ascii_character_is_na_and_never_shown(tmp_path, servers, bad):
    target, attacker = servers
    canary = Canary.new()
    root = make_project(tmp_path / "p", "bind", ENDPOINTS,
                        {"name": "good", "base_url_env": "GOOD_URL", "credentials": creds()})
    env = {**canary_env(canary), "GOOD_URL": target.url}
    broken = canary.secret[:8] + bad + canary.secret[8:]
    env["CAN_REVOKED_SECRET"] = broken
    probe = run_cli(root, "probe", env=env)
    assert probe.returncode == 0 and "Traceback" not in probe.stderr, probe.stderr
    data = yaml.safe_load((root / "site" / "data" / "observations" / "bind" / "good.json").read_text())
    reason = data["states"]["revoked"]["reason"]
    assert reason == ("the value of CAN_REVOKED_SECRET has a control or non-ASCII character: "
                      "it cannot be sent in a header")
    assert data["endpoints"]["ok"]["states"]["valid"]["outcome"] == "as-valid"
    assert all("X-Injected" not in str(a.headers) and "x-injected" not in a.headers for a in target.arrivals)

    # The valid secret broken: the target is not ready, and says why without the secret.
    env["CAN_VALID_SECRET"] = broken
    targets = run_cli(root, "targets", env={**env, "COLUMNS": "400"})
    assert "the value of CAN_VALID_SECRET has a control or non-ASCII character" in targets.stdout
    assert canary.find(outputs(probe, targets)) == [] and attacker.arrivals == []
    assert not bad.strip() or bad.strip() not in outputs(probe, targets)
    assert canary.find_in_tree(root / "site") == {}
