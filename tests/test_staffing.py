"""Staffing advice: Erlang C, the forecast, the moves, and the manager's endpoint on a real server."""
from __future__ import annotations

import math
import subprocess
import sys
from datetime import date
from pathlib import Path

import requests

from motcua.core import scenario
from motcua.core.clock import FakeClock, LocalTime
from motcua.core.engine import QueueEngine
from motcua.core.model import Branch, Counter, Service
from motcua.core.staffing import (HourlyRates, StaffingRules, _shares, advise, counters_needed, erlang_c,
                                  forecast_rates, within_target)

MONDAY = date(2026, 1, 5)
LOCAL = LocalTime("Asia/Ho_Chi_Minh")


def test_erlang_c_matches_the_textbook():
    # M/M/2 at one erlang: P(wait) = 1/3; M/M/1: P(wait) = utilisation.
    assert math.isclose(erlang_c(2, 1.0), 1 / 3)
    assert math.isclose(erlang_c(1, 0.7), 0.7)
    assert erlang_c(3, 3.0) == 1.0 and erlang_c(4, 0.0) == 0.0


def test_counters_needed_is_the_fewest_that_meet_the_level():
    for load in (0.4, 3.0, 7.5, 20.0):
        needed = counters_needed(load, 9.0, 15.0, 0.9)
        assert within_target(needed, load, 9.0, 15.0) >= 0.9
        assert needed == 1 or within_target(needed - 1, load, 9.0, 15.0) < 0.9
    assert counters_needed(0.0, 9.0, 15.0, 0.9) == 0


def test_forecast_averages_past_same_weekdays_and_scales_by_today():
    open_min, close_min = 450, 1020  # 07:30 to 17:00
    past = []
    for weeks_ago in (1, 2):
        day = date.fromordinal(MONDAY.toordinal() - 7 * weeks_ago)
        past += [(day, "civil", open_min + 60 + i) for i in range(10)]  # ten in the second hour
    past += [(date(2026, 1, 3), "civil", open_min + 60 + i) for i in range(50)]  # a Saturday: ignored
    today = [(MONDAY, "civil", open_min + 60 + i) for i in range(20)]  # twice as busy as usual
    rates = forecast_rates(past + today, MONDAY, open_min + 120, open_min, close_min, start=0.0)
    assert rates.per_hour["civil"][0] == 0
    assert math.isclose(rates.per_hour["civil"][1], 10 * (20 + 5) / (10 + 5))
    nothing_before = forecast_rates(today, MONDAY, open_min + 120, open_min, close_min, start=0.0)
    assert nothing_before.per_hour["civil"][5] == 20  # no history: the last hour's pace goes on


def test_with_no_history_a_few_citizens_at_the_opening_are_not_the_days_rate():
    open_min, close_min = 450, 1020  # 07:30 to 17:00
    at_the_door = [(MONDAY, "land", open_min + 0.2 * i) for i in range(3)]
    # Two minutes after opening, three tickets are read over 15 minutes (12 an hour), not over two (90).
    assert forecast_rates(at_the_door, MONDAY, open_min + 2, open_min, close_min, 0.0).per_hour["land"][3] == 12
    assert forecast_rates(at_the_door, MONDAY, open_min + 30, open_min, close_min, 0.0).per_hour["land"][3] == 6
    # Taken before the opening (a branch that keeps no hours, or a demo): over the last hour, not its last minute.
    early = [(MONDAY, "land", 300 + 0.2 * i) for i in range(3)]
    assert forecast_rates(early, MONDAY, 301, open_min, close_min, 0.0).per_hour["land"][3] == 3


def _engine(clock):
    services = [Service("civil", "Hộ tịch", "Civil status", "A", 9.0), Service("land", "Đất đai", "Land", "C", 20.0)]
    branch = Branch("b1", "Một", "One", 21.0, 105.8, ("civil", "land"))
    counters = [Counter("b1", "1", ("civil",)), Counter("b1", "2", ("civil",)), Counter("b1", "3", ("land",))]
    return QueueEngine([branch], services, counters, clock)


