"""The Matrix API observed on a live Synapse: real revoked, expired, deactivated, unprivileged tokens.

One Synapse serves the module (it starts in a few seconds and builds its fixtures in a few
more): first a run of the reads whose every snippet is replayed (as tests/test_snippets_reproduce.py
does for the other bundled targets), then, in the same project, one probe run of ``endpoints/matrix``
that resumes it (the reads just observed on this server are current: only the writes are sent),
whose cells the tests read, then the revocation watches. Nothing here is faked: every token state is made by the server (``/logout``, a
refresh-token login left to expire, the admin API's deactivation).
"""

from __future__ import annotations

import asyncio
import re
import signal
import tempfile
import time
from pathlib import Path

import pytest

from catalog.answers.signals import REJECTED, find_signals
from catalog.commands import watch_revocation as revocation_plugin
from catalog.engine import revocation_latency as revocation
from catalog.engine.runner import RunOptions
from catalog.hooks.manager import Hooks
from catalog.pipeline import Project, probe
from catalog.site.pages.guide_pages import separation
from catalog.targets.profiles import TargetPool
from tests.support.project import CACHE, copy_project, run_cli, start_cli
from tests.support.snippets import HAS_CURL, replay_reads

BAD = ("revoked", "expired", "deactivated")
# The module's Matrix run sends the writes too (fresh logins and per-state setups, one state at a
# time), after the snippets' replay: 60-200 s on a busy machine, on top of Synapse's start, all
# inside the first test's budget.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def synapse():
    """One Synapse for the module: the Matrix run first, on the fresh server, then the revocation
    watches (each makes its own fresh token; a start costs ~5 s of CPU and the expired fixture's
    wait)."""
    with tempfile.TemporaryDirectory() as scratch, \
            TargetPool(Hooks().launchers, CACHE, Path(scratch), log=lambda m: None) as pool:
        yield pool


@pytest.fixture(scope="module")
def matrix_project(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("matrix"), with_data=False)


@pytest.fixture(scope="module")
def matrix_snippets(matrix_project, synapse):
    """Every read snippet replayed on the module's Synapse (tests/support/snippets.py), before the
    Matrix run's writes: its POST /logout/all ends the tokens the snippets run with."""
    if not HAS_CURL:
        return None
    return replay_reads("matrix", "synapse", matrix_project, synapse)


@pytest.mark.slow
def test_every_snippet_reproduces_its_cell(matrix_snippets):
    """Each read cell's curl (through bash) and httpx snippet get the cell's status (~900 cells)."""
    if matrix_snippets is None:
        pytest.skip("needs curl")
    got = matrix_snippets
    assert got.checked > 0
    assert not got.problems, (f"{len(got.problems)} of {got.checked} snippets differ from their cells:\n"
                              + "\n".join(got.problems[:30]))


@pytest.fixture(scope="module")
def matrix_run(matrix_project, synapse, matrix_snippets):
    """The Matrix run, on the project the replay probed the reads in: those cells, observed on this
    very server before any write, are current (the replay's progress file), so the run sends the
    writes alone instead of ~1,100 reads again (without curl there is no replay: all of it)."""
    root = matrix_project
    logs: list[str] = []
    runs, _ = probe(Project(root), Hooks(), RunOptions(apis=["matrix"], log=logs.append, pool=synapse))
    (run,) = runs
    return run, logs, root


def cell(run, endpoint: str, state: str):
    return run.endpoints[endpoint].cells[state]


def test_the_hard_states_are_observed_on_every_probed_get(matrix_run):
    run, *_ = matrix_run
    probed = {eid: r for eid, r in run.endpoints.items() if r.cells and r.method == "GET"}
    assert len(probed) == 81  # every GET of the spec has its parameters from the fixtures
    for eid, result in probed.items():
        for state in (*BAD, "unprivileged"):
            assert result.cells[state].outcome != "n/a", (eid, state)
    assert run.states["forged"]["available"] is False
    assert "not signed" in run.states["forged"]["reason"]


