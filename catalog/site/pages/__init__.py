"""The built-in site pages (API pages, guides, reference), rendered from Jinja templates."""
