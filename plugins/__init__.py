"""authcat's built-in plugins, registered from ``catalog.plugins.DEFAULT_PLUGINS`` like any other."""
