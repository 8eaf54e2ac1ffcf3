"""The "File reference" page: every field of api.yaml, group files and target profiles, generated
from their JSON Schemas (``catalog.reference``) with its type, constraints, meaning and an example,
and a whole example file each. Nothing on the page is written by hand, so it cannot fall behind.
"""

from __future__ import annotations

from catalog.api import (
    REFERENCE_FILES,
    Catalog,
    SitePage,
    hookimpl,
    reference_example,
    reference_fields,
)

PAGE = "reference.md"


@hookimpl(trylast=True)
def authcat_site_pages(catalog: Catalog, render):
    files = [
        {"kind": kind, "title": title, "where": where, "fields": reference_fields(kind), "example": reference_example(kind)}
        for kind, (title, where) in REFERENCE_FILES.items()
    ]
    return [SitePage(PAGE, render("reference.md.j2", files=files), nav=("Reference", "Contributor files"))]
