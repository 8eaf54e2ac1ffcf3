"""The GitHub Actions workflows and the pre-commit hook: valid, and calling commands that exist.

``actionlint`` (from the test extra) checks syntax, expressions, permissions and action inputs.
The rest checks what actionlint cannot know: that the jobs run the README's commands, that every
``authcat`` subcommand they call exists, and that the scheduled run passes every credential
variable the target profiles reference from a repository secret.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from catalog.cli import cli, hooks

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"


def _actionlint() -> str:
    found = Path(sys.executable).with_name("actionlint")
    path = str(found) if found.exists() else shutil.which("actionlint")
    if path is None:
        pytest.fail("actionlint is missing: install the test extra (pip install -e '.[test]')")
    return path


def _load(name: str) -> dict:
    # YAML 1.1 reads the key `on` as True; normalise so tests can say "on".
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def _runs(doc: dict) -> list[str]:
    return [step["run"] for job in doc["jobs"].values() for step in job.get("steps", ()) if "run" in step]


def _uses(doc: dict) -> list[str]:
    return [step["uses"] for job in doc["jobs"].values() for step in job.get("steps", ()) if "uses" in step]


def _authcat_calls(runs: list[str]) -> list[list[str]]:
    calls = []
    for run in runs:
        for line in run.splitlines():
            words = shlex.split(line, comments=True)
            for i, word in enumerate(words):
                if word.endswith("authcat") and i + 1 < len(words):
                    calls.append(words[i + 1:])
    return calls


def test_actionlint_finds_nothing():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"pr.yml", "catalog.yml"}
    result = subprocess.run([_actionlint(), "-color=false", *map(str, files)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path):
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n")
    result = subprocess.run([_actionlint(), "-color=false", str(bad)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "nope" in result.stdout


def test_pull_requests_lint_test_and_check():
    doc = _load("pr.yml")
    assert "pull_request" in doc["on"]
    runs = _runs(doc)
    readme = (REPO / "README.md").read_text()
    # The README's test command is the one CI runs, so a contributor's `make test` is CI's.
    assert "make test" in readme and "make test" in runs
    assert any(r in ("make lint", ".venv/bin/authcat lint") for r in runs)
    checks = [c for c in _authcat_calls(runs) if c[0] == "check"]
    assert checks and "--baseline" in checks[0] and checks[0][checks[0].index("--baseline") + 1] == "site/data"
    assert doc["permissions"] == {"contents": "read"}


def _jobs(name: str) -> dict:
    return _load(name)["jobs"]


def _secrets_of(job: dict) -> set[str]:
    return set(re.findall(r"\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)", yaml.safe_dump(job)))


def _profile_variables() -> dict[tuple[str, str], set[str]]:
    """(API, target) -> the variables its profile names (credentials and base URL)."""
    out = {}
    for profile in REPO.glob("endpoints/*/targets/*.yaml"):
        text, doc = profile.read_text(), yaml.safe_load(profile.read_text())
        names = set(re.findall(r"\benv:\s*([A-Z_][A-Z0-9_]*)", text)) | set(re.findall(r"\bbase_url_env:\s*([A-Z_][A-Z0-9_]*)", text))
        out[(profile.parent.parent.name, doc["name"])] = names
    return out


def test_the_schedule_plans_probes_per_target_merges_builds_proposes_and_deploys():
    doc = _load("catalog.yml")
    assert "schedule" in doc["on"] and "workflow_dispatch" in doc["on"]
    jobs = doc["jobs"]
    assert set(jobs) == {"plan", "probe", "build", "propose", "deploy"}
    assert ["plan", "--json", ">", "matrix.json"] in _authcat_calls(_runs({"jobs": {"plan": jobs["plan"]}}))
    assert jobs["probe"]["needs"] == "plan"
    assert jobs["probe"]["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    build_calls = _authcat_calls(_runs({"jobs": {"build": jobs["build"]}}))
    assert build_calls[0][0] == "merge" and ["build"] in build_calls
    pr = next(s for s in jobs["propose"]["steps"] if s.get("uses", "").startswith("peter-evans/create-pull-request@"))
    assert pr["with"]["add-paths"] == "site/data"
    upload = next(s for s in jobs["build"]["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "site/build"
    deploy = jobs["deploy"]
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"


def test_every_job_holding_a_secret_probes_exactly_one_target_and_builds_nothing():
    """The probe job (one per matrix pair) is the only one holding secrets; each secret is set only
    in the job of the pair whose profile names it; it runs one `authcat probe` of that one pair and
    no build, merge or run; the pair's names reach the script as data (env), never as code."""
    variables = _profile_variables()
    holders = {name: job for name, job in _jobs("catalog.yml").items() if _secrets_of(job)}
    assert set(holders) == {"probe"}, set(holders)
    probe = holders["probe"]
    gate = re.compile(r"^\$\{\{ matrix\.api == '([^']+)' && matrix\.target == '([^']+)' && secrets\.([A-Z_0-9]+) \|\| '' \}\}$")
    for name, value in probe["env"].items():
        if "secrets." not in str(value):
            continue
        m = gate.match(str(value))
        assert m, f"{name}: a secret not gated on one pair: {value}"
        api, target, secret = m.groups()
        assert secret in variables[(api, target)], f"{name}: {api}/{target}'s profile does not name {secret}"
        assert name == secret or name == "AUTHCAT_ALLOWED_ORIGINS", name
    named = {v for vs in variables.values() for v in vs}
    assert named <= set(probe["env"]), named - set(probe["env"])
    calls = _authcat_calls(_runs({"jobs": {"probe": probe}}))
    assert len(calls) == 1 and calls[0][0] == "probe", calls
    call = calls[0]
    assert call.count("--api") == 1 and call.count("--target") == 1 and "--shard" in call
    assert call[call.index("--api") + 1] == "$PAIR_API" and call[call.index("--target") + 1] == "$PAIR_TARGET"
    text = "\n".join(_runs({"jobs": {"probe": probe}}))
    assert "${{" not in text, "no expression is expanded into a script of the job holding secrets"
    assert not re.search(r"\b(build|run|merge|serve)\b", " ".join(w for c in calls for w in c[:1]))
    assert "make test" not in text and "make lint" not in text  # installs, probes: nothing else runs
    assert {u.split("@")[0] for u in _uses({"jobs": {"probe": probe}})} == {
        "actions/checkout", "actions/setup-python", "actions/upload-artifact"}
    assert probe["permissions"] == {"contents": "read"}


