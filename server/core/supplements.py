"""The supplement loop: what a department asks a citizen to bring, by when, and what the wait does to the
dossier's due date (README "Supplements").

- Asking (processing -> supplement_requested) records the note, the document kinds asked for (optional), the
  local day of the request and the supplement's own due date: `supplement_days` working days after it.
- While the dossier waits, its time does not run against the agency (Decree 61/2018/NĐ-CP art. 20 as amended
  by Decree 107/2021/NĐ-CP: the time already spent counts, the count goes on from the complete dossier): it is
  overdue only if it was overdue when the supplement was asked for.
- Bringing it (supplement_requested -> processing) pushes the due date back by the working days waited: those
  after the day of the request up to the day the supplement came, counted as a due date counts.
- A supplement not brought by its due date is lapsed: the department sees it so and may reject the dossier;
  until then a counter or the department still takes it.

Plain Python: the dossier service (motcua.core.dossiers) calls these inside its write.
"""
from __future__ import annotations

import json
from datetime import date, timedelta

from .model import Invalid

MAX_KINDS = 20


def checked_kinds(kinds, known) -> list[str]:
    """The document kinds asked for, each once, each one the catalogue knows (400 bad_kind otherwise)."""
    if kinds is None:
        return []
    if not isinstance(kinds, (list, tuple)) or len(kinds) > MAX_KINDS:
        raise Invalid(f"kinds is a list of at most {MAX_KINDS} document kinds", "bad_kind")
    unknown = [k for k in kinds if k not in known]
    if unknown:
        raise Invalid(f"{unknown[0]!r} is not a document kind of the catalogue", "bad_kind")
    return list(dict.fromkeys(kinds))


def working_days_between(after: date, until: date, is_working) -> int:
    """The working days d with after < d <= until (0 when until is not after `after`)."""
    count, day = 0, after
    while day < until:
        day += timedelta(days=1)
        count += is_working(day)
    return count


def asked(note: str, kinds: list[str], today: date, supplement_due: date) -> dict:
    """The dossier's changes when a supplement is asked for on today."""
    return {"supplement_note": note, "supplement_kinds": json.dumps(kinds), "supplement_asked_on": today.isoformat(),
            "supplement_due": supplement_due.isoformat()}


CLEARED = {"supplement_note": None, "supplement_kinds": None, "supplement_asked_on": None, "supplement_due": None}


def brought(row: dict, today: date, is_working, push) -> dict:
    """The dossier's changes when its supplement is brought on today: the request cleared, the working days
    waited added up, the due date pushed back by them (push(due, n): due moved on by n working days)."""
    if not row.get("supplement_asked_on"):   # asked for before motcua kept the day (m024_supplement): unknown
        return dict(CLEARED)
    waited = working_days_between(date.fromisoformat(row["supplement_asked_on"]), today, is_working)
    return {**CLEARED, "waited_days": (row.get("waited_days") or 0) + waited,
            "due_date": push(row["due_date"], waited)}


def is_lapsed(row: dict, today: date) -> bool:
    """A supplement asked for and not brought by its due date."""
    due = row.get("supplement_due")
    return bool(due) and today.isoformat() > due


def view(row: dict, kind_names: dict, department_name: dict | None, today: date) -> dict | None:
    """What a dossier waiting for a supplement asks for, as the public page, the counters and the department
    show it (None: it waits for none)."""
    if not row.get("supplement_asked_on"):
        return None
    kinds = json.loads(row.get("supplement_kinds") or "[]")
    return {"note": row["supplement_note"], "kinds": [{"kind": k, "name": kind_names.get(k)} for k in kinds],
            "asked_on": row["supplement_asked_on"], "due": row["supplement_due"], "lapsed": is_lapsed(row, today),
            "department_name": department_name}
