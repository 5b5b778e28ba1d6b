"""Wait estimates: tickets ahead and minutes, from the counters that can serve them.

The tickets waiting at a branch (of every service, in calling order) are dealt to the counters
that can serve them, each counter starting when it frees up: busy counters first finish what
remains of their current service, and nobody starts before their not-before time (a citizen
still on the way from another branch). A ticket's estimate is when it starts in that schedule.
Service times are the configured means until `learn_min_samples` services of that kind have
ended today at the branch; then the mean of the latest `learn_window` of them.
"""
from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence

from .clock import hhmm_minutes
from .model import APPOINTMENT, REMOTE, Counter, Ticket
from .stats import percentile


class ServiceTimes:
    """Mean service minutes per branch and service: configured, then learned from the day."""

    def __init__(self, configured: Mapping[str, float], min_samples: int, window: int) -> None:
        self.configured = dict(configured)
        self.min_samples = min_samples
        self.window = window
        self._recent: dict[tuple[str, str, str], deque[float]] = defaultdict(lambda: deque(maxlen=window))

    def record(self, branch: str, service: str, day: str, minutes: float) -> None:
        self._recent[(branch, service, day)].append(minutes)

    def mean(self, branch: str, service: str, day: str) -> float:
        samples = self._recent.get((branch, service, day))
        if samples and len(samples) >= self.min_samples:
            return sum(samples) / len(samples)
        return self.configured.get(service, 10.0)

    def forget_before(self, day: str) -> None:
        """Let the samples of the days before `day` go: a mean is of one day."""
        for key in [key for key in self._recent if key[2] < day]:
            del self._recent[key]


Windows = Sequence[tuple[float, float]]
ALWAYS: Windows = ((0.0, math.inf),)


def duty_windows(shifts: Sequence[tuple[str, str]], minute_now: float, close: str) -> Windows:
    """A counter's shifts as minutes from now; the last runs on past close when it ends at or after
    close (the queue is then served out). No shifts: always on duty."""
    if not shifts:
        return ALWAYS
    spans = sorted((hhmm_minutes(a) - minute_now, hhmm_minutes(b) - minute_now) for a, b in shifts)
    if spans[-1][1] >= hhmm_minutes(close) - minute_now:
        spans[-1] = (spans[-1][0], math.inf)
    return tuple(span for span in spans if span[1] > 0)


def next_start(windows: Windows, t: float) -> float:
    """The earliest moment at or after t when a service may start within the windows."""
    for start, end in windows:
        if t < end:
            return max(t, start)
    return math.inf


def on_duty_within(windows: Windows, minutes: float) -> bool:
    """Whether the counter is on duty at some moment of the coming `minutes` (0: right now)."""
    start = next_start(windows, 0.0)
    return start == 0.0 or start < minutes


class Schedule:
    """The list schedule of one branch's waiting tickets, dealt in calling order from `at`.

    Each ticket goes to whichever counter able to serve it can start it first (each taking its
    service's mean), never before the ticket's not-before time: the way the engine will call
    them. A counter on a break starts again when its next shift does. When no open counter has
    a shift left today, shifts are not being kept (a server used out of hours) and are ignored.
    Times inside are minutes after `at` (epoch seconds); the methods take and give epoch times
    and minutes from the `now` they are given, so one schedule serves reads for a while and a
    ticket joining at the back is dealt onto it without dealing the others again.
    """

    def __init__(self, at: float, counters: Sequence[Counter], busy: Mapping[str, tuple[str, float]],
                 mean_min: Mapping[str, float], windows: Mapping[str, Windows] | None = None) -> None:
        self.at = at
        self.mean_min = mean_min
        open_counters = [c for c in counters if c.available]  # a paused counter is dealt nothing
        windows = windows or {}
        if all(next_start(windows.get(c.id, ALWAYS), 0.0) == math.inf for c in open_counters):
            windows = {}
        self.windows = {c.id: windows.get(c.id, ALWAYS) for c in open_counters}
        self.free_at: dict[str, float] = {}
        for counter in open_counters:
            serving = busy.get(counter.id)
            self.free_at[counter.id] = max(0.0, mean_min[serving[0]] - serving[1]) if serving else 0.0
        self.able: dict[str, list[str]] = defaultdict(list)
        for counter in open_counters:
            for service in counter.services:
                self.able[service].append(counter.id)
        self.starts: dict[str, float] = {}  # ticket id -> minutes after `at` when it starts
        self.last_key: tuple | None = None

    def copy(self) -> Schedule:
        """The schedule as it stands, for reading elsewhere: dealing onto either leaves the other as it was
        (its tickets' starts are not copied: the copy answers `wait`, not `wait_of`)."""
        copied = object.__new__(Schedule)
        copied.__dict__.update(self.__dict__)
        copied.free_at = dict(self.free_at)
        copied.starts = {}
        return copied

    def serves(self, service: str) -> bool:
        return bool(self.able.get(service))

    def wait(self, service: str, now: float, not_before: float | None = None) -> float | None:
        """Minutes from now until a ticket of `service` joining at the back would start; None if never."""
        best = self._best(service, now, not_before)
        return None if best is None else max(0.0, best[0] - self._minutes(now))

    def deal(self, ticket_id: str, key: tuple, service: str, now: float, not_before: float | None = None) -> None:
        """Put one more ticket, ranking after all dealt so far, on the counter that starts it first."""
        self.last_key = key
        best = self._best(service, now, not_before)
        if best is None:
            return
        begin, counter = best
        self.free_at[counter] = begin + self.mean_min[service]
        self.starts[ticket_id] = begin

    def wait_of(self, ticket_id: str, now: float) -> float | None:
        """Minutes from now until a dealt ticket starts; None if it never will today."""
        begin = self.starts.get(ticket_id)
        return None if begin is None else max(0.0, begin - self._minutes(now))

    def _minutes(self, t: float) -> float:
        return (t - self.at) / 60

    def _best(self, service: str, now: float, not_before: float | None) -> tuple[float, str] | None:
        earliest = max(self._minutes(now), 0.0 if not_before is None else self._minutes(not_before))
        best = None
        for counter in self.able.get(service, ()):
            begin = next_start(self.windows[counter], max(self.free_at[counter], earliest))
            if best is None or begin < best[0]:
                best = (begin, counter)
        return None if best is None or best[0] == math.inf else best


