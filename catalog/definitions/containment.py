"""No symlinks out: nothing authcat reads from a contributed folder may lead outside the project.

A pull request can add a symlink (``site/docs/x.md -> /etc/passwd``, ``endpoints/a/b.yaml ->
~/.netrc``); following it would copy a file of the machine into the published site or an error
message. Every folder authcat reads contributed files from is walked first, without following
links, and each symlink that resolves outside the project (or nowhere) is a problem naming it.
Symlinks that stay inside the project are fine.
"""

from __future__ import annotations

import os
from pathlib import Path

from catalog.definitions.yamlfile import Problem


def symlinks_out(folder: Path, project: Path) -> list[Problem]:
    """A problem for each symlink under ``folder`` (or ``folder`` itself) that leaves ``project``."""
    root = project.resolve()
    problems: list[Problem] = []
    if not folder.exists() and not folder.is_symlink():
        return problems
    candidates = [folder] if folder.is_symlink() else []
    if folder.is_dir() and not folder.is_symlink():
        for here, dirs, files in os.walk(folder, followlinks=False):
            candidates += [Path(here) / name for name in (*dirs, *files) if (Path(here) / name).is_symlink()]
    for link in sorted(candidates):
        target = Path(os.path.realpath(link))
        if (target != root and root not in target.parents) or not target.exists():
            problems.append(Problem(_shown(link, project), 0, "(file)",
                                    "is a symlink to something outside the project (or to nothing): refused, "
                                    "authcat never follows a link out of the project"))
    return problems


def _shown(path: Path, project: Path) -> str:
    try:
        return str(path.relative_to(project))
    except ValueError:
        return str(path)
