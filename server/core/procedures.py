"""The procedure catalogue: what a centre receives, the competent department, statutory days, documents.

Loaded from a JSON file shipped with the project (data/procedures.json) or the city's own, named by
`[dossiers] procedures`; a file that names an unknown department or document kind is refused.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from motcua.core.model import Invalid, NotFound

DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "procedures.json"


@dataclass(frozen=True)
class DocumentKind:
    """A kind of document a procedure requires; a reusable one (an identity card, a certificate) may serve
    several dossiers of the citizen, an application form only the dossier it was written for."""

    kind: str
    name_vi: str
    name_en: str
    reusable: bool = False


@dataclass(frozen=True)
class Department:
    """A competent department: the office that processes a procedure's dossiers, wherever received."""

    code: str
    name_vi: str
    name_en: str


@dataclass(frozen=True)
class Procedure:
    """One administrative procedure; services are the queue services whose tickets it fits."""

    code: str
    name_vi: str
    name_en: str
    field: str
    department: str
    statutory_days: int
    documents: tuple[DocumentKind, ...]
    services: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    """Procedures and departments by code, in the file's order."""

    procedures: dict[str, Procedure]
    departments: dict[str, Department]

    def procedure(self, code: str) -> Procedure:
        try:
            return self.procedures[code]
        except KeyError:
            raise NotFound(f"unknown procedure {code!r}", "unknown_procedure") from None

    def department(self, code: str) -> Department:
        try:
            return self.departments[code]
        except KeyError:
            raise NotFound(f"unknown department {code!r}", "unknown_department") from None

    def for_service(self, service: str) -> list[Procedure]:
        """The procedures a ticket of that queue service may open, in catalogue order."""
        return [p for p in self.procedures.values() if service in p.services]


def load(path: str | Path | None = None) -> Catalogue:
    """Read a catalogue file (the shipped one when path is empty); Invalid naming the first fault."""
    path = Path(path) if path else DEFAULT_CATALOGUE
    data = json.loads(path.read_text(encoding="utf-8"))
    departments = {d["code"]: Department(d["code"], d["name_vi"], d["name_en"]) for d in data["departments"]}
    kinds = {}
    for k, v in data["document_kinds"].items():
        reusable = v.get("reusable", False)  # catalogues written before the flag reuse nothing
        if not isinstance(reusable, bool):
            raise Invalid(f"{path}: document kind {k} needs reusable true or false", "bad_catalogue")
        kinds[k] = DocumentKind(k, v["name_vi"], v["name_en"], reusable)
    procedures: dict[str, Procedure] = {}
    for p in data["procedures"]:
        code = p["code"]
        if code in procedures:
            raise Invalid(f"{path}: procedure {code} is listed twice", "bad_catalogue")
        if p["department"] not in departments:
            raise Invalid(f"{path}: procedure {code} names an unknown department {p['department']!r}",
                          "bad_catalogue")
        unknown = [k for k in p["documents"] if k not in kinds]
        if unknown:
            raise Invalid(f"{path}: procedure {code} names unknown document kinds {unknown}", "bad_catalogue")
        days = p["statutory_days"]
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise Invalid(f"{path}: procedure {code} needs statutory_days of at least 1", "bad_catalogue")
        procedures[code] = Procedure(code, p["name_vi"], p["name_en"], p["field"], p["department"], days,
                                     tuple(kinds[k] for k in p["documents"]), tuple(p.get("services", ())))
    return Catalogue(procedures, departments)
