"""Offering a nearby branch: who is offered what, the wait there counting each citizen once, and
opening hours where they are kept."""
from __future__ import annotations

import random
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from motcua.core import administration, scenario
from motcua.core.balancing import RedirectRules, alternatives, distance_km, nearby, sooner
from motcua.core.clock import FakeClock
from motcua.core.engine import EngineSettings, QueueEngine
from motcua.core.journeys import Journeys

from conftest import HOAN_KIEM, ROOT

sys.path.insert(0, str(ROOT / "bench"))
from offers import Counting  # noqa: E402  (lives in bench/, not in the package)

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


def grid_city(branches: int = 120, spacing_km: float = 1.5, seed: int = 5) -> QueueEngine:
    """A city of many branches close together (each within 5 km of dozens), queues of every length."""
    rng = random.Random(seed)
    services = [{"id": s, "name": s, "service_min": {"mean": m}} for s, m in (("a", 8), ("b", 15), ("c", 25))]
    side = 12
    found = []
    for n in range(branches):
        row, col = divmod(n, side)
        lat = 10.77 + (row + rng.uniform(-0.3, 0.3)) * spacing_km / 111.2
        lon = 106.70 + (col + rng.uniform(-0.3, 0.3)) * spacing_km / 109.3
        counters = [{"id": str(c + 1), "services": rng.sample(["a", "b", "c"], rng.randint(1, 2))}
                    for c in range(rng.randint(1, 4))]
        found.append({"id": f"b{n:03d}", "name": f"Chi nhánh {n}", "lat": lat, "lon": lon, "counters": counters})
    data = {"format": "motcua-scenario/1", "open": "07:30", "close": "17:00", "services": services,
            "branches": found, "arrivals": []}
    engine = QueueEngine(scenario.branches(data), scenario.services(data), scenario.counters(data),
                         FakeClock(datetime(2026, 11, 24, 9, 0, tzinfo=HANOI).timestamp()))
    for branch in engine.branches.values():
        for _ in range(rng.choice([0, 0, 1, 3, 8, 20])):
            engine.issue(branch.id, rng.choice(sorted(branch.services)))
    return engine


def test_offers_ask_only_the_branches_that_could_win_and_answer_as_if_all_were_asked():
    """Nobody is called before getting there: a branch whose trip alone is longer than the saving allows,
    or than the best found so far, cannot be offered, and is not asked its wait. The answers are the
    same as asking every branch within reach, ties in the same order."""
    engine = grid_city()
    rng = random.Random(9)
    view, rules = engine.published(), RedirectRules(max_offers=3)
    asked = {"all": 0, "best": 0, "sooner": 0}
    for _ in range(60):
        home = engine.branch(rng.choice(sorted(engine.branches)))
        service = rng.choice(["a", "b", "c"])
        everyone, best, offered = Counting(view), Counting(view), Counting(view)
        full = nearby(everyone, home.lat, home.lon, service, rules)
        assert len(full) >= 5
        assert nearby(best, home.lat, home.lon, service, rules, limit=1) == full[:1]
        assert nearby(view, home.lat, home.lon, service, rules, limit=3) == full[:3]
        assert nearby(view, home.lat, home.lon, service, rules, limit=0) == []
        for here in (0.5, 4.0, 12.0, 30.0, 90.0):
            wanted = [a for a in full if a.branch != home.id
                      and here - a.called_in_min >= rules.min_saving_min][:rules.max_offers]
            assert sooner(offered if here == 12.0 else view, home.id, service, here, rules) == wanted
        asked["all"] += everyone.asked
        asked["best"] += best.asked
        asked["sooner"] += offered.asked
    # The best branch, and the offers to a citizen called in 12 minutes here, ask a fraction of the waits.
    assert asked["best"] < asked["all"] / 2 and asked["sooner"] < asked["all"] / 2, asked


def test_the_offers_bench_finds_the_same_answers_at_a_city_s_size():
    """bench/offers.py checks every answer against asking every branch, on 350 branches a kilometre apart."""
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "offers.py"), "--spacing-km", "1", "--asks", "100"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = [line for line in run.stdout.splitlines() if "waits asked" in line]
    asked = [float(line.split("ms")[-1].split()[0]) for line in lines]
    assert len(asked) == 4 and asked[1] < asked[0] and asked[3] < asked[2], run.stdout
