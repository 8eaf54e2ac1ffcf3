"""B4 incremental: after one endpoint file changes, ``authcat run`` probes only that endpoint;
with nothing changed it starts no server at all.

In a copy of the project (the bundled targets, prepared corpora reused from ``.cache/authcat``),
a first run brings the committed observations up to date. Then each round edits one endpoint
(the Datasette ``public-table`` endpoint's query toggles between two page sizes, which changes
its definition key), runs ``authcat run``; alternating with it, ``authcat build`` alone and
``authcat run`` with nothing changed. The figures are run ÷ build (goal ≤ 1.2; each run must probe
exactly that endpoint's available cells and reuse every other endpoint) and current run ÷ build
(goal ≤ 1.1, and no target started).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

from .common import ROOT, Row, measured, rounds_alternating

AUTHCAT = [sys.executable, "-m", "catalog"]
EDITED = ("datasette", "data.yaml", "public-table")


def copy_project(dest: Path) -> Path:
    shutil.copytree(ROOT / "endpoints", dest / "endpoints")
    shutil.copytree(ROOT / "site", dest / "site", ignore=shutil.ignore_patterns("build", "generated", ".build-*"))
    return dest


def cli(root: Path, *args: str) -> tuple[float, str]:
    env = {**os.environ, "AUTHCAT_CACHE_DIR": str(ROOT / ".cache" / "authcat")}
    t0 = time.perf_counter()
    got = subprocess.run([*AUTHCAT, "--root", str(root), *args], cwd=root, env=env, capture_output=True,
                         text=True, timeout=900)
    wall = time.perf_counter() - t0
    if got.returncode:
        raise RuntimeError(f"authcat {' '.join(args)} failed ({got.returncode}): {got.stderr[-2000:]}")
    return wall, got.stderr + got.stdout


def edit(root: Path, size: int) -> None:
    """Give the edited endpoint a query (``_size``): a new URL, so a new definition hash."""
    api, name, endpoint_id = EDITED
    path = root / "endpoints" / api / name
    text = path.read_text()
    text = re.sub(r"\n    query: \{_size: \"\d+\"\}", "", text)
    marker = f"  - id: {endpoint_id}\n"
    assert marker in text, f"{path} has no endpoint {endpoint_id}"
    start = text.index(marker)
    path_line = text.index("\n    path: ", start)
    line_end = text.index("\n", path_line + 1)
    path.write_text(text[:line_end] + f'\n    query: {{_size: "{size}"}}' + text[line_end:])


# What the run itself says (a run that reused every cell leaves its observation file as it was,
# so the files cannot tell this run's probes from the last probing run's).
_SUMMARY = re.compile(r"^(\S+) on (\S+): (\d+) probes, (\d+) endpoints reused", re.M)
# Every launcher says so when its server is up: "<launcher> <version> on http://127.0.0.1:<port> (pid N)".
_STARTED = re.compile(r"^(\S+) \S+ on http://127\.0\.0\.1:\d+ \(pid \d+\)", re.M)


_READY = re.compile(r"^\S+ \S+ on http://127\.0\.0\.1:\d+ \(pid \d+\), ready in ([\d.]+) s", re.M)


def ready_s(output: str) -> float | None:
    """How long the started server took to be ready, as its launcher said (None if it did not say)."""
    found = _READY.findall(output)
    return sum(float(x) for x in found) if found else None


def started(output: str) -> list[str]:
    """The launchers whose servers this run started, from what the run said."""
    return sorted(_STARTED.findall(output))


def probes(root: Path, output: str) -> dict[str, dict]:
    said = {f"{api}/{target}": (int(n), int(reused)) for api, target, n, reused in _SUMMARY.findall(output)}
    out = {}
    for f in sorted((root / "site" / "data" / "observations").glob("*/*.json")):
        if f.name.endswith((".previous.json", ".partial.json")):
            continue
        run = json.loads(f.read_text())
        key = f"{run['api']}/{run['target']}"
        available = sum(1 for s in run["states"].values() if s.get("available"))
        n, reused = said.get(key, (None, None))
        out[key] = {"probes": n, "reused": reused, "states": available, "endpoints": len(run["endpoints"])}
    return out


def main(rounds: int = 3, log=print) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="authcat-bench-incr-") as tmp:
        root = copy_project(Path(tmp) / "project")
        # The copy holds the committed observations: the first run probes only what they lack for
        # the installed servers (on a current clone, nothing), as a user's first `make catalog`.
        full, _ = cli(root, "run")
        log(f"B4: first run {full:.1f} s; then {rounds} rounds of (edit one endpoint + run) vs build")
        counter = {"size": 0}
        checks: list[str] = []

        def incremental() -> dict:
            counter["size"] += 1
            edit(root, 10 + counter["size"] % 2)
            wall, output = cli(root, "run")
            got = probes(root, output)
            key = f"{EDITED[0]}/local"
            servers = started(output)
            ok = got[key]["probes"] == got[key]["states"] and all(
                v["probes"] == 0 for k, v in got.items() if k != key) and servers == [EDITED[0]]
            if not ok:
                checks.append(json.dumps({"probes": got, "started": servers}))
            return {"wall_s": wall, "probes": got[key]["probes"], "only_edited": ok, "started": servers,
                    "ready_s": ready_s(output) or 0.0}

        def build() -> dict:
            wall, _ = cli(root, "build")
            return {"wall_s": wall}

        def current() -> dict:
            """`make catalog` when every cell is current: must start no server."""
            wall, output = cli(root, "run")
            probed = [k for k, v in probes(root, output).items() if v["probes"]]
            return {"wall_s": wall, "started": len(started(output)) + len(probed)}

        got = rounds_alternating({"run after one edit": incremental, "build alone": build,
                                  "run, all current": current}, rounds, log=log)
    per_round = [got["run after one edit"][r]["wall_s"] / got["build alone"][r]["wall_s"] for r in range(rounds)]
    ratio = median(per_round)
    only = all(r["only_edited"] for r in got["run after one edit"])
    run_s = median(r["wall_s"] for r in got["run after one edit"])
    build_s = median(r["wall_s"] for r in got["build alone"])
    servers = sorted({s for r in got["run after one edit"] for s in r["started"]})
    note = f"run {run_s:.1f} s vs build {build_s:.1f} s; servers started: {', '.join(servers) or 'none'}"
    ready = median(r["ready_s"] for r in got["run after one edit"])
    note += f"; its server was ready in {ready:.1f} s (as its launcher said)"
    if ratio > 1.2:
        note += (f"; not met: starting the edited endpoint's server ({EDITED[0]}) costs more than 20 % of a build")
    per_current = [got["run, all current"][r]["wall_s"] / got["build alone"][r]["wall_s"] for r in range(rounds)]
    none_started = all(r["started"] == 0 for r in got["run, all current"])
    current_row = measured("B4 run, every cell current ÷ build", per_current, "×", "≤ 1.1", lambda v: v <= 1.1,
                       f"{'no server started' if none_started else 'a server was started'}; "
                       f"run {median(r['wall_s'] for r in got['run, all current']):.1f} s")
    current_row.met = bool(current_row.met) and none_started
    return [
        current_row,
        measured("B4 run after one edit ÷ build", per_round, "×", "≤ 1.2", lambda v: v <= 1.2, note,
                 {"full_run_s": round(full, 1)}),
        Row("B4 only the edited endpoint probed, only its server started", sum(r["only_edited"] for r in
            got["run after one edit"]), "rounds", f"all {rounds}", only,
            f"{got['run after one edit'][0]['probes']} probes per run (one endpoint × available states); "
            f"checked from the run's own output: its probe summary and each launcher's start line"
            + ("" if only else f"; seen: {checks[:1]}"), kind="count", rounds=rounds),
    ]

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    for row in main(args.rounds):
        print(row.to_dict())
