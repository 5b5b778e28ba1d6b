"""The procedure catalogue kept in the database, changed live by an admin.

The database is the catalogue's home: a new (or empty) one is seeded from the shipped JSON file or
the city's own (`[dossiers] procedures`), and `motcua catalogue export|import` moves it between
servers in that same format. Each change is checked, committed in one transaction and only then
put in memory, where dossiers, document kinds, department pages and the kiosk read it at once.
A procedure is retired, never deleted: old dossiers still name it.
"""
from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from .administration import MAX_PROCEDURE_NAME_CHARS, checked_names
from .model import Conflict, Invalid, NotFound
from . import procedures
from .procedures import Catalogue, Department, DocumentKind, Procedure, field_names, from_data, load, to_data

DEPARTMENT_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
PROCEDURE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
KIND_CODE = re.compile(r"^[a-z0-9_]{1,40}$")
FIELD_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_STATUTORY_DAYS = 365


def read(store) -> Catalogue:
    """The catalogue the database holds, in the order it was written."""
    def rows(db, table: str) -> list[dict]:
        return list(db.query(f"select * from {table} order by rowid"))  # nosec B608  # table: this module's own names

    def build(db) -> Catalogue:
        departments = {r["code"]: Department(r["code"], r["name_vi"], r["name_en"]) for r in rows(db, "departments")}
        kinds = {r["kind"]: DocumentKind(r["kind"], r["name_vi"], r["name_en"], bool(r["reusable"]), r["valid_months"])
                 for r in rows(db, "document_kinds")}
        procedures = {r["code"]: Procedure(r["code"], r["name_vi"], r["name_en"], r["field"], r["department"],
                                           r["statutory_days"], tuple(kinds[k] for k in json.loads(r["documents"])),
                                           tuple(json.loads(r["services"])), bool(r["retired"]))
                      for r in rows(db, "procedures")}
        return Catalogue(procedures, departments, kinds)
    return store.read(build)


def replace(store, catalogue: Catalogue) -> None:
    """Put catalogue in the database in place of the one there, in one transaction.

    Procedures the new catalogue lacks but old dossiers name are kept, retired: a dossier stays readable.
    """
    def write(db) -> None:
        named = {r["procedure"] for r in db.query("select distinct procedure from dossiers")}
        kept = [dict(r, retired=1) for r in db.query("select * from procedures")
                if r["code"] in named and r["code"] not in catalogue.procedures]
        for table in ("procedures", "document_kinds", "departments"):
            db.execute(f"delete from {table}")  # nosec B608  # table: the three catalogue tables named above
        data = to_data(catalogue)
        db["departments"].insert_all(data["departments"], pk="code")
        db["document_kinds"].insert_all([{"kind": k, **v, "reusable": int(v["reusable"]),
                                          "valid_months": v.get("valid_months")}
                                         for k, v in data["document_kinds"].items()], pk="kind")
        db["procedures"].insert_all([_procedure_row(p) for p in catalogue.procedures.values()], pk="code")
        missing = [r["code"] for r in kept if r["department"] not in catalogue.departments
                   or any(k not in catalogue.kinds for k in json.loads(r["documents"]))]
        if missing:
            raise Invalid(f"dossiers name procedures {missing} whose department or document kinds the new "
                          "catalogue lacks", "bad_catalogue")
        db["procedures"].insert_all(kept, pk="code")
    store.write(write)


def seed(store, path: str | Path | None = None) -> bool:
    """Fill an empty catalogue from the file (the shipped one when path is empty); True when it did."""
    if store.query("select 1 from departments limit 1"):
        return False
    replace(store, load(path))
    return True


def services_not_here(catalogue: Catalogue, known_services: Iterable[str]) -> list[str]:
    """The queue services the catalogue's procedures name that this network lacks: kept (a service may come
    later, and another server's catalogue names its own), but said, since no ticket opens them here."""
    return sorted({s for p in catalogue.procedures.values() for s in p.services} - set(known_services))


