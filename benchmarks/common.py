"""What every benchmark shares: side-by-side timing, medians, spreads, load, local servers, machine facts.

Rules the figures follow: each figure says its kind — a **ratio** of two sides measured in the
same round (or a scaling factor), an **absolute** time or size, or a **count** — and is the
median of several rounds, with the spread (the lowest and highest round) beside it. The sides
alternate (the order rotates each round, so drift and warm caches hit every side alike). The
machine's 1-minute load average is recorded at every round: an absolute time measured under load
is that time under that load. Servers listen on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NGINX = "/usr/sbin/nginx"


KINDS = ("ratio", "absolute", "count")


@dataclass
class Row:
    """One line of the results table: ``value`` is the median of ``rounds``, ``spread`` their
    lowest and highest (None for a single measurement), ``kind`` one of :data:`KINDS`."""

    figure: str
    value: float | None
    unit: str
    goal: str
    met: bool | None  # None: informational, no goal
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    kind: str = "ratio"
    spread: tuple[float, float] | None = None
    rounds: int | None = None
    load: tuple[float, float] | None = None  # lowest and highest 1-minute load average seen (set by run.py)

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind

    def to_dict(self) -> dict[str, Any]:
        return {"figure": self.figure, "kind": self.kind, "value": self.value, "unit": self.unit,
                "spread": list(self.spread) if self.spread else None, "rounds": self.rounds, "goal": self.goal,
                "met": self.met, "load": list(self.load) if self.load else None, "note": self.note,
                "detail": self.detail}


def spread(values: list[float], digits: int = 3) -> tuple[float, float]:
    """The lowest and highest of the rounds' values."""
    return round(min(values), digits), round(max(values), digits)


def measured(figure: str, values: list[float], unit: str, goal: str, test, note: str = "",
             detail: dict[str, Any] | None = None, kind: str = "ratio", digits: int = 3) -> Row:
    """A row from every round's value: the median, tested against the goal, with the spread."""
    value = round(median(values), digits)
    return Row(figure, value, unit, goal, test(value), note, dict(detail or {}), kind, spread(values, digits),
               len(values))


LOADS: list[float] = []  # every round's load since run.py last cleared it (the figure being run)


def load_now() -> float:
    return round(os.getloadavg()[0], 2)


def rounds_alternating(sides: dict[str, Callable[[], dict]], rounds: int, log=print) -> dict[str, list[dict]]:
    """Run every side once per round, rotating the order each round; each side returns a dict."""
    names = list(sides)
    out: dict[str, list[dict]] = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            result = sides[name]()
            result.setdefault("load", load_now())  # the machine's load when this side ended
            LOADS.append(result["load"])
            out[name].append(result)
            log(f"  round {r + 1}/{rounds} {name}: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                                          for k, v in result.items()))
    return out


def med(results: list[dict], key: str) -> float:
    return median(r[key] for r in results)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    server {{
        listen 127.0.0.1:{port};
        default_type application/json;
        location / {{ return 200 '{{"values":[]}}'; }}
    }}
}}
"""


@contextlib.contextmanager
def nginx() -> Iterator[str]:
    """Debian's nginx with a generated config in a temp dir; yields its base URL."""
    if not os.access(NGINX, os.X_OK):
        raise RuntimeError(f"{NGINX} is missing: run scripts/ensure-system-deps (apt-get install nginx)")
    with tempfile.TemporaryDirectory(prefix="authcat-bench-nginx-") as tmp:
        port = free_port()
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, port=port))
        proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", tmp, "-e", f"{tmp}/error.log"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_port(port)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.send_signal(signal.SIGQUIT)  # graceful stop
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem = round(int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024, 1)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "nginx": _nginx_version(),
    }


def _nginx_version() -> str | None:
    if not shutil.which(NGINX):
        return None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        got = subprocess.run([NGINX, "-v"], capture_output=True, text=True, timeout=5)
        return (got.stderr or got.stdout).strip().split("/")[-1]
    return None


def python() -> str:
    return sys.executable