def test_a_long_land_queue_gets_counters_and_hands_them_back_later():
    clock = FakeClock(LOCAL.epoch(MONDAY, "08:00"))
    engine = _engine(clock)
    quiet = HourlyRates(LOCAL.epoch(MONDAY, "07:30"), {"civil": [4.0] * 10, "land": [0.3] * 10})
    assert advise(engine, "b1", quiet).moves == []
    for _ in range(12):
        engine.issue("b1", "land")
    advice = advise(engine, "b1", quiet)
    land = next(n for n in advice.needs if n.service == "land")
    assert land.waiting == 12 and land.needed >= 3 and land.shortfall > 0
    taking_on_land = [m for m in advice.moves if m.reason == "land"]
    assert {(m.counter, m.to_services) for m in taking_on_land} == {("1", ("civil", "land")), ("2", ("civil", "land"))}
    assert all("land" in m.to_services for m in advice.moves)  # nobody leaves the long queue
    for move in advice.moves:
        engine.update_counter("b1", move.counter, services=move.to_services)
    assert advise(engine, "b1", quiet).moves == []  # applied: nothing more to do
    while (ticket := engine.call_next("b1", "3")) is not None:
        engine.done(ticket.id)
    home = {"1": ("civil",), "2": ("civil",), "3": ("land",)}
    back = advise(engine, "b1", quiet, StaffingRules(), home)
    assert {(m.counter, m.to_services) for m in back.moves} <= {("1", ("civil",)), ("2", ("civil",)), ("3", ("land",))}
    assert {m.counter for m in back.moves} >= {"1", "2"}


def test_an_idle_counter_takes_on_its_move_of_the_advice_at_once_and_only_then():
    """An officer's Next that finds nobody for the counter's services, while citizens wait for others, has the
    counter take on what the advice has it take on; a counter with its own queue, or nobody to help, stays."""
    clock = FakeClock(LOCAL.epoch(MONDAY, "08:00"))
    engine = _engine(clock)
    quiet = HourlyRates(LOCAL.epoch(MONDAY, "07:30"), {"civil": [4.0] * 10, "land": [0.3] * 10})
    home = {"1": ("civil",), "2": ("civil",), "3": ("land",)}
    assert engine.take_on_short("b1", "1", quiet, StaffingRules(), home) is None   # nobody waits anywhere
    for _ in range(12):
        engine.issue("b1", "land")
    assert not engine.waiting_beside("b1", "3") and engine.waiting_beside("b1", "1")
    civil = engine.issue("b1", "civil")
    # Counter 1 has its own citizen: it calls them, takes nothing on.
    assert engine.call_next("b1", "1").id == civil.id
    assert engine.take_on_short("b1", "1", quiet, StaffingRules(), home) is None   # busy with them
    assert engine.counter("b1", "1").services == ("civil",)
    # Counter 2 finds nobody of its own: it takes land on, as the advice would have it, and calls from it.
    assert engine.call_next("b1", "2") is None
    wanted = next(m for m in advise(engine, "b1", quiet, StaffingRules(), home).moves if m.counter == "2")
    assert engine.take_on_short("b1", "2", quiet, StaffingRules(idle_takes_on=False), home) is None   # the setting off
    assert engine.counter("b1", "2").services == ("civil",)
    move = engine.take_on_short("b1", "2", quiet, StaffingRules(), home, actor="off1")
    assert move == wanted and move.to_services == ("civil", "land")
    assert engine.counter("b1", "2").services == ("civil", "land")
    assert engine.call_next("b1", "2").service == "land"
    # Asked again at once: the advice has nothing more for it.
    engine.done(engine.serving_at("b1", "2").id)
    assert engine.take_on_short("b1", "2", quiet, StaffingRules(), home) is None


