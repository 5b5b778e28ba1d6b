"""Staffing advice: counters each service needs over the coming hours, and the moves that get there.

Per branch and service, the load over the horizon is the time-lagged offered load (arrivals an
average service time ago are the ones still at a counter now: a(t) = λ(t − m)·m) plus the work
already waiting, to be cleared within the horizon. Erlang C turns a load into the counters that
serve `service_level` of citizens within the wait target. Moves broaden or narrow what counters
serve rather than reshuffle them: a counter keeps its own (home) services, takes on at most
`max_services` in all, and hands back what it took on once that service no longer falls short.
The plan is worked out from the counters' own services, never from what they serve now, so advice
applied (in full or in part) and asked again at once asks for nothing new. Citizens waiting come
before a forecast: when the counters are too few for both, they help the queues first.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from .model import Counter, QueueView
from .prediction import duty_windows, on_duty_within

MIN_PER_HOUR = 60.0
SHORT = 0.5   # counters: a service falls short when it lacks more than half a counter's time
# With no history, today's pace is read over the last hour, or the time since opening once that is shorter but
# never less than this: the few citizens at the door in the opening minute are not a rate for the whole day.
PACE_MIN_WINDOW_MIN = 15.0


@dataclass(frozen=True)
class StaffingRules:
    target_wait_min: float = 15.0
    service_level: float = 0.9      # share of citizens to be called within the target
    horizon_min: float = 60.0       # the coming hours the advice is for; backlog cleared within it
    max_services: int = 0           # services one counter may serve at once; 0: any of the branch's
    history_weeks: int = 8          # past same weekdays the forecast averages
    idle_takes_on: bool = True      # a counter whose Next finds nobody takes on its move of the advice at once


@dataclass(frozen=True)
class HourlyRates:
    """Forecast arrivals per hour by service, for consecutive one-hour slots from `start` (epoch s)."""

    start: float
    per_hour: Mapping[str, Sequence[float]]

    def mean_per_min(self, service: str, t0: float, t1: float) -> float:
        """Average arrivals per minute over [t0, t1) (epoch seconds); zero outside the slots."""
        rates = self.per_hour.get(service, ())
        if t1 <= t0 or not rates:
            return 0.0
        total = 0.0
        # Only the hours the span touches: a day's slots ask this per service and slot, thousands of times.
        first = max(0, int((t0 - self.start) // 3600))
        for slot in range(first, min(len(rates), int((t1 - self.start) // 3600) + 1)):
            a, b = self.start + slot * 3600, self.start + (slot + 1) * 3600
            overlap = min(b, t1) - max(a, t0)
            if overlap > 0:
                total += rates[slot] * overlap / 3600
        return total / ((t1 - t0) / 60)


@dataclass(frozen=True)
class Need:
    service: str
    arrivals_per_hour: float
    mean_service_min: float
    waiting: int
    load: float      # erlangs over the horizon, backlog included
    needed: int      # counters, by Erlang C
    have: float      # counter time the service gets now (a counter's time is shared among its services)

    @property
    def shortfall(self) -> float:
        return self.needed - self.have

    @property
    def short(self) -> bool:
        """Still short once the advice's moves are made: the branch has too few counters for it."""
        return self.shortfall > SHORT


@dataclass(frozen=True)
class Move:
    counter: str
    from_services: tuple[str, ...]
    to_services: tuple[str, ...]
    at: float        # epoch seconds from when the move applies (now: advice is for the coming hours)
    reason: str      # the service that falls short ("take on") or that no longer needs help ("hand back")


@dataclass(frozen=True)
class Advice:
    branch: str
    at: float
    needs: list[Need] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)


# ---- Erlang C ------------------------------------------------------------------------------

