"""Observation files on disk: ``site/data/observations/<api>/<target>.json``.

Writes are atomic (a temp file in the same folder, fsync, ``os.replace``), so a run killed at any
moment leaves either the old file or the new one, never half of one. The file a run replaces is
kept as ``<target>.previous.json`` so ``authcat diff`` can compare the last two runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from catalog.runs.results import EndpointResult, TargetRun

# Each endpoint's part of a progress file, by the result it encodes (kept across one run's saves).
Encoded = dict[str, tuple[EndpointResult, str]]


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def atomic_write(path: Path, text: str | Iterable[str]) -> None:
    """Replace ``path`` with ``text`` whole, or leave it as it was. A failure (full disk,
    read-only folder) is an OSError naming ``path`` itself, not the temporary file. ``text`` may
    be chunks (a large JSON document streamed from its encoder, never held whole)."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            if isinstance(text, str):
                fh.write(text)
            else:
                fh.writelines(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        _discard(tmp)
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    except BaseException:
        _discard(tmp)
        raise


def _discard(tmp: str | None) -> None:
    if tmp is not None:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


class Store:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.observations = data_dir / "observations"

    def path(self, api: str, target: str, previous: bool = False) -> Path:
        return self.observations / api / (f"{target}.previous.json" if previous else f"{target}.json")

    def partial_path(self, api: str, target: str) -> Path:
        """Cells an unfinished run already has: a resumed run reuses them; a finished run removes it."""
        return self.observations / api / f"{target}.partial.json"

    def read_partial(self, api: str, target: str) -> TargetRun | None:
        path = self.partial_path(api, target)
        try:
            return read_file(path) if path.exists() else None
        except (ValueError, KeyError, TypeError):  # unreadable progress is just lost progress
            return None

    def write_partial(self, run: TargetRun, encoded: Encoded | None = None) -> None:
        """The run so far, as ``json.dumps(run.to_dict())``. With ``encoded`` (the caller's, for one
        run) an endpoint is encoded once, not at every save: the run's resumed or finished
        endpoints were most of a long run's save (1.7 s of CPU in the Matrix run's 45 saves)."""
        # Compact: only authcat reads a progress file back, it is rewritten every second while a run
        # lasts, and json's C encoder serves no indent (the indented form took ~4x the CPU).
        encoded = {} if encoded is None else encoded
        parts = []
        for endpoint_id in sorted(run.endpoints):
            result = run.endpoints[endpoint_id]
            hit = encoded.get(endpoint_id)
            if hit is None or hit[0] is not result:
                hit = encoded[endpoint_id] = (result, json.dumps(result.to_dict(), ensure_ascii=False))
            parts.append(f"{json.dumps(endpoint_id, ensure_ascii=False)}: {hit[1]}")
        # TargetRun.to_dict's keys, the endpoints last: the head ends `"endpoints": {}}`.
        head = json.dumps({"api": run.api, "target": run.target, "run": run.meta, "states": run.states,
                           "endpoints": {}}, ensure_ascii=False)
        atomic_write(self.partial_path(run.api, run.target), [head[:-2], ", ".join(parts), "}}\n"])

    def read(self, api: str, target: str, previous: bool = False) -> TargetRun | None:
        path = self.path(api, target, previous)
        if not path.exists():
            return None
        return read_file(path)

    def runs(self, api: str) -> list[TargetRun]:
        folder = self.observations / api
        if not folder.is_dir():
            return []
        return [read_file(p) for p in sorted(folder.glob("*.json"))
                if not p.name.endswith((".previous.json", ".partial.json"))]

    def write(self, run: TargetRun) -> bool:
        """Write a run; keep the file it replaces as ``.previous``. Returns whether entries changed."""
        path = self.path(run.api, run.target)
        new = run.to_dict()
        changed = self._write(path, run, new)
        # The run is complete and on disk: its progress file has served its purpose.
        with contextlib.suppress(FileNotFoundError):
            self.partial_path(run.api, run.target).unlink()
        return changed

    def _write(self, path: Path, run: TargetRun, new: dict) -> bool:
        if path.exists():
            old_text = path.read_text(encoding="utf-8")
            old = json.loads(old_text)
            if old.get("endpoints") == new["endpoints"] and old.get("states") == new["states"]:
                meta = new.get("run", {})
                if not meta.get("probes") and not meta.get("rejudged"):
                    # Every cell was reused: the file's date and figures are still those of the run
                    # that observed them (provenance), so the file is left as it is, byte for byte.
                    return False
                # Probed again, same answers: keep the entries byte for byte, refresh run metadata.
                atomic_write(path, dumps(new))
                return False
            atomic_write(self.path(run.api, run.target, previous=True), old_text)
        atomic_write(path, dumps(new))
        return True


def read_file(path: Path) -> TargetRun:
    return TargetRun.from_dict(json.loads(path.read_text(encoding="utf-8")))
