"""Wait estimates: shifts honoured, the 80% range calibrated on how estimates turned out."""
from __future__ import annotations

import math

from motcua.core import scenario
from motcua.core.model import Counter
from motcua.core.prediction import Schedule, WaitRanges, duty_windows, estimate_wait_min
from motcua.core.simulator import CityDay, range_held_pct


def test_range_starts_wide_then_follows_the_errors_seen():
    ranges = WaitRanges(min_samples=30)
    assert ranges.range("b", 15.0) == (0.0, 15.0 + 4.0 * 4.0)
    for i in range(101):  # estimates of 8 minutes that ended between 5 and 14.75
        ranges.record("b", 8.0, 5.0 + i * 9.75 / 100)
    low, high = ranges.range("b", 8.0)
    assert math.isclose(low, 5.0 + 10 * 9.75 / 100) and math.isclose(high, 5.0 + 90 * 9.75 / 100)
    assert ranges.range("other", 8.0) == (0.0, 20.0)  # per branch


def test_a_counter_on_its_lunch_break_serves_nobody_until_it_is_back():
    counters = [Counter("b", "1", ("civil",), True, (("07:30", "11:30"), ("13:00", "17:00")))]
    windows = {"1": duty_windows(counters[0].shifts, 12 * 60, "17:00")}  # it is noon
    assert estimate_wait_min("civil", counters, [], {}, {"civil": 9.0}, windows) == 60.0
    assert estimate_wait_min("civil", counters, ["civil"] * 2, {}, {"civil": 9.0}, windows) == 78.0
    assert estimate_wait_min("civil", counters, [], {}, {"civil": 9.0}) == 0.0  # no shifts known
    evening = {"1": duty_windows(counters[0].shifts, 20 * 60, "17:00")}
    assert estimate_wait_min("civil", counters, [], {}, {"civil": 9.0}, evening) == 0.0  # after close the last shift serves the queue out


def test_the_range_holds_about_four_times_in_five_over_a_city_day():
    data = scenario.load(scenario.bundled("hoan-kiem"))
    held = [range_held_pct(CityDay(data, "balance", seed).run().citizens) for seed in (1, 2, 3)]
    assert 70 <= sum(held) / len(held) <= 90, held


def test_nobody_starts_before_their_not_before_time_and_the_counter_serves_on_meanwhile():
    counters = [Counter("b", "1", ("civil",))]
    schedule = Schedule(0.0, counters, {}, {"civil": 9.0})
    schedule.deal("on-the-way", (1,), "civil", 0.0, not_before=30 * 60)   # due in 30 minutes
    assert schedule.wait_of("on-the-way", 0.0) == 30.0
    assert schedule.wait("civil", 0.0) == 39.0  # the next one behind them
    assert schedule.wait_of("on-the-way", 10 * 60) == 20.0  # read ten minutes later
    assert schedule.wait("land", 0.0) is None  # nobody serves it


def test_the_schedule_is_the_list_scheduling_of_the_tickets_ahead():
    counters = [Counter("b", "1", ("civil", "cert")), Counter("b", "2", ("civil",)), Counter("b", "3", ("cert",), False)]
    busy = {"1": ("cert", 2.0)}
    means = {"civil": 9.0, "cert": 5.0}
    ahead = ["civil", "cert", "civil", "civil", "cert"]
    schedule = Schedule(0.0, counters, busy, means)
    for index, service in enumerate(ahead):
        schedule.deal(str(index), (index,), service, 0.0)
    # Counter 1 frees at 3, counter 2 at 0: civil 0→2 (0–9), cert 1→1 (3–8), civil 2→1 (8–17),
    # civil 3→2 (9–18), cert 4→1 (17–22); the closed counter 3 takes nobody.
    assert [schedule.wait_of(str(i), 0.0) for i in range(5)] == [0.0, 3.0, 8.0, 9.0, 17.0]
    assert estimate_wait_min("civil", counters, ahead, busy, means) == schedule.wait("civil", 0.0) == 18.0
