"""B5 catalog scale: ``authcat build`` at 10,000 endpoints over 10 synthetic APIs × 12 states.

Two synthetic projects (``benchmarks/synthetic.py``), 3,000 and 10,000 endpoints, each spread over
10 APIs, are built alternately in child processes (as B3 does). Figures: the 10,000 build's wall
time and peak memory, build(10,000) ÷ build(3,000) (linear is ≈ 3.3), and from the 10,000 build
the largest page gzipped and the most a first visit to any page transfers gzipped: the page, every
local stylesheet and script it references, and the search index (Material's search worker fetches
it as soon as a page loads).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import re
import tempfile
from pathlib import Path
from statistics import median

from .b3_site import build_measured
from .common import Row, load_now, measured, rounds_alternating, spread
from .synthetic import make_project

_REF = re.compile(r'(?:src|href)="([^"#?]+\.(?:js|css))(?:\?[^"]*)?"')
SEARCH_INDEXES = ("search/search_index.json", "search/search_index.js")


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def page_weights(build: Path) -> dict:
    """The largest page gzipped, and the heaviest first visit (page + its assets + search index)."""
    sizes: dict[Path, int] = {}

    def size_of(path: Path) -> int:
        if path not in sizes:
            sizes[path] = gz(path.read_bytes()) if path.is_file() else 0
        return sizes[path]

    index = sum(size_of(build / name) for name in SEARCH_INDEXES[:1])  # the worker fetches the JSON
    largest, largest_page, heaviest, heaviest_page = 0, "", 0, ""
    pages = 0
    for page in build.rglob("*.html"):
        pages += 1
        text = page.read_bytes()
        own = gz(text)
        assets = {(page.parent / ref).resolve() for ref in _REF.findall(text.decode("utf-8", "replace"))
                  if "://" not in ref and not ref.startswith("//")}
        visit = own + sum(size_of(a) for a in assets) + index
        if own > largest:
            largest, largest_page = own, str(page.relative_to(build))
        if visit > heaviest:
            heaviest, heaviest_page = visit, str(page.relative_to(build))
    return {"pages": pages, "largest_kb": largest / 1024, "largest_page": largest_page,
            "first_visit_kb": heaviest / 1024, "first_visit_page": heaviest_page, "search_index_kb": index / 1024}


def main(sizes=(3000, 10000), apis: int = 10, rounds: int = 3, single: int = 20000, log=print) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="authcat-bench-scale-") as tmp:
        projects = {n: make_project(Path(tmp) / f"p{n}", n, apis=apis) for n in sizes}
        log(f"B5: authcat build at {', '.join(map(str, sizes))} endpoints over {apis} APIs × 12 states, {rounds} rounds")
        got = rounds_alternating({str(n): functools.partial(build_measured, p) for n, p in projects.items()},
                                 rounds, log=log)
        weights = page_weights(projects[sizes[-1]] / "site" / "build")
        one = []
        if single:  # one API of that size: its API page and matrix are as long as the API
            log(f"B5: one API with {single} endpoints, one build")
            one_project = make_project(Path(tmp) / "single", single, apis=1)
            one.append(build_measured(one_project))
            one[0]["load"] = load_now()
    big, small = str(sizes[-1]), str(sizes[0])
    per_round = [got[big][r]["wall_s"] / got[small][r]["wall_s"] for r in range(rounds)]
    rss = max(r["rss_mb"] for r in got[big])
    render = median(r["render_s"] for r in got[big])
    mkdocs = median(r["mkdocs_s"] for r in got[big])
    detail = {"wall_s": {n: round(median(r["wall_s"] for r in res), 2) for n, res in got.items()},
              "render_s": round(render, 2), "mkdocs_s": round(mkdocs, 2), "scaling_per_round": [round(x, 3) for x in per_round],
              **{k: (round(v, 1) if isinstance(v, float) else v) for k, v in weights.items()}}
    return [
        measured(f"B5 build at {big} endpoints", [r["wall_s"] for r in got[big]], "s", "≤ 30", lambda v: v <= 30,
                 f"{apis} APIs; render {render:.1f} s + mkdocs {mkdocs:.1f} s + start-up; {weights['pages']} pages",
                 detail, kind="absolute", digits=1),
        Row(f"B5 peak memory at {big}", round(rss), "MB", "≤ 1024", rss <= 1024,
            "child's peak RSS (VmHWM); the value is the highest round", {}, "absolute",
            spread([r["rss_mb"] for r in got[big]], 0), len(got[big])),
        measured(f"B5 build {big} ÷ {small} endpoints", per_round, "×", "≤ 3.6", lambda v: v <= 3.6,
                 f"{small}: {detail['wall_s'][small]} s"),
        Row("B5 largest page gzipped", round(weights["largest_kb"]), "KB", "≤ 300", weights["largest_kb"] <= 300,
            weights["largest_page"], kind="absolute"),
        *([Row(f"B5 one API with {single} endpoints", round(one[0]["wall_s"], 1), "s", "≤ 60", one[0]["wall_s"] <= 60,
               f"one build (no rounds: it is long); {one[0]['cpu_s']:.0f} CPU s (the child's own with its "
               f"helper processes', {one[0]['workers_cpu_s']:.0f} of them in the helpers, from wait4: what other "
               f"load on the machine does not change much); render {one[0]['render_s']:.1f} s + mkdocs "
               f"{one[0]['mkdocs_s']:.1f} s; {one[0]['rss_mb']:.0f} MB peak; load {one[0]['load']}",
               {"cpu_s": round(one[0]["cpu_s"], 1)}, "absolute", None, 1)] if one else []),
        Row("B5 first visit gzipped (worst page)", round(weights["first_visit_kb"]), "KB", "≤ 1024",
            weights["first_visit_kb"] <= 1024,
            f"{weights['first_visit_page']}: page + its CSS/JS + search index ({weights['search_index_kb']:.0f} KB)",
            kind="absolute"),
    ]

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[3000, 10000])
    ap.add_argument("--apis", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--single", type=int, default=20000, help="also build one API of this size once (0: no)")
    args = ap.parse_args()
    for row in main(tuple(args.sizes), args.apis, args.rounds, args.single):
        print(row.to_dict())
