"""A branch's dossier figures over a range of local days, per department and per procedure.

What is counted, for a branch `b` and local days `from`..`to` (both included, the same range rules
as motcua.core.reports):

- The dossiers are those received at `b` on those days (a dossier's `day` is the local day it was
  received), whichever department processes them and wherever the result is returned.
- `received`: all of them.
- `on_time`: those whose result was ready (or that were returned) on or before their due date,
  the local day of the first such event compared with `due_date`.
- `late`: those whose result was ready after their due date.
- `overdue`: those still open (not result ready, returned nor rejected) past their due date today; one
  waiting for a supplement only if it was when the supplement was asked for (motcua.core.supplements).
- `returned`, `rejected`: those whose status is now returned or rejected.
- `open`: those not yet settled, overdue or not.
Per department and per procedure, every one of the catalogue's (zeros where none was received),
then any other met; `total` over all.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from .dossiers import REJECTED, RESULT_READY, RETURNED, SETTLED, overdue

COLUMNS = ("received", "on_time", "late", "overdue", "returned", "rejected", "open")
# The moves that settle a dossier in the citizen's favour: the first of them is when its result was ready.
READY = (RESULT_READY, RETURNED)


@dataclass(frozen=True)
class DossierFacts:
    """What one dossier adds to the figures of its department and procedure."""

    department: str
    procedure: str
    on_time: bool
    late: bool
    overdue: bool
    returned: bool
    rejected: bool
    open: bool


def dossier_facts(dossiers: Iterable[dict], events: Iterable[dict], local_day: Callable[[float], str],
                  today: date) -> list[DossierFacts]:
    """Each dossier's facts, from its row and its events to result_ready or returned (in order)."""
    ready_on: dict[str, str] = {}
    for event in events:
        if event["to_status"] in READY and event["from_status"] != event["to_status"]:
            ready_on.setdefault(event["dossier"], local_day(event["at"]))
    facts = []
    for d in dossiers:
        ready = ready_on.get(d["code"])
        status = d["status"]
        facts.append(DossierFacts(
            department=d["department"], procedure=d["procedure"],
            # ISO dates compare as text in the order of the days.
            on_time=ready is not None and ready <= d["due_date"],
            late=ready is not None and ready > d["due_date"],
            overdue=overdue(d, today),
            returned=status == RETURNED, rejected=status == REJECTED, open=status not in SETTLED))
    return facts


def figures(facts: list[DossierFacts]) -> dict:
    """The COLUMNS of one group of dossiers."""
    return {"received": len(facts), **{c: sum(getattr(f, c) for f in facts) for c in COLUMNS[1:]}}


def branch_report(facts: list[DossierFacts], departments: Iterable[str], procedures: Iterable[str]) -> dict:
    """Figures per department and per procedure (the catalogue's, then any other met), and in all."""
    by = {"department": defaultdict(list), "procedure": defaultdict(list)}
    for kind, known in (("department", departments), ("procedure", procedures)):
        for key in known:
            by[kind][key]  # one with no dossier still gets its row of zeros
    for f in facts:
        by["department"][f.department].append(f)
        by["procedure"][f.procedure].append(f)
    return {
        "departments": [{"department": k, **figures(g)} for k, g in by["department"].items()],
        "procedures": [{"procedure": k, **figures(g)} for k, g in by["procedure"].items()],
        "total": figures(facts),
    }
