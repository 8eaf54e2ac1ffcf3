"""``authcat build`` for one project, as a child process, reporting its own phases as JSON.

It does what the CLI's ``build`` command does (load plugins, load the catalog, render, MkDocs);
the parent times the whole process and reads its peak memory from ``wait4``.
"""

import json
import resource
import sys
import time
from pathlib import Path

t0 = time.perf_counter()
from catalog.hooks.manager import Hooks  # noqa: E402
from catalog.pipeline import Project, build  # noqa: E402  (import time is part of the build)

report = build(Project(Path(sys.argv[1])), Hooks())
# Peak RSS of this process image: VmHWM is reset at exec, unlike ru_maxrss, which on Linux also
# counts the parent's memory copied at fork time.
with open("/proc/self/status") as status:
    hwm_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
# The build's helper processes (pages rendered and the search index parsed beside it): their CPU
# time runs in parallel with this process's, so on an idle machine the wall time is at least
# this process's own CPU time.
workers = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"pages": report.pages, "rss_mb": hwm_kb / 1024, "render_s": report.render_s, "mkdocs_s": report.mkdocs_s,
                  "inside_s": time.perf_counter() - t0, "workers_cpu_s": workers.ru_utime + workers.ru_stime}))
