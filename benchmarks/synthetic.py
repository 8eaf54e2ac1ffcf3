"""A synthetic catalog of any size, written into a temporary project for the site benchmarks.

One API, ``synthetic`` (or ``apis`` of them, ``synthetic-00`` …, sharing the N endpoints), with
N endpoints in groups of ten (a group page each, like an imported
vendor spec), 12 token states on one target, outcomes spread over the whole vocabulary. The
project's real ``site/`` (mkdocs.yml, hand-written docs, templates) is copied in, so the
benchmark builds exactly what ``authcat build`` builds.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from catalog.model.observation import Observation
from catalog.runs.results import Cell, EndpointResult, TargetRun
from catalog.runs.store import Store

from .common import ROOT

STATES = ["valid", "anonymous", "malformed", "unknown-token", "wrong-identity", "wrong-scheme",
          "scheme-case", "expired", "revoked", "forged", "unprivileged", "deactivated"]
BAD_OUTCOMES = ["rejected", "as-anonymous", "empty", "forbidden", "rejected", "hidden", "rejected", "as-valid"]
STATUS = {"rejected": 401, "as-anonymous": 200, "empty": 200, "forbidden": 403, "hidden": 404, "as-valid": 200}
PER_GROUP = 10


def endpoint_yaml(i: int) -> str:
    return (f"  - id: op{i:05d}\n"
            f"    method: GET\n"
            f"    path: /rest/api/3/resource{i}/items\n"
            f"    summary: Lists the items of resource {i}, as many as the caller may see.\n"
            f"    docs: https://example.com/docs/resource{i}\n"
            f"    collection: /values\n"
            f"    documented:\n"
            f"      anonymous: {'true' if i % 3 == 0 else 'false'}\n"
            f"      source: https://example.com/docs/resource{i}#anonymous\n")


def write_definitions(root: Path, n: int, name: str = "synthetic") -> None:
    api = root / "endpoints" / name
    (api / "targets").mkdir(parents=True)
    (api / "api.yaml").write_text(f"name: {name}\ntitle: Synthetic API {name}\nscheme: basic\n"
                                  "docs: https://example.com/docs\n")
    (api / "targets" / "bench.yaml").write_text("name: bench\nbase_url: http://127.0.0.1:9\n")
    for g in range(0, n, PER_GROUP):
        body = "".join(endpoint_yaml(i) for i in range(g, min(n, g + PER_GROUP)))
        (api / f"group-{g // PER_GROUP:04d}.yaml").write_text(
            f"group: Group {g // PER_GROUP:04d}\ndescription: Endpoints {g} to {g + PER_GROUP - 1}.\nendpoints:\n" + body)


def _obs(status: int, i: int, state: str) -> Observation:
    sha = hashlib.sha256(f"{i}-{status}".encode()).hexdigest()
    return Observation(status=status, content_type="application/json", body_bytes=120 + i % 50, body_sha256=sha,
                       shape="object", count=0 if status == 200 and state != "valid" else 3,
                       headers={"content-type": "application/json", "x-request-id": "(present)"})


def write_observations(root: Path, n: int, name: str = "synthetic") -> None:
    endpoints = {}
    for i in range(n):
        cells = {}
        for k, state in enumerate(STATES):
            if state in ("forged", "deactivated"):
                cells[state] = Cell(state, "n/a", "not available on this target")
                continue
            outcome = "as-valid" if state == "valid" else "as-anonymous" if state == "anonymous" \
                else BAD_OUTCOMES[(i + k) % len(BAD_OUTCOMES)]
            cells[state] = Cell(state, outcome, "", _obs(STATUS.get(outcome, 200), i, state))
        verdict = ["mixed", "fails-closed", "falls-open", "public"][i % 4]
        endpoints[f"op{i:05d}"] = EndpointResult(f"op{i:05d}", "GET", f"/rest/api/3/resource{i}/items", verdict,
                                                 "", hashlib.sha256(str(i).encode()).hexdigest()[:16], cells)
    states = {s: {"available": True} if s not in ("forged", "deactivated")
              else {"available": False, "reason": "not available on this target"} for s in STATES}
    run = TargetRun(name, "bench", {"target_version": "1.0", "date": "2026-01-01T00:00:00Z",
                                           "authcat_version": "bench", "probes": n * 10, "reused": 0}, states, endpoints)
    Store(root / "site" / "data").write(run)


def make_project(root: Path, n: int, apis: int = 1) -> Path:
    """Write a project with N endpoints (over ``apis`` APIs) under ``root`` (which must not exist yet)."""
    # The whole site folder (mkdocs.yml, docs, templates, theme overrides …) but not its data or output.
    shutil.copytree(ROOT / "site", root / "site", ignore=shutil.ignore_patterns("build", "generated", "data", ".build-*"))
    (root / "site" / "data").mkdir()
    names = ["synthetic"] if apis == 1 else [f"synthetic-{k:02d}" for k in range(apis)]
    for k, name in enumerate(names):
        share = n // apis + (1 if k < n % apis else 0)
        write_definitions(root, share, name)
        write_observations(root, share, name)
    return root
