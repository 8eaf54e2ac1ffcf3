"""Run authcat on one zoo behaviour (``tests.servers.zoo``) and hand back what it concluded.

``run_zoo`` writes a throw-away project (api.yaml, one group file, one target profile whose
credentials are environment references), starts the behaviour's server, runs the real pipeline
(probe → classify → store) and computes the answers, exactly as ``authcat run`` would.
``python -m tests.servers.zoo_project`` prints every behaviour's matrix and verdicts (the issue's
"before and after" table).
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog.answers.publication import ApiAnswers
from catalog.engine.runner import RunOptions
from catalog.hooks.manager import Hooks
from catalog.pipeline import Project, load_publication, probe
from catalog.runs.results import TargetRun
from tests.servers.zoo import BEHAVIOURS, ZooServer
from tests.support.project import make_project

ENDPOINTS: list[dict[str, Any]] = [
    {"id": "listItems", "method": "GET", "path": "/api/items", "collection": "/items",
     "documented": {"anonymous": False}},
    {"id": "whoAmI", "method": "GET", "path": "/api/me", "actor_fields": ["/actor"]},
    {"id": "status", "method": "GET", "path": "/api/status", "documented": {"anonymous": True}},
]
ROLES = ("valid", "unprivileged", "expired")
MISSING = {"id": "missing", "method": "GET", "path": "/api/missing"}  # the envelope's non-auth error

# What each behaviour's api.yaml says about its scheme (the rest is shared).
API: dict[str, dict[str, Any]] = {
    # Slack's way: every answer a 200; three auth codes, and errors that are not about auth.
    "envelope": {
        "scheme": "bearer",
        "auth_failure": [{"name": "auth-refused", "when": {
            "/ok": False, "/error": {"one_of": ["not_authed", "invalid_auth", "token_expired"]}}}],
        "other_errors": [{"name": "other-error", "when": {"/ok": False, "/error": {"present": True}}}],
    },
    "static-header": {"scheme": "bearer", "headers": {"X-Api-Version": "2"}},
    "key-header": {"scheme": {"header": "X-Api-Key"}},
    "key-query": {"scheme": {"query": "api_key"}},
    "case-sensitive": {"scheme": "bearer"},
    "bearer-only": {"scheme": "bearer"},
    "ignores": {"scheme": "bearer"},
    "version-header": {"scheme": "bearer"},
    # Observations keep the field's value (a code-like string), as for Matrix's errcode.
    "status-field": {"scheme": "bearer", "signal_fields": ["/result/authstatus/0"]},
}
TARGET: dict[str, dict[str, Any]] = {
    "version-header": {"version_from": {"endpoint": "status", "header": "X-Server-Version"}},
}


@dataclass
class ZooResult:
    run: TargetRun
    answers: ApiAnswers
    server: ZooServer
    root: Path
    tokens: dict[str, str]

    def outcomes(self, endpoint_id: str) -> dict[str, str]:
        return {s: c.outcome for s, c in self.run.endpoints[endpoint_id].cells.items()}

    def verdicts(self) -> dict[str, str]:
        return {eid: r.verdict for eid, r in sorted(self.run.endpoints.items())}

    @property
    def target(self):
        found = self.answers.target(self.run.target)
        assert found is not None
        return found


def _profile(name: str, env: str, extra: dict[str, Any]) -> dict[str, Any]:
    """Credentials and the URL from the operator's variables (a literal URL gets no credential)."""
    creds = {role: {"secret": {"env": f"{env}_{role.upper()}"}} for role in ROLES}
    return {"name": name, "base_url_env": f"{env}_URL", "credentials": creds, "timeout": 5, "retries": 0, **extra}


def run_zoo(root: Path, behaviour: str, api: dict[str, Any] | None = None, target: dict[str, Any] | None = None,
            endpoints: list[dict[str, Any]] | None = None, name: str = "zoo") -> ZooResult:
    tokens = {role: f"Zoo~{role}+{secrets.token_hex(8)}/AB=" for role in ROLES}  # encoded forms differ
    env = f"ZOO_{secrets.token_hex(3).upper()}"
    with ZooServer(behaviour, tokens["valid"], expired=tokens["expired"], other=tokens["unprivileged"]) as server:
        make_project(
            root, name, endpoints or (ENDPOINTS + [MISSING] if behaviour == "envelope" else ENDPOINTS),
            _profile("zoo", env, {**TARGET.get(behaviour, {}), **(target or {})}),
            {**API.get(behaviour, {}), **(api or {})},
        )
        values = {f"{env}_{r.upper()}": t for r, t in tokens.items()} | {f"{env}_URL": server.url}
        saved = {k: os.environ.get(k) for k in values}
        os.environ.update(values)
        try:
            project, hooks = Project(root), Hooks()
            runs, _ = probe(project, hooks, RunOptions(log=lambda m: None))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        publication = load_publication(project, hooks)
        answers = publication.answers[name]
        run = next(r for r in publication.data.apis[name].runs if r.target == "zoo")
    assert len(runs) == 1
    return ZooResult(run, answers, server, root, tokens)


def describe(result: ZooResult) -> str:
    lines = [f"version: {result.run.version} ({result.run.meta.get('version_source')})"]
    for eid, r in sorted(result.run.endpoints.items()):
        cells = ", ".join(f"{s}={c.outcome}" for s, c in r.cells.items())
        lines.append(f"  {eid}: {r.verdict} | {cells}")
    t = result.target
    lines.append(f"  recognised: {t.recognition.recognised}; token check: "
                 + (", ".join(c.path for c in t.token_check.candidates) or f"none ({t.token_check.reason})"))
    lines.append("  signals: " + "; ".join(f"{s.label()} ({s.meaning})" for s in t.recommended))
    return "\n".join(lines)


def main() -> None:
    for behaviour in sys.argv[1:] or BEHAVIOURS:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                print(f"== {behaviour}\n{describe(run_zoo(Path(tmp) / 'p', behaviour))}")
            except Exception as exc:  # a behaviour the engine cannot express yet: say so, go on
                print(f"== {behaviour}\n  failed: {type(exc).__name__}: {str(exc)[:300]}")


if __name__ == "__main__":
    main()
