"""Errors say what happened (issue 11 item 8). Each network or disk failure is its own one-line
message, never a traceback; the other API's cells are recorded as usual and the failing one's
previous observations stay byte for byte.

Network cases run the real CLI against real local servers: a ``.invalid`` name (RFC 6761: it
never resolves, and authcat answers it without a DNS query), a closed port, TLS spoken to a plain
HTTP port, a self-signed certificate made by the test, and headers past aiohttp's limits. Disk
cases mount a read-only bind and a full tmpfs over ``site/data`` in a user namespace (the tests
run as root in CI, which file modes would not stop); they skip where namespaces are not allowed.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from catalog.targets.process import free_port
from tests.servers.fault_server import FaultServer
from tests.servers.tls_server import SelfSignedServer
from tests.support.project import AUTHCAT, cli_env, make_project, role_env, run_cli

ENDPOINTS = [{"id": f"item-{i}", "method": "GET", "path": f"/ok-{i}", "collection": "/values"} for i in range(1, 4)]
SECRET, IDENTITY = "Err~Secret+/=Value", "Err.User@Example.test"


def remote(prefix: str, **extra) -> dict:
    creds = {"valid": {"secret": {"env": f"{prefix}_VALID_SECRET"}, "identity": {"env": f"{prefix}_VALID_ID"}}}
    return {"name": "remote", "base_url_env": f"{prefix}_URL", "credentials": creds, "timeout": 5, "retries": 1, **extra}


def two_api_project(root: Path) -> Path:
    """APIs ``good`` and ``bad``, each with one remote target named by an env var."""
    make_project(root, "good", ENDPOINTS, remote("GOOD"))
    bad = root / "endpoints" / "bad"
    (bad / "targets").mkdir(parents=True)
    (bad / "api.yaml").write_text(yaml.safe_dump({"name": "bad", "title": "Bad", "scheme": "basic"}))
    (bad / "things.yaml").write_text(yaml.safe_dump({"group": "Things", "endpoints": ENDPOINTS}))
    (bad / "targets" / "remote.yaml").write_text(yaml.safe_dump(remote("BAD")))
    return root


def observations(root: Path, api: str) -> Path:
    return root / "site" / "data" / "observations" / api / "remote.json"


def env_for(good: str, bad: str) -> dict[str, str]:
    return {**role_env("GOOD", SECRET, IDENTITY, roles=("valid",)), **role_env("BAD", SECRET, IDENTITY, roles=("valid",)),
            "GOOD_URL": good, "BAD_URL": bad}


@pytest.fixture(scope="module")
def fault():
    """The working server: it keeps no state between requests, so one serves the whole module."""
    with FaultServer() as server:
        yield server


@pytest.fixture(scope="module")
def probed_once(tmp_path_factory, fault):
    root = two_api_project(tmp_path_factory.mktemp("probed") / "proj")
    first = run_cli(root, "probe", env=env_for(fault.url, fault.url))
    assert first.returncode == 0, first.stderr
    return root


@pytest.fixture()
def probed(tmp_path, probed_once):
    """A project whose two APIs were probed once against the working server: a copy of the
    module's one probed project (the probe runs once, each test changes its own copy)."""
    return Path(shutil.copytree(probed_once, tmp_path / "proj", symlinks=True))


CLOSED_PORT = free_port()  # taken and released: nothing listens there
UNREACHABLE = {
    "dns": (lambda f, tmp: "http://authcat-probe.invalid",
            "dns: cannot resolve the host name 'authcat-probe.invalid' (.invalid names never resolve, RFC 6761)"),
    "refused": (lambda f, tmp: f"http://127.0.0.1:{CLOSED_PORT}",
                "connection: refused by 127.0.0.1:{port} (nothing listens there)"),
    "tls-to-plain-port": (lambda f, tmp: f"https://127.0.0.1:{f.port}",
                          "tls: 127.0.0.1:{port} does not speak TLS (it answered the handshake in plain text: an http:// port?)"),
    "self-signed": (lambda f, tmp: TLS[0].url,
                    "tls: the certificate of 127.0.0.1:{port} is not trusted (self-signed certificate)"),
    # https:// to a port that takes connections and never says a word: every TLS handshake times out.
    "all-timeouts": (lambda f, tmp: f"https://127.0.0.1:{STALLING[0]}", "timeout: no complete answer within 1 s"),
}
# Every attempt of the all-timeouts case waits its whole timeout: that target gets 1 s instead of 5.
STALL_TIMEOUT = 1
TLS: list[SelfSignedServer] = []
STALLING: list[int] = []


