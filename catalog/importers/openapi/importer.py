"""The built-in "openapi" importer: turn an OpenAPI 3 or Swagger 2.0 spec into endpoint group files,
and the spec's securitySchemes into the API's ``scheme:`` (added to api.yaml when it has none).

``import_openapi(spec_path, api, out_dir)`` writes one ``<tag>.yaml`` per operation's first tag.
The files are *generated* (their first line says so) but people may annotate them: a re-import
refreshes only what the spec says and keeps everything a person added. Files without the header
are hand-written and never touched; an operation they already define is skipped.

Nothing is written unless the whole import succeeds: the spec is parsed and checked first, the
output is validated against the endpoint schema, and each file is then moved in with
``os.replace``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.definitions.loader import schema_problems
from catalog.definitions.yamlfile import loads as loads_yaml
from catalog.hooks.specs import hookimpl
from catalog.importers.openapi.merge import HEADER, Folder, MergePlan, check_output, is_generated, merge, read_folder, render, write_files
from catalog.importers.openapi.operations import Operation, find_docs_root, spec_operations
from catalog.importers.openapi.security import spec_scheme
from catalog.importers.openapi.spec import read_spec, read_spec_folder

if TYPE_CHECKING:
    from catalog.hooks.specs import Importer

__all__ = ["HEADER", "import_openapi", "is_generated"]


@hookimpl(trylast=True)
def authcat_register_importers(register: Callable[[str, Importer], None]) -> None:
    register("openapi", import_openapi)


# --------------------------------------------------------------------------------------------
# The importer
# --------------------------------------------------------------------------------------------


def import_openapi(spec_path: Path, api: str, out_dir: Path, *, docs_root: str | None = None,
                   skip_outside_refs: bool = False) -> str:
    """Import ``spec_path`` (a file, or a folder of a multi-file spec) into ``out_dir``.

    Returns a one-paragraph summary.

    :param docs_root: the vendor's reference docs root for links; by default taken from the
        spec's ``externalDocs`` or the API's ``api.yaml`` ``docs`` when they point at
        Atlassian's REST reference, otherwise no links are written.
    :raises DefinitionError: with one problem when the spec cannot be read or is not OpenAPI 3,
        or with the problems of a broken file already in ``out_dir``. Nothing is written then.
        A ``$ref`` to a URL, an absolute path, or a file outside the spec's folder is such a
        problem, unless ``skip_outside_refs``: then it is not read either, only listed.
    """
    spec_path, out_dir = Path(spec_path), Path(out_dir)
    if spec_path.is_dir():  # a multi-file spec: one document per area, shared files by $ref
        docs, spec_name = read_spec_folder(spec_path, skip_outside_refs), f"{spec_path.name}/"
    else:
        docs, spec_name = [read_spec(spec_path, skip_refused=skip_outside_refs)], spec_path.name
    folder = read_folder(out_dir)
    operations: list[Operation] = []
    ids: set[str] = set()
    for spec in docs:
        root = docs_root or find_docs_root(spec, folder.api_docs)
        name = spec_name + spec.file if spec_path.is_dir() else spec_name
        operations += spec_operations(spec, name, root, ids, tuple(d for d in docs if d is not spec))
    plan = merge(operations, folder)
    texts = {name: render(group, entries, spec_name) for name, (group, entries) in plan.files.items()}
    check_output(texts, out_dir)
    # A multi-file spec declares its schemes in each document: the first that has any speaks.
    schemed = next((d for d in docs if (d.get("components") or {}).get("securitySchemes")), docs[0])
    scheme_note, api_text = scheme_for_api(schemed, spec_name, folder, out_dir)
    written = write_files({**texts, **({"api.yaml": api_text} if api_text else {})}, out_dir)
    loader = docs[0].loader
    skipped = loader.skipped if loader else []
    return summarize(api, spec_name, operations, plan, written, skipped) + "\n" + scheme_note


def scheme_for_api(spec: dict, spec_name: str, folder: Folder, out_dir: Path) -> tuple[str, str | None]:
    """What the spec's securitySchemes say, and api.yaml with a ``scheme:`` added when it has none
    (a person's scheme is never replaced; a different one is only reported)."""
    scheme, source = spec_scheme(spec)
    if scheme is None:
        return f"Auth scheme: not mapped ({source}).", None
    shown = scheme if isinstance(scheme, str) else "{" + ", ".join(f"{k}: {v}" for k, v in scheme.items()) + "}"
    if folder.api_text is None:
        return f"Auth scheme: {source} maps to `scheme: {shown}` (no api.yaml to write it to).", None
    if folder.api_scheme is not None:
        if folder.api_scheme == scheme:
            return f"Auth scheme: api.yaml already declares {source}'s `scheme: {shown}`.", None
        return (f"Auth scheme: api.yaml keeps its own scheme; {source} would map to `scheme: {shown}`.", None)
    text = with_scheme(folder.api_text, scheme, f"scheme: from {source} of {spec_name} (authcat import-openapi); edit freely.")
    problems = schema_problems(loads_yaml(text, str(out_dir / "api.yaml")), "api")
    if problems:  # a spec value the api.yaml schema refuses: report, never write a broken file
        return f"Auth scheme: {source} maps to `scheme: {shown}`, which api.yaml cannot hold: {problems[0].message}", None
    return f"Auth scheme: `scheme: {shown}` from {source}, added to api.yaml.", text


def with_scheme(api_text: str, scheme: str | dict[str, str], note: str) -> str:
    """api.yaml with ``scheme:`` added last under a comment saying where it came from; everything a
    person wrote stays (a round trip, ``catalog.definitions.roundtrip``)."""
    from catalog.definitions.roundtrip import RoundTrip  # ruamel: only when api.yaml is edited

    edit = RoundTrip(api_text)
    edit.doc["scheme"] = scheme
    edit.doc.yaml_set_comment_before_after_key("scheme", before=note)
    return edit.dump()


def summarize(api: str, spec_name: str, operations: list[Operation], plan: MergePlan, written: list[str],
              skipped_refs: Sequence[str] = ()) -> str:
    gets = sum(op.entry["method"] == "GET" for op in operations)
    lines = [
        (f"{api}: {len(operations)} operations ({gets} GET) in {spec_name} → {len(plan.files)} files,"
        f" {len(written)} written; {plan.new} new, {plan.refreshed} refreshed, {plan.removed} marked removed.")
    ]
    if plan.skipped:
        where = ", ".join(f"{i} ({f})" for i, f in plan.skipped)
        lines.append(f"Skipped {len(plan.skipped)} already defined in hand-written files: {where}.")
    if skipped_refs:
        lines.append(f"Not read ({len(skipped_refs)} $ref outside the spec's folder; no collection guessed there):")
        lines += [f"  {line}" for line in skipped_refs]
    return "\n".join(lines)
