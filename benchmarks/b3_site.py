"""B3 site scaling: ``authcat build`` on synthetic catalogs of 300, 1,000 and 3,000 endpoints × 12 states.

Each build runs in a child process (fresh interpreter, as ``authcat build`` would); the parent
takes its wall time and CPU time (``wait4``); the child reports its peak RSS (VmHWM). Sizes alternate round by round; values are
medians. Figures: 3,000 ÷ 1,000 build time (linear is ≈ 3), the 3,000 build in seconds,
authcat's own share (loading data, classifying, rendering templates: ``render_s``) of the build,
and peak memory at 3,000.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

from .common import ROOT, Row, measured, rounds_alternating, spread
from .synthetic import make_project


def raise_if(code: int, err: bytes) -> None:
    if code:
        raise RuntimeError(f"build failed ({code}): {err.decode(errors='replace')[-2000:]}")


def build_measured(project: Path) -> dict:
    """Wall and CPU time of one child build (its own rusage via wait4), and its peak RSS."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "benchmarks.build_child", str(project)], cwd=ROOT,
                                stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        raise_if(proc.returncode, err.read())
        report = json.loads(out.read().decode().strip().splitlines()[-1])
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "rss_mb": report["rss_mb"], "render_s": report["render_s"],
            "mkdocs_s": report["mkdocs_s"], "pages": report["pages"], "workers_cpu_s": report.get("workers_cpu_s", 0.0)}


def main(sizes=(300, 1000, 3000), rounds: int = 3, log=print) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="authcat-bench-site-") as tmp:
        projects = {n: make_project(Path(tmp) / f"p{n}", n) for n in sizes}
        build_measured(projects[sizes[0]])  # warm-up: bytecode caches, imports
        log(f"B3: authcat build at {', '.join(map(str, sizes))} endpoints × 12 states, {rounds} rounds")
        got = rounds_alternating({str(n): functools.partial(build_measured, p) for n, p in projects.items()}, rounds, log=log)
    big, mid = str(sizes[-1]), str(sizes[-2])
    per_round = [got[big][r]["wall_s"] / got[mid][r]["wall_s"] for r in range(rounds)]
    wall = {n: round(median(r["wall_s"] for r in res), 2) for n, res in got.items()}
    render = median(r["render_s"] for r in got[big])
    mkdocs = median(r["mkdocs_s"] for r in got[big])
    rss = max(r["rss_mb"] for r in got[big])
    detail = {"wall_s": wall, "cpu_s": {n: round(median(r["cpu_s"] for r in res), 2) for n, res in got.items()},
              "render_s": {n: round(median(r["render_s"] for r in res), 2) for n, res in got.items()},
              "mkdocs_s": {n: round(median(r["mkdocs_s"] for r in res), 2) for n, res in got.items()},
              "rss_mb": {n: round(max(r["rss_mb"] for r in res)) for n, res in got.items()},
              "pages": {n: res[0]["pages"] for n, res in got.items()}, "scaling_per_round": [round(x, 3) for x in per_round]}
    return [
        measured(f"B3 build {big} ÷ {mid} endpoints", per_round, "×", "≤ 3.3", lambda v: v <= 3.3,
                 " / ".join(f"{n}: {s} s" for n, s in wall.items()), detail),
        measured(f"B3 build at {big} endpoints", [r["wall_s"] for r in got[big]], "s", "≤ 40", lambda v: v <= 40,
                 f"render {render:.1f} s + mkdocs {mkdocs:.1f} s + start-up", kind="absolute", digits=2),
        measured("B3 authcat's share of the build", [r["render_s"] / r["wall_s"] for r in got[big]], "", "≤ 0.25",
                 lambda v: v <= 0.25, f"render_s ÷ build wall time at {big}"),
        Row(f"B3 peak memory at {big}", round(rss), "MB", "≤ 500", rss <= 500,
            "child's peak RSS (VmHWM); the value is the highest round", {}, "absolute",
            spread([r["rss_mb"] for r in got[big]], 0), len(got[big])),
    ]

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[300, 1000, 3000])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    for row in main(tuple(args.sizes), args.rounds):
        print(row.to_dict())
