"""The dashboard's figures (motcua.core.dashboard) and moving several counters at once in the engine."""
from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from motcua.core import dashboard, scenario
from motcua.core.clock import FakeClock, LocalTime
from motcua.core.engine import QueueEngine
from motcua.core.model import Conflict, Invalid, Rating, Ticket

from conftest import HOAN_KIEM

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
LOCAL = LocalTime("Asia/Ho_Chi_Minh")


def at(hour: int, minute: int = 0) -> float:
    return datetime(2026, 11, 24, hour, minute, tzinfo=HANOI).timestamp()


def ticket(n: int, arrived: float, called: float | None = None, status: str = "waiting", **more) -> Ticket:
    return Ticket(id=f"t{n}", branch="hk-01", service="civil", number=f"A{n:03d}", day="2026-11-24",
                  issued_at=arrived, created_at=more.pop("created_at", arrived), first_called_at=called,
                  called_at=more.pop("called_at", called), status=status, **more)


@pytest.mark.parametrize("minutes, expected", [
    ([], dashboard.Waits(0, None, None, None)),
    ([7.0], dashboard.Waits(1, 7.0, 7.0, 100.0)),
    ([10.0, 20.0], dashboard.Waits(2, 15.0, 19.0, 50.0)),
    (list(map(float, range(1, 11))), dashboard.Waits(10, 5.5, 9.1, 100.0)),
    ([15.0, 15.1, 40.0, 5.0], dashboard.Waits(4, 18.8, 32.5, 50.0)),
])
def test_waits_mean_p90_and_share_within_target(minutes, expected):
    assert dashboard.waits(minutes, 15.0) == expected


def test_a_wait_runs_from_issue_here_or_from_when_a_redirected_citizen_was_expected():
    assert dashboard.wait_min(ticket(1, at(8), at(8, 40))) == 40.0
    # Sent from another branch at 8:00 (first arrival 7:50), expected at 8:20, called at 8:40.
    redirected = ticket(2, at(7, 50), at(8, 40), created_at=at(8), due_at=at(8, 20))
    assert dashboard.wait_min(redirected) == 20.0
    assert dashboard.wait_min(ticket(3, at(8))) is None


def test_hours_run_from_opening_to_closing_and_widen_for_late_work():
    assert list(dashboard.hour_slots(7 * 60 + 30, 17 * 60, [])) == list(range(7, 17))
    assert list(dashboard.hour_slots(7 * 60 + 30, 17 * 60, [6 * 60 + 59, 18 * 60 + 5])) == list(range(6, 19))


def test_day_figures_by_hour_with_ratings_of_this_branch_only():
    tickets = [ticket(1, at(8, 0), at(8, 10), "done"), ticket(2, at(8, 30), at(9, 20), "done"),
               ticket(3, at(9, 5), at(9, 10), "no_show", called_at=at(10, 2)), ticket(4, at(9, 50))]
    ratings = [Rating("t1", 4, ("fast",), "", at(8, 30)), Rating("t2", 1, ("slow", "fast"), "quá lâu", at(9, 40)),
               Rating("t2", 3, (), "later", at(9, 45)), Rating("elsewhere", 1, ("slow",), "x", at(9))]
    day = dashboard.day_figures(tickets, ratings, LOCAL.minutes_of_day, 450, 1020, 15.0)
    hour = {h: i for i, h in enumerate(day["hours"])}
    assert day["arrivals"][hour["08:00"]] == 2 and day["arrivals"][hour["09:00"]] == 2
    assert day["called"][hour["08:00"]] == 1 and day["called"][hour["09:00"]] == 2
    assert day["wait_mean_min"][hour["09:00"]] == 27.5       # 50 and 5
    assert day["within_target_pct"][hour["09:00"]] == 50.0
    assert day["no_shows"][hour["10:00"]] == 1 and sum(day["no_shows"]) == 1   # the last call they missed
    assert day["totals"]["served"] == 2 and day["totals"]["waiting"] == 1
    assert day["totals"]["ratings"] == 3 and day["totals"]["mean_rating"] == round(8 / 3, 2)
    assert day["ratings"]["reasons"] == [{"reason": "fast", "count": 2}, {"reason": "slow", "count": 1}]
    assert [c["comment"] for c in day["ratings"]["comments"]] == ["later", "quá lâu"]


def test_load_and_longest_wait():
    assert dashboard.branch_load(6, 4) == 1.5 and dashboard.branch_load(3, 0) is None
    assert dashboard.longest([None, 4.0, 12.5]) == 12.5 and dashboard.longest([None]) is None


# ---- the engine: several counters moved in one commit -----------------------------------------

class Journal:
    def __init__(self):
        self.changes = []

    def commit(self, change):
        self.changes.append(change)


@pytest.fixture
def engine():
    data = scenario.load(HOAN_KIEM)
    branches = scenario.branches(data)
    # hk-02 offers no building permits here: a counter may not be asked to serve them.
    branches = [dataclasses.replace(b, services=tuple(s for s in b.services if s != "build"))
                if b.id == "hk-02" else b for b in branches]
    return QueueEngine(branches, scenario.services(data), scenario.counters(data), FakeClock(at(8)), Journal())


def services(engine, branch="hk-01"):
    return {c.id: c.services for c in engine.counters_of(branch)}


def test_moves_are_committed_together_and_answer_before_and_after(engine):
    before, after = engine.move_counters("hk-01", [("2", ("civil",), ("civil", "cert")), ("3", ("cert",), ("civil",))])
    assert len(engine.journal.changes) == 1 and len(engine.journal.changes[0].counters) == 2
    assert [c.services for c in before] == [("civil",), ("cert",)]
    assert [c.services for c in after] == [("civil", "cert"), ("civil",)]
    assert services(engine)["2"] == ("civil", "cert") and services(engine)["3"] == ("civil",)


@pytest.mark.parametrize("moves, error, code", [
    ([("2", ("civil",), ("cert",)), ("3", ("land",), ("civil",))], Conflict, "counters_changed"),
    ([("2", ("civil",), ("cert",)), ("2", ("civil",), ("land",))], Invalid, "duplicate_counter"),
    ([("2", ("civil",), ())], Invalid, "no_services"),
])
def test_one_bad_move_refuses_them_all(engine, moves, error, code):
    original = services(engine)
    with pytest.raises(error) as refused:
        engine.move_counters("hk-01", moves)
    assert refused.value.code == code
    assert services(engine) == original and not engine.journal.changes


def test_a_move_to_a_service_the_branch_does_not_offer_is_refused(engine):
    with pytest.raises(Conflict) as refused:
        engine.move_counters("hk-02", [("4", ("business", "build"), ("business", "build"))])
    assert refused.value.code == "not_offered"


def test_no_moves_commit_nothing(engine):
    assert engine.move_counters("hk-01", []) == ([], [])
    assert not engine.journal.changes