@pytest.fixture()
def stalling():
    """A listening socket nobody accepts from: the kernel completes each TCP handshake, then silence."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(256)
        STALLING.append(sock.getsockname()[1])
        yield
        STALLING.clear()


@pytest.fixture()
def tls_server(tmp_path):
    with SelfSignedServer(tmp_path) as server:
        TLS.append(server)
        yield server
        TLS.remove(server)


@pytest.mark.parametrize("case", list(UNREACHABLE), ids=list(UNREACHABLE))
def test_an_unreachable_target_is_one_line_and_loses_nothing(probed, fault, tls_server, stalling, case):
    root = probed
    url_of, expected = UNREACHABLE[case]
    bad_url = url_of(fault, root)
    expected = expected.format(port=bad_url.rsplit(":", 1)[-1])
    if case == "all-timeouts":
        (root / "endpoints" / "bad" / "targets" / "remote.yaml").write_text(yaml.safe_dump(remote("BAD", timeout=STALL_TIMEOUT)))
    before = observations(root, "bad").read_bytes()
    log = root / "site" / "data" / "changes.json"
    changes = log.read_bytes() if log.exists() else None
    good_before = json.loads(observations(root, "good").read_text())["run"]["date"]
    done = run_cli(root, "probe", "--refresh", env=env_for(fault.url, bad_url))
    assert done.returncode == 1, done.stderr  # TargetsUnreachable: the others were written
    assert "Traceback" not in done.stderr
    good = json.loads(observations(root, "good").read_text())
    probes = good["run"]["probes"]  # the same endpoints and states on both
    # The run logs the failure as it happens; the command ends with one line naming the target.
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[-1] == (f"error: bad on remote: no answer to any of {probes} probes ({expected}); "
                         "its previous observations were kept"), done.stderr
    assert observations(root, "bad").read_bytes() == before, "the failing target's observations changed"
    assert (log.read_bytes() if log.exists() else None) == changes, "a change was logged"
    assert not (root / "site" / "data" / "observations" / "bad" / "remote.partial.json").exists() or \
        not json.loads((root / "site" / "data" / "observations" / "bad" / "remote.partial.json").read_text())["endpoints"]
    assert good["run"]["date"] >= good_before and probes >= 3 * len(ENDPOINTS), "the good API was probed"
    for text in (done.stderr, done.stdout):
        assert SECRET not in text and IDENTITY not in text


def test_oversized_headers_cost_their_cells_only(probed, fault):
    with FaultServer(route_all="/long-header") as headers:
        done = run_cli(probed, "probe", "--refresh", env=env_for(fault.url, headers.url))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    bad = json.loads(observations(probed, "bad").read_text())
    notes = {cell.get("note") for e in bad["endpoints"].values() for cell in e["states"].values() if cell["outcome"] != "n/a"}
    assert notes == {"protocol: a response header line is too long (more than 8,190 bytes)"}
    good = json.loads(observations(probed, "good").read_text())
    # The good API serves everybody the same: baselines as-valid, every other state served like everyone.
    assert {c["outcome"] for e in good["endpoints"].values() for c in e["states"].values()} - {"n/a"} == {"as-valid", "ignored"}


# -- disk ----------------------------------------------------------------------------------

NAMESPACE = ["unshare", "--user", "--map-root-user", "--mount"]


def _namespaces_work() -> str | None:
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    probe = subprocess.run([*NAMESPACE, "true"], capture_output=True, text=True, timeout=30)
    return None if probe.returncode == 0 else f"user namespaces are not allowed here ({probe.stderr.strip()})"


SCRIPT = r"""
set -u
data="$1"; shift
{mount}
"$@" 2>"$data/../stderr.txt"; echo $? > "$data/../rc.txt"
sha256sum $(find "$data" -name '*.json' | sort) > "$data/../after.txt" 2>/dev/null || true
"""
MOUNTS = {
    "read-only": 'mount --bind "$data" "$data" && mount -o remount,bind,ro "$data"',
    # The previous data fits; a filler takes every byte left, so the first new write fails.
    "full": ('cp -a "$data" "$data.copy" && mount -t tmpfs -o size=256k tmpfs "$data" && cp -a "$data.copy/." "$data/" '
             '&& (dd if=/dev/zero of="$data/filler" bs=4k 2>/dev/null; true)'),
}
DISK_MESSAGES = {
    "read-only": "Read-only file system (EROFS); files already there were left as they were",
    "full": "No space left on device (ENOSPC); files already there were left as they were",
}


@pytest.mark.parametrize("case", list(MOUNTS), ids=list(MOUNTS))
def test_a_full_or_read_only_disk_is_one_line_and_loses_nothing(probed, fault, case):
    why = _namespaces_work()
    if why:
        pytest.skip(why)
    data = probed / "site" / "data"
    before = subprocess.run(["sha256sum", *sorted(str(p) for p in data.rglob("*.json"))], capture_output=True, text=True).stdout
    script = SCRIPT.replace("{mount}", MOUNTS[case])
    # --refresh against a changed server: every cell moves, so the run must write the change log.
    with FaultServer(route_all="/500") as changed:
        done = subprocess.run([*NAMESPACE, "bash", "-c", script, "sh", str(data), *AUTHCAT, "--root", str(probed),
                               "probe", "--refresh"], env=cli_env(env_for(changed.url, changed.url)), cwd=probed,
                              capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    stderr = (probed / "site" / "stderr.txt").read_text()
    assert (probed / "site" / "rc.txt").read_text().strip() == "1", stderr  # WriteFailed
    assert "Traceback" not in stderr, stderr
    (line,) = [x for x in stderr.splitlines() if x.startswith("error:")]
    assert line.startswith(f"error: cannot write {data}/") and line.endswith(DISK_MESSAGES[case]), line
    after = (probed / "site" / "after.txt").read_text()
    assert after.replace(".copy", "") == before or _same_json(before, after), (before, after)


def _same_json(before: str, after: str) -> bool:
    """Whether every JSON file listed before has the same hash after (new files are allowed only
    if they are the failed run's own leftovers: none may be)."""
    def table(text):
        return {line.split(maxsplit=1)[1]: line.split(maxsplit=1)[0] for line in text.splitlines() if line.strip()}
    return table(before) == {k: v for k, v in table(after).items() if k in table(before)} and \
        set(table(after)) <= set(table(before))


if sys.platform != "linux":  # pragma: no cover - /proc and namespaces are Linux's
    pytestmark = pytest.mark.skip("Linux only")


BUILD_SCRIPT = r"""
set -u
site="$1"; shift
cp -a "$site" "$site.copy" && mount -t tmpfs -o size=1m tmpfs "$site" && cp -a "$site.copy/." "$site/" || exit 99
"$@" 2>"$site/../stderr.txt"; echo $? > "$site/../rc.txt"
ls -A "$site" > "$site/../listing.txt"
df -k "$site" | tail -1 > "$site/../df.txt"
"""


def test_a_full_disk_during_build_names_the_file_and_leaves_no_staging(probed):
    why = _namespaces_work()
    if why:
        pytest.skip(why)
    site = probed / "site"
    assert not (site / "build").exists()
    # The sources fit in 1 MiB; the built site (the theme's assets alone) does not.
    done = subprocess.run([*NAMESPACE, "bash", "-c", BUILD_SCRIPT, "sh", str(site), *AUTHCAT, "--root", str(probed),
                           "build"], env=cli_env(), cwd=probed, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    stderr = (probed / "stderr.txt").read_text()
    assert (probed / "rc.txt").read_text().strip() == "1", stderr  # WriteFailed
    assert "Traceback" not in stderr, stderr
    (line,) = [x for x in stderr.splitlines() if x.startswith("error:")]
    assert line.startswith(f"error: cannot write {site}/"), line
    assert line.endswith(DISK_MESSAGES["full"]), line
    assert not line.startswith(f"error: cannot write {site}/:"), "the message names a file, not the folder"
    listing = (probed / "listing.txt").read_text().split()
    assert ".build-staging" not in listing and "generated" not in listing and "build" not in listing, listing
