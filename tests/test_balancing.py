"""Offering a nearby branch: who is offered what, the wait there counting each citizen once, and
opening hours where they are kept."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from motcua.core import administration, scenario
from motcua.core.balancing import RedirectRules, alternatives, distance_km
from motcua.core.clock import FakeClock
from motcua.core.engine import EngineSettings, QueueEngine
from motcua.core.journeys import Journeys

from conftest import HOAN_KIEM

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
RULES = RedirectRules(max_offers=5)
LAND_MIN = 20.0  # hoan-kiem's mean land service


def make_engine(at: datetime, **settings) -> QueueEngine:
    data = scenario.load(HOAN_KIEM)
    return QueueEngine(scenario.branches(data), scenario.services(data), scenario.counters(data),
                       FakeClock(at.timestamp()), settings=EngineSettings(**settings))


def travel_min(engine: QueueEngine, a: str, b: str) -> float:
    one, other = engine.branch(a), engine.branch(b)
    return distance_km(one.lat, one.lon, other.lat, other.lon) * RULES.detour_factor / RULES.speed_kmh * 60


@pytest.fixture
def engine():
    return make_engine(datetime(2026, 11, 24, 9, 0, tzinfo=HANOI))


def crowd(engine: QueueEngine, count: int = 12) -> None:
    for _ in range(count):
        engine.issue("hk-01", "land")


def test_distance_is_great_circle():
    assert distance_km(21.0, 105.8, 22.0, 105.8) == pytest.approx(111.19, abs=0.01)


def test_a_long_queue_is_offered_the_idle_branches_nearest_first(engine):
    assert alternatives(engine, "hk-01", "land", RULES) == []  # nobody waits: nothing to save
    crowd(engine)
    offers = alternatives(engine, "hk-01", "land", RULES)
    assert [a.branch for a in offers] == sorted(("hk-02", "hk-03", "hn-hq"), key=lambda b: travel_min(engine, "hk-01", b))
    for offer in offers:
        assert offer.estimated_wait_min == pytest.approx(0, abs=1e-6) and offer.travel_min == pytest.approx(travel_min(engine, "hk-01", offer.branch))
    assert alternatives(engine, "hk-01", "land", RedirectRules(max_offers=1)) == offers[:1]
    assert alternatives(engine, "hk-01", "land", RedirectRules(max_km=1.0, max_offers=5)) == []


def test_a_branch_closed_by_an_admin_is_offered_to_no_one(engine):
    crowd(engine)
    administration.update_branch(engine, "hk-02", closed=True)
    offers = [a.branch for a in alternatives(engine, "hk-01", "land", RULES)]
    assert "hk-02" not in offers and offers  # the others still are
    administration.update_branch(engine, "hk-02", closed=False)
    assert "hk-02" in [a.branch for a in alternatives(engine, "hk-01", "land", RULES)]


def test_an_offer_not_taken_counts_nowhere(engine):
    crowd(engine)
    before = {b: engine.estimate_new(b, "land", arriving_at=engine.now() + 300) for b in ("hk-02", "hk-03", "hn-hq")}
    journeys = Journeys(engine, RULES)
    assert journeys.issue("hk-01", "land").alternatives  # offered, and the citizen stays
    assert {b: engine.estimate_new(b, "land", arriving_at=engine.now() + 300) for b in before} == before


def test_a_citizen_sent_to_a_branch_counts_once_in_its_wait(engine):
    crowd(engine)
    journeys = Journeys(engine, RULES)
    issued = journeys.issue("hk-01", "land")
    best = issued.alternatives[0]
    assert best.branch == "hk-03"  # nearest; one counter there does land
    journeys.redirect(issued.ticket.id, "hk-03")
    offers = {a.branch: a for a in alternatives(engine, "hk-01", "land", RULES)}
    # The next citizen would wait there for the one already on the way: one service, not two, not none.
    assert offers["hk-03"].estimated_wait_min == pytest.approx(LAND_MIN)
    assert offers["hn-hq"].estimated_wait_min == pytest.approx(0, abs=1e-6)  # two land counters: still one free on arrival


def test_a_branch_closing_before_the_citizen_gets_there_is_offered_only_where_hours_are_not_kept():
    late = datetime(2026, 11, 24, 16, 57, tzinfo=HANOI)
    for kept in (True, False):
        engine = make_engine(late, enforce_hours=kept)
        crowd(engine)
        offered = {a.branch for a in alternatives(engine, "hk-01", "land", RULES)}
        # hk-03 is 4.8 minutes away, past 17:00; the others farther still.
        assert offered == (set() if kept else {"hk-02", "hk-03", "hn-hq"})
