"""A MkDocs plugin that writes the build process's environment into the built site (``env.json``):
operator-installed code, allowed by name with ``--allow-mkdocs``, standing in for any code that
escaped a sandbox. The isolation tests read it to see what the build could have seen.
Registered through a throw-away ``.dist-info``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from mkdocs.plugins import BasePlugin


class EnvPlugin(BasePlugin):
    def on_post_build(self, config, **kwargs):
        (Path(config["site_dir"]) / "env.json").write_text(json.dumps(dict(os.environ)))


def install(folder: Path) -> Path:
    dist = folder / "authcat_test_envplugin-0.0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: authcat-test-envplugin\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text("[mkdocs.plugins]\nauthcat-test-env = tests.servers.env_plugin:EnvPlugin\n")
    return folder
