"""Wait estimates at issue: tickets ahead and minutes, from the counters that can serve them.

The tickets ahead (of every service, in calling order) are dealt to the counters that can serve
them, each counter starting when it frees up: busy counters first finish what remains of their
current service.
Service times are the configured means until `learn_min_samples` services of that kind have
ended today at the branch; then the mean of the latest `learn_window` of them.
"""
from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence

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


def estimate_wait_min(
    service: str,
    counters: Sequence[Counter],
    ahead: Iterable[str],
    busy: Mapping[str, tuple[str, float]],
    mean_min: Mapping[str, float],
) -> float | None:
    """Minutes until a ticket of `service` is called; None when no open counter serves it.

    ahead: the services of the waiting tickets that rank before it, in calling order.
    busy: per counter id, (service being served, minutes it has been at it).
    The tickets ahead are dealt, in order, to whichever counter able to serve them frees up
    first (each taking its service's mean): list scheduling, the way the engine will call them.
    """
    open_counters = [c for c in counters if c.open]
    if not any(service in c.services for c in open_counters):
        return None
    free_at = {}
    for counter in open_counters:
        serving = busy.get(counter.id)
        free_at[counter.id] = max(0.0, mean_min[serving[0]] - serving[1]) if serving else 0.0
    able: dict[str, list[str]] = {}
    for other in ahead:
        if other not in able:
            able[other] = [c.id for c in open_counters if other in c.services]
        if able[other]:
            first = min(able[other], key=free_at.__getitem__)
            free_at[first] += mean_min[other]
    return min(free_at[c.id] for c in open_counters if service in c.services)
