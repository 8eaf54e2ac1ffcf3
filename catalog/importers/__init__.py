"""Layer 9, importers: endpoint definitions from other formats. May import the layers below ``site``."""
