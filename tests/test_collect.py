"""``authcat collect`` on two simulated tenants, submissions in ``lint`` and in the catalog.

Two Backlot servers play two customers' Jira sites, reached exactly as a user's own site is: as
the remote profile ``my-site`` (URL from ``JIRA_BASE_URL``, credentials from the environment,
``AUTHCAT_ALLOWED_ORIGINS`` naming the origin). The tenants' fixtures differ: on the first the
user is a member who sees projects and issues; on the second, a guest from another organisation
who sees none (so some cells cannot be judged there: the catalog shows the split).
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from catalog.commands import collect as collect_cmd
from catalog.definitions.loader import load_all
from catalog.hooks.manager import Hooks
from catalog.pipeline import Project, lint_submissions
from catalog.runs import submissions
from catalog.secrets.scrub import Scrubber
from catalog.targets.launchers import LaunchContext
from tests import encodings
from tests.canary import Canary
from tests.support.project import CACHE, copy_project, run_cli

pytestmark = [pytest.mark.backlot, pytest.mark.slow]

# tenant -> (the role whose token the user holds, the role whose email is the second account)
TENANTS = {"member": ("valid", "other"), "guest": ("unprivileged", "valid")}


def tenant_env(launched, holder: str, second: str) -> dict[str, str]:
    user, other = launched.credentials.get(holder), launched.credentials.get(second)
    return {"JIRA_BASE_URL": launched.base_url + "/atlassian", "AUTHCAT_ALLOWED_ORIGINS": launched.base_url,
            "JIRA_EMAIL": user.identity, "JIRA_API_TOKEN": user.secret, "JIRA_OTHER_EMAIL": other.identity}


def project_keys(launched, holder: str) -> list[str]:
    """The tenant's own project and issue keys, as its user sees them (what must never be shared)."""
    user = launched.credentials.get(holder)
    auth = (user.identity, user.secret)
    base = launched.base_url + "/atlassian/rest/api/3"
    projects = httpx.get(f"{base}/project/search", auth=auth, timeout=10).json().get("values", [])
    issues = httpx.get(f"{base}/search", params={"jql": "order by key"}, auth=auth, timeout=10).json().get("issues", [])
    return [p["key"] for p in projects] + [i["key"] for i in issues[:20]]


@pytest.fixture(scope="module")
def tenants(tmp_path_factory):
    """Both tenants' submissions, each written by one `authcat collect` command, with what each
    tenant must keep private: its URL, identities, secrets and project/issue keys. The tenants'
    servers keep running until the module ends (``launched``): collect sends only safe methods,
    so a test may collect from one again."""
    hooks = Hooks()
    root = copy_project(tmp_path_factory.mktemp("collect") / "project")
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as scratch, contextlib.ExitStack() as servers:
        for name, (holder, second) in TENANTS.items():
            folder = Path(scratch) / name
            folder.mkdir()
            launched = servers.enter_context(hooks.launchers["backlot"](LaunchContext("backlot", CACHE / "backlot", folder)))
            env = {**tenant_env(launched, holder, second), "AUTHCAT_TENANT_SALT": "the contributor's own"}
            path = root.parent / f"{name}.json"
            done = run_cli(root, "collect", "--api", "jira-cloud", "--target", "my-site", "--out", str(path),
                           "--rate-limit", "500", "--concurrency", "8", env=env, timeout=600)
            out[name] = {
                "done": done, "path": path, "env": env, "keys": project_keys(launched, holder),
                "secrets": launched.credentials.secrets(),
                "identities": [c.identity for c in launched.credentials.roles.values()],
                "origin": launched.base_url, "launched": launched,
            }
        yield root, out


