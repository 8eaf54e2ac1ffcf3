"""The "File reference" page: every field of api.yaml, group files and target profiles, generated
from their JSON Schemas (``catalog.definitions.reference``) with its type, constraints, meaning and an example,
and a whole example file each. Nothing on the page is written by hand, so it cannot fall behind.
"""

from __future__ import annotations

from collections.abc import Callable

from catalog.answers.publication import Publication
from catalog.definitions.reference import FILES as REFERENCE_FILES
from catalog.definitions.reference import fields as reference_fields
from catalog.definitions.reference import full_example as reference_example
from catalog.hooks.specs import hookimpl
from catalog.runs.results import SitePage

PAGE = "reference.md"


@hookimpl(trylast=True)
def authcat_site_pages(publication: Publication, render: Callable[..., str]) -> list[SitePage]:
    files = [
        {"kind": kind, "title": title, "where": where, "fields": reference_fields(kind), "example": reference_example(kind)}
        for kind, (title, where) in REFERENCE_FILES.items()
    ]
    return [SitePage(PAGE, render("reference.md.j2", files=files), nav=("Reference", "Contributor files"))]
