"""Wait estimates at issue: tickets ahead and minutes, from the counters that can serve them.

The tickets ahead (of every service, in calling order) are dealt to the counters that can serve
them, each counter starting when it frees up: busy counters first finish what remains of their
current service.
Service times are the configured means until `learn_min_samples` services of that kind have
ended today at the branch; then the mean of the latest `learn_window` of them.
"""
from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence

from .clock import hhmm_minutes
from .model import Counter


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


def estimate_wait_min(
    service: str,
    counters: Sequence[Counter],
    ahead: Iterable[str],
    busy: Mapping[str, tuple[str, float]],
    mean_min: Mapping[str, float],
    windows: Mapping[str, Windows] | None = None,
) -> float | None:
    """Minutes until a ticket of `service` is called; None when no open counter serves it.

    ahead: the services of the waiting tickets that rank before it, in calling order.
    busy: per counter id, (service being served, minutes it has been at it).
    windows: per counter id, when it is on duty (minutes from now); absent, always.
    The tickets ahead are dealt, in order, to whichever counter able to serve them can start
    first (each taking its service's mean): list scheduling, the way the engine will call them.
    A counter on a break starts again when its next shift does. When no counter serving the
    service has a shift left today, shifts are not being kept (a server used out of hours) and
    the estimate ignores them.
    """
    open_counters = [c for c in counters if c.open]
    if not any(service in c.services for c in open_counters):
        return None
    windows = windows or {}
    if all(next_start(windows.get(c.id, ALWAYS), 0.0) == math.inf for c in open_counters if service in c.services):
        windows = {}
    free_at = {}
    for counter in open_counters:
        serving = busy.get(counter.id)
        free_at[counter.id] = max(0.0, mean_min[serving[0]] - serving[1]) if serving else 0.0
    starts = lambda c: next_start(windows.get(c, ALWAYS), free_at[c])  # noqa: E731
    able: dict[str, list[str]] = {}
    for other in ahead:
        if other not in able:
            able[other] = [c.id for c in open_counters if other in c.services]
        if able[other]:
            first = min(able[other], key=starts)
            begin = starts(first)
            if begin == math.inf:
                continue
            free_at[first] = begin + mean_min[other]
    return min(starts(c.id) for c in open_counters if service in c.services)



class WaitRanges:
    """An 80% range around each estimate, calibrated on how the branch's estimates turned out.

    Errors grow with the wait (more services ahead, more chance for priority citizens and
    long services to intervene), roughly as its square root, so each called ticket's error is
    recorded as z = (actual − estimate) / √(estimate + 1), and the range is the estimate plus
    the 10th and 90th percentiles of the branch's latest z. Until enough tickets have been
    called, a wide prior: ±`prior_z`.
    """

    def __init__(self, window: int = 300, min_samples: int = 30, prior_z: float = 4.0,
                 low: float = 0.1, high: float = 0.9) -> None:
        self.window, self.min_samples, self.prior_z = window, min_samples, prior_z
        self.low, self.high = low, high
        self._z: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=window))
        self._sorted: dict[str, list[float]] = {}

    def record(self, branch: str, estimate_min: float, actual_min: float) -> None:
        self._z[branch].append((actual_min - estimate_min) / math.sqrt(estimate_min + 1))
        self._sorted.pop(branch, None)

    def range(self, branch: str, estimate_min: float) -> tuple[float, float]:
        scale = math.sqrt(estimate_min + 1)
        z_low, z_high = self._quantiles(branch)
        return max(0.0, estimate_min + z_low * scale), max(0.0, estimate_min + z_high * scale)

    def _quantiles(self, branch: str) -> tuple[float, float]:
        samples = self._z.get(branch)
        if not samples or len(samples) < self.min_samples:
            return -self.prior_z, self.prior_z
        ordered = self._sorted.get(branch)
        if ordered is None:
            ordered = self._sorted[branch] = sorted(samples)
        last = len(ordered) - 1
        return ordered[round(self.low * last)], ordered[round(self.high * last)]
