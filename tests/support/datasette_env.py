"""A second Datasette, in a venv of its own, to observe behaviour drift between releases.

Datasette 1.0a35 and earlier serve a request whose API token fails verification (expired, bad
signature) as anonymous; from 1.0a36 such a request gets ``401``. The project pins 1.0a41, so the
older release lives in ``.cache/authcat/datasette-<version>/`` (git-ignored), built once with pip
and reused while it still imports. The launcher runs it through ``options.python``.

Run ``python -m tests.support.datasette_env`` to build it ahead of the slow test.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OLD_VERSION = "1.0a35"
# Exact pre-release pin; httpx pinned below 1.0 so pip cannot pull an httpx 1.0 pre-release.
REQUIREMENTS = (f"datasette=={OLD_VERSION}", "httpx>=0.28,<1")


class EnvError(Exception):
    pass


def _python(env_dir: Path) -> Path:
    return env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _works(python: Path, version: str) -> bool:
    if not python.exists():
        return False
    probe = subprocess.run(
        [str(python), "-c", "import datasette.version as v; print(v.__version__)"],
        capture_output=True, text=True, timeout=60,
    )
    return probe.returncode == 0 and probe.stdout.strip() == version


def datasette_python(version: str = OLD_VERSION, root: Path | None = None, timeout: float = 600) -> Path:
    """The python of a venv holding ``datasette==version``: built once, then reused."""
    env_dir = (root or REPO / ".cache" / "authcat") / f"datasette-{version}"
    python = _python(env_dir)
    if _works(python, version):
        return python
    if env_dir.exists() and not python.exists():
        raise EnvError(f"{env_dir} exists but holds no venv; remove it and retry")
    if not python.exists():
        env_dir.parent.mkdir(parents=True, exist_ok=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(env_dir)
    requirements = [f"datasette=={version}", *REQUIREMENTS[1:]]
    # A venv whose pip went missing (seen once under a parallel suite: "No module named pip") gets
    # it back from the interpreter's own ensurepip before the install.
    if subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True, timeout=60).returncode != 0:
        subprocess.run([str(python), "-m", "ensurepip", "--upgrade", "--default-pip"], capture_output=True, timeout=timeout)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements],
        capture_output=True, text=True, timeout=timeout,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).splitlines()[-15:])
        raise EnvError(f"pip install {' '.join(requirements)} into {env_dir} failed:\n{tail}")
    if not _works(python, version):
        raise EnvError(f"{env_dir}: datasette {version} does not import after installing")
    return python


if __name__ == "__main__":
    print(datasette_python())
