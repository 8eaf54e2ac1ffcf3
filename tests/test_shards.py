"""The catalog probed as a matrix of jobs (site/docs/security.md, "CI topology"): four probe jobs
run in parallel, one (API, target) pair each — two of them targets of one API — each writing a
shard; ``authcat merge`` records them in any order into byte-identical ``site/data``, the same as
one process probing everything gives (its run dates and timings aside, which no two runs share)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from catalog.engine.runner import CACHE_ENV
from tests.servers.fault_server import FaultServer
from tests.support.project import CACHE, copy_project, make_project, run_cli, start_cli

ENDPOINTS = [{"id": "ok", "method": "GET", "path": "/ok", "summary": "ok", "collection": "/values"},
             {"id": "fails", "method": "GET", "path": "/500", "summary": "fails"}]
PAIRS = [("alpha", "one"), ("alpha", "two"), ("beta", "one"), ("gamma", "one")]


def _profile(target: str, prefix: str) -> dict:
    creds = {"valid": {"secret": {"env": f"{prefix}_SECRET"}, "identity": {"env": f"{prefix}_ID"}}}
    return {"name": target, "base_url_env": f"{prefix}_URL", "credentials": creds, "timeout": 5, "retries": 0}


def _project(root: Path) -> Path:
    make_project(root, "alpha", ENDPOINTS, _profile("one", "ALPHA_ONE"))
    for api, target in PAIRS[1:]:
        folder = root / "endpoints" / api
        if not folder.exists():
            shutil.copytree(root / "endpoints" / "alpha", folder)
            shutil.rmtree(folder / "targets")
            (folder / "targets").mkdir()
            doc = yaml.safe_load((folder / "api.yaml").read_text())
            doc.update(name=api, title=f"Test API {api}")
            (folder / "api.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        prefix = f"{api}_{target}".upper()
        (folder / "targets" / f"{target}.yaml").write_text(yaml.safe_dump(_profile(target, prefix), sort_keys=False))
    return root


def _env(url: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for api, target in PAIRS:
        prefix = f"{api}_{target}".upper()
        env |= {f"{prefix}_URL": url, f"{prefix}_SECRET": f"s3cret+{prefix}/=", f"{prefix}_ID": f"{target}@example.test"}
    return env


def _data(root: Path) -> dict[str, bytes]:
    data = root / "site" / "data"
    return {str(p.relative_to(data)): p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file()}


def _timeless(files: dict[str, bytes]) -> dict[str, object]:
    """The data with what differs between any two runs (dates, durations, latencies) set aside."""
    out: dict[str, object] = {}
    for name, raw in files.items():
        doc = json.loads(raw)
        if name == "changes.json":
            for entry in doc:
                entry["date"] = "-"
        elif not name.endswith(".previous.json"):
            for key in ("date", "duration_s", "latency_ms"):
                doc["run"][key] = "-"
        out[name] = doc
    return out


def _start_jobs(base: Path, tmp_path: Path, pairs, env: dict[str, str] | None = None) -> dict:
    """One probe job per (API, target) pair, all at once as the job matrix runs them: each in its
    own copy of ``base``, writing ``shard-<api>-<target>.json`` beside the copies."""
    jobs = {}
    for api, target in pairs:
        copy = tmp_path / f"job-{api}-{target}"
        shutil.copytree(base, copy)
        jobs[(api, target)] = start_cli(copy, "probe", "--refresh", "--api", api, "--target", target,
                                        "--shard", str(tmp_path / f"shard-{api}-{target}.json"),
                                        env=env, stderr=subprocess.PIPE)
    return jobs


def _merged_in_orders(base: Path, tmp_path: Path, orders: list[list[Path]]) -> list[dict[str, bytes]]:
    """Each order of shards merged into its own copy of ``base``: the data each merge wrote."""
    results: list[dict[str, bytes]] = []
    for order in orders:
        merged = tmp_path / f"merged-{len(results)}"
        shutil.copytree(base, merged)
        done = run_cli(merged, "merge", *map(str, order))
        assert done.returncode == 0, done.stderr
        results.append(_data(merged))
    return results


def test_four_shards_in_parallel_merge_byte_identically_in_any_order(tmp_path):
    base = _project(tmp_path / "base")
    with FaultServer() as server:
        first = run_cli(base, "probe", env=_env(server.url))
        assert first.returncode == 0, first.stderr
    plan = run_cli(base, "plan", "--json")
    assert plan.returncode == 0, plan.stderr
    assert [(p["api"], p["target"]) for p in json.loads(plan.stdout)["include"]] == PAIRS

    # The server changed: every cell moves, so each shard carries change-log entries too.
    with FaultServer(route_all="/500") as changed:
        env = _env(changed.url)
        jobs = _start_jobs(base, tmp_path, PAIRS, env)
        single = tmp_path / "single"
        shutil.copytree(base, single)
        one = run_cli(single, "probe", "--refresh", env=env)
        assert one.returncode == 0, one.stderr
        for pair, proc in jobs.items():
            _, stderr = proc.communicate(timeout=300)
            assert proc.returncode == 0, (pair, stderr)

    shards = [tmp_path / f"shard-{api}-{target}.json" for api, target in PAIRS]
    for (api, target), shard in zip(PAIRS, shards, strict=True):
        doc = json.loads(shard.read_text())
        assert (doc["api"], doc["target"]) == (api, target) and doc["changes"], shard.name
        job_data = _data(tmp_path / f"job-{api}-{target}")
        touched = {name for name, raw in job_data.items() if _data(base).get(name) != raw}
        assert touched == {f"observations/{api}/{target}.json", f"observations/{api}/{target}.previous.json",
                           "changes.json"}, touched  # a probe job probes its one target and nothing else

    results = _merged_in_orders(base, tmp_path, [shards, shards[::-1], [shards[2], shards[0], shards[3], shards[1]]])
    assert results[0] == results[1] == results[2], "the order of the shards changed the merged data"
    assert results[0] != _data(base)
    assert _timeless(results[0]) == _timeless(_data(single))


def test_a_shard_probed_from_other_data_or_twice_is_refused(tmp_path):
    base = _project(tmp_path / "base")
    with FaultServer() as server:
        shard = tmp_path / "shard.json"
        proc = run_cli(base, "probe", "--api", "beta", "--target", "one", "--shard", str(shard), env=_env(server.url))
        assert proc.returncode == 0, proc.stderr
        twice = run_cli(base, "merge", str(shard), str(shard))
        assert twice.returncode == 2 and "two shards of beta/one" in twice.stderr
        # base now holds the shard's run: its entries no longer follow from this data.
        with FaultServer(route_all="/500") as changed:
            moved = tmp_path / "moved.json"
            assert run_cli(base, "probe", "--refresh", "--api", "beta", "--target", "one", "--shard", str(moved),
                           env=_env(changed.url)).returncode == 0
        stale = run_cli(base, "merge", str(moved))
        assert stale.returncode == 2 and "probed from other observations" in stale.stderr, stale.stderr
    wrong = run_cli(base, "probe", "--shard", str(tmp_path / "x.json"))
    assert wrong.returncode == 2 and "exactly one --api and one --target" in wrong.stderr


BUNDLED = [("confluence-cloud", "backlot"), ("datasette", "local"), ("jira-cloud", "backlot"), ("jupyter-server", "local")]


@pytest.mark.slow
def test_four_shards_of_the_bundled_targets_merge_like_their_jobs_wrote_them(tmp_path):
    """The same on the bundled local targets (Backlot for two APIs, Datasette, Jupyter Server),
    each shard's job in its own process at once, as the matrix runs them. Two launches of a server
    differ (its tokens, its ids), so here the merged data is compared with what each job wrote:
    every observation file byte for byte, and the change log as the jobs' entries in plan order."""
    base = copy_project(tmp_path / "base")
    # The launchers' prepared corpora (Backlot's import) shared as every run of the suite shares
    # them (tests/conftest.py): each job still starts its own servers.
    jobs = _start_jobs(base, tmp_path, BUNDLED, env={CACHE_ENV: str(CACHE)})
    for pair, proc in jobs.items():
        _, stderr = proc.communicate(timeout=900)
        assert proc.returncode == 0, (pair, stderr)
    shards = [tmp_path / f"shard-{api}-{target}.json" for api, target in BUNDLED]
    results = _merged_in_orders(base, tmp_path, [shards, shards[::-1], shards[1:] + shards[:1]])
    assert results[0] == results[1] == results[2], "the order of the shards changed the merged data"
    for api, target in BUNDLED:
        name = f"observations/{api}/{target}.json"
        assert results[0][name] == _data(tmp_path / f"job-{api}-{target}")[name], name
    entries = [e for api, target in BUNDLED for e in json.loads((tmp_path / f"shard-{api}-{target}.json").read_text())["changes"]]
    base_log = json.loads(_data(base).get("changes.json", b"[]"))
    assert json.loads(results[0]["changes.json"]) == base_log + entries


def test_a_shard_of_no_known_pair_or_not_a_shard_is_refused(tmp_path):
    base = _project(tmp_path / "base")
    stranger = tmp_path / "stranger.json"
    stranger.write_text(json.dumps({"shard": 1, "api": "nope", "target": "one", "run": {}, "changes": []}))
    garbage = tmp_path / "garbage.json"
    garbage.write_text("[1, 2")
    for path, message in ((stranger, "nope/one is not a target of the definitions"), (garbage, "not a shard")):
        proc = run_cli(base, "merge", str(path))
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not (base / "site" / "data" / "changes.json").exists(), "nothing was merged"
