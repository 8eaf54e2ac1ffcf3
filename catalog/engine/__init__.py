"""Layer 8, probing: plans, the transport, the runner, reuse of cached cells, versions, the
revocation-latency measurement. May import the layers below (the plugin system, the answers it
marks recognition with, and everything under them)."""
