"""The statutory evaluation's core: one evaluation per returned dossier, the grades' exact bounds, the quarterly
figures per branch and department, and the satisfaction rate other reports take."""
from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from motcua.core.clock import FakeClock
from motcua.core.dossiers import make_code
from motcua.core.evaluations import (Answers, Evaluations, bounds, grade, quarter_days, quarter_report,
                                     satisfaction)
from motcua.core.model import Conflict, Invalid, NotFound
from motcua.store import Store

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=TZ).timestamp()
ALL_TWO = [2] * 9


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "motcua.db")
    yield store
    store.close()


@pytest.fixture
def clock():
    return FakeClock(NOON)


@pytest.fixture
def evaluations(store, clock):
    return Evaluations(store, clock)


def dossier(store, seq: int, status: str = "returned", branch: str = "hk-01", department: str = "finance") -> str:
    code = make_code(branch, date(2026, 11, 24), seq)
    store.write(lambda db: db["dossiers"].insert({
        "code": code, "branch": branch, "day": "2026-11-24", "seq": seq, "procedure": "KD-TL",
        "department": department, "citizen_id": "001090012345", "status": status, "return_branch": branch}))
    return code


@pytest.mark.parametrize("average, expected", [
    (18, "excellent"), (15.01, "excellent"), (15, "good"), (12, "good"), (11.99, "fair"), (9, "fair"),
    (8.99, "average"), (6, "average"), (5.99, "weak"), (0, "weak")])
def test_the_grades_bounds_are_exact(average, expected):
    assert grade(average) == expected


def test_a_returned_dossier_is_evaluated_once(store, evaluations):
    code = dossier(store, 1)
    row = evaluations.record(code.lower(), Answers([2, 2, 1, 2, 0, 2, 2, 1, 2], "satisfied", "very_satisfied"), "kiosk")
    assert (row["code"], row["total"], row["channel"], row["branch"], row["department"]) == \
           (code, 14, "kiosk", "hk-01", "finance")
    assert row["indicators"] == [2, 2, 1, 2, 0, 2, 2, 1, 2]
    assert evaluations.state(code) == {"code": code, "returned": True, "evaluated": True}
    with pytest.raises(Conflict) as second:
        evaluations.record(code, Answers(ALL_TWO, "satisfied", "satisfied"), "phone")
    assert second.value.code == "already_evaluated"
    stored = store.query("select * from dossier_evaluations")
    assert len(stored) == 1 and json.loads(stored[0]["indicators"])[2] == 1


@pytest.mark.parametrize("status", ["received", "processing", "result_ready", "rejected"])
def test_a_dossier_not_returned_is_not_evaluated(store, evaluations, status):
    code = dossier(store, 2, status)
    assert evaluations.state(code)["returned"] is False
    with pytest.raises(Conflict) as refused:
        evaluations.record(code, Answers(ALL_TWO, "satisfied", "satisfied"), "phone")
    assert refused.value.code == "not_returned"
    assert store.query("select * from dossier_evaluations") == []


@pytest.mark.parametrize("indicators, convenience, overall, code", [
    ([2] * 8, "satisfied", "satisfied", "bad_indicators"),
    ([2] * 10, "satisfied", "satisfied", "bad_indicators"),
    ([2] * 8 + [3], "satisfied", "satisfied", "bad_indicators"),
    ([2] * 8 + [-1], "satisfied", "satisfied", "bad_indicators"),
    ([2] * 8 + [True], "satisfied", "satisfied", "bad_indicators"),
    ([2] * 8 + [1.0], "satisfied", "satisfied", "bad_indicators"),
    ("222222222", "satisfied", "satisfied", "bad_indicators"),
    (ALL_TWO, "happy", "satisfied", "bad_answer"),
    (ALL_TWO, "satisfied", None, "bad_answer"),
])
def test_bad_answers_are_refused(store, evaluations, indicators, convenience, overall, code):
    target = dossier(store, 3)
    with pytest.raises(Invalid) as refused:
        evaluations.record(target, Answers(indicators, convenience, overall), "phone")
    assert refused.value.code == code


