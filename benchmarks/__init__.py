"""authcat's benchmarks: one module per figure (B1–B4) and a runner (``python -m benchmarks.run``)."""