def test_a_trials_shares_are_the_full_shares_to_the_last_bit():
    """_best_helper works a trial's shares out for the trying counter's services only; they must be the
    full computation's exactly, or a tie between counters could go the other way."""
    import random
    from motcua.core.staffing import _able, _parts, _trial_shares
    rng = random.Random(5)
    tried = 0
    for _ in range(2000):
        names = [f"s{i}" for i in range(rng.randint(1, 30))]
        plan = {f"c{i}": tuple(rng.sample(names, rng.randint(1, min(4, len(names))))) for i in range(rng.randint(1, 20))}
        needed = {s: rng.choice([0, 0, 1, 2, 3, 5]) for s in names}
        counter = rng.choice(list(plan))
        free = [s for s in names if s not in plan[counter]]
        if not free:
            continue
        service = rng.choice(free)
        trial = {**plan, counter: plan[counter] + (service,)}
        able = _able(trial)
        serving = {}
        for k, services in plan.items():
            for s, part in _parts(services, able, needed).items():
                serving.setdefault(s, []).append((k, part))
        order = {k: i for i, k in enumerate(plan)}
        fast = _trial_shares(serving, order, counter, _parts(trial[counter], able, needed))
        full = _shares(trial, needed)
        assert fast == {s: full[s] for s in trial[counter]}
        tried += 1
    assert tried > 1500