def estimate_wait_min(
    service: str,
    counters: Sequence[Counter],
    ahead: Iterable[str],
    busy: Mapping[str, tuple[str, float]],
    mean_min: Mapping[str, float],
    windows: Mapping[str, Windows] | None = None,
) -> float | None:
    """Minutes until a ticket of `service` is called, behind `ahead` (services, in calling order);
    None when no open counter serves it today. busy: per counter id, (service being served,
    minutes it has been at it); windows: per counter id, when it is on duty (absent: always)."""
    schedule = Schedule(0.0, counters, busy, mean_min, windows)
    for index, other in enumerate(ahead):
        schedule.deal(str(index), (index,), other, 0.0)
    return schedule.wait(service, 0.0)


# Kinds of estimate, each calibrated on its own.
WALKED_IN, ON_THE_WAY, CHECKED_IN = "walked_in", "on_the_way", "checked_in"


def estimate_kind(ticket: Ticket) -> str:
    """Which calibration a ticket's estimate is read against: a remote ticket's made again at its check-in (its
    citizen came when told to set off, so the wait from there errs less than a walk-in's); one made before the
    trip for a citizen moved on from another branch; else one made at the branch."""
    if ticket.channel == REMOTE and ticket.checked_in_at is not None:
        return CHECKED_IN
    return ON_THE_WAY if ticket.origin is not None else WALKED_IN


def certain_min(ticket: Ticket, at: float) -> float:
    """Minutes from `at` a ticket is sure to wait: an appointment checked in early is not called before its
    slot starts. Its range is that wait plus a range around the rest, which alone is uncertain (read whole,
    the holders' ranges were too wide: single-branch's held 85.9% of the time, not 80%)."""
    if ticket.channel == APPOINTMENT and ticket.due_at is not None:
        return max(0.0, (ticket.due_at - at) / 60)
    return 0.0


class WaitRanges:
    """An 80% range around each estimate, calibrated on how the branch's estimates turned out.

    Errors grow with the wait (more services ahead, more chance for priority citizens and
    long services to intervene), roughly as its square root, so each called ticket's error is
    recorded as z = (actual − estimate) / √(estimate + 1), and the range is the estimate plus
    the 10th and 90th percentiles of the branch's latest z. Until enough tickets have been
    called, a wide prior: ±`prior_z`.

    An estimate made before a trip (a citizen moved on to another branch) errs otherwise than one
    made at the branch: those who walk in while the citizen travels go before them, so it runs
    late more often. Those are calibrated apart, over the whole city, since a branch sees few of
    them and a trip's error is alike wherever it ends; while they are too few, on the branch's. So are
    the estimates remote tickets get at their check-in: their citizens set off when told, so they arrive
    near their call and the wait from the check-in is shorter and surer than a walk-in's of the same
    estimate (read against the walk-ins', ha-noi's remote ranges held 85.6% of the time, not 80%).
    """

    def __init__(self, window: int = 300, min_samples: int = 30, prior_z: float = 4.0,
                 low: float = 0.1, high: float = 0.9) -> None:
        self.window, self.min_samples, self.prior_z = window, min_samples, prior_z
        self.low, self.high = low, high
        self._z: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=window))
        self._cuts: dict[str, tuple[float, float]] = {}

    def record(self, branch: str, estimate_min: float, actual_min: float, kind: str = WALKED_IN,
               certain_min: float = 0.0) -> None:
        """An estimate's error, `certain_min` of it a wait sure to be waited (prediction.certain_min)."""
        pool = _pool(branch, kind)
        rest = estimate_min - min(certain_min, estimate_min)
        self._z[pool].append((actual_min - estimate_min) / math.sqrt(rest + 1))
        self._cuts.pop(pool, None)

    def range(self, branch: str, estimate_min: float, kind: str = WALKED_IN,
              certain_min: float = 0.0) -> tuple[float, float]:
        """The 80% range: the certain wait, then the estimate's uncertain rest widened by the pool's errors."""
        certain = min(certain_min, estimate_min)
        scale = math.sqrt(estimate_min - certain + 1)
        z_low, z_high = self._quantiles(branch, kind)
        return max(certain, estimate_min + z_low * scale), max(certain, estimate_min + z_high * scale)

    def _quantiles(self, branch: str, kind: str) -> tuple[float, float]:
        pool = _pool(branch, kind)
        samples = self._z.get(pool)
        if not samples or len(samples) < self.min_samples:
            return self._quantiles(branch, WALKED_IN) if kind != WALKED_IN else (-self.prior_z, self.prior_z)
        if pool not in self._cuts:
            self._cuts[pool] = (percentile(samples, self.low), percentile(samples, self.high))
        return self._cuts[pool]


def _pool(branch: str, kind: str) -> str:
    """Whose errors an estimate's range is read from: the branch's walked-in ones, or the city's made on the way."""
    return branch if kind == WALKED_IN else f"city:{kind}"