def test_each_tenant_gives_one_submission_with_one_command(tenants):
    root, out = tenants
    ids = set()
    for t in out.values():
        done = t["done"]
        assert done.returncode == 0, done.stderr
        doc = json.loads(t["path"].read_text())
        ids.add(doc["target"])
        assert doc["kind"] == "vendor tenant" and doc["api"] == "jira-cloud"
        assert doc["run"]["vendor"] == "Jira Cloud platform REST API"
        assert doc["run"]["target_version"]  # as the tenant reports it (serverInfo's buildNumber)
        assert doc["run"]["authcat_version"] and doc["run"]["date"]
        keys = {e["definition"] for e in doc["endpoints"].values()}
        assert all(len(k) == 16 for k in keys)
        # What will be shared, in a few lines, and where the file is.
        assert "exactly what will be shared" in done.stdout and str(t["path"]) in done.stdout
        assert len(done.stdout.strip().splitlines()) <= 8
        # The states this tenant lacks: n/a, and how to add each.
        assert "revoked: n/a (set JIRA_REVOKED_TOKEN)" in done.stderr
        assert "a token you created and then revoked" in done.stderr
        assert "unprivileged: n/a" in done.stderr and "a second account" in done.stderr
        assert doc["states"]["revoked"] == {"available": False, "reason": "set JIRA_REVOKED_TOKEN", "family": "bad"}
    assert len(ids) == 2  # two tenants, two keys
    assert not (root / "site" / "data" / "observations" / "jira-cloud" / "my-site.json").exists()


def test_no_identity_tenant_url_or_tenant_key_is_shared(tenants):
    _, out = tenants
    for t in out.values():
        text = t["path"].read_text()
        netloc = t["origin"].split("://", 1)[1]
        for private in (t["origin"], netloc, "127.0.0.1", *t["identities"], *t["keys"]):
            assert private.casefold() not in text.casefold(), private
            assert quote(private, safe="").casefold() not in text.casefold(), private
        scrub = Scrubber(t["secrets"], t["identities"])
        assert not [s for s in _all_strings(json.loads(text)) if scrub.holds(s)]
        for secret in t["secrets"]:
            assert Canary(secret, t["identities"][0]).find(text) == []
        doc = json.loads(text)
        assert set(doc["run"]) <= {"vendor", "target_version", "version_source", "date", "authcat_version",
                                   "tenant", "probes", "duration_s", "stale"}
        headers = {h: v for e in doc["endpoints"].values() for c in (e.get("states") or {}).values()
                   for h, v in c.get("headers", {}).items()}
        assert headers.get("x-aaccountid") == "(present)"  # an account id: its presence only
        # The request as sent, off the tenant: its base URL and discovered keys as placeholders.
        urls = [c["request"]["url"] for e in doc["endpoints"].values() for c in (e.get("states") or {}).values()
                if "request" in c]
        assert urls and all(u.startswith("{API_BASE_URL}/") for u in urls)
        if t["keys"]:
            assert any("{projectIdOrKey}" in u for u in urls)


def _all_strings(value) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return {*value, *(s for v in value.values() for s in _all_strings(v))}
    if isinstance(value, list):
        return {s for v in value for s in _all_strings(v)}
    return set()


def _submitted(tenants, tmp_path, with_data: bool = True, only: str | None = None) -> Project:
    """A project copy with the tenants' submissions committed (``only``: that tenant's alone)."""
    _, out = tenants
    project = Project(copy_project(tmp_path / "p", with_data=with_data, apis=["jira-cloud"]))
    folder = project.data / "submissions" / "jira-cloud"
    folder.mkdir(parents=True)
    for name, t in out.items():
        if only is not None and name != only:
            continue
        doc = json.loads(t["path"].read_text())
        shutil.copy(t["path"], folder / f"{doc['target']}.json")
    return project


def test_lint_accepts_the_submissions(tenants, tmp_path):
    project = _submitted(tenants, tmp_path)
    done = run_cli(project.root, "lint")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 submissions" in done.stdout


def _plant(path: Path, value: str, where: str = "note") -> None:
    doc = json.loads(path.read_text())
    cell = next(c for e in doc["endpoints"].values() for c in (e.get("states") or {}).values())
    if where == "key":
        cell.setdefault("headers", {})[value] = "(present)"
    else:
        cell[where] = value
    path.write_text(json.dumps(doc))  # unindented: json's C encoder (indenting a 2 MB file is pure Python, 0.1 s)


