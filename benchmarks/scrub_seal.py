"""What the one scrub choke point costs: ``catalog.secrets.scrub.seal`` on a synthetic run.

``python -m benchmarks.scrub_seal [N]`` builds a run of N endpoints × 12 states (the shape of
``benchmarks/synthetic.py``, with distinct header values per cell so the scrubber's memo cannot
hide the work) and prints the time of one seal and the cost per stored string. The runner seals
the run at every progress save (about once a second) and once at the end.
"""

from __future__ import annotations

import sys
import time

from catalog.model.observation import Observation
from catalog.runs.results import Cell, EndpointResult, TargetRun
from catalog.secrets.scrub import Scrubber, seal

STATES = ["valid", "anonymous", "malformed", "unknown-token", "wrong-identity", "wrong-scheme",
          "scheme-case", "expired", "revoked", "forged", "unprivileged", "deactivated"]


def synthetic_run(n: int) -> TargetRun:
    endpoints = {}
    for i in range(n):
        cells = {}
        for state in STATES:
            obs = Observation(status=401, content_type="application/json;charset=UTF-8", shape="{errorMessages:[str]}",
                              headers={"www-authenticate": f'Basic realm="protected-{i}-{state}"',
                                       "cache-control": "no-cache, no-store", "x-request-id": "(present)",
                                       "x-seraph-loginreason": "AUTHENTICATED_FAILED"})
            cells[state] = Cell(state, "rejected", f"401 on {state} #{i}", obs)
        endpoints[f"op{i:05d}"] = EndpointResult(f"op{i:05d}", "GET", f"/rest/api/3/r{i}", "fails-closed", "", "k", cells)
    states = {s: {"available": True} for s in STATES}
    return TargetRun("synthetic", "bench", {"target_version": "1.0", "date": "2026-01-01T00:00:00Z"}, states, endpoints)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    run = synthetic_run(n)
    secret, identity = "Sk~BENCH+/=@Zq0123456789", "Ca~na+ry/bench=@Example.TEST"
    scrub = Scrubber([secret, "Basic Q2F+bmErcnk6U2t+QkVOQ0g="], [identity])
    strings = n * len(STATES) * 8
    memo: dict = {}
    t0 = time.perf_counter()
    seal(run, scrub, memo)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    seal(run, scrub, memo)  # the next progress save: every result already sealed
    again = time.perf_counter() - t0
    echoed = synthetic_run(n)
    for result in list(echoed.endpoints.values())[: n // 10]:  # a tenth of the answers echo the secret
        obs = result.cells["valid"].observation
        assert obs is not None
        obs.headers["www-authenticate"] = f'Basic realm="{secret}"'
    t0 = time.perf_counter()
    seal(echoed, scrub)
    dirty = time.perf_counter() - t0
    print(f"seal, {n} endpoints × {len(STATES)} states (~{strings:,} strings): first {first:.2f} s "
          f"({first / strings * 1e6:.1f} µs/string), next save {again * 1000:.0f} ms, "
          f"with a tenth of the results echoing the secret {dirty:.2f} s")


if __name__ == "__main__":
    main()
