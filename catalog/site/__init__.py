"""Layer 9, publishing: the site pages, the MkDocs build, the export and the atomic swap.
May import the layers below."""