def planted_forms() -> dict[str, str]:
    """A credential as a vendor issues it, in the forms a server or a careless edit could leave it."""
    token = "ATATT3xFfGF0" + base64.urlsafe_b64encode(bytes(range(7, 150))).decode().rstrip("=")
    pair = f"someone@example.org:{token}"
    return {
        "raw": token,
        "percent-encoded": quote(token, safe=""),
        "percent-encoded every byte": "".join(f"%{b:02X}" for b in token.encode()),
        "base64": base64.b64encode(token.encode()).decode(),
        "base64url": base64.urlsafe_b64encode(token.encode()).decode().rstrip("="),
        "hex": token.encode().hex(),
        "basic header": "Basic " + base64.b64encode(pair.encode()).decode(),
        "bearer header": f"Bearer {token}",
        "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "github": "ghp_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6",
    }


def test_lint_refuses_a_planted_credential_in_any_form(tenants, tmp_path):
    # The one submission planted in, alone: lint reads every file on each of the 13 rounds.
    project = _submitted(tenants, tmp_path, only="member")
    [path] = submissions.paths(project.data, "jira-cloud")
    clean = path.read_text()
    apis = load_all(project.endpoints, only=["jira-cloud"])
    for form, value in planted_forms().items():
        for where in ("note", "key") if form in ("raw", "base64", "hex") else ("note",):
            path.write_text(clean)
            _plant(path, value, where)
            problems = lint_submissions(project.data, apis)
            assert problems, (form, where)
            assert all(value[:12] not in str(p) for p in problems)  # never quoted


def test_lint_finds_a_vendor_token_in_every_generic_encoding():
    """Lint holds no secret: it looks for what is shaped like a credential, in every decoding the
    scrubber knows (tests/encodings.py spells a part 30 ways)."""
    token = planted_forms()["raw"]
    missed = [name for name, spelled in encodings.forms(token, "someone@example.org").items()
              if not submissions.looks_like_credential({"endpoints": {"e": {"states": {"valid": {"note": spelled}}}}})]
    assert missed == []


def test_lint_via_the_command_names_the_file_and_exits_non_zero(tenants, tmp_path):
    project = _submitted(tenants, tmp_path, only="member")
    [path] = submissions.paths(project.data, "jira-cloud")
    _plant(path, planted_forms()["basic header"])
    done = run_cli(project.root, "lint")
    assert done.returncode != 0
    assert str(path) in done.stderr and "Authorization" in done.stderr


def test_lint_wants_both_baselines_the_schema_and_current_definitions(tenants, tmp_path):
    project = _submitted(tenants, tmp_path)
    first, second = submissions.paths(project.data, "jira-cloud")
    doc = json.loads(first.read_text())
    doc["states"]["anonymous"]["available"] = False
    endpoint_id = next(iter(doc["endpoints"]))
    doc["endpoints"][endpoint_id]["definition"] = "0" * 16
    first.write_text(json.dumps(doc))
    other = json.loads(second.read_text())
    other["run"]["tenant_url"] = "https://acme.atlassian.net"
    second.write_text(json.dumps(other))
    apis = load_all(project.endpoints, only=["jira-cloud"])
    found = [str(p) for p in lint_submissions(project.data, apis)]
    assert any("anonymous baseline is missing" in p for p in found)
    assert any(endpoint_id in p and "run.stale" in p for p in found)
    assert any(str(second) in p and "tenant_url" in p for p in found)
    doc["run"]["stale"] = [endpoint_id]  # marked stale: accepted, and left out of the catalog
    doc["states"]["anonymous"]["available"] = True
    first.write_text(json.dumps(doc))
    other["run"].pop("tenant_url")
    second.write_text(json.dumps(other))
    assert lint_submissions(project.data, apis) == []


FORMS = ["raw0", "url0", "urlplus0", "urllower0", "json0", "jsonu0", "jsonslash0", "b64url0", "b640", "raw1", "url1",
         "b641", "raw2", "raw3", "b644", "url4"]