class LiveCatalogue:
    """The database's catalogue, held in memory and replaced after each committed change."""

    def __init__(self, store, seed_path: str | Path | None = None) -> None:
        self.store = store
        seed(store, seed_path)
        self.current = read(store)
        self.listeners: list[Callable[[Catalogue], None]] = []
        self.departments = _DepartmentCodes(self)
        self.field_names = field_names(seed_path)

    def field(self, code: str) -> tuple[str, str]:
        """A field's names (vi, en); a field no catalogue file names is shown by its code, in words."""
        words = code.replace("_", " ").replace("-", " ").capitalize()
        return self.field_names.get(code, (words, words))

    def _changed(self) -> Catalogue:
        self.current = read(self.store)
        for listener in self.listeners:
            listener(self.current)
        return self.current

    # ---- departments -----------------------------------------------------------------------

    def add_department(self, code: str, name_vi: str, name_en: str) -> Department:
        """A new competent department."""
        if not DEPARTMENT_CODE.match(code or ""):
            raise Invalid("a department code is 1-32 small letters, digits, - or _", "bad_id")
        names = checked_names(name_vi, name_en)
        self._insert("departments", {"code": code, **names}, "department_exists",
                     f"there is a department {code!r} already")
        return self._changed().departments[code]

    def update_department(self, code: str, name_vi: str | None = None, name_en: str | None = None) -> Department:
        """Rename a department."""
        self.current.department(code)
        names = checked_names(name_vi, name_en)
        if names:
            self.store.write(lambda db: db["departments"].update(code, names))
        return self._changed().departments[code]

    # ---- document kinds --------------------------------------------------------------------

    def add_document_kind(self, kind: str, name_vi: str, name_en: str, reusable: bool,
                          valid_months: int | None = None) -> DocumentKind:
        """A new kind of document; `reusable`: whether a copy may serve another dossier of its citizen;
        `valid_months`: how long a copy serves (None: no limit)."""
        if not KIND_CODE.match(kind or ""):
            raise Invalid("a document kind is 1-40 small letters, digits or _", "bad_id")
        names = checked_names(name_vi, name_en)
        months = procedures.valid_months(valid_months, kind, "the document kind")
        self._insert("document_kinds", {"kind": kind, **names, "reusable": int(bool(reusable)),
                                        "valid_months": months}, "kind_exists",
                     f"there is a document kind {kind!r} already")
        return self._changed().kinds[kind]

    # ---- procedures ------------------------------------------------------------------------

    def add_procedure(self, code: str, name_vi: str, name_en: str, field: str, department: str,
                      statutory_days: int, documents: Iterable[str], services: Iterable[str],
                      known_services: Iterable[str]) -> Procedure:
        """A new procedure, received for the queue services named (each one of known_services)."""
        if not PROCEDURE_CODE.match(code or ""):
            raise Invalid("a procedure code is 1-40 letters, digits, ., - or _", "bad_id")
        procedure = Procedure(code, name_vi, name_en, field, department, statutory_days, (), ())
        procedure = self._checked(procedure, documents, services, known_services)
        self._insert("procedures", _procedure_row(procedure), "procedure_exists",
                     f"there is a procedure {code!r} already")
        return self._changed().procedures[code]

    def update_procedure(self, code: str, known_services: Iterable[str], *, documents: Iterable[str] | None = None,
                         services: Iterable[str] | None = None, **changes) -> Procedure:
        """Change a procedure's names, field, department, days, documents or services, or retire it
        (retired: new dossiers may not follow it; old ones stay readable) or bring it back."""
        procedure = self.current.procedure(code)
        given = {k: v for k, v in changes.items() if v is not None}
        unknown = given.keys() - {"name_vi", "name_en", "field", "department", "statutory_days", "retired"}
        if unknown:
            raise Invalid(f"a procedure has no field {', '.join(sorted(unknown))}")
        procedure = self._checked(
            dataclasses.replace(procedure, **given),
            [k.kind for k in procedure.documents] if documents is None else documents,
            procedure.services if services is None else services, known_services, procedure.services)
        self.store.write(lambda db: db["procedures"].update(code, _procedure_row(procedure)))
        return self._changed().procedures[code]

    def replace(self, catalogue: Catalogue) -> Catalogue:
        """Put a whole catalogue (an import) in place of this one, in one transaction."""
        replace(self.store, catalogue)
        return self._changed()

    def import_data(self, data: dict) -> Catalogue:
        """A catalogue in its exported form (`motcua catalogue export`) in place of this one, at once; Invalid
        ("bad_catalogue") naming the first fault, and then nothing changed."""
        return self.replace(from_data(data, "the catalogue"))

    # ---- checks ----------------------------------------------------------------------------

    def _checked(self, procedure: Procedure, documents: Iterable[str], services: Iterable[str],
                 known_services: Iterable[str], had: Iterable[str] = ()) -> Procedure:
        """The procedure with its texts trimmed and its kinds resolved, or Invalid/NotFound naming the fault."""
        names = checked_names(procedure.name_vi, procedure.name_en, MAX_PROCEDURE_NAME_CHARS)
        if not FIELD_CODE.match(procedure.field or ""):
            raise Invalid("a field is 1-40 small letters, digits, - or _ (e.g. civil_status)", "bad_field")
        self.current.department(procedure.department)
        days = procedure.statutory_days
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_STATUTORY_DAYS:
            raise Invalid(f"statutory working days are 1 to {MAX_STATUTORY_DAYS}", "bad_days")
        kinds = []
        for kind in dict.fromkeys(documents):
            if kind not in self.current.kinds:
                raise NotFound(f"unknown document kind {kind!r}", "unknown_kind")
            kinds.append(self.current.kinds[kind])
        services = tuple(dict.fromkeys(services))
        # A service removed since it was named stays named: the procedure is not refused for it.
        unknown = [s for s in services if s not in set(known_services) and s not in set(had)]
        if unknown:
            raise NotFound(f"unknown services {unknown}", "unknown_service")
        return dataclasses.replace(procedure, **names, documents=tuple(kinds), services=services,
                                   retired=bool(procedure.retired))

    def _insert(self, table: str, row: dict, code: str, message: str) -> None:
        pk = next(iter(row))

        def write(db) -> None:
            if list(db.query(f"select 1 from {table} where {pk} = ?", [row[pk]])):  # nosec B608  # table, pk: ours
                raise Conflict(message, code)
            db[table].insert(row)
        self.store.write(write)


class _DepartmentCodes:
    """The codes of the catalogue's departments as they are now (for the accounts' department users)."""

    def __init__(self, live: LiveCatalogue) -> None:
        self.live = live

    def __contains__(self, code) -> bool:
        return code in self.live.current.departments

    def __iter__(self):
        return iter(self.live.current.departments)


def _procedure_row(procedure: Procedure) -> dict:
    return {"code": procedure.code, "name_vi": procedure.name_vi, "name_en": procedure.name_en,
            "field": procedure.field, "department": procedure.department,
            "statutory_days": procedure.statutory_days,
            "documents": json.dumps([k.kind for k in procedure.documents]),
            "services": json.dumps(list(procedure.services)), "retired": int(procedure.retired)}
