"""authcat's benchmarks: one module per figure (B1–B7) and a runner (``python -m benchmarks.run``)."""
