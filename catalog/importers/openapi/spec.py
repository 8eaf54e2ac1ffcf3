"""Reading an OpenAPI document: parse JSON or YAML, check it is OpenAPI 3, resolve ``$ref``.

Everything here is about the spec as a document; what its operations mean for the catalog lives
in ``openapi_operations``, and what happens to the output folder in ``openapi_merge``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from catalog.importers.openapi.methods import HTTP_METHODS
from catalog.importers.openapi.refs import RefLoader, SpecDoc, resolve
from catalog.model.errors import DefinitionError, Problem

__all__ = ["read_spec", "read_spec_folder", "resolve"]

try:  # the C loader parses the 2.4 MB Jira spec several times faster
    from yaml import CSafeLoader as _SpecLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _SpecLoader  # type: ignore[assignment]

MAX_SPEC_BYTES = 64 * 1024 * 1024



def _fail(file: str, line: int, where: str, message: str) -> DefinitionError:
    return DefinitionError([Problem(file, line, where, message)])


SPEC_SUFFIXES = (".json", ".yaml", ".yml")


def read_spec(path: Path, loader: RefLoader | None = None, name: str | None = None,
              skip_refused: bool = False) -> SpecDoc:
    """Parse a JSON or YAML OpenAPI 3 or Swagger 2.0 document (returned as OpenAPI 3); one clear
    problem if it is anything else.

    The document can follow ``$ref``s into other files of its folder (see ``openapi_refs``).
    """
    name = name or path.name
    data, text = _read(path, name)
    _check_openapi3(data, text, name)
    from catalog.importers.openapi.swagger2 import is_swagger2, to_openapi3  # it builds on this module

    data = to_openapi3(data) if is_swagger2(data) else data
    loader = loader or RefLoader(path.parent, _read, skip_refused)
    return loader.adopt(SpecDoc(data), name, text)


def read_spec_folder(folder: Path, skip_refused: bool = False) -> list[SpecDoc]:
    """Every OpenAPI document at the top of ``folder`` (a multi-file spec), in name order.

    Files in subfolders are read only where a ``$ref`` names them (``definitions/…``).
    """
    loader = RefLoader(folder, _read, skip_refused)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in SPEC_SUFFIXES and p.is_file())
    if not files:
        raise _fail(folder.name, 0, "", "the folder holds no .json, .yaml or .yml spec file")
    return [read_spec(p, loader, p.name) for p in files]


def _read(path: Path, name: str) -> tuple[Any, str]:
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise _fail(name, 1, "", f"file is {size:,} bytes; the limit is {MAX_SPEC_BYTES:,}")
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise _fail(name, 0, "", f"cannot read: {exc.strerror}") from None
    return _parse(text, name, as_json=path.suffix.lower() == ".json" or text.lstrip().startswith("{")), text


def _parse(text: str, name: str, as_json: bool) -> Any:
    if as_json:  # JSON errors name the exact line; YAML would accept some broken JSON as a string
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise _fail(name, exc.lineno, "", f"not valid JSON: {exc.msg}") from None
    try:
        return yaml.load(text, Loader=_SpecLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise _fail(name, mark.line + 1 if mark else 1, "", f"not valid YAML: {problem}") from None


def _line_of(text: str, key: str) -> int:
    """The first line where ``key`` appears as a mapping key (JSON or YAML); 1 if not found."""
    match = re.search(rf'^\s*"?{re.escape(key)}"?\s*:', text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def _check_openapi3(data: Any, text: str, name: str) -> None:
    if not isinstance(data, dict):
        raise _fail(name, 1, "(file)", "not an OpenAPI 3 document: the file does not hold a mapping")
    version = data.get("openapi")
    if version is None:
        if "swagger" not in data:
            raise _fail(name, 1, "openapi", "not an OpenAPI document: `openapi: 3.x` (or `swagger: \"2.0\"`) is missing")
        if not str(data["swagger"]).startswith("2"):
            message = f"Swagger {data['swagger']} is not supported; OpenAPI 3.x and Swagger 2.0 are"
            raise _fail(name, _line_of(text, "swagger"), "swagger", message)
    elif not str(version).startswith("3."):
        raise _fail(name, _line_of(text, "openapi"), "openapi", f"OpenAPI {version} is not supported; 3.x and Swagger 2.0 are")
    if not isinstance(data.get("paths"), dict):
        raise _fail(name, _line_of(text, "paths"), "paths", "must be a mapping of paths to operations")
    for path, item in data["paths"].items():
        if not isinstance(item, dict) or any(not isinstance(item[m], dict) for m in HTTP_METHODS if m in item):
            raise _fail(name, _line_of(text, path), f"paths.{path}", "must map HTTP methods to operation objects")