def with_note(path: Path) -> Callable[[str], str]:
    """The submission's text (as collect writes it, unindented) with its first cell's note set to a
    value: the 2 MB document is encoded once and each note's JSON spliced in, the same bytes as
    ``json.dumps`` of the changed document (encoding it again per form was a third of these tests)."""
    doc = json.loads(path.read_text())
    cell = next(c for e in doc["endpoints"].values() for c in (e.get("states") or {}).values())
    cell["note"] = marker = "\0note\0"
    head, tail = json.dumps(doc).split(json.dumps(marker))  # exactly two parts: the marker is there once
    return lambda note: head + json.dumps(note) + tail


@pytest.mark.parametrize("form", FORMS)
def test_the_check_before_writing_finds_every_form_of_the_users_secrets(tenants, form):
    """What collect searches the file for before writing: every credential part of the run (the
    user's own secrets are the canaries) in every form the scrubber knows, also case-folded."""
    _, out = tenants
    canary = Canary.new()
    text = with_note(out["member"]["path"])
    # Case-folded too, where case is not part of the encoding (base64 and \\u escapes keep theirs).
    for planted in (canary.forms()[form], None if form.startswith(("b64", "jsonu")) else canary.forms()[form].upper()):
        if planted is None:
            continue
        found = submissions.problems(text(f"echo: {planted}"), Scrubber([canary.header, canary.secret], [canary.identity]))
        assert any("credential part" in f for f in found), form
        assert not any(canary.secret in f or canary.identity in f for f in found)


def test_the_check_before_writing_finds_the_generic_encodings_too(tenants):
    """Every spelling the scrubber's generic redaction knows (tests/encodings.py), of the secret
    and of the identity: the check before writing finds each."""
    _, out = tenants
    canary = Canary.new()
    text = with_note(out["member"]["path"])
    scrub = Scrubber([canary.header, canary.secret], [canary.identity])
    missed = []
    for part in (canary.secret, canary.identity):
        for name, spelled in encodings.forms(part, canary.identity).items():
            if not any("credential part" in f for f in submissions.problems(text(f"echo: {spelled}"), scrub)):
                missed.append(name)
    assert missed == []


def test_collect_refuses_to_write_a_submission_holding_a_credential(tenants, tmp_path, monkeypatch):
    """A backstop, end to end: if a credential ever got past the scrubbing into a submission,
    collect finds it in the file and writes nothing. Collected from the member tenant's server."""
    root, out = tenants
    built = submissions.build
    planted: list[str] = []

    def leaky(*args, **kw):  # a scrubbing gap, simulated after the real build
        doc = built(*args, **kw)
        cell = next(c for e in doc["endpoints"].values() for c in (e.get("states") or {}).values())
        cell["note"] = f"echo: {planted[0]}"
        return doc

    monkeypatch.setattr(submissions, "build", leaky)
    target = tmp_path / "out.json"
    launched = out["member"]["launched"]
    for name, value in {**tenant_env(launched, "valid", "other"), "AUTHCAT_TENANT_SALT": "s"}.items():
        monkeypatch.setenv(name, value)
    valid = launched.credentials.get("valid")
    planted.append(base64.urlsafe_b64encode(f"{valid.identity}:{valid.secret}".encode()).decode().rstrip("="))
    with pytest.raises(collect_cmd.SubmissionRefused) as refused:
        collect_cmd.collect_run(root, Hooks(), "jira-cloud", "my-site", target, rate_limit=500, concurrency=8)
    assert not target.exists()
    assert "credential part" in str(refused.value) and valid.secret not in str(refused.value)


