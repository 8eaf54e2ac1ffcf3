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


def test_the_schedule_regenerates_proposes_and_deploys():
    doc = _load("catalog.yml")
    assert "schedule" in doc["on"] and "workflow_dispatch" in doc["on"]
    runs = _runs(doc)
    assert ["run", "--refresh"] in _authcat_calls(runs)
    uses = _uses(doc)
    assert any(u.startswith("peter-evans/create-pull-request@") for u in uses)
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    deploy = doc["jobs"]["deploy"]
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    upload = next(s for s in doc["jobs"]["regenerate"]["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "site/build"
    pr = next(s for s in doc["jobs"]["regenerate"]["steps"] if s.get("uses", "").startswith("peter-evans/"))
    assert pr["with"]["add-paths"] == "site/data"


def test_every_profile_variable_comes_from_a_secret_of_the_same_name():
    referenced = set()
    for profile in REPO.glob("endpoints/*/targets/*.yaml"):
        text = profile.read_text()
        referenced |= set(re.findall(r"\benv:\s*([A-Z_][A-Z0-9_]*)", text))
        referenced |= set(re.findall(r"\bbase_url_env:\s*([A-Z_][A-Z0-9_]*)", text))
    env = _load("catalog.yml")["jobs"]["regenerate"]["env"]
    for name in referenced:
        assert env.get(name) == f"${{{{ secrets.{name} }}}}", name
    # And no secret is echoed by a step: secrets are only passed as environment.
    assert "secrets." not in "".join(_runs(_load("catalog.yml")))


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
            if "secrets." in yaml.safe_dump(job) or "needs" not in job:
                assert job.get("if") == "github.ref == 'refs/heads/main'", f"{path.name}: job {name} may run off main"
                seen_secret_job = True
    assert seen_secret_job, "the scheduled workflow holds the credentials"
    # The scheduled run binds credentials to the operator's origin.
    env = _load("catalog.yml")["jobs"]["regenerate"]["env"]
    assert env["AUTHCAT_ALLOWED_ORIGINS"] == "${{ secrets.JIRA_BASE_URL }}"
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
    assert lint["language"] == "system" and lint["files"] == "^endpoints/"
    assert lint["entry"].split()[-1] == "lint" and lint["entry"].split()[0].endswith("authcat")
    assert re.match(lint["files"], "endpoints/jira-cloud/projects.yaml")
    assert not re.match(lint["files"], "catalog/cli.py")
