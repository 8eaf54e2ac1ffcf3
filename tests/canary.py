"""A canary credential whose encoded forms differ from its raw form, and a search for every form.

The secret and the identity contain ``~ @ + / =`` and upper case, so URL encoding (``%2B`` and
``+``), JSON ``\\u`` escaping, base64 and case folding each give a *different* string: a leak in
any of those forms is found, where a lower-case hex canary would have matched only raw.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

from tests import encodings


@dataclass(frozen=True)
class Canary:
    secret: str
    identity: str

    @classmethod
    def new(cls) -> Canary:
        tag = secrets.token_hex(6)
        return cls(secret=f"Sk~{tag.upper()}+/=@Zq{tag}", identity=f"Ca~na+ry/{tag}=@Example.TEST")

    @property
    def header(self) -> str:
        return "Basic " + base64.b64encode(f"{self.identity}:{self.secret}".encode()).decode()

    def parts(self) -> list[str]:
        return [self.secret, self.identity, self.header, self.header.split(" ", 1)[1], f"{self.identity}:{self.secret}"]

    def forms(self) -> dict[str, str]:
        """name -> one spelling a leak could take. Case-folded spellings are searched separately."""
        out: dict[str, str] = {}
        for i, part in enumerate(self.parts()):
            out[f"raw{i}"] = part
            out[f"url{i}"] = quote(part, safe="")
            out[f"urlplus{i}"] = quote_plus(part, safe="")
            out[f"urllower{i}"] = quote(part, safe="").replace("%2B", "%2b").replace("%2F", "%2f")
            out[f"json{i}"] = json.dumps(part)[1:-1]
            out[f"jsonu{i}"] = "".join(f"\\u{ord(c):04x}" for c in part)
            out[f"jsonslash{i}"] = part.replace("/", "\\/")
            for kind, enc in (("b64", base64.b64encode), ("b64url", base64.urlsafe_b64encode)):
                out[f"{kind}{i}"] = enc(part.encode()).decode().rstrip("=")
        for i, part in enumerate((self.secret, self.identity, f"{self.identity}:{self.secret}")):
            for name, spelled in encodings.forms(part, self.identity).items():
                out[f"exact-{name}{i}"] = spelled  # searched as spelled (base64, hex are case-sensitive)
        # The raw secret and identity are long enough that their halves are leaks too.
        for i, part in enumerate((self.secret, self.identity)):
            out[f"head{i}"] = part[: len(part) * 3 // 4]
            out[f"tail{i}"] = part[len(part) // 4:]
        return out

    def find(self, text: str) -> list[str]:
        """The names of the forms found in ``text`` (exactly, or case-folded for non-base64)."""
        folded = text.casefold()
        found = []
        for name, form in self.forms().items():
            if form in text or (not name.startswith(("b64", "exact-")) and form.casefold() in folded):
                found.append(name)
        return found

    def find_in_tree(self, root: Path) -> dict[str, list[str]]:
        """Every file under ``root`` holding a form: relative path -> the forms found."""
        hits: dict[str, list[str]] = {}
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                found = self.find(path.read_bytes().decode("utf-8", "replace"))
                if found:
                    hits[str(path.relative_to(root))] = found
        return hits
