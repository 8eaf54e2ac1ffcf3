"""Layer 8, what the catalog says about the runs: token check, signals, agreement, documented vs
observed, presentations, recipes and snippets, reports. May import the layers below."""
