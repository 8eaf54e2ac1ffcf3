"""The tests' one support package: everything a test needs besides its own assertions.

- :mod:`tests.support.project` — copies of this project, throw-away projects pointing at a test
  server, credentials in the environment, and the one way the tests run the command line:
  ``run_cli`` (to its end) and ``start_cli`` (a command the test talks to while it runs), both a
  child process exactly as a user runs it.
- :mod:`tests.support.runs` — synthetic runs, cells and endpoint results; the two-Datasette runs.
- :mod:`tests.support.datasette_env` — the older Datasette in its own virtual environment.
- :mod:`tests.support.browser` — Chromium and a static server for the browser tests.

The purpose-built servers live in ``tests/servers/``; shared fixtures in ``tests/conftest.py``.
"""
