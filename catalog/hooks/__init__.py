"""Layer 6, the plugin system: hook specifications and the plugin manager with its typed facade.
May import the layers below."""
