"""A revocation latency measured on one's own tenant, submitted: ``watch-revocation --out``.

The tenant is the purpose-built revocation server (it serves a revoked token for a known delay,
then as anonymous), reached as a remote profile. The submission names it only by its key; lint
accepts it; the revocation page shows it, labelled as a vendor tenant.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from catalog.definitions.loader import load_all
from catalog.pipeline import lint_submissions
from tests.servers.revocation import RevocationServer
from tests.support.project import make_project, run_cli, start_cli

pytestmark = pytest.mark.timeout(120)

TOKEN = "rvk_CANARY_Tenant+7f3a9c1e5b2d"
ENDPOINT = {"id": "me", "method": "GET", "path": "/api/me", "summary": "The caller and their items", "collection": "/items"}


def _watch(root: Path, server: RevocationServer, out: Path) -> tuple[int, str, str]:
    proc = start_cli(root, "watch-revocation", "--api", "rev", "--target", "remote", "--endpoint", "me",
                     "--token-env", "REV_TOKEN", "--interval", "0.25", "--max-wait", "15", "--confirm", "2",
                     "--out", str(out), env={"REV_TOKEN": TOKEN, "REV_URL": server.url, "AUTHCAT_TENANT_SALT": "mine"},
                     stderr=subprocess.PIPE)
    lines = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Revoke the token now"):
                httpx.post(server.url + "/admin/revoke", timeout=5)
                break
        stdout, rest = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, stdout, "".join(lines) + rest


def test_a_revocation_latency_on_ones_own_tenant_is_submitted_linted_and_published(tmp_path):
    root = make_project(tmp_path / "proj", "rev", [ENDPOINT], {"name": "remote", "base_url_env": "REV_URL"},
                        api_extra={"scheme": "bearer"})
    out = tmp_path / "revocation.json"
    with RevocationServer(TOKEN, delay=1.0, mode="anonymous") as server:
        code, stdout, stderr = _watch(root, server, out)
        url = server.url
    assert code == 0, stderr
    text = out.read_text()
    doc = json.loads(text)
    assert doc["kind"] == "vendor tenant" and doc["target"].startswith("tenant-")
    m = doc["revocation"]
    assert (m["from_outcome"], m["to_outcome"]) == ("as-valid", "as-anonymous") and m["first_changed_after_s"] > 0
    for private in (url, url.split("://", 1)[1], TOKEN, "remote"):
        assert private not in text, private
    assert not (root / "site" / "data" / "revocation").exists()  # shared, not recorded here
    assert str(out) in stdout and doc["target"] in stdout

    folder = root / "site" / "data" / "submissions" / "rev" / "revocation"
    folder.mkdir(parents=True)
    shutil.copy(out, folder / f"{doc['target']}-{m['date'][:10]}.json")
    assert lint_submissions(root / "site" / "data", load_all(root / "endpoints")) == []
    built = run_cli(root, "build", timeout=300)
    assert built.returncode == 0, built.stderr
    page = (root / "site" / "build" / "apis" / "rev" / "revocation.html").read_text()
    assert f"{doc['target']} (a vendor tenant)" in page

    # A planted credential is refused by lint.
    planted = dict(doc, revocation={**m, "revoked_by": "Bearer " + "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA=="})
    (folder / f"{doc['target']}-{m['date'][:10]}.json").write_text(json.dumps(planted))
    problems = lint_submissions(root / "site" / "data", load_all(root / "endpoints"))
    assert [p for p in problems if "Authorization value" in str(p)]


def test_out_is_for_ones_own_tenant_not_a_launched_target(tmp_path):
    root = make_project(tmp_path / "proj", "rev", [ENDPOINT], {"name": "remote", "base_url_env": "REV_URL"},
                        api_extra={"scheme": "bearer"})
    done = run_cli(root, "watch-revocation", "--api", "rev", "--target", "remote", "--endpoint", "me",
                   "--revoke", "logout", "--out", str(tmp_path / "x.json"))
    assert done.returncode != 0
    assert "a target a plugin starts is no tenant" in done.stderr
    assert not (tmp_path / "x.json").exists()

