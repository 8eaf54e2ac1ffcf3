"""Layer 7, probing: plans, the transport, the runner, reuse of cached cells, versions, recognition.
May import the layers below."""