def test_the_writes_are_observed_with_every_real_state(matrix_run):
    # 85 operations are not GET: at least 60 are sent to the local server with a meaningful body
    # and every real state; each of the rest is not-probed with its reason.
    run, *_ = matrix_run
    writes = {eid: r for eid, r in run.endpoints.items() if r.method != "GET"}
    assert len(writes) == 85
    observed = {eid: r for eid, r in writes.items() if r.cells}
    assert len(observed) >= 60, len(observed)
    for eid, result in observed.items():
        for state in (*BAD, "unprivileged", "valid", "anonymous"):
            assert result.cells[state].outcome != "n/a", (eid, state)
    for eid, result in writes.items():
        if not result.cells:
            assert result.verdict == "not-probed" and result.reason, eid
    # Each write with a setup met the same world: the valid request succeeded on its own resource.
    for eid in ("createRoom", "sendMessage", "leaveRoom", "forgetRoom", "deleteRoomAlias", "deleteRoomTag",
                "redactEvent", "kick", "unban", "upgradeRoom", "deleteRoomKeysVersion", "deletePushRule"):
        assert cell(run, eid, "valid").observation.status == 200, eid
        assert cell(run, eid, "revoked").outcome == "rejected", eid


def test_a_logout_spends_its_own_login_and_the_baseline_is_checked(matrix_run):
    run, logs, _ = matrix_run
    logout = run.endpoints["logout"]
    assert cell(run, "logout", "valid").observation.status == 200
    # Synapse lets an expired token log out (it allows expired tokens there on purpose).
    assert cell(run, "logout", "expired").observation.status == 200
    assert cell(run, "logout", "revoked").outcome == "rejected"
    assert logout.verdict == "mixed"
    # logout/all ends every session of alice's, the run's own token included: the check after it
    # says so, and nothing probed before it was judged against a broken baseline.
    assert any("stopped working after POST /_matrix/client/v3/logout/all" in line for line in logs)
    assert cell(run, "getTokenOwner", "valid").outcome == "as-valid"


def test_whoami_rejects_every_dead_token_and_says_why_in_errcode(matrix_run):
    run, *_ = matrix_run
    assert cell(run, "getTokenOwner", "valid").observation.status == 200
    for state in (*BAD, "unknown-token", "anonymous"):
        assert cell(run, "getTokenOwner", state).outcome == "rejected", state
    # expired says soft_logout (a refresh may revive it); revoked and deactivated do not.
    assert "soft_logout" in cell(run, "getTokenOwner", "expired").observation.shape
    assert cell(run, "getTokenOwner", "unprivileged").outcome == "partial"  # bob, not alice
    # The secret as ?access_token= (the spec's older presentation) is still accepted.
    assert cell(run, "getTokenOwner", "query-parameter").outcome == "as-valid"
    assert run.endpoints["getTokenOwner"].verdict == "fails-closed"
    # Synapse answers an unparsable Authorization value with a 500 here: no data, but a crash.
    assert cell(run, "getTokenOwner", "malformed").observation.status == 500
    assert "malformed got a 5xx (server-error): no data served" in run.endpoints["getTokenOwner"].reason


def test_the_token_check_is_whoami_and_says_what_malformed_gets(matrix_run):
    """Ranked by usefulness, not size: every bad credential refused with 401 (malformed: a 500),
    no fixture value needed, and the answer names the caller."""
    from catalog.answers.token_check import token_check

    best = token_check(run).candidates[0] if (run := matrix_run[0]) else None
    assert best is not None and (best.method, best.path) == ("GET", "/_matrix/client/v3/account/whoami")
    assert best.identity and not best.parameters and best.refusal == "401"
    assert "malformed → 500 (server-error: no data served)" in best.refusals and best.odd == "malformed → 500"


def test_public_rooms_serves_a_revoked_token_as_anonymous(matrix_run):
    """The seed's behaviour class on real software: /whoami says 401, /publicRooms says 200."""
    run, *_ = matrix_run
    rooms = run.endpoints["getPublicRooms"]
    valid, anonymous = rooms.cells["valid"].observation, rooms.cells["anonymous"].observation
    assert valid.status == anonymous.status == 200 and valid.count == 1  # the published lobby
    for state in (*BAD, "unknown-token"):
        observed = rooms.cells[state].observation
        assert observed.status == 200 and observed.body_sha256 == anonymous.body_sha256, state
        # Served like everyone (the endpoint never checks), never "as-valid".
        assert rooms.cells[state].outcome == "ignored", state
    assert rooms.verdict == "public"
    # Synapse refuses anonymous /publicRooms by default: the launcher's switch that makes this
    # fallback exist travels with the run (and so with every observed label and the export).
    assert "allow_public_rooms_without_auth" in run.meta["settings"]


