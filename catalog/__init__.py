"""authcat: a catalog of how API endpoints treat bad credentials."""

__version__ = "0.1.0"
