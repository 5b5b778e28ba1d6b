"""Intake that cannot go wrong: a dossier is digitised complete or with a reason for each document missing,
an intake left open is found again, and only the right earlier papers are offered for reuse.

Plain Python: `Dossiers.move` calls `check_complete` inside its write when a dossier is to be digitised;
the routes call `offers` and `unfinished`.
"""
from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import date
from typing import Container, Iterable, Mapping

from motcua.core.model import Conflict, Invalid
from motcua.core.procedures import DocumentKind, Procedure
from motcua.core.text import check_text

# Why a required document may be missing from a dossier sent on (README "Dossiers"): the centre issues it
# itself, it is looked up in the national population database or another national database, the centre
# holds it from an earlier dossier of the citizen's, or another reason the officer writes down.
REASONS = ("issued_here", "population_database", "national_database", "held_earlier", "other")
OTHER = "other"
MAX_REASON_NOTE_CHARS = 200
# The statuses of an intake not finished: opened at the counter, not yet with its department.
UNFINISHED = ("received", "digitized")


@dataclass(frozen=True)
class MissingReason:
    """Why one required document is not attached: one of REASONS, and words (needed for "other")."""

    kind: str
    reason: str
    note: str = ""

    def checked(self) -> "MissingReason":
        if self.reason not in REASONS:
            raise Invalid(f"a missing document's reason is one of {', '.join(REASONS)}", "bad_missing_reason")
        check_text(self.note or "", "a reason's words", "bad_missing_reason")
        note = " ".join((self.note or "").split())
        if len(note) > MAX_REASON_NOTE_CHARS or (self.reason == OTHER and not note):
            raise Invalid(f"the reason \"other\" needs words, at most {MAX_REASON_NOTE_CHARS} characters",
                          "bad_missing_reason")
        return MissingReason(self.kind, self.reason, note)


class DocumentsMissing(Conflict):
    """A dossier to be digitised lacks required documents and no reason was recorded for them."""

    code = "documents_missing"


def missing_kinds(procedure: Procedure, attached: Iterable[str]) -> list[str]:
    """The procedure's required kinds not among the attached ones, in the procedure's order."""
    have = set(attached)
    return [k.kind for k in procedure.documents if k.kind not in have]


def check_complete(procedure: Procedure, attached: Iterable[str],
                   reasons: Iterable[MissingReason]) -> list[MissingReason]:
    """The reasons to record for the documents missing; Invalid for a reason about a kind the procedure does
    not require (or given twice), DocumentsMissing (409, details.missing) naming the kinds still unexplained."""
    required = {k.kind for k in procedure.documents}
    given: dict[str, MissingReason] = {}
    for reason in reasons:
        if reason.kind not in required or reason.kind in given:
            raise Invalid(f"procedure {procedure.code} does not require {reason.kind!r} (or it is given twice)",
                          "bad_missing_reason")
        given[reason.kind] = reason.checked()
    missing = missing_kinds(procedure, attached)
    unexplained = [k for k in missing if k not in given]
    if unexplained:
        raise DocumentsMissing(f"required documents are missing: {', '.join(unexplained)}; attach them or give "
                               "a reason for each", details={"missing": unexplained})
    # A reason for a document attached meanwhile is no longer needed: it is not recorded.
    return [given[k] for k in missing]


def add_months(day: date, months: int) -> date:
    """The same day months later (the month's last day when it has fewer)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def still_valid(kind: DocumentKind, digitised_on: date, today: date) -> bool:
    """Whether a copy digitised on that day may still serve: no `valid_months`, or not past them today."""
    return kind.valid_months is None or today < add_months(digitised_on, kind.valid_months)


def check_fresh(kind: DocumentKind | None, digitised_on: date, today: date) -> None:
    """Conflict("document_expired") for a copy past its kind's valid_months: it is scanned anew, not reused."""
    if kind is not None and not still_valid(kind, digitised_on, today):
        raise Conflict(f"a copy of kind {kind.kind} serves {kind.valid_months} months after it was digitised: "
                       "scan a new one", "document_expired", details={"valid_months": kind.valid_months})


def needed_kinds(procedure: Procedure, dossier: Mapping) -> set[str]:
    """The document kinds a dossier asks of its citizen: those its procedure requires and, while it waits for a
    supplement, those the supplement asks for. Nothing else of the citizen's is reused into it: a dossier holds
    the personal papers its procedure needs, no more."""
    asked = json.loads(dossier.get("supplement_kinds") or "[]") if dossier.get("supplement_asked_on") else []
    return {k.kind for k in procedure.documents} | set(asked)


def offers(needed: Container[str], documents: Iterable[Mapping], kinds: Mapping[str, DocumentKind],
           day_of, today: date) -> list[dict]:
    """Of a citizen's earlier documents, those that may serve a dossier: of a kind it needs (needed_kinds) that the
    catalogue marks reusable, still within the kind's validity. day_of(created_at): its day."""
    return [d for d in documents
            if d["kind"] in needed and d["kind"] in kinds and kinds[d["kind"]].reusable
            and still_valid(kinds[d["kind"]], day_of(d["created_at"]), today)]


def unfinished(dossiers, branch: str) -> list[dict]:
    """The dossiers received at the branch whose intake is not finished (not yet sent to their department),
    oldest first: any officer of the branch may resume one."""
    rows = [r for status in UNFINISHED for r in dossiers.of_branch(branch, status) if r["branch"] == branch]
    return sorted(rows, key=lambda r: (r["received_at"], r["day"], r["seq"]))
