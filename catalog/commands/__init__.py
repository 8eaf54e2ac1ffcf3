"""Layer 10, product commands beyond the pipeline (diff/check, new, serve, watch-revocation).
May import every layer below; only ``cli`` and ``api`` sit above."""
