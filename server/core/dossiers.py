"""Dossiers: ID numbers, the status path, due dates in working days,
and the `Dossiers` service that commits each change with its event in one transaction.

Plain Python on an injected clock, as the queue engine: the HTTP routes parse and authorise, this
decides and writes.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable

from motcua import audit
from motcua.core import intake
from motcua.core import supplements
from motcua.core.clock import LocalTime
from motcua.core.dossier_codes import (ALPHABET, check_character, code_unit, make_code, parse_code,  # noqa: F401
                                      public_candidates)
from motcua.core.model import ACTIVE_AT_COUNTER, Conflict, DomainError, Invalid, NotFound
from motcua.core.procedures import Catalogue
from motcua.core.text import check_text
from motcua.i18n import LANGUAGES


RECEIVED, DIGITIZED, PROCESSING, SUPPLEMENT_REQUESTED, RESULT_READY, RETURNED, REJECTED = (
    "received", "digitized", "processing", "supplement_requested", "result_ready", "returned", "rejected")
STATUSES = (RECEIVED, DIGITIZED, PROCESSING, SUPPLEMENT_REQUESTED, RESULT_READY, RETURNED, REJECTED)
# Where nothing is owed the citizen any more, or the result waits for them: never overdue.
SETTLED = (RESULT_READY, RETURNED, REJECTED)
# The department's work: what it has to decide on.
AT_DEPARTMENT = (PROCESSING, SUPPLEMENT_REQUESTED)
COUNTER, DEPARTMENT, ADMIN = "counter", "department", "admin"
# An officer of any branch, while the dossier waits for a supplement: takes it in and sends the dossier back.
SUPPLEMENT = "supplement"
# (from, to) -> who may make the move: the counter (officers of the receiving or returning branch)
# receives, digitises, sends on and hands back; the competent department decides.
MOVES = {
    (RECEIVED, DIGITIZED): {COUNTER},
    (DIGITIZED, PROCESSING): {COUNTER},
    (PROCESSING, SUPPLEMENT_REQUESTED): {DEPARTMENT},
    # The citizen brings the supplement to any branch's counter, or sends it to the department directly.
    (SUPPLEMENT_REQUESTED, PROCESSING): {COUNTER, DEPARTMENT, SUPPLEMENT},
    (PROCESSING, RESULT_READY): {DEPARTMENT},
    (RESULT_READY, RETURNED): {COUNTER},
    (RECEIVED, REJECTED): {COUNTER},
    (DIGITIZED, REJECTED): {COUNTER},
    (PROCESSING, REJECTED): {DEPARTMENT},
    (SUPPLEMENT_REQUESTED, REJECTED): {DEPARTMENT},
}
# How a dossier is received (Decision 766/QĐ-TTg's report counts each): at a counter, online, by post.
IN_PERSON, ONLINE, POST = "in_person", "online", "post"
CHANNELS = (IN_PERSON, ONLINE, POST)
# Moves that say why: the citizen is told what to bring, or why the dossier was refused.
NEEDS_NOTE = (SUPPLEMENT_REQUESTED, REJECTED)
MAX_NOTE_CHARS = 500
MAX_NAME_CHARS = 120
MAX_ADDRESS_CHARS = 300

# Vietnam's public holidays of 2026 and 2027 as days off (weekend holidays moved to the Monday,
# Tết as the government's plan gives it); Saturdays made working days in exchange are not counted.
DEFAULT_HOLIDAYS = (
    "2026-01-01, 2026-02-16, 2026-02-17, 2026-02-18, 2026-02-19, 2026-02-20, 2026-04-27, 2026-04-30, "
    "2026-05-01, 2026-08-31, 2026-09-01, 2026-09-02, 2026-11-24, "
    "2027-01-01, 2027-02-04, 2027-02-05, 2027-02-08, 2027-02-09, 2027-02-10, 2027-04-16, 2027-04-30, "
    "2027-05-03, 2027-09-02, 2027-09-03, 2027-11-24")

# Province and city codes that open a 12-digit citizen ID number (Circular 07/2016/TT-BCA).
PROVINCES = frozenset(f"{n:03d}" for n in (
    1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37, 38, 40, 42,
    44, 45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77, 79, 80, 82, 83, 84, 86,
    87, 89, 91, 92, 93, 94, 95, 96))
PHONE = re.compile(r"^(\+84|0)[0-9]{9,10}$")


class NotPermitted(DomainError):
    """A move the status allows but the caller's side (counter, department) may not make."""

    code = "not_your_move"


