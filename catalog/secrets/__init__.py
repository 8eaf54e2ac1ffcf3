"""Layer 2, where a credential may go and how it is kept out of everything stored: origin binding,
the one scrubber, and the request record (what a probe sent, credential parts as placeholders). May
import ``catalog.model``."""
