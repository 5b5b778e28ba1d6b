"""Offering a nearby branch that would serve sooner.

When a citizen takes a ticket, the expected wait here is compared with travel plus the expected
wait at every other branch that offers the service within `max_km` and `max_travel_min`. The
wait there counts the citizens already sent there and still on the road (so a quiet branch is
not flooded), and assumes its queue does not drain while the citizen travels (arrivals refill
it). A branch that closes before the citizen would arrive is never offered. Alternatives are
offered only when they save at least `min_saving_min`, best first.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0


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
    estimated_wait_min: float
    travel_min: float
    distance_km: float

    @property
    def total_min(self) -> float:
        return self.travel_min + self.estimated_wait_min


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


class OnTheRoad:
    """Citizens sent to a branch and not there yet, by trip id."""

    def __init__(self) -> None:
        self._trips: dict[str, dict[object, tuple[float, str]]] = defaultdict(dict)

    def add(self, trip: object, branch: str, service: str, arrives_at: float) -> None:
        """A citizen on the way to branch; a trip already heading elsewhere is moved, not doubled."""
        for trips in self._trips.values():
            trips.pop(trip, None)
        self._trips[branch][trip] = (arrives_at, service)

    def arrived(self, trip: object, branch: str) -> None:
        self._trips[branch].pop(trip, None)

    def heading_to(self, branch: str, now: float, before: float) -> list[str]:
        """Services of those due at `branch` by `before`; trips long past due are forgotten."""
        trips = self._trips.get(branch, {})
        for trip in [k for k, (t, _) in trips.items() if t < now - 3600]:
            del trips[trip]
        return [s for t, s in trips.values() if t <= before]


def reachable(engine, from_branch: str, to_branch: str, service_id: str, rules: RedirectRules) -> float | None:
    """Travel minutes from one branch to another that offers the service, is within the limits and
    is still open when the citizen would get there; None if it is not."""
    trip = _trip(engine, from_branch, to_branch, service_id, rules)
    return None if trip is None else trip[1]


def _trip(engine, from_branch: str, to_branch: str, service_id: str, rules: RedirectRules):
    """(km, travel minutes) of an allowed trip, else None."""
    if from_branch == to_branch or service_id not in engine.branches[to_branch].services:
        return None
    home, other = engine.branches[from_branch], engine.branches[to_branch]
    km = distance_km(home.lat, home.lon, other.lat, other.lon)
    travel = km * rules.detour_factor / rules.speed_kmh * 60
    now = engine.clock.now()
    if km > rules.max_km or travel > rules.max_travel_min or now + travel * 60 >= engine.closes_at(to_branch, now):
        return None
    return km, travel


def alternatives(engine, branch_id: str, service_id: str, rules: RedirectRules,
                 on_the_road: OnTheRoad | None = None) -> list[Alternative]:
    """The branches worth offering a citizen who takes a ticket for service_id at branch_id now."""
    now = engine.clock.now()
    here = engine.estimate_new(branch_id, service_id)
    if here is None or here < rules.min_saving_min:
        return []
    found = []
    for other in engine.branches:
        trip = _trip(engine, branch_id, other, service_id, rules)
        if trip is None:
            continue
        km, travel = trip
        ahead = on_the_road.heading_to(other, now, now + travel * 60) if on_the_road else []
        wait = engine.estimate_new(other, service_id, extra_ahead=ahead)
        if wait is not None and here - (travel + wait) >= rules.min_saving_min:
            found.append(Alternative(other, wait, travel, km))
    found.sort(key=lambda a: a.total_min)
    return found[:rules.max_offers]
