"""A test target plugin: launches the fault server as a child process (``launcher: fault-server``).

Registered through the ``authcat`` entry-point group by a throw-away ``.dist-info`` folder that
the kill-safety test puts on ``PYTHONPATH``, exactly as a third-party plugin would be. The
server's PID is written to ``options.pidfile`` so the test can check it is gone after Ctrl-C.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from catalog.hooks.specs import hookimpl
from catalog.model.credentials import Credential, Credentials
from catalog.targets.launchers import LaunchContext, Launched
from catalog.targets.process import ServerProcess, free_port

REPO = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def launch_fault_server(ctx: LaunchContext):
    port = free_port()
    command = [sys.executable, "-m", "tests.servers.fault_server", "--port", str(port)]
    if ctx.options.get("orphan"):
        command = ["sh", "-c", 'setsid sleep 600 & exec "$@"', "sh", *command]
    with ServerProcess(command, ctx.scratch_dir / "fault-server.log", cwd=REPO, grace=5) as server:
        if ctx.options.get("pidfile"):
            Path(ctx.options["pidfile"]).write_text(str(server.pid))
        server.wait_http(f"http://127.0.0.1:{port}{ctx.options.get('ready_path', '/ok')}",
                         timeout=float(ctx.options.get("start_timeout", 20)))
        yield Launched(
            base_url=f"http://127.0.0.1:{port}",
            version="fault-server-1",
            credentials=Credentials({"valid": Credential("launched-secret-value", "me@example.test")}),
        )


@hookimpl
def authcat_register_targets(register):
    register("fault-server", launch_fault_server)


def install_entry_point(folder: Path) -> Path:
    """Write a minimal distribution whose entry point names this module; put ``folder`` on PYTHONPATH."""
    dist = folder / "authcat_test_faultlauncher-0.0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: authcat-test-faultlauncher\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text("[authcat]\nfaultlauncher = tests.servers.launcher_plugin\n")
    return folder
