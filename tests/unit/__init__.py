"""The fast unit layer: no server, no child process, no socket. One folder per layer of
``catalog`` (``tests/unit/engine`` tests ``catalog/engine``); HTTP answers come from
``httpx.MockTransport``. The end-to-end tests against real servers are the rest of ``tests/``
(marked ``e2e``)."""
