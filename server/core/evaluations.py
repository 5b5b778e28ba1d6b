"""The statutory satisfaction evaluation of a dossier: nine indicators scored 0, 1 or 2, then how convenient
and how satisfying the whole was; one evaluation per dossier, once its result is handed back; the quarterly
grade per branch and per department; the satisfaction rate other reports quote.

The indicators are those of Decree 61/2018/NĐ-CP art. 30 as Circular 01/2018/TT-VPCP scores them (README
"Satisfaction evaluation"). Plain Python on an injected clock: the routes parse and authorise, this decides.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from motcua.core.dossiers import RETURNED, parse_code
from motcua.core.model import Conflict, Invalid, NotFound

# The nine indicators, in the regulation's order; each one's wording is `evaluation.indicator.{key}`.
INDICATORS = ("total_time", "agency_time", "contacts", "agencies", "one_stop", "publicity", "attitude",
              "feedback", "online")
SCORES = (0, 1, 2)
MAX_TOTAL = len(INDICATORS) * max(SCORES)   # 18
ANSWERS = ("very_satisfied", "satisfied", "dissatisfied")   # Rất hài lòng, Hài lòng, Không hài lòng
SATISFIED = ("very_satisfied", "satisfied")
CHANNELS = ("phone", "kiosk", "counter")
# The grade of an average total per dossier, best first: (the least average, grade). "Over 15" is strictly
# more than 15; each other grade starts at its bound, included (15 is good, 12 good, 9 fair, 6 average).
GRADES = ((15.0, "excellent", False), (12.0, "good", True), (9.0, "fair", True), (6.0, "average", True))
WEAK = "weak"
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def grade(average: float) -> str:
    """excellent above 15, good from 12 to 15, fair from 9 to under 12, average from 6 to under 9, weak under 6."""
    for bound, name, included in GRADES:
        if average > bound or (included and average == bound):
            return name
    return WEAK


@dataclass(frozen=True)
class Answers:
    """What a citizen answered: the nine scores, then convenience and overall."""

    indicators: tuple[int, ...]
    convenience: str
    overall: str

    def checked(self) -> "Answers":
        scores = self.indicators
        if (not isinstance(scores, (list, tuple)) or len(scores) != len(INDICATORS)
                or any(type(s) is not int or s not in SCORES for s in scores)):
            raise Invalid(f"indicators are {len(INDICATORS)} scores, each 0, 1 or 2", "bad_indicators")
        for name, answer in (("convenience", self.convenience), ("overall", self.overall)):
            if answer not in ANSWERS:
                raise Invalid(f"{name} is one of {', '.join(ANSWERS)}", "bad_answer")
        return Answers(tuple(scores), self.convenience, self.overall)

    @property
    def total(self) -> int:
        return sum(self.indicators)


class Evaluations:
    """Records a dossier's one evaluation and reads them back: each in one transaction of the store."""

    def __init__(self, store, clock) -> None:
        self.store = store
        self.clock = clock

    def record(self, code: str, answers: Answers, channel: str) -> dict:
        """The dossier's evaluation, written once its result is returned; Conflict before, or for a second one."""
        if channel not in CHANNELS:
            raise Invalid(f"channel is one of {', '.join(CHANNELS)}", "bad_channel")
        answers = answers.checked()
        code = parse_code(code)
        now = self.clock.now()

        def write(db) -> dict:
            dossier = _dossier(db, code)
            if dossier["status"] != RETURNED:
                raise Conflict("a dossier is evaluated once its result is handed back", "not_returned")
            if list(db.query("select 1 from dossier_evaluations where code = ?", [code])):
                raise Conflict("this dossier has been evaluated already: one evaluation per dossier",
                               "already_evaluated")
            row = {"code": code, "branch": dossier["branch"], "department": dossier["department"], "at": now,
                   "indicators": json.dumps(list(answers.indicators)), "total": answers.total,
                   "convenience": answers.convenience, "overall": answers.overall, "channel": channel}
            db["dossier_evaluations"].insert(row)
            return row
        return view(self.store.write(write))

    def state(self, code: str) -> dict:
        """Whether the dossier may be evaluated now, and whether it has been: {code, returned, evaluated}."""
        code = parse_code(code)

        def read(db) -> dict:
            dossier = _dossier(db, code)
            done = bool(list(db.query("select 1 from dossier_evaluations where code = ?", [code])))
            return {"code": code, "returned": dossier["status"] == RETURNED, "evaluated": done}
        return self.store.read(read)

    def between(self, start: float, end: float) -> list[dict]:
        """The evaluations made from start (included) to end (excluded), epoch seconds."""
        return [view(r) for r in self.store.query(
            "select * from dossier_evaluations where at >= ? and at < ? order by at", [start, end])]


