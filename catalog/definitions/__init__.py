"""Layer 4, what the repository says: safe YAML, API files, endpoint groups, evidence, the field
reference. May import ``model``, ``secrets``, ``targets``."""
