"""The tests' one support package: everything a test needs besides its own assertions.

- :mod:`tests.support.project` — copies of this project, throw-away projects pointing at a test
  server, credentials in the environment, and ``run_cli``: the one way to run the real command
  line in a child process (in-process runs use ``click.testing.CliRunner`` on ``catalog.cli.cli``).
- :mod:`tests.support.runs` — synthetic runs, cells and endpoint results; the two-Datasette runs.
- :mod:`tests.support.datasette_env` — the older Datasette in its own virtual environment.
- :mod:`tests.support.browser` — Chromium and a static server for the browser tests.

The purpose-built servers live in ``tests/servers/``; shared fixtures in ``tests/conftest.py``.
"""
