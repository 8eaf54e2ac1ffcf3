"""Purpose-built HTTP servers for the robustness tests (127.0.0.1 only)."""