def test_the_build_holds_no_secret_and_publishing_runs_no_repository_code():
    jobs = _jobs("catalog.yml")
    for name in ("plan", "build"):
        assert not _secrets_of(jobs[name]) and jobs[name]["permissions"] == {"contents": "read"}, name
    for name, allowed in (("propose", {"actions/checkout", "actions/download-artifact", "peter-evans/create-pull-request"}),
                          ("deploy", {"actions/deploy-pages"})):
        steps = jobs[name]["steps"]
        assert all("run" not in step for step in steps), f"{name} runs a script"
        assert {step["uses"].split("@")[0] for step in steps} <= allowed, name


def test_every_checkout_leaves_no_token_behind():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for name, job in _load(path.name)["jobs"].items():
            for step in job.get("steps", ()):
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert (step.get("with") or {}).get("persist-credentials") is False, f"{path.name}: {name}"


PR_TRIGGERS = {"pull_request", "pull_request_target", "workflow_run", "issue_comment", "pull_request_review"}


def test_trust_split_pull_requests_hold_no_secrets_and_secrets_run_only_main():
    """site/docs/security.md: workflows a pull request can trigger reference no secret; a
    workflow holding secrets runs no pull request's code, and each of its jobs runs only on main."""
    seen_secret_job = False
    for path in sorted(WORKFLOWS.glob("*.yml")):
        doc, text = _load(path.name), path.read_text()
        triggers = set(doc["on"]) if isinstance(doc["on"], (dict, list)) else {doc["on"]}
        holds_secrets = re.search(r"\bsecrets\.", text) is not None
        if triggers & PR_TRIGGERS:
            assert not holds_secrets, f"{path.name} runs on pull requests and references a secret"
            assert "pull_request_target" not in triggers and "workflow_run" not in triggers, path.name
            continue
        if not holds_secrets:
            continue
        assert triggers <= {"schedule", "workflow_dispatch", "push"}, path.name
        assert "push" not in triggers or doc["on"]["push"] == {"branches": ["main"]}, path.name
        for name, job in doc["jobs"].items():
            if "secrets." in yaml.safe_dump(job) or "needs" not in job or "write" in str(job.get("permissions")):
                assert job.get("if") == "github.ref == 'refs/heads/main'", f"{path.name}: job {name} may run off main"
                seen_secret_job = True
    assert seen_secret_job, "the scheduled workflow holds the credentials"
    # The scheduled run binds credentials to the operator's origin.
    env = _load("catalog.yml")["jobs"]["probe"]["env"]
    gated = "matrix.api == 'jira-cloud' && matrix.target == 'my-site' && secrets.JIRA_BASE_URL || ''"
    assert env["AUTHCAT_ALLOWED_ORIGINS"] == "${{ " + gated + " }}"
    docs = (REPO / "site" / "docs" / "security.md").read_text()
    assert "no secrets" in docs and "only on main" in docs


def test_workflows_call_only_commands_that_exist():
    hooks().register_commands(cli)
    for name in ("pr.yml", "catalog.yml"):
        for call in _authcat_calls(_runs(_load(name))):
            assert call[0] in cli.commands, f"{name} calls `authcat {call[0]}`, which does not exist"


def test_pre_commit_runs_lint_on_endpoint_changes():
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    hooks_ = [h for repo in config["repos"] if repo["repo"] == "local" for h in repo["hooks"]]
    lint = next(h for h in hooks_ if h["id"] == "authcat-lint")
    assert lint["language"] == "system"
    assert lint["entry"].split()[-1] == "lint" and lint["entry"].split()[0].endswith("authcat")
    assert re.match(lint["files"], "endpoints/jira-cloud/projects.yaml")
    assert re.match(lint["files"], "site/data/submissions/jira-cloud/tenant-0123456789abcdef.json")
    assert not re.match(lint["files"], "site/data/observations/jira-cloud/backlot.json")
    assert not re.match(lint["files"], "catalog/cli.py")