def test_the_concurrency_limited_availability_check_is_judged_in_every_cell(matrix_run):
    """Synapse answers concurrent /register/available requests with 429: after the first one the
    prober sends that endpoint's requests one at a time, so no cell is left rate-limited."""
    run, *_ = matrix_run
    cells = run.endpoints["checkUsernameAvailability"].cells
    assert not [s for s, c in cells.items() if c.outcome == "rate-limited"]


def test_room_content_fails_closed_and_unprivileged_is_forbidden(matrix_run):
    run, *_ = matrix_run
    for eid in ("getRoomEvents", "getJoinedMembersByRoom", "getRoomState"):
        for state in BAD:
            assert cell(run, eid, state).outcome == "rejected", (eid, state)
        assert cell(run, eid, "unprivileged").outcome == "forbidden", eid
        assert cell(run, eid, "valid").observation.status == 200, eid
    assert run.endpoints["getRoomEvents"].cells["valid"].observation.count == 5  # limit=5, with messages
    for eid in ("getRoomEvents", "getJoinedRooms", "getDevices"):
        assert run.endpoints[eid].verdict == "fails-closed", eid


def test_every_get_is_judged_or_said_to_be_not_served(matrix_run):
    """With an image to thumbnail and token-only registration, no GET is left inconclusive; what
    Synapse does not serve (legacy unauthenticated media, SSO without a provider, …) says so."""
    run, *_ = matrix_run
    verdicts = {eid: r.verdict for eid, r in run.endpoints.items() if r.method == "GET"}
    assert "inconclusive" not in verdicts.values(), [e for e, v in verdicts.items() if v == "inconclusive"]
    assert verdicts["getContentThumbnailAuthed"] == "fails-closed"
    assert verdicts["getContent"] == "not-served"  # unauthenticated media are frozen by default


