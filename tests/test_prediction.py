"""Wait estimates: shifts honoured, the 80% range calibrated on how estimates turned out."""
from __future__ import annotations

import math

from motcua.core import scenario
from motcua.core.model import Counter
from motcua.core.prediction import WaitRanges, duty_windows, estimate_wait_min
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


def test_a_trip_moved_to_another_branch_is_counted_once():
    from motcua.core.balancing import OnTheRoad

    road = OnTheRoad()
    road.add("t1", "hk-02", "land", arrives_at=600)   # offered hk-02 at the kiosk…
    road.add("t1", "hk-03", "land", arrives_at=700)   # …and chose hk-03
    assert road.heading_to("hk-02", now=0, before=1000) == []
    assert road.heading_to("hk-03", now=0, before=1000) == ["land"]
