"""Clocks and local time (server/core/clock.py): the fake clock moves only when told, the local day
and minutes follow Asia/Ho_Chi_Minh whatever the machine's zone."""
from __future__ import annotations

import time
from datetime import date, datetime, timezone

import pytest

from motcua.core.clock import FakeClock, LocalTime, SystemClock, hhmm_minutes

HANOI = LocalTime("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize("hhmm, minutes", [("00:00", 0), ("07:30", 450), ("12:05", 725), ("17:00", 1020),
                                           ("23:59", 1439)])
def test_hhmm_is_minutes_after_midnight(hhmm, minutes):
    assert hhmm_minutes(hhmm) == minutes


@pytest.mark.parametrize("bad", ["", "0730", "7.30", "ab:cd", "07:30:00"])
def test_a_malformed_hhmm_is_refused(bad):
    with pytest.raises(ValueError):
        hhmm_minutes(bad)


def test_the_fake_clock_moves_only_when_told():
    clock = FakeClock(1000)
    assert clock.now() == clock.now() == 1000.0
    clock.advance(90.5)
    assert clock.now() == 1090.5
    clock.set(5)
    assert clock.now() == 5.0 and isinstance(clock.now(), float)


def test_the_system_clock_is_the_wall_clock():
    before = time.time()
    assert before <= SystemClock().now() <= time.time()


@pytest.mark.parametrize("utc, day, minutes", [
    (datetime(2026, 11, 24, 1, 0), "2026-11-24", 8 * 60),            # 08:00 in Hanoi
    (datetime(2026, 11, 24, 16, 59), "2026-11-24", 23 * 60 + 59),    # a minute before local midnight
    (datetime(2026, 11, 24, 17, 0), "2026-11-25", 0),                # local midnight: a new day
    (datetime(2026, 11, 23, 23, 30), "2026-11-24", 6 * 60 + 30),     # still the 23rd in UTC
])
def test_the_local_day_and_minutes_are_hanoi_s(utc, day, minutes):
    t = utc.replace(tzinfo=timezone.utc).timestamp()
    assert HANOI.day(t) == day
    assert HANOI.minutes_of_day(t) == minutes


def test_epoch_and_iso_are_inverse_in_local_time():
    t = HANOI.epoch(date(2026, 11, 24), "07:30")
    assert t == datetime(2026, 11, 24, 0, 30, tzinfo=timezone.utc).timestamp()
    assert HANOI.iso(t) == "2026-11-24T07:30:00+07:00"
    assert HANOI.iso(t + 59.9) == "2026-11-24T07:30:59+07:00"   # whole seconds
    assert HANOI.minutes_of_day(t + 30) == 450.5
    assert HANOI.iso(None) is None


def test_another_zone_gives_another_day():
    t = datetime(2026, 11, 24, 20, 0, tzinfo=timezone.utc).timestamp()
    assert (HANOI.day(t), LocalTime("Europe/Paris").day(t)) == ("2026-11-25", "2026-11-24")