def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits, M/M/c with `servers` and offered `load` (erlangs)."""
    if load <= 0:
        return 0.0
    if servers <= load:
        return 1.0
    blocking = 1.0  # Erlang B by its stable recursion
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return servers * blocking / (servers - load * (1 - blocking))


def within_target(servers: int, load: float, mean_service_min: float, target_min: float) -> float:
    """Share of arrivals called within target_min: 1 − C·e^(−(c − a)·T/m)."""
    if servers <= load:
        return 0.0
    return 1 - erlang_c(servers, load) * math.exp(-(servers - load) * target_min / mean_service_min)


def counters_needed(load: float, mean_service_min: float, target_min: float, level: float) -> int:
    """The fewest counters that call `level` of arrivals within target_min."""
    if load <= 0:
        return 0
    servers = max(1, math.floor(load) + 1)
    while within_target(servers, load, mean_service_min, target_min) < level:
        servers += 1
    return servers


# ---- forecast ------------------------------------------------------------------------------

def forecast_rates(arrivals: Iterable[tuple[date, str, float]], today: date, now_min: float,
                   open_min: float, close_min: float, start: float, weeks: int = 8) -> HourlyRates:
    """Arrivals per hour for today's slots from past days of the same weekday, scaled by today.

    arrivals: (local day, service, local minute of day) of every ticket issued at the branch.
    The history is the mean of the latest `weeks` same weekdays (any weekday if there is none);
    it is scaled by how busy today has been so far compared with them (shrunk towards 1 while
    today has few arrivals). With no history at all, the last hour's pace is expected to go on.
    """
    slots = max(1, math.ceil((close_min - open_min) / 60))
    by_day: dict[date, list[tuple[str, float]]] = defaultdict(list)
    for day, service, minute in arrivals:
        by_day[day].append((service, minute))
    past = sorted((d for d in by_day if d < today), reverse=True)
    history = [d for d in past if d.weekday() == today.weekday() and d >= today - timedelta(weeks=weeks)]
    history = history or past[:weeks]
    seen_today = by_day.get(today, [])
    if not history:
        return _recent_pace(seen_today, now_min, open_min, slots, start)
    per_hour: dict[str, list[float]] = defaultdict(lambda: [0.0] * slots)
    expected_so_far = 0.0
    for day in history:
        for service, minute in by_day[day]:
            slot = int((minute - open_min) // 60)
            if 0 <= slot < slots:
                per_hour[service][slot] += 1 / len(history)
            if minute < now_min:
                expected_so_far += 1 / len(history)
    scale = (len(seen_today) + 5) / (expected_so_far + 5)
    return HourlyRates(start, {s: [r * scale for r in rates] for s, rates in per_hour.items()})


def _recent_pace(seen_today, now_min, open_min, slots, start) -> HourlyRates:
    per_hour: dict[str, list[float]] = defaultdict(lambda: [0.0] * slots)
    since_open = now_min - open_min
    # Before the opening (tickets taken early wait for it, or a branch that keeps no hours): the last hour.
    window = min(MIN_PER_HOUR, max(since_open, PACE_MIN_WINDOW_MIN)) if since_open > 0 else MIN_PER_HOUR
    for service, minute in seen_today:
        if now_min - window <= minute < now_min:
            per_hour[service] = [per_hour[service][0] + 60 / window] * slots
    return HourlyRates(start, dict(per_hour))


# ---- advice --------------------------------------------------------------------------------

def advise(queues: QueueView, branch_id: str, rates: HourlyRates, rules: StaffingRules = StaffingRules(),
           home: Mapping[str, Sequence[str]] | None = None) -> Advice:
    """What each service needs at a branch over the horizon from now, and the moves to get there.

    home: each counter's own services (as set up for the day); absent, its current ones.
    """
    now = queues.now()
    minute = queues.local_minute()
    branch = queues.branch(branch_id)
    on_duty = [c for c in queues.counters_of(branch_id)
               if c.available and _on_duty(c, minute, branch.close, rules.horizon_min)]
    offered = branch.services
    loads, means, waiting, rate = {}, {}, {}, {}
    for service in offered:
        mean = queues.mean_service_min(branch_id, service)
        per_min = rates.mean_per_min(service, now - mean * 60, now + (rules.horizon_min - mean) * 60)
        waiting[service] = queues.waiting(branch_id, service)
        means[service], rate[service] = mean, per_min * MIN_PER_HOUR
        loads[service] = per_min * mean + waiting[service] * mean / rules.horizon_min
    needed = {s: counters_needed(loads[s], means[s], rules.target_wait_min, rules.service_level) for s in offered}
    serving = {c.id: tuple(c.services) for c in on_duty}
    homes = {c.id: tuple(home.get(c.id, c.services)) if home else tuple(c.services) for c in on_duty}
    planned = _plan(homes, needed, loads, waiting, rules.max_services)
    moves = [Move(c, serving[c], planned[c], now, reason) for c, reason in _changed(serving, planned, needed, loads)]
    have = _shares(planned, needed)
    needs = [Need(s, round(rate[s], 2), round(means[s], 2), waiting[s], round(loads[s], 2), needed[s],
                  round(have.get(s, 0.0), 2)) for s in offered]
    return Advice(branch_id, now, needs, moves)


def taking_on(advice: Advice, counter_id: str) -> Move | None:
    """The advice's move for a counter if it takes a service on (handing back, in the same move, one it took
    on earlier that no longer falls short): what an idle counter makes at once. A move that only hands
    back is left to the manager, who sees the whole branch."""
    return next((m for m in advice.moves
                 if m.counter == counter_id and not set(m.to_services) <= set(m.from_services)), None)


def _on_duty(counter: Counter, minute: float, close: str, horizon_min: float) -> bool:
    """In a shift now or within the coming horizon (no shifts: always); after close, a counter
    whose last shift runs to close serves the queue out, as in the estimates and the simulator."""
    return on_duty_within(duty_windows(counter.shifts, minute, close), horizon_min)



def _shares(serving: Mapping[str, Sequence[str]], needed: Mapping[str, int]) -> dict[str, float]:
    """Counter time each service gets: a counter splits its time among its services in
    proportion to their need per counter able to serve them (how the engine's oldest-first
    calling ends up sharing a busy counter)."""
    able = _able(serving)
    have = defaultdict(float)
    for services in serving.values():
        for s, part in _parts(services, able, needed).items():
            have[s] += part
    return have


def _able(serving: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """How many counters serve each service."""
    able = defaultdict(int)
    for services in serving.values():
        for s in services:
            able[s] += 1
    return able


def _parts(services: Sequence[str], able: Mapping[str, int], needed: Mapping[str, int]) -> dict[str, float]:
    """The share of one counter's time each of its services gets (_shares)."""
    weights = {s: (needed.get(s, 0) or 0.01) / able[s] for s in services}
    total = sum(weights.values())
    return {s: w / total for s, w in weights.items()}