def test_an_expired_token_is_accepted_where_auth_is_optional_but_a_revoked_one_is_not(matrix_run):
    """GET /versions documents auth as optional: Synapse ignores an expired token there."""
    run, *_ = matrix_run
    assert cell(run, "getVersions", "expired").observation.status == 200
    assert cell(run, "getVersions", "revoked").outcome == "rejected"
    assert cell(run, "getVersions", "deactivated").outcome == "rejected"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_during_the_run_stops_synapse(tmp_path, sig):
    """The real CLI, interrupted while it probes: Synapse (its own session) is stopped by its PID."""
    root = copy_project(tmp_path / "project", with_data=False)
    proc = start_cli(root, "probe", "--api", "matrix", env={"AUTHCAT_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "200"})
    pid = None
    try:
        deadline = time.monotonic() + 120
        while pid is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if match := re.search(r"synapse \S+ on http://127\.0\.0\.1:\d+ \(pid (\d+)\)", line):
                pid = int(match.group(1))
        assert pid is not None and Path(f"/proc/{pid}").exists()
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == (130 if sig == signal.SIGINT else 143) and "Traceback" not in out, out
    deadline = time.monotonic() + 15
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists(), "Synapse outlived the interrupted run"


def test_no_secret_reaches_the_log_or_the_observations(matrix_run):
    """Synapse tokens look like ``syt_<base64 user>_<random>_<checksum>``; passwords carry ``~@+/=``."""
    run, logs, root = matrix_run
    written = "".join(p.read_text() for p in (root / "site" / "data").rglob("*.json"))
    text = "\n".join(logs) + repr(run.endpoints) + written
    assert "getTokenOwner" in written
    assert not re.search(r"syt_[A-Za-z0-9]+_[A-Za-z0-9]+", text)
    assert "Pw~@+/=" not in text and "Pw%7E%40%2B%2F%3D" not in text


@pytest.fixture(scope="module")
def watched(tmp_path_factory, synapse, matrix_run):
    """The module's Synapse, after the Matrix run; a fresh token revoked through /logout, another
    through deactivation."""
    root = copy_project(tmp_path_factory.mktemp("watch"), with_data=False)
    hooks = Hooks()
    _, profile = revocation_plugin.load_profile(root, "matrix", "synapse")
    results = {}
    running = synapse.running(profile, root / "endpoints")
    for how in ("logout", "deactivate"):
        revocable = running.revocations[how]()
        plan = revocation_plugin.build_plan(root, hooks, "matrix", "synapse", "getTokenOwner", None, None,
                                            0.1, 20.0, 3, running, revocable)

        def revoke(m, _warnings, revocable=revocable):
            revocable.revoke()
            m.revoked_by = revocable.how

        results[how] = asyncio.run(revocation.watch(plan, on_baseline=revoke))
        revocation.record(root / "site" / "data", results[how])
    return root, results


@pytest.mark.parametrize(("how", "by"), [("logout", "POST /logout"), ("deactivate", "admin API")])
def test_revocation_latency_is_measured_on_synapse(watched, how, by):
    root, results = watched
    m = results[how]
    assert m.from_outcome == "as-valid" and m.to_outcome == "rejected" and m.settled
    assert m.first_changed_after_s is not None and m.first_changed_after_s <= m.max_wait_s
    assert by in m.revoked_by and m.target_version == "1.163.2"
    stored = revocation.load(root / "site" / "data", "matrix")
    assert {s["revoked_by"] for s in stored} == {r.revoked_by for r in results.values()}


def test_watch_revocation_cli_needs_a_known_way_on_a_launched_target(tmp_path):
    root = copy_project(tmp_path / "project", with_data=False)
    done = run_cli(root, "watch-revocation", "--api", "matrix", "--target", "synapse", "--endpoint", "getTokenOwner",
                   timeout=60)
    assert done.returncode != 0 and "pass --revoke" in done.stderr and "Traceback" not in done.stderr


def test_errcode_and_soft_logout_are_signals(matrix_run):
    """Synapse says why in the body: M_UNKNOWN_TOKEN for a dead token, M_MISSING_TOKEN for none,
    soft_logout true only for the expired one (a refresh can revive it)."""
    run, *_ = matrix_run
    # Pooled over every endpoint (rules that hold on one endpoint alone come with that scope).
    by_label = {(s.label(), s.meaning): s for s in find_signals(run.endpoints.values()) if s.one_endpoint is None}
    unknown = by_label[("body /errcode: M_UNKNOWN_TOKEN", REJECTED)]
    assert {"revoked", "expired", "deactivated", "unknown-token"} <= set(unknown.states)
    # Not right everywhere: /publicRooms serves those tokens a 200 with no errcode at all.
    assert not unknown.recommended and unknown.correct < unknown.checked
    soft = by_label[("body /soft_logout: true", REJECTED)]
    assert soft.states == ("expired",)
    assert cell(run, "getTokenOwner", "anonymous").observation.fields["/errcode"] == "M_MISSING_TOKEN"
    assert cell(run, "getTokenOwner", "revoked").observation.fields["/soft_logout"] == "false"


def test_the_guide_explains_the_public_rooms_fallback_in_one_sentence(matrix_run):
    run, *_ = matrix_run
    sentences = separation(run, find_signals(run.endpoints.values()))
    first = sentences[0]
    assert first.startswith("On synapse, GET /_matrix/client/v3/publicRooms answers ")
    for state in BAD:
        assert state in first.split(" tokens with")[0]
    assert "with the same 200 it gives a caller with no token, while GET " in first
    assert "rejects the very same tokens with 401" in first


def test_the_run_resumes_the_replayed_reads(matrix_run, matrix_snippets):
    """The replay's run of the reads left its progress file in the project: in the Matrix run on the
    same server every GET is current and reused as observed there, and only the writes are sent."""
    if matrix_snippets is None:
        pytest.skip("needs curl: no replay to resume")
    run, *_ = matrix_run
    gets = [r for r in run.endpoints.values() if r.method == "GET"]
    assert run.meta["reused"] == len(gets) == 81
    assert run.meta["probes"] <= sum(len(r.cells) for r in run.endpoints.values() if r.method != "GET")
