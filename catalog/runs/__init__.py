"""Layer 5, a target's stored run: cells, the observation files, the change log, comparing two runs
and the project lock. May import the layers below."""
