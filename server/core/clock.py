"""Clocks: the server reads the wall clock, the simulator a virtual one, the engine cannot tell."""
from __future__ import annotations

import time
from datetime import date, datetime
from zoneinfo import ZoneInfo


def hhmm_minutes(hhmm: str) -> int:
    """"07:30" → 450: minutes after local midnight."""
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


class SystemClock:
    """Wall-clock time in epoch seconds."""

    def now(self) -> float:
        return time.time()


class FakeClock:
    """A clock that moves only when told: for tests and the simulator."""

    def __init__(self, start: float) -> None:
        self.t = float(start)

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def set(self, t: float) -> None:
        self.t = float(t)


class LocalTime:
    """Converts epoch seconds to the branch network's local day and ISO times."""

    def __init__(self, tz_name: str) -> None:
        self.tz = ZoneInfo(tz_name)

    def day(self, t: float) -> str:
        return datetime.fromtimestamp(t, self.tz).date().isoformat()

    def iso(self, t: float | None) -> str | None:
        if t is None:
            return None
        return datetime.fromtimestamp(t, self.tz).isoformat(timespec="seconds")

    def minutes_of_day(self, t: float) -> float:
        local = datetime.fromtimestamp(t, self.tz)
        return local.hour * 60 + local.minute + local.second / 60

    def epoch(self, day: date, hhmm: str) -> float:
        hours, minutes = divmod(hhmm_minutes(hhmm), 60)
        return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=self.tz).timestamp()
