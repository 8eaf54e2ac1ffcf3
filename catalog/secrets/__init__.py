"""Layer 2, where a credential may go and how it is kept out of everything stored: origin binding and
the one scrubber. May import ``catalog.model``."""
