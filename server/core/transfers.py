"""Where an officer may send a citizen: every other branch offering a service, with the trip and the
wait there, so that the choice is made knowing both."""
from __future__ import annotations

from dataclasses import dataclass

from .balancing import RedirectRules, distance_km, reachable
from .model import QueueView


@dataclass(frozen=True)
class Destination:
    branch: str
    distance_km: float
    travel_min: float
    estimated_wait_min: float | None   # after arriving; None when no open counter there serves it
    within_reach: bool                 # inside the redirect rules' distance, travel time and hours

    @property
    def total_min(self) -> float:
        return self.travel_min + (self.estimated_wait_min if self.estimated_wait_min is not None else float("inf"))


def trip(queues: QueueView, from_branch: str, to_branch: str, rules: RedirectRules) -> tuple[float, float]:
    """(km, travel minutes) from one branch to another, as the redirect rules reckon a trip."""
    home, other = queues.branch(from_branch), queues.branch(to_branch)
    km = distance_km(home.lat, home.lon, other.lat, other.lon)
    return km, km * rules.detour_factor / rules.speed_kmh * 60


def due_at(queues: QueueView, from_branch: str, to_branch: str, rules: RedirectRules) -> float:
    """When a citizen sent now from one branch can be at another: the new ticket is not called
    before, and ranks by it, as a redirected citizen's does."""
    return queues.now() + trip(queues, from_branch, to_branch, rules)[1] * 60


def destinations(queues: QueueView, from_branch: str, service_id: str, rules: RedirectRules) -> list[Destination]:
    """Every other branch that offers the service, soonest served first (travel plus wait there)."""
    queues.branch(from_branch)
    found = []
    for other_id in queues.branch_ids():
        if other_id == from_branch or service_id not in queues.branch(other_id).services:
            continue
        km, travel = trip(queues, from_branch, other_id, rules)
        called_in = queues.estimate_new(other_id, service_id, arriving_at=queues.now() + travel * 60)
        wait = None if called_in is None else max(0.0, called_in - travel)
        found.append(Destination(other_id, km, travel, wait,
                                 reachable(queues, from_branch, other_id, service_id, rules) is not None))
    found.sort(key=lambda d: (d.total_min, d.travel_min))
    return found
