"""authcat's built-in plugins, registered from ``catalog.hooks.manager.DEFAULT_PLUGINS`` like any other."""