def _trial_shares(serving: Mapping[str, Sequence[tuple[str, float]]], order: Mapping[str, int], counter: str,
                  mine: Mapping[str, float]) -> dict[str, float]:
    """_shares of a trial in which `counter`'s parts become `mine` (serving: each service's counters and
    their parts in the plan's order, under the trial's counts), for that counter's services only (all a
    trial asks): the same sums in the same order, so the same figures to the last bit, without working
    out every counter again."""
    have = {}
    at = order[counter]
    for s, own in mine.items():
        total = 0.0
        added = False
        for other, part in serving.get(s, ()):
            if not added and order[other] >= at:
                total += own
                added = True
            if other != counter:
                total += part
        have[s] = total if added else total + own
    return have


def _pressure(service: str, have: Mapping[str, float], needed: Mapping[str, int],
              waiting: Mapping[str, int]) -> tuple[bool, float]:
    """How hard a service is pressed: citizens waiting for it first, then its need per counter it gets.
    A counter with nobody waiting for its own services helps a queue before any forecast; one with a
    queue of its own never leaves it for a service with nobody waiting."""
    return waiting.get(service, 0) > 0, needed.get(service, 0) / max(have.get(service, 0.0), 0.01)


def _plan(homes, needed, loads, waiting, max_services) -> dict[str, tuple[str, ...]]:
    """From each counter's own services, let the counter that relieves a short service most take it on,
    while that leaves it and the counter's own services less pressed than the service was.

    The plan depends on the counters' own services and the needs only, not on what they serve now:
    advice applied (in full or in part) and asked again at once gives the same plan, so no new moves.
    """
    plan = dict(homes)
    while True:
        have = _shares(plan, needed)
        short = sorted((s for s in needed if needed[s] - have.get(s, 0.0) > SHORT),
                       key=lambda s: (not waiting.get(s, 0), have.get(s, 0.0) - needed[s], -loads[s], s))
        able = _able(plan)
        parts = {counter: _parts(services, able, needed) for counter, services in plan.items()}
        helper = service = None
        for service in short:
            helper = _best_helper(plan, service, have, needed, waiting, max_services, able, parts)
            if helper:
                break
        if helper is None:
            return plan
        plan = {**plan, helper: plan[helper] + (service,)}


def _best_helper(plan, service, have, needed, waiting, max_services, able, parts) -> str | None:
    """The counter whose taking on `service` leaves the least pressure on it and the counter's own
    services, if less than the pressure on `service` now. able, parts: the plan's (_able, _parts)."""
    pressure = _pressure(service, have, needed, waiting)
    able = {**able, service: able.get(service, 0) + 1}   # in every trial: one more counter takes it on
    parts = {counter: _parts(services, able, needed) if service in services else parts[counter]
             for counter, services in plan.items()}   # only the counters serving it split their time anew
    serving = defaultdict(list)   # service -> (counter, its part), in the plan's order
    for counter, part in parts.items():
        for s, value in part.items():
            serving[s].append((counter, value))
    order = {counter: index for index, counter in enumerate(plan)}
    candidates = []
    for counter, services in plan.items():
        if service in services or (max_services and len(services) >= max_services):
            continue
        trial = _trial_shares(serving, order, counter, _parts(services + (service,), able, needed))
        candidates.append((max(_pressure(s, trial, needed, waiting) for s in services + (service,)), counter))
    if not candidates:
        return None
    best, counter = min(candidates)
    return counter if best < pressure else None


def _changed(serving, planned, needed, loads) -> list[tuple[str, str]]:
    changes = []
    for counter, services in serving.items():
        if set(planned[counter]) == set(services):   # the same services in another order is no move
            continue
        added = [s for s in planned[counter] if s not in services]
        removed = [s for s in services if s not in planned[counter]]
        changes.append((counter, (added or removed)[0]))
    return changes
