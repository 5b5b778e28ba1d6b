"""The procedure catalogue: what a centre receives, the competent department, statutory days, documents.

Its home is the database (motcua.core.catalogue); a JSON file in the format of the one shipped
(data/procedures.json), or the city's own named by `[dossiers] procedures`, seeds a new database and
moves a catalogue between servers. A catalogue that names an unknown department or document kind
is refused.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from motcua.core.model import Invalid, NotFound

MAX_VALID_MONTHS = 1200
DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "procedures.json"


@dataclass(frozen=True)
class DocumentKind:
    """A kind of document a procedure requires; a reusable one (an identity card, a certificate) may serve
    several dossiers of the citizen, an application form only the dossier it was written for."""

    kind: str
    name_vi: str
    name_en: str
    reusable: bool = False
    valid_months: int | None = None   # a copy older than this many months no longer serves (None: no limit)


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
    retired: bool = False


@dataclass(frozen=True)
class Catalogue:
    """Procedures, departments and document kinds by code, in the catalogue's order (retired procedures too:
    old dossiers still name them)."""

    procedures: dict[str, Procedure]
    departments: dict[str, Department]
    kinds: dict[str, DocumentKind] = field(default_factory=dict)

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
        """The procedures a ticket of that queue service may open, in catalogue order (none retired)."""
        return [p for p in self.procedures.values() if service in p.services and not p.retired]

    def current(self) -> list[Procedure]:
        """Every procedure a new dossier may follow: the retired left out."""
        return [p for p in self.procedures.values() if not p.retired]

    def fields_of(self, service: str) -> list[str]:
        """The fields of the procedures a queue service takes, in catalogue order, each once (none retired)."""
        return list(dict.fromkeys(p.field for p in self.for_service(service)))


def field_names(path: str | Path | None = None) -> dict[str, tuple[str, str]]:
    """The fields' names (vi, en) by code, from a catalogue file's `fields` (the shipped one when path is
    empty, and for the codes the given one lacks); {} for what no file names (a field an admin made up)."""
    names: dict[str, tuple[str, str]] = {}
    for source in filter(None, (DEFAULT_CATALOGUE, path)):
        try:
            given = json.loads(Path(source).read_text(encoding="utf-8")).get("fields") or {}
            names.update({code: (str(n["name_vi"]), str(n["name_en"])) for code, n in given.items()})
        except (OSError, ValueError, AttributeError, KeyError, TypeError):
            continue   # a file without usable names: the codes stand for themselves
    return names


def reusable_by_default(kind: str) -> bool:
    """Whether a kind a catalogue says nothing about may be reused: a paper the citizen holds (an identity
    card, a certificate) yes, an application form never (it is filled in for one dossier)."""
    return not kind.endswith("form")


def load(path: str | Path | None = None) -> Catalogue:
    """Read a catalogue file (the shipped one when path is empty); Invalid naming the first fault."""
    path = Path(path) if path else DEFAULT_CATALOGUE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Invalid(f"{path}: not a catalogue file ({error})", "bad_catalogue") from None
    return from_data(data, str(path))


def from_data(data, source: str = "catalogue") -> Catalogue:
    """A catalogue from its JSON form (procedures.json's); Invalid("bad_catalogue") naming the first fault."""
    try:
        return _from_data(data, source)
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise Invalid(f"{source}: not a catalogue ({type(error).__name__}: {error})", "bad_catalogue") from None


def _from_data(data: dict, source: str) -> Catalogue:
    departments: dict[str, Department] = {}
    for d in data["departments"]:
        if d["code"] in departments:
            raise Invalid(f"{source}: department {d['code']} is listed twice", "bad_catalogue")
        departments[d["code"]] = Department(d["code"], d["name_vi"], d["name_en"])
    kinds = {}
    for k, v in data["document_kinds"].items():
        reusable = v.get("reusable", reusable_by_default(k))
        if not isinstance(reusable, bool):
            raise Invalid(f"{source}: document kind {k} needs reusable true or false", "bad_catalogue")
        kinds[k] = DocumentKind(k, v["name_vi"], v["name_en"], reusable, valid_months(v.get("valid_months"), k, source))
    procedures: dict[str, Procedure] = {}
    for p in data["procedures"]:
        code = p["code"]
        if code in procedures:
            raise Invalid(f"{source}: procedure {code} is listed twice", "bad_catalogue")
        if p["department"] not in departments:
            raise Invalid(f"{source}: procedure {code} names an unknown department {p['department']!r}",
                          "bad_catalogue")
        unknown = [k for k in p["documents"] if k not in kinds]
        if unknown:
            raise Invalid(f"{source}: procedure {code} names unknown document kinds {unknown}", "bad_catalogue")
        days = p["statutory_days"]
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise Invalid(f"{source}: procedure {code} needs statutory_days of at least 1", "bad_catalogue")
        procedures[code] = Procedure(code, p["name_vi"], p["name_en"], p["field"], p["department"], days,
                                     tuple(kinds[k] for k in p["documents"]), tuple(p.get("services", ())),
                                     bool(p.get("retired", False)))
    return Catalogue(procedures, departments, kinds)


def valid_months(value, kind: str, source: str) -> int | None:
    """A kind's validity in months (None: no limit); Invalid("bad_catalogue") unless a whole number 1-1200."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_VALID_MONTHS:
        raise Invalid(f"{source}: document kind {kind} needs valid_months of 1 to {MAX_VALID_MONTHS}, or none",
                      "bad_catalogue")
    return value


def kind_data(kind: DocumentKind) -> dict:
    """A document kind in the catalogue's JSON form (valid_months only when it has one)."""
    return {"name_vi": kind.name_vi, "name_en": kind.name_en, "reusable": kind.reusable,
            **({"valid_months": kind.valid_months} if kind.valid_months is not None else {})}


def to_data(catalogue: Catalogue) -> dict:
    """The catalogue in its JSON form, which from_data reads back."""
    return {
        "departments": [{"code": d.code, "name_vi": d.name_vi, "name_en": d.name_en}
                        for d in catalogue.departments.values()],
        "document_kinds": {k.kind: kind_data(k) for k in catalogue.kinds.values()},
        "procedures": [{"code": p.code, "name_vi": p.name_vi, "name_en": p.name_en, "field": p.field,
                        "department": p.department, "statutory_days": p.statutory_days,
                        "documents": [k.kind for k in p.documents], "services": list(p.services),
                        **({"retired": True} if p.retired else {})}
                       for p in catalogue.procedures.values()],
    }
