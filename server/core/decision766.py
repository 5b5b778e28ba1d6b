"""The counts a centre reports each quarter under Decision 766/QĐ-TTg (2023: the indices of how well the
administration serves citizens and businesses), per branch and per department.

For a calendar quarter in local time (`2026-Q4`: 1 October to 31 December, both included) and the dossiers
received at a branch, or processed by a department, whatever else:

- `received`: the dossiers received in the quarter (their `day`, the local day received), and of them
  `in_person`, `online` and `post` by the channel recorded at intake;
- `resolved`: those of the same place whose result was ready in the quarter (the local day of their first move
  to result_ready or returned), received then or before; of them `early` (ready before the due date),
  `on_time` (on it) and `late` (after it);
- `digitised`: the dossiers received in the quarter that were digitised (a move to digitized);
- `reused_documents`: the documents attached to them from an earlier dossier rather than scanned again;
- `evaluations`, `satisfied` and `satisfaction_rate`: the statutory evaluations of the dossiers received in the
  quarter, given by a `Satisfaction` (code -> satisfied or not, for those evaluated): the percentage satisfied,
  None (shown as —) when none was evaluated. `no_evaluations`, the default, has none.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from .dossiers import CHANNELS, DIGITIZED, RESULT_READY, RETURNED
from .model import Invalid

# A quarter of a year from 2000 to 2099, exactly (the API's schema says the same pattern).
QUARTER = re.compile(r"^(?P<year>20[0-9]{2})-Q(?P<q>[1-4])$")
COUNTS = ("received", *CHANNELS, "resolved", "early", "on_time", "late", "digitised", "reused_documents",
          "evaluations", "satisfied")
COLUMNS = (*COUNTS, "satisfaction_rate")
# The moves that settle a dossier in the citizen's favour: the first of them is when its result was ready.
READY = (RESULT_READY, RETURNED)

# code -> whether its evaluation was satisfied, for each of the codes that was evaluated.
Satisfaction = Callable[[list[str]], Mapping[str, bool]]


def no_evaluations(codes: list[str]) -> Mapping[str, bool]:
    """No dossier evaluated: the satisfaction rate is shown as —."""
    return {}


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @property
    def first(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last(self) -> date:
        if self.number == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.number + 1, 1) - timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"


def parse_quarter(text) -> Quarter:
    """`YYYY-Qn` (n 1 to 4, a year from 2000 to 2099); Invalid("bad_quarter") otherwise."""
    match = QUARTER.fullmatch(text) if isinstance(text, str) else None   # fullmatch: no newline after $
    if not match:
        raise Invalid("a quarter is YYYY-Qn, n from 1 to 4 and a year from 2000 to 2099, such as 2026-Q4",
                      "bad_quarter")
    return Quarter(int(match["year"]), int(match["q"]))


@dataclass(frozen=True)
class Received:
    """A dossier received in the quarter, with what it adds to its group's counts."""

    code: str
    group: str
    channel: str
    digitised: bool
    reused_documents: int


@dataclass(frozen=True)
class Resolved:
    """A dossier whose result was ready in the quarter: before, on or after its due date."""

    group: str
    timing: str   # early, on_time or late


def resolution(ready_on: str, due: str) -> str:
    """early, on_time or late: the local day the result was ready against the due date (ISO days compare)."""
    return "early" if ready_on < due else "on_time" if ready_on == due else "late"


def first_ready(events: Iterable[dict], local_day: Callable[[float], str]) -> dict[str, str]:
    """Each dossier's local day of its first move to result_ready or returned, from its events in order."""
    ready: dict[str, str] = {}
    for event in events:
        if event["to_status"] in READY and event["from_status"] != event["to_status"]:
            ready.setdefault(event["dossier"], local_day(event["at"]))
    return ready


def counts(received: list[Received], resolved: list[Resolved], groups: Iterable[str],
           satisfaction: Satisfaction = no_evaluations) -> dict:
    """The COLUMNS per group (every one of groups, then any other met) and in all: {"rows": [...], "total"}."""
    satisfied = satisfaction([r.code for r in received])
    by: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for group in groups:
        by[group]  # one with no dossier still gets its row of zeros
    total = dict.fromkeys(COUNTS, 0)
    for r in received:
        for row in (by[r.group], total):
            row["received"] += 1
            row[r.channel] += 1
            row["digitised"] += r.digitised
            row["reused_documents"] += r.reused_documents
            if r.code in satisfied:
                row["evaluations"] += 1
                row["satisfied"] += bool(satisfied[r.code])
    for r in resolved:
        for row in (by[r.group], total):
            row["resolved"] += 1
            row[r.timing] += 1
    return {"rows": [{"group": g, **_with_rate(row)} for g, row in by.items()], "total": _with_rate(total)}


def _with_rate(row: dict[str, int]) -> dict:
    rate = round(100 * row["satisfied"] / row["evaluations"], 1) if row["evaluations"] else None
    return {**row, "satisfaction_rate": rate}


def report(dossiers: Iterable[dict], events: Iterable[dict], reused: Mapping[str, int], quarter: Quarter,
           group_by: str, groups: Iterable[str], local_day: Callable[[float], str],
           satisfaction: Satisfaction = no_evaluations) -> dict:
    """The quarter's counts grouped by a dossier field (department or branch).

    dossiers: those of the place received in the quarter or before (code, day, channel, due_date and the
    group_by field); events: their moves to digitized, result_ready or returned, in order; reused: code -> the
    documents reused on it."""
    first, last = quarter.first.isoformat(), quarter.last.isoformat()
    events = list(events)
    ready = first_ready(events, local_day)
    digitised = {e["dossier"] for e in events if e["to_status"] == DIGITIZED and e["from_status"] != DIGITIZED}
    received, resolved = [], []
    for d in dossiers:
        if first <= d["day"] <= last:
            received.append(Received(d["code"], d[group_by], d["channel"], d["code"] in digitised,
                                     reused.get(d["code"], 0)))
        ready_on = ready.get(d["code"])
        if ready_on is not None and first <= ready_on <= last:
            resolved.append(Resolved(d[group_by], resolution(ready_on, d["due_date"])))
    return counts(received, resolved, groups, satisfaction)
