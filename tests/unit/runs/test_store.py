"""catalog/runs/store.py: the progress file a run rewrites every second."""

from __future__ import annotations

import json
from typing import Any

from catalog.model.observation import Observation
from catalog.runs.results import Cell, EndpointResult, TargetRun
from catalog.runs.store import Encoded, Store


def _result(endpoint_id: str, status: int, note: str = "") -> EndpointResult:
    obs = Observation(status=status, headers={"content-type": "application/json"}, content_type="application/json")
    cells = {"valid": Cell("valid", "as-valid" if status == 200 else "rejected", note, obs)}
    return EndpointResult(endpoint_id, "GET", f"/{endpoint_id}", "fails-closed", "", "k", cells)


def test_a_progress_save_encodes_each_endpoint_once_and_writes_what_json_dumps_does(tmp_path):
    store, encoded = Store(tmp_path), Encoded()
    meta = {"partial": True, "target_version": "1", "note": "déjà vu"}  # not ASCII: kept as it is
    states: dict[str, dict[str, Any]] = {"valid": {"available": True}, "forged": {"available": False, "reason": "no key"}}
    path = store.partial_path("a", "t")
    for endpoints in ({}, {"b": _result("b", 200)}, {"b": _result("b", 200), "a": _result("a", 401, "ß")}):
        run = TargetRun("a", "t", meta, states, endpoints)
        store.write_partial(run, encoded)
        assert path.read_text() == json.dumps(run.to_dict(), ensure_ascii=False) + "\n"
    kept = encoded["b"][1]
    # The same result is not encoded again; a result replaced under the same id is.
    store.write_partial(TargetRun("a", "t", meta, states, dict(endpoints)), encoded)
    assert encoded["b"][1] is kept
    replaced = {**endpoints, "b": _result("b", 403)}
    store.write_partial(TargetRun("a", "t", meta, states, replaced), encoded)
    assert json.loads(path.read_text())["endpoints"]["b"]["states"]["valid"]["status"] == 403
    assert store.read_partial("a", "t").endpoints["a"].cells["valid"].note == "ß"
