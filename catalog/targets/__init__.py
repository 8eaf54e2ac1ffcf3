"""Layer 3, target profiles, credential references and local server processes.
May import the layers below: ``model``, ``secrets``."""
