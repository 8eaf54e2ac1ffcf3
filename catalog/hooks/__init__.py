"""Layer 7, the plugin system: hook specifications and the plugin manager with its typed facade.
May import the layers below: the hooks' arguments (signals, the publication, results) are
defined there."""