def test_the_advice_bench_finds_the_same_moves_at_a_real_branch_s_size():
    """bench/advice.py checks every advice's moves against working each trial's shares out in full."""
    bench = Path(__file__).resolve().parents[1] / "bench" / "advice.py"
    run = subprocess.run([sys.executable, str(bench), "--services", "25", "--counters", "12", "--short", "8",
                          "--asks", "8"], capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("median") == 2 and "moves checked equal" in run.stdout, run.stdout


def test_a_counter_on_its_break_is_not_counted():
    clock = FakeClock(LOCAL.epoch(MONDAY, "12:00"))
    engine = _engine(clock)
    engine.update_counter("b1", "3", services=("land",))
    engine._put_counter(Counter("b1", "3", ("land",), True, (("07:30", "11:30"), ("15:00", "17:00"))))
    rates = HourlyRates(LOCAL.epoch(MONDAY, "07:30"), {"land": [3.0] * 10})
    advice = advise(engine, "b1", rates)
    assert {m.counter for m in advice.moves} >= {"1"}  # land has nobody on duty for the coming hour


def test_manager_reads_recommendations_and_applies_a_move(fresh_server):
    server = fresh_server
    for _ in range(25):
        assert server.post("/branches/hk-01/tickets", "kiosk1", {"service": "land"}).status_code == 201
    url = server.api + "/branches/hk-01/recommendations"
    answer = requests.get(url, headers=server.auth("mgr1"), timeout=10)
    assert answer.status_code == 200, answer.text
    advice = answer.json()
    land = next(s for s in advice["services"] if s["service"] == "land")
    assert land["waiting"] == 25 and land["needed"] > land["have"] and land["name"]["vi"] == "Đất đai"
    assert advice["moves"], advice
    move = advice["moves"][0]
    assert "land" in move["to_services"] and move["text"]["vi"].startswith(f"Quầy {move['counter']}: ")
    assert "Đất đai" in move["text"]["vi"] and "Land" in move["text"]["en"]
    applied = server.post(move["apply"]["path"].removeprefix("/api/v1"), "mgr1", move["apply"]["body"])
    assert applied.status_code == 200 and "land" in applied.json()["services"]
    again = requests.get(url, headers=server.auth("mgr1"), timeout=10).json()
    assert move["counter"] not in {m["counter"] for m in again["moves"]}


def test_recommendations_refusals(server):
    url = server.api + "/branches/{}/recommendations"
    assert requests.get(url.format("hk-01"), timeout=10).status_code == 401
    assert requests.get(url.format("nowhere"), headers=server.auth("mgr1"), timeout=10).status_code == 404
    assert requests.get(url.format("hk-01"), headers=server.auth("off1"), timeout=10).status_code == 403
    assert requests.get(url.format("hk-02"), headers=server.auth("mgr1"), timeout=10).json()["error"]["code"] == "other_branch"


def test_after_close_a_last_shift_that_runs_to_close_serves_the_queue_out():
    clock = FakeClock(LOCAL.epoch(MONDAY, "17:30"))
    engine = _engine(clock)
    for counter in ("1", "2"):  # their day ended before close
        engine._put_counter(Counter("b1", counter, ("civil",), True, (("07:30", "16:00"),)))
    engine._put_counter(Counter("b1", "3", ("land",), True, (("07:30", "12:00"), ("13:00", "17:00"))))
    engine.issue("b1", "land")
    advice = advise(engine, "b1", HourlyRates(LOCAL.epoch(MONDAY, "07:30"), {}))
    land = next(n for n in advice.needs if n.service == "land")
    # Counter 3 is still on duty for the citizen left, as the estimate counts it; nobody else is.
    assert (land.waiting, land.have, advice.moves) == (1, 1.0, [])
    assert engine.estimate_new("b1", "land") == 20.0  # behind the citizen counter 3 is about to serve


# ---- properties: any branch, any queues, any forecast --------------------------------------------

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

SERVICE_IDS = ("s0", "s1", "s2", "s3", "s4", "s5")


@st.composite
def branches(draw):
    """A branch of 2 to 6 services and 1 to 8 counters, each with its own services, and its queues
    and forecast (some services with neither)."""
    ids = SERVICE_IDS[:draw(st.integers(2, len(SERVICE_IDS)))]
    means = {s: draw(st.sampled_from((3.0, 9.0, 20.0, 45.0))) for s in ids}
    counters = [tuple(sorted(draw(st.sets(st.sampled_from(ids), min_size=1, max_size=2))))
                for _ in range(draw(st.integers(1, 8)))]
    waiting = {s: draw(st.sampled_from((0, 0, 1, 5, 25, 60))) for s in ids}
    forecast = {s: draw(st.sampled_from((0.0, 0.0, 2.0, 8.0, 30.0))) for s in ids}
    return means, counters, waiting, forecast


def _branch_engine(means, counters, waiting):
    clock = FakeClock(LOCAL.epoch(MONDAY, "09:00"))
    services = [Service(s, s, s, chr(65 + i), m) for i, (s, m) in enumerate(means.items())]
    branch = Branch("b1", "Một", "One", 21.0, 105.8, tuple(means))
    engine = QueueEngine([branch], services, [Counter("b1", str(i + 1), c) for i, c in enumerate(counters)], clock)
    for service, count in waiting.items():
        for _ in range(count):
            engine.issue("b1", service)
    return engine


def _case(case):
    """(engine, forecast rates, each counter's own services) of a drawn branch."""
    means, counters, waiting, forecast = case
    rates = HourlyRates(LOCAL.epoch(MONDAY, "07:30"), {s: [r] * 10 for s, r in forecast.items()})
    return _branch_engine(means, counters, waiting), rates, {str(i + 1): c for i, c in enumerate(counters)}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(branches())
def test_advice_applied_and_asked_again_at_once_gives_no_moves(case):
    engine, rates, home = _case(case)
    first = advise(engine, "b1", rates, StaffingRules(), home)
    for move in first.moves:
        engine.update_counter("b1", move.counter, services=move.to_services)
    again = advise(engine, "b1", rates, StaffingRules(), home)
    assert again.moves == []
    # Applying part of the advice leaves the rest of it, not a new one.
    engine = _case(case)[0]
    if first.moves:
        engine.update_counter("b1", first.moves[0].counter, services=first.moves[0].to_services)
        rest = advise(engine, "b1", rates, StaffingRules(), home)
        assert [(m.counter, m.to_services) for m in rest.moves] == [(m.counter, m.to_services) for m in first.moves[1:]]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(branches())
def test_a_service_with_no_queue_and_no_forecast_is_never_short_nor_taken_on(case):
    means, _, waiting, forecast = case
    engine, rates, home = _case(case)
    advice = advise(engine, "b1", rates, StaffingRules(), home)
    idle = {s for s in means if not waiting[s] and not forecast[s]}
    for need in advice.needs:
        if need.service in idle:
            assert need.needed == 0 and need.shortfall <= 0
        if need.waiting:   # a queue always needs a counter, however quick its services
            assert need.needed >= 1
    for move in advice.moves:
        assert not idle & (set(move.to_services) - set(move.from_services))
        assert move.reason not in idle or move.reason not in move.to_services


@settings(max_examples=100, deadline=None)
@given(st.sampled_from((3.0, 9.0, 20.0, 45.0)), st.integers(1, 80))
def test_a_long_queue_is_short_of_counters(mean, waiting):
    # One counter for the service, nothing forecast: a queue that takes it longer than the horizon to
    # clear (the backlog is to be cleared within it) needs more counters, and the advice says so.
    engine = _branch_engine({"s0": mean, "s1": 5.0}, [("s0",), ("s1",)], {"s0": waiting, "s1": 0})
    advice = advise(engine, "b1", HourlyRates(LOCAL.epoch(MONDAY, "07:30"), {}), StaffingRules(),
                    {"1": ("s0",), "2": ("s1",)})
    need = next(n for n in advice.needs if n.service == "s0")
    assert need.needed >= 1
    if waiting * mean > StaffingRules().horizon_min:
        assert need.needed >= 2 and need.shortfall > 0
        assert [(m.counter, m.to_services) for m in advice.moves] == [("2", ("s1", "s0"))]


def test_citizens_waiting_come_before_a_forecast_when_counters_are_too_few():
    # Hoan Kiem's hk-01 at 10:00 on its usual forecast, 25 land tickets waiting: more is needed than
    # its six counters give. The counters help the land queue; none takes on a service with nobody waiting.
    data = scenario.load(scenario.bundled("hoan-kiem"))
    clock = FakeClock(LOCAL.epoch(MONDAY, "10:00"))
    engine = QueueEngine(scenario.branches(data), scenario.services(data), scenario.counters(data), clock)
    rates = HourlyRates(LOCAL.epoch(MONDAY, "07:30"),
                        {a["service"]: a["per_hour"] for a in data["arrivals"] if a["branch"] == "hk-01"})
    for _ in range(25):
        engine.issue("hk-01", "land")
    home = {c.id: c.services for c in engine.counters_of("hk-01")}
    advice = advise(engine, "hk-01", rates, StaffingRules(), home)
    land = next(n for n in advice.needs if n.service == "land")
    assert land.needed > land.have + 1
    taken_on = {s for m in advice.moves for s in m.to_services if s not in m.from_services}
    assert taken_on == {"land"}, advice.moves
    assert {m.counter for m in advice.moves} == {c for c, services in home.items() if "land" not in services}
    # Applied: no move is left, and land is still short (the branch has too few counters), which the advice says.
    for move in advice.moves:
        engine.update_counter("hk-01", move.counter, services=move.to_services)
    again = advise(engine, "hk-01", rates, StaffingRules(), home)
    assert again.moves == [] and "land" in {n.service for n in again.needs if n.short}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0, 50), max_size=12), st.floats(-5 * 3600, 15 * 3600), st.floats(0, 12 * 3600))
def test_a_forecasts_mean_rate_over_any_span_is_its_hours_weighted_by_overlap(per_hour, t0, length):
    """mean_per_min visits only the hours a span touches (a day's slots ask it thousands of times): the
    same as weighing every hour by its overlap with the span."""
    start = LOCAL.epoch(MONDAY, "07:30")
    rates = HourlyRates(start, {"s": per_hour})
    t0, t1 = start + t0, start + t0 + length
    overlaps = [max(0.0, min(start + (h + 1) * 3600, t1) - max(start + h * 3600, t0)) for h in range(len(per_hour))]
    span = t1 - t0   # the span as the epoch's floats hold it
    expected = sum(r * o / 3600 for r, o in zip(per_hour, overlaps)) / (span / 60) if span > 0 and per_hour else 0.0
    assert math.isclose(rates.mean_per_min("s", t0, t1), expected, rel_tol=1e-9, abs_tol=1e-12)
    assert rates.mean_per_min("other", t0, t1) == 0.0