def view(row: dict) -> dict:
    """An evaluation's row with its indicators as a list."""
    indicators = row["indicators"]
    return {**row, "indicators": json.loads(indicators) if isinstance(indicators, str) else list(indicators)}


def _dossier(db, code: str) -> dict:
    rows = list(db.query("select branch, department, status from dossiers where code = ?", [code]))
    if not rows:
        raise NotFound(f"no dossier {code}", "unknown_dossier")
    return rows[0]


# ---- periods --------------------------------------------------------------------------------------

def quarter_days(year: int, quarter: int) -> tuple[date, date]:
    """The first and last day of a calendar quarter (1-4)."""
    if quarter not in (1, 2, 3, 4):
        raise Invalid("quarter is 1, 2, 3 or 4", "bad_quarter")
    first = date(year, 3 * quarter - 2, 1)
    after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return first, after - timedelta(days=1)


def bounds(start, end, timezone: str = DEFAULT_TIMEZONE) -> tuple[float, float]:
    """[start, end) in epoch seconds: numbers are taken as they are; days (date or YYYY-MM-DD) are local days
    in timezone, both included."""
    zone = ZoneInfo(timezone)

    def edge(value, after: bool) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        day = value if isinstance(value, date) else date.fromisoformat(value)
        day += timedelta(days=1) if after else timedelta()
        return datetime.combine(day, time(), zone).timestamp()
    return edge(start, False), edge(end, True)


# ---- figures --------------------------------------------------------------------------------------

def figures(rows: Iterable[dict]) -> dict:
    """One group's figures: evaluations, the average total per dossier and its grade, each overall answer's count."""
    rows = list(rows)
    count = len(rows)
    average = round(sum(r["total"] for r in rows) / count, 2) if count else None
    overall = {a: sum(r["overall"] == a for r in rows) for a in ANSWERS}
    return {"evaluated": count, "average": average, "grade": grade(average) if count else None, **overall}


def quarter_report(rows: Iterable[dict], branches: Iterable[str] = (), departments: Iterable[str] = ()) -> dict:
    """Figures per branch and per department (each one named first, zeros where none was evaluated), and in all."""
    rows = list(rows)
    by = {"branch": defaultdict(list), "department": defaultdict(list)}
    for kind, known in (("branch", branches), ("department", departments)):
        for key in known:
            by[kind][key]   # a branch with no evaluation still gets its row
    for r in rows:
        by["branch"][r["branch"]].append(r)
        by["department"][r["department"]].append(r)
    return {"branches": [{"branch": k, **figures(g)} for k, g in by["branch"].items()],
            "departments": [{"department": k, **figures(g)} for k, g in by["department"].items()],
            "total": figures(rows)}


def satisfaction(db_or_rows, branch: str | None = None, department: str | None = None, start=None, end=None,
                 timezone: str = DEFAULT_TIMEZONE) -> dict:
    """{evaluated, satisfied_share}: of the evaluations made in [start, end) (see `bounds`) of the branch and the
    department (None: all), how many, and the share (0..1; None when none) whose overall answer is very satisfied or
    satisfied. db_or_rows: a store or sqlite-utils Database (its query()), or rows of dossier_evaluations."""
    first, after = bounds(start, end, timezone)
    if hasattr(db_or_rows, "query"):
        rows = list(db_or_rows.query(
            "select branch, department, at, overall from dossier_evaluations where at >= ? and at < ?", [first, after]))
    else:
        rows = [r for r in db_or_rows if first <= r["at"] < after]
    rows = [r for r in rows if branch in (None, r["branch"]) and department in (None, r["department"])]
    satisfied = sum(r["overall"] in SATISFIED for r in rows)
    return {"evaluated": len(rows), "satisfied_share": satisfied / len(rows) if rows else None}


def satisfied_by_code(store, codes: list[str]) -> dict[str, bool]:
    """For each of codes that was evaluated, whether its citizen was satisfied (overall very satisfied or satisfied):
    the Decision 766 counts' satisfaction (motcua.core.decision766.Satisfaction)."""
    rows = store.query("select code, overall from dossier_evaluations where code in (select value from json_each(?))",
                       [json.dumps(codes)])   # one parameter, however many codes
    return {r["code"]: r["overall"] in SATISFIED for r in rows}