def test_the_built_site_and_export_show_the_tenants_agreeing_and_split_and_nothing_private(tenants, tmp_path):
    _, out = tenants
    # Without the committed runs: the emulator tenants share the bundled Backlot's corpus (its
    # project keys and fixture identities are in the emulator's own observations).
    project = _submitted(tenants, tmp_path, with_data=False)
    done = run_cli(project.root, "build", timeout=600)
    assert done.returncode == 0, done.stderr
    built = project.root / "site" / "build"
    page = (built / "apis" / "jira-cloud" / "tenants.html").read_text()
    assert "observed on 2 tenants" in page and "agreeing" in page
    assert "split over 2 tenants" in page  # the guest sees no issue: the search cells cannot be judged there
    assert 'href="tenants.html"' in (built / "apis" / "jira-cloud" / "index.html").read_text()
    export = json.loads((built / "catalog.json").read_text())
    [jira] = [a for a in export["apis"] if a["name"] == "jira-cloud"] if isinstance(export["apis"], list) \
        else [export["apis"]["jira-cloud"]]
    kinds = {t["target"]: t["kind"] for t in jira["targets"]}
    assert sorted(k for k in kinds.values() if k == "vendor tenant") == ["vendor tenant"] * 2
    # The answers use them, labelled: Q1 has a line per tenant naming its kind.
    q1 = json.dumps(jira["questions"]["bad-credentials"])
    assert "a vendor tenant, submitted by a user" in q1
    # ... and so do the one-sentence summaries, next to reported and documented evidence.
    in_short = json.dumps(jira["in_short"])
    assert "a vendor tenant, submitted by a user" in in_short
    assert all(target in in_short for target, kind in kinds.items() if kind == "vendor tenant")
    assert '"kind": "reported"' in in_short
    # Each endpoint the tenants observed says so per state, agreeing or split.
    tallies = [cell for e in jira["endpoints"] for cell in (e.get("tenants") or {}).values()]
    assert any(c["tenants"] == 2 and c["agree"] for c in tallies)
    assert any(c["tenants"] == 2 and not c["agree"] and c["sentence"].startswith("split over 2 tenants") for c in tallies)
    # Nothing private anywhere: not in the data, the site or catalog.json.
    texts = [p.read_text(errors="replace") for p in [*built.rglob("*.html"), *built.rglob("*.json"), *built.rglob("*.js"),
                                                     *(project.data).rglob("*.json")] if p.is_file()]
    for t in out.values():
        netloc = t["origin"].split("://", 1)[1]
        for private in (t["origin"], netloc, *t["identities"], *t["keys"], *t["secrets"]):
            assert not [1 for text in texts if private in text], private


def test_a_changed_definition_is_marked_stale_by_lint_and_left_out_of_the_catalog(tenants, tmp_path):
    from catalog.pipeline import submitted_runs

    project = _submitted(tenants, tmp_path, only="member")  # each of the three lints reads every submission
    [path] = submissions.paths(project.data, "jira-cloud")
    doc = json.loads(path.read_text())
    endpoint_id = next(e for e, entry in doc["endpoints"].items() if entry.get("states"))
    doc["endpoints"][endpoint_id]["definition"] = "f" * 16  # as if observed under an older definition
    path.write_text(json.dumps(doc))
    # Not marked yet: the catalog leaves it out all the same (it answers another definition)...
    definition = load_all(project.endpoints, only=["jira-cloud"])["jira-cloud"]
    [run] = [r for r in submitted_runs(project.data, "jira-cloud", definition) if r.target == doc["target"]]
    assert endpoint_id not in run.endpoints and len(run.endpoints) == len(doc["endpoints"]) - 1
    # ... and lint asks for it to be marked.
    done = run_cli(project.root, "lint")
    assert done.returncode != 0 and endpoint_id in done.stderr and "--mark-stale" in done.stderr
    done = run_cli(project.root, "lint", "--mark-stale")
    assert done.returncode == 0, done.stderr
    assert json.loads(path.read_text())["run"]["stale"] == [endpoint_id]
    assert run_cli(project.root, "lint").returncode == 0
    [run] = [r for r in submitted_runs(project.data, "jira-cloud") if r.target == doc["target"]]
    assert endpoint_id not in run.endpoints and run.meta["kind"] == "vendor tenant"
