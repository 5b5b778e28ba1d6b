"""Offering a nearby branch that would serve sooner.

When a citizen takes a ticket, the expected wait here is compared with the time until they
would be called at every other branch that offers the service within `max_km` and
`max_travel_min`: travel, then the wait there behind everyone already in its queue, citizens
still on their way there included (they rank by when they are expected, so each counts once). A
branch that closes before the citizen would arrive is never offered. Alternatives are offered
only when they save at least `min_saving_min`, best first.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .model import QueueView

EARTH_RADIUS_KM = 6371.0
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180   # along a meridian: no trip between two latitudes is shorter
# A citizen is called at a branch no sooner than the trip there takes; float sums may put it a hair under.
_HAIR_MIN = 1e-6


@dataclass(frozen=True)
class RedirectRules:
    """Where a citizen may be sent: the scenario's `redirect` block plus the saving asked for."""

    max_km: float = 5.0
    max_travel_min: float = 30.0
    speed_kmh: float = 18.0
    detour_factor: float = 1.3
    min_saving_min: float = 1.0
    max_offers: int = 2


@dataclass(frozen=True)
class Alternative:
    branch: str
    estimated_wait_min: float   # after arriving there
    travel_min: float
    distance_km: float
    called_in_min: float | None = None   # minutes from now until called there (after the trip)

    @property
    def total_min(self) -> float:
        return self.travel_min + self.estimated_wait_min


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def reachable(queues: QueueView, from_branch: str, to_branch: str, service_id: str,
              rules: RedirectRules) -> float | None:
    """Travel minutes from one branch to another that offers the service, is within the limits and
    is still open when the citizen would get there; None if it is not."""
    trip = _trip(queues, from_branch, to_branch, service_id, rules)
    return None if trip is None else trip[1]


def _trip(queues: QueueView, from_branch: str, to_branch: str, service_id: str, rules: RedirectRules):
    """(km, travel minutes) of an allowed trip, else None."""
    home = queues.branch(from_branch)
    return None if from_branch == to_branch else _trip_from(queues, home.lat, home.lon, to_branch, service_id, rules)


def _trip_from(queues: QueueView, lat: float, lon: float, to_branch: str, service_id: str, rules: RedirectRules):
    """(km, travel minutes) of an allowed trip from a point to a branch, else None."""
    other = queues.branch(to_branch)
    if other.closed or service_id not in other.services:
        return None
    if abs(other.lat - lat) * KM_PER_DEGREE > rules.max_km * (1 + 1e-9):   # far off north or south: no need to measure
        return None
    km = distance_km(lat, lon, other.lat, other.lon)
    travel = km * rules.detour_factor / rules.speed_kmh * 60
    if km > rules.max_km or travel > rules.max_travel_min or queues.now() + travel * 60 >= queues.closes_at(to_branch):
        return None
    return km, travel


def alternatives(queues: QueueView, branch_id: str, service_id: str, rules: RedirectRules) -> list[Alternative]:
    """The branches worth offering a citizen who takes a ticket for service_id at branch_id now."""
    return sooner(queues, branch_id, service_id, queues.estimate_new(branch_id, service_id), rules)


def sooner(queues: QueueView, branch_id: str, service_id: str, here: float | None,
           rules: RedirectRules, not_before: float | None = None) -> list[Alternative]:
    """The branches that would call a citizen of branch_id, called there in `here` minutes (None: not
    served), at least min_saving_min sooner after travel (and, for a citizen still on the way from
    elsewhere, not there before `not_before`): best first, max_offers of them. The kiosk's offers at
    issue and a waiting ticket's on its phone page (motcua.core.journeys) both come from here."""
    if here is None or here < rules.min_saving_min:
        return []
    # Called there no sooner than the trip takes: a branch farther than the saving leaves room for is not asked.
    return [a for a, called_in in _reachable_serving(queues, branch_id, service_id, rules, not_before,
                                                      max_travel=here - rules.min_saving_min)
            if here - called_in >= rules.min_saving_min][:rules.max_offers]


def serving_elsewhere(queues: QueueView, branch_id: str, service_id: str, rules: RedirectRules) -> list[Alternative]:
    """The reachable branches that would serve service_id now, best first: for a citizen at a
    branch where no open counter serves it, any of them is better than none."""
    return [a for a, _ in _reachable_serving(queues, branch_id, service_id, rules)][:rules.max_offers]


def _reachable_serving(queues: QueueView, branch_id: str, service_id: str, rules: RedirectRules,
                       not_before: float | None = None, max_travel: float = math.inf) -> list[tuple[Alternative, float]]:
    """Every other branch within the trip limits from this one that serves the service (motcua.core.balancing._serving_from)."""
    home = queues.branch(branch_id)
    return _serving_from(queues, home.lat, home.lon, service_id, rules, exclude=branch_id, not_before=not_before,
                         max_travel=max_travel)


def nearby(queues: QueueView, lat: float, lon: float, service_id: str, rules: RedirectRules,
           limit: int | None = None) -> list[Alternative]:
    """The branches a citizen at (lat, lon) can reach within the trip limits that would serve
    service_id today, soonest called first (travel plus the wait there on arriving); the first `limit`."""
    return [a for a, _ in _serving_from(queues, lat, lon, service_id, rules, limit=limit)]


def _serving_from(queues: QueueView, lat: float, lon: float, service_id: str, rules: RedirectRules,
                  exclude: str | None = None, not_before: float | None = None, max_travel: float = math.inf,
                  limit: int | None = None) -> list[tuple[Alternative, float]]:
    """Every branch within the trip limits (and `max_travel`) from (lat, lon) with a counter for the
    service, and the minutes from now until the citizen, there after the trip (not before
    `not_before`), would be called there; best first (ties: the branches' order), the first `limit`.

    A wait is the dear part (a branch's whole queue dealt out), and nobody is called before getting
    there: with a `limit`, the branches are asked nearest first, and no farther one once the trip alone
    takes longer than the limit's worst found so far. The answer is the same as asking them all."""
    if limit is not None and limit < 1:
        return []
    trips = []
    for order, other in enumerate(queues.branch_ids()):
        trip = None if other == exclude else _trip_from(queues, lat, lon, other, service_id, rules)
        if trip is not None and trip[1] <= max_travel + _HAIR_MIN:
            trips.append((order, other, *trip))
    if limit is not None:
        trips.sort(key=lambda t: t[3])
    found: list[tuple[tuple[float, int], Alternative, float]] = []
    for order, other, km, travel in trips:
        if limit is not None and len(found) >= limit and travel > found[limit - 1][0][0] + _HAIR_MIN:
            break
        arriving = max(queues.now() + travel * 60, not_before or -math.inf)
        called_in = queues.estimate_new(other, service_id, arriving_at=arriving)
        if called_in is not None:
            there_in = (arriving - queues.now()) / 60
            alternative = Alternative(other, max(0.0, called_in - there_in), travel, km, called_in)
            found.append(((alternative.total_min, order), alternative, called_in))
            if limit is not None:
                found.sort(key=lambda f: f[0])
    found.sort(key=lambda f: f[0])
    return [(a, called_in) for _, a, called_in in found[:limit]]
