"""Layer 6, what the catalog says about the stored runs: token check, signals, recognition,
agreement, documented vs observed, presentations, recipes and snippets, reports, and the frozen
publication (every API's answers, computed once) that the site pages and the export read. Pure
functions over runs and definitions: may import the layers below (runs, definitions, targets,
secrets, model), never the engine or the plugin system."""