# ---- codes --------------------------------------------------------------------------------------

def kind_view(kind) -> dict:
    """A document kind as the API shows it: its code, names and whether a copy may serve another dossier."""
    return {"kind": kind.kind, "name": _names(kind), "reusable": kind.reusable, "valid_months": kind.valid_months}


# ---- ID numbers, due dates ----------------------------------------------------------------------

def valid_id_number(text: str) -> bool:
    """A 12-digit citizen ID number: an issued province code, then a century/sex digit, then 8 digits."""
    return (isinstance(text, str) and len(text) == 12 and text.isascii() and text.isdigit()
            and text[:3] in PROVINCES)


def parse_holidays(text: str) -> frozenset[date]:
    """ISO dates separated by commas; Invalid naming the first one that is not."""
    days = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            days.add(date.fromisoformat(part))
        except ValueError:
            raise Invalid(f"[dossiers] holidays: {part!r} is not an ISO date", "bad_holiday") from None
    return frozenset(days)


def is_working_day(day: date, holidays: frozenset[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def due_date(received: date, working_days: int, holidays: frozenset[date]) -> date:
    """The last of working_days working days counted from the working day after received."""
    day, left = received, working_days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            left -= 1
    return day


def is_overdue(status: str, due: str | date, today: date, asked_on: str | None = None) -> bool:
    """Past its due date and not settled (result ready, returned, rejected). A dossier waiting for a supplement
    asked for on asked_on is not running late: overdue only if it was when asked (motcua.core.supplements)."""
    due = date.fromisoformat(due) if isinstance(due, str) else due
    if status == SUPPLEMENT_REQUESTED and asked_on:
        return date.fromisoformat(asked_on) > due
    return status not in SETTLED and today > due


def overdue(row: dict, today: date) -> bool:
    """is_overdue of a dossier's row."""
    return is_overdue(row["status"], row["due_date"], today, row.get("supplement_asked_on"))


def check_move(status: str, to: str, sides: Iterable[str]) -> None:
    """Conflict when the status does not lead to `to`; NotPermitted when none of sides may make the move."""
    allowed = MOVES.get((status, to))
    if allowed is None:
        raise Conflict(f"a dossier {status} cannot become {to}", "bad_transition")
    sides = set(sides)
    if ADMIN not in sides and not allowed & sides:
        raise NotPermitted(f"moving a dossier to {to} is for the {' or '.join(sorted(allowed))}")


# ---- the service --------------------------------------------------------------------------------

@dataclass(frozen=True)
class DossierRules:
    """What dossiers are decided by: the local time zone and the public holidays."""

    timezone: str = "Asia/Ho_Chi_Minh"
    holidays: frozenset[date] = field(default_factory=lambda: parse_holidays(DEFAULT_HOLIDAYS))
    supplement_days: int = 15   # working days a citizen has to bring a supplement asked for


@dataclass(frozen=True)
class Citizen:
    """Who a dossier is for; checked on creation."""

    id_number: str
    name: str
    phone: str = ""
    lang: str = "vi"   # what the citizen's messages are written in
    birth_date: str = ""   # ISO date, as the ID card gives it; "" when not given
    address: str = ""      # the permanent address, as the ID card gives it

    def checked(self) -> "Citizen":
        if not valid_id_number(self.id_number):
            raise Invalid("an ID number is 12 digits, starting with an issued province code", "bad_id_number")
        check_text(self.name, "the citizen's name", "bad_name")
        # NFC: a name typed with combining tone marks prints and compares as the precomposed one.
        name = unicodedata.normalize("NFC", " ".join(self.name.split()))
        if not name or len(name) > MAX_NAME_CHARS:
            raise Invalid(f"the citizen's name is needed, at most {MAX_NAME_CHARS} characters", "bad_name")
        check_text(self.phone, "a phone number", "bad_phone")
        phone = re.sub(r"[ .\-]", "", self.phone)
        if phone and not PHONE.match(phone):
            raise Invalid("a phone number is 10 or 11 digits starting with 0 or +84", "bad_phone")
        if self.lang not in LANGUAGES:
            raise Invalid(f"lang must be one of {', '.join(LANGUAGES)}", "bad_lang")
        return Citizen(self.id_number, name, phone, self.lang, *checked_card_fields(self.birth_date, self.address))


def checked_card_fields(birth_date: str, address: str) -> tuple[str, str]:
    """The date of birth (an ISO date, or "") and the address (NFC, at most MAX_ADDRESS_CHARS) of a citizen."""
    if birth_date:
        try:
            # Written one way: Python also reads 19900315 and week dates as ISO.
            birth_date = date.fromisoformat(birth_date).isoformat()
        except (TypeError, ValueError):
            raise Invalid("the date of birth is an ISO date, 1990-03-15", "bad_birth_date") from None
    check_text(address, "the address", "bad_address")
    address = unicodedata.normalize("NFC", " ".join(address.split()))
    if len(address) > MAX_ADDRESS_CHARS:
        raise Invalid(f"the address is at most {MAX_ADDRESS_CHARS} characters", "bad_address")
    return birth_date, address


class Dossiers:
    """Opens dossiers, moves them along, reads them: each change and its event in one transaction."""

    def __init__(self, store, clock, catalogue: Catalogue, rules: DossierRules | None = None,
                 notifier=None) -> None:
        self.store = store
        self.clock = clock
        self.catalogue = catalogue
        self.rules = rules or DossierRules()
        self.local = LocalTime(self.rules.timezone)
        self.notifier = notifier

    def use(self, catalogue: Catalogue) -> None:
        """Follow this catalogue from now on (an admin changed it)."""
        self.catalogue = catalogue

    def today(self) -> date:
        return date.fromisoformat(self.local.day(self.clock.now()))

    # ---- changes ------------------------------------------------------------------------------

    def open(self, procedure: str, citizen: Citizen, branch: str, actor: str, ticket: str | None = None,
             return_branch: str | None = None, channel: str = IN_PERSON) -> dict:
        """A new dossier received at branch (through channel: in person by default), with its first event;
        returns its row."""
        if channel not in CHANNELS:
            raise Invalid(f"channel must be one of {', '.join(CHANNELS)}", "bad_channel")
        if procedure not in self.catalogue.procedures:
            raise Invalid(f"unknown procedure {procedure!r}", "unknown_procedure")
        found = self.catalogue.procedures[procedure]
        if found.retired:
            raise Invalid(f"procedure {procedure} is retired: new dossiers follow another", "retired_procedure")
        citizen = citizen.checked()
        return_branch = return_branch or branch
        now = self.clock.now()
        today = self.today()
        due = due_date(today, found.statutory_days, self.rules.holidays).isoformat()

        def write(db) -> dict:
            units = {}
            for b in {branch, return_branch}:
                rows = list(db.query("select unit_code from branches where id = ?", [b]))
                if not rows:
                    raise Invalid(f"unknown branch {b!r}", "unknown_branch")
                units[b] = code_unit(b, rows[0]["unit_code"])
            if ticket is not None and not list(db.query("select 1 from tickets where id = ? and branch = ?",
                                                        [ticket, branch])):
                raise Invalid(f"no ticket {ticket!r} at branch {branch}", "unknown_ticket")
            # In the writer's transaction: no other dossier of the unit takes this number meanwhile. Per unit,
            # not per branch: a branch whose unit code changed today goes on from the new unit's last number.
            unit = units[branch]
            seq = db.execute("select coalesce(max(seq), 0) + 1 from dossiers where unit = ? and day = ?",
                             [unit, today.isoformat()]).fetchone()[0]
            row = {"code": make_code(unit, today, seq), "unit": unit, "branch": branch, "day": today.isoformat(), "seq": seq,
                   "officer": actor, "ticket": ticket, "return_branch": return_branch, "procedure": procedure,
                   "department": found.department, "citizen_id": citizen.id_number,
                   "citizen_name": citizen.name, "citizen_phone": citizen.phone, "citizen_lang": citizen.lang,
                   "channel": channel, "status": RECEIVED,
                   "citizen_birth_date": citizen.birth_date or None, "citizen_address": citizen.address,
                   "received_at": now, "due_date": due, "reject_reason": None, "updated_at": now}
            db["dossiers"].insert(row)
            audit.append_events(db.conn, [event_row(row["code"], None, RECEIVED, now, actor, branch, None)])
            return row
        return self.store.write(write)

    def move(self, code: str, to: str, sides: Iterable[str], actor: str, place: str | None,
             note: str | None = None, kinds: list[str] | None = None,
             missing: Iterable[intake.MissingReason] = ()) -> dict:
        """Move a dossier to status `to` (checked against its status inside the write); returns its row.
        To digitised: every required document attached, or a reason in `missing` for each one that is not.
        kinds: the document kinds a supplement asks for (supplement_requested only)."""
        if to not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)}", "bad_status")
        if kinds and to != SUPPLEMENT_REQUESTED:
            raise Invalid("document kinds are asked for with supplement_requested only", "bad_kind")
        kinds = supplements.checked_kinds(kinds, self.catalogue.kinds)
        if note:
            check_text(note, "a note", "bad_note", lines=True)
        note = " ".join(note.split()) if note else None
        if note and len(note) > MAX_NOTE_CHARS:
            raise Invalid(f"a note has at most {MAX_NOTE_CHARS} characters", "bad_note")
        code = parse_code(code)
        now = self.clock.now()

        def write(db) -> dict:
            row = _row(db, code)
            check_move(row["status"], to, sides)
            if to in NEEDS_NOTE and not note:
                raise Invalid(f"moving a dossier to {to} needs a note saying why", "note_needed")
            if to == DIGITIZED:
                self._record_missing(db, row, missing, actor, now)
            changes = {"status": to, "updated_at": now}
            if to == REJECTED:
                changes["reject_reason"] = note
            changes.update(self._supplement_changes(row, to, note, kinds))
            db["dossiers"].update(code, changes)
            audit.append_events(db.conn, [event_row(code, row["status"], to, now, actor, place, note)])
            moved = {**row, **changes}
            if self.notifier is not None:  # the message exists exactly when the move does
                if to == RESULT_READY:
                    self.notifier.result_ready(db, moved, row["citizen_phone"], row["citizen_lang"])
                elif to == SUPPLEMENT_REQUESTED:
                    self.notifier.supplement_requested(db, moved, self.supplement(moved))
            return moved
        row = self.store.write(write)
        if to in (RESULT_READY, SUPPLEMENT_REQUESTED) and self.notifier is not None:
            self.notifier.wake()
        return row

    def _record_missing(self, db, row: dict, missing: Iterable[intake.MissingReason], actor: str, now: float) -> None:
        """In the digitising write: refuse a dossier whose required documents are missing unexplained
        (motcua.core.intake), else record the reasons given for those missing."""
        attached = [r["kind"] for r in db.query("select kind from dossier_documents where dossier = ?", [row["code"]])]
        reasons = intake.check_complete(self.catalogue.procedure(row["procedure"]), attached, missing)
        db["dossier_missing_documents"].insert_all(
            [{"dossier": row["code"], "kind": r.kind, "reason": r.reason, "note": r.note, "at": now, "actor": actor}
             for r in reasons], replace=True)

    def missing_documents(self, code: str) -> list[dict]:
        """The required documents the dossier was sent on without, each with the reason recorded."""
        rows = self.store.query("select * from dossier_missing_documents where dossier = ? order by rowid", [code])
        kinds = self.catalogue.kinds
        return [{"kind": r["kind"], "name": _names(kinds[r["kind"]]) if r["kind"] in kinds else None,
                 "reason": r["reason"], "note": r["note"], "actor": r["actor"], "at": self.local.iso(r["at"])}
                for r in rows]
    def _supplement_changes(self, row: dict, to: str, note: str | None, kinds: list[str]) -> dict:
        """The supplement's part of a move (motcua.core.supplements): asked for, brought, or dropped."""
        today, holidays = self.today(), self.rules.holidays
        if to == SUPPLEMENT_REQUESTED:
            return supplements.asked(note, kinds, today, due_date(today, self.rules.supplement_days, holidays))
        if row["status"] != SUPPLEMENT_REQUESTED:
            return {}
        if to != PROCESSING:
            return dict(supplements.CLEARED)
        return supplements.brought(row, today, lambda d: is_working_day(d, holidays),
                                   lambda due, n: due_date(date.fromisoformat(due), n, holidays).isoformat())

    def supplement(self, row: dict) -> dict | None:
        """What a dossier waiting for a supplement asks for, by when and from whom (None: it waits for none)."""
        kinds = {k: _names(kind) for k, kind in self.catalogue.kinds.items()}
        department = self.catalogue.departments.get(row["department"])
        return supplements.view(row, kinds, _names(department) if department else None, self.today())

    def citizen_at_counter(self, row: dict, engine, branch: str, actor: str) -> bool:
        """True when the dossier's citizen is at actor's own counter now: the dossier's ticket is called or
        being served at a counter of branch that actor holds (motcua.core.holders), and no dossier on that
        ticket is another citizen's (one ticket, one person)."""
        ticket_id = row.get("ticket")
        if not ticket_id:
            return False
        try:
            ticket = engine.ticket(ticket_id)
        except NotFound:   # a ticket of a day gone is at no counter
            return False
        if ticket.branch != branch or ticket.status not in ACTIVE_AT_COUNTER or ticket.counter is None:
            return False
        if engine.counter(branch, ticket.counter).holder != actor:
            return False
        return not self.store.query("select 1 from dossiers where ticket = ? and citizen_id != ? limit 1",
                                    [ticket_id, row["citizen_id"]])

    def record(self, db, code: str, actor: str, place: str | None, note: str) -> None:
        """In the caller's transaction (db: the store's write connection), an event that changes nothing: a
        document read, say; from and to are the dossier's status then."""
        status = _row(db, code)["status"]
        audit.append_events(db.conn, [event_row(code, status, status, self.clock.now(), actor, place, note)])

    # ---- reads --------------------------------------------------------------------------------

    def get(self, code: str) -> dict:
        """The dossier's row; Invalid for a mistyped code, NotFound for one nobody was given."""
        code = parse_code(code)
        return self.store.read(lambda db: _row(db, code))

    def public(self, text: str, check: str | None = None) -> dict:
        """The dossier a public lookup names (dossier_codes.public_candidates): Invalid for a mistyped code or
        check, NotFound for one nobody was given."""
        candidates = public_candidates(text, check)

        def read(db) -> dict:
            for code in candidates:
                rows = list(db.query("select * from dossiers where code = ?", [code]))
                if rows:
                    return rows[0]
            raise NotFound(f"no dossier {candidates[0]}", "unknown_dossier")
        return self.store.read(read)

    def history(self, code: str) -> list[dict]:
        return self.store.query("select * from events where dossier = ? order by id", [code])

    def of_department(self, department: str) -> list[dict]:
        """The department's work, oldest due first (then oldest received)."""
        self.catalogue.department(department)
        return self.store.query(
            "select * from dossiers where department = ? and status in (select value from json_each(?)) "
            "order by due_date, received_at", [department, _json(AT_DEPARTMENT)])

    def of_branch(self, branch: str, status: str | None = None, limit: int = 500) -> list[dict]:
        """Dossiers received or returned at the branch, newest first, of one status when given."""
        if status is not None and status not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)}", "bad_status")
        return self.store.query(
            "select * from dossiers where (branch = :b or return_branch = :b) and (:s is null or status = :s) "
            "order by received_at desc limit :n", {"b": branch, "s": status, "n": limit})

    def of_citizen(self, id_number: str) -> list[dict]:
        if not valid_id_number(id_number):
            raise Invalid("an ID number is 12 digits, starting with an issued province code", "bad_id_number")
        return self.store.query("select * from dossiers where citizen_id = ? order by received_at desc",
                                [id_number])

    # ---- views --------------------------------------------------------------------------------

    def public_view(self, row: dict, history: list[dict] | None = None) -> dict:
        """`GET /dossiers/{code}`: what its holder needs (status, the day of each step, due date, where to
        collect); no name, ID number, phone or documents, nor the hour of anything (README "Dossiers")."""
        history = self.history(row["code"]) if history is None else history
        return {**self._summary(row), "received_on": self.local.day(row["received_at"]),
                "history": [{"status": e["to_status"], "on": self.local.day(e["at"])} for e in _steps(history)]}

    def _summary(self, row: dict) -> dict:
        """What the public and the full view both show of a dossier."""
        return {"code": row["code"], "procedure": row["procedure"], "status": row["status"],
                "due_date": row["due_date"], "overdue": overdue(row, self.today()),
                "return_branch": row["return_branch"], "supplement": self.supplement(row),
                "waited_days": row.get("waited_days") or 0}

    def brief(self, row: dict) -> dict:
        """A line of a work list (department queue, a citizen's dossiers): staff only."""
        procedure = self.catalogue.procedures.get(row["procedure"])
        return {"code": row["code"], "procedure": row["procedure"],
                "procedure_name": _names(procedure) if procedure else None,
                "status": row["status"], "branch": row["branch"], "return_branch": row["return_branch"],
                "department": row["department"], "citizen_name": row["citizen_name"],
                "received_at": self.local.iso(row["received_at"]), "due_date": row["due_date"],
                "overdue": overdue(row, self.today()), "supplement": self.supplement(row)}

    def full_view(self, row: dict) -> dict:
        """Everything about a dossier, personal data and documents too: for those allowed to see it."""
        history = self.history(row["code"])
        procedure = self.catalogue.procedures.get(row["procedure"])
        department = self.catalogue.departments.get(row["department"])
        return {
            **self._summary(row), "received_at": self.local.iso(row["received_at"]),
            "history": [{"status": e["to_status"], "at": self.local.iso(e["at"])} for e in _steps(history)],
            "procedure_name": _names(procedure) if procedure else None,
            "department": row["department"], "department_name": _names(department) if department else None,
            "branch": row["branch"], "officer": row["officer"], "ticket": row["ticket"],
            "citizen": {"id_number": row["citizen_id"], "name": row["citizen_name"], "phone": row["citizen_phone"],
                        "lang": row["citizen_lang"], "birth_date": row.get("citizen_birth_date"),
                        "address": row.get("citizen_address") or ""},
            "reject_reason": row["reject_reason"], "updated_at": self.local.iso(row["updated_at"]),
            "required_documents": [kind_view(d) for d in procedure.documents]
            if procedure else [],
            "documents": self.documents(row["code"]),
            "missing_documents": self.missing_documents(row["code"]),
            "events": [{"from_status": e["from_status"], "status": e["to_status"], "at": self.local.iso(e["at"]),
                        "actor": e["actor"], "branch": e["branch"], "note": e["note"]} for e in history],
        }

    def documents(self, code: str) -> list[dict]:
        """The documents attached to the dossier (the documents part's tables, when it is installed)."""
        def read(db) -> list[dict]:
            if not db["dossier_documents"].exists():
                return []
            return list(db.query(
                "select dd.sha256, dd.kind, d.mime, d.size, dd.reused, dd.attached_at, dd.attached_by "
                "from dossier_documents dd join documents d on d.sha256 = dd.sha256 where dd.dossier = ? "
                "order by dd.attached_at, dd.sha256", [code]))
        rows = self.store.read(read)
        return [{**r, "reused": bool(r["reused"]), "attached_at": self.local.iso(r["attached_at"])} for r in rows]


def _steps(history: list[dict]) -> list[dict]:
    """The changes of status only: a read recorded against the dossier is no step of its path."""
    return [e for e in history if e["from_status"] != e["to_status"]]


def _row(db, code: str) -> dict:
    rows = list(db.query("select * from dossiers where code = ?", [code]))
    if not rows:
        raise NotFound(f"no dossier {code}", "unknown_dossier")
    return rows[0]


def event_row(code: str, from_status: str | None, to: str, at: float, actor: str, branch: str | None,
              note: str | None) -> dict:
    """A row of the events table for a dossier (its ticket null)."""
    return {"ticket": None, "dossier": code, "branch": branch, "from_status": from_status, "to_status": to,
            "at": at, "counter": None, "actor": actor, "note": note}


def _names(thing) -> dict:
    return {"vi": thing.name_vi, "en": thing.name_en}


def _json(values) -> str:
    return json.dumps(list(values))