def test_an_unknown_or_mistyped_code_is_refused(store, evaluations):
    code = dossier(store, 4)
    # An official code carries no check: one mistyped is a code nobody was given here (the public lookup's check of
    # it, beside the code, is the route's: test_evaluation_routes); a code that is no code at all is Invalid.
    with pytest.raises(NotFound):
        evaluations.record(code[:-1] + ("0" if code[-1] != "0" else "1"), Answers(ALL_TWO, "satisfied", "satisfied"),
                           "phone")
    with pytest.raises(Invalid):
        evaluations.record("not a code", Answers(ALL_TWO, "satisfied", "satisfied"), "phone")
    with pytest.raises(NotFound):
        evaluations.state(make_code("hk-01", date(2026, 11, 24), 99))
    with pytest.raises(Invalid):
        evaluations.record(code, Answers(ALL_TWO, "satisfied", "satisfied"), "email")


def test_quarters_and_day_bounds():
    assert quarter_days(2026, 4) == (date(2026, 10, 1), date(2026, 12, 31))
    assert quarter_days(2027, 1) == (date(2027, 1, 1), date(2027, 3, 31))
    with pytest.raises(Invalid):
        quarter_days(2026, 5)
    start, end = bounds("2026-11-24", date(2026, 11, 24))
    assert (start, end) == (datetime(2026, 11, 24, tzinfo=TZ).timestamp(),
                            datetime(2026, 11, 25, tzinfo=TZ).timestamp())
    assert bounds(1.5, 7) == (1.5, 7.0)


def test_the_quarter_report_groups_by_branch_and_department(store, evaluations, clock):
    answers = [([2] * 9, "very_satisfied"), ([2] * 8 + [0], "satisfied"), ([1] * 9, "dissatisfied")]
    for seq, (scores, overall) in enumerate(answers, start=10):
        code = dossier(store, seq, branch="hk-01" if seq < 12 else "hk-02")
        evaluations.record(code, Answers(scores, "satisfied", overall), "phone")
    rows = evaluations.between(*bounds("2026-10-01", "2026-12-31"))
    report = quarter_report(rows, branches=["hk-01", "hk-02", "hk-03"], departments=["finance", "justice"])
    by_branch = {r["branch"]: r for r in report["branches"]}
    assert by_branch["hk-01"] == {"branch": "hk-01", "evaluated": 2, "average": 17.0, "grade": "excellent",
                                  "very_satisfied": 1, "satisfied": 1, "dissatisfied": 0}
    assert by_branch["hk-02"]["average"] == 9.0 and by_branch["hk-02"]["grade"] == "fair"
    assert by_branch["hk-03"] == {"branch": "hk-03", "evaluated": 0, "average": None, "grade": None,
                                  "very_satisfied": 0, "satisfied": 0, "dissatisfied": 0}
    assert report["total"]["average"] == round((18 + 16 + 9) / 3, 2) and report["total"]["grade"] == "good"
    assert {r["department"]: r["evaluated"] for r in report["departments"]} == {"finance": 3, "justice": 0}
    assert evaluations.between(*bounds("2026-07-01", "2026-09-30")) == []


def test_satisfaction_from_the_store_or_from_rows(store, evaluations, clock):
    for seq, overall in enumerate(["very_satisfied", "satisfied", "dissatisfied", "satisfied"], start=20):
        code = dossier(store, seq, department="justice" if seq == 23 else "finance")
        evaluations.record(code, Answers(ALL_TWO, "satisfied", overall), "counter")
        clock.advance(3600)
    assert satisfaction(store, start="2026-11-24", end="2026-11-24") == {"evaluated": 4, "satisfied_share": 0.75}
    assert satisfaction(store, department="finance", start="2026-11-24", end="2026-11-24") == \
        {"evaluated": 3, "satisfied_share": 2 / 3}
    assert satisfaction(store, branch="hk-02", start="2026-11-24", end="2026-11-24") == \
        {"evaluated": 0, "satisfied_share": None}
    assert satisfaction(store, start="2026-11-25", end="2026-11-30")["evaluated"] == 0
    rows = store.query("select * from dossier_evaluations")
    assert satisfaction(rows, start=NOON, end=NOON + 2 * 3600) == {"evaluated": 2, "satisfied_share": 1.0}
