"""A scenario day modelled independently in ciw, as a yardstick for motcua's simulator.

Nothing here runs motcua's engine: the scenario file is read as plain data (the rules are the
ones written in server/data/scenarios/README.md) and the day is rebuilt from ciw's own parts:
`PoissonIntervals` arrivals, `Lognormal` service times, FIFO queues, a `Schedule` for shifts.

- `per_service_mean_waits`: the day itself, for a scenario whose counters are each dedicated to
  one service. Every (branch, service) is then an independent multi-server queue, which ciw
  models exactly, so our simulator must agree with it in distribution.
- `pooled_waits` / `pooled_summary`: the pooled limit. All counters of branches within `max_km`
  of each other act as one queue that serves every service, with no travel: what perfect
  balancing and perfectly flexible counters could at best achieve (a benchmark, not a bound
  proven for every day).

Times are minutes from the scenario's `open`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import zip_longest

import ciw

from motcua.core.balancing import distance_km
from motcua.core.clock import hhmm_minutes
from motcua.core.stats import lognormal_params, percentile

DEFAULT_MAX_KM = 5.0  # what motcua assumes when a scenario has no `redirect` block
DEFAULT_CV = 0.6  # what motcua assumes when a service gives no cv
# The last phase of every schedule runs "for ever"; ciw repeats a schedule cyclically, so its
# end must lie beyond the horizon, and the horizon beyond any day's last service.
FOREVER_MIN = 1e9
HORIZON_MIN = FOREVER_MIN / 2


# ---- reading the scenario --------------------------------------------------------------------

@dataclass(frozen=True)
class Counter:
    branch: str
    id: str
    services: tuple[str, ...]
    shifts: tuple[tuple[float, float], ...]  # minutes from open; empty = no shifts given


def day_length_min(data: dict) -> float:
    return hhmm_minutes(data["close"]) - hhmm_minutes(data["open"])


def counters(data: dict) -> list[Counter]:
    """Every counter, with its own shifts or else its branch's (the README's override rule)."""
    opening = hhmm_minutes(data["open"])
    result = []
    for branch in data["branches"]:
        for item in branch["counters"]:
            raw = item.get("shifts") or branch.get("shifts") or ()
            shifts = tuple((hhmm_minutes(a) - opening, hhmm_minutes(b) - opening) for a, b in raw)
            result.append(Counter(branch["id"], str(item["id"]), tuple(item["services"]), shifts))
    return result


def arrival_rates(data: dict) -> dict[tuple[str, str], list[float]]:
    """Hourly rates by (branch, service); two streams for the same pair add up."""
    rates: dict[tuple[str, str], list[float]] = {}
    for stream in data["arrivals"]:
        key = (stream["branch"], stream["service"])
        rates[key] = _add(rates.get(key, []), stream["per_hour"])
    return rates


def _add(a: list[float], b: list[float]) -> list[float]:
    return [x + y for x, y in zip_longest(a, b, fillvalue=0.0)]


# ---- ciw building blocks ---------------------------------------------------------------------

def arrivals(per_hour: list[float], day_min: float):
    """Poisson arrivals at hourly rates from open, the last slot cut at close; none after.

    PoissonIntervals draws every arrival date when it is built, so `ciw.seed` must come first.
    """
    slots = [min((slot + 1) * 60.0, day_min) for slot in range(len(per_hour)) if slot * 60.0 < day_min]
    rates = [rate / 60.0 for rate in per_hour[:len(slots)]]  # ciw wants rates per minute
    if not any(rate > 0 for rate in rates):
        return None  # ciw's "no arrivals"
    return ciw.dists.PoissonIntervals(rates, slots, max_sample_date=slots[-1])


def service_time(service: dict):
    """Lognormal with the given mean and cv of the time itself; ciw takes mu, sigma of its log."""
    params = service["service_min"]
    return ciw.dists.Lognormal(*lognormal_params(params["mean"], params.get("cv", DEFAULT_CV)))


def _arrival_count(distribution) -> int:
    return 0 if distribution is None else len(distribution.dates) - 1  # dates start with 0.0


class CounterShifts(ciw.Schedule):
    """When each counter of one ciw node is on duty; ciw's Schedule supplies the change dates.

    On duty: a counter without shifts always; one with shifts inside one of them before close,
    and after close only if its last shift ends at or after close (it then serves the queue
    out). Shift bounds are clamped to the day.
    """

    def __init__(self, staff: list[Counter], day_min: float) -> None:
        self.staff = staff
        self.day_min = day_min
        edges = {0.0, day_min}
        edges.update(min(max(t, 0.0), day_min) for c in staff for shift in c.shifts for t in shift)
        dates = sorted(edges)
        super().__init__([len(self.on_duty(t)) for t in dates], dates[1:] + [FOREVER_MIN], preemption=False)

    def on_duty(self, t: float) -> list[Counter]:
        """In the scenario's order: a list, not a set, so that runs do not depend on hash seeds."""
        return [c for c in self.staff if self._works(c, t)]

    def _works(self, counter: Counter, t: float) -> bool:
        if not counter.shifts:
            return True
        if t >= self.day_min:
            return max(end for _, end in counter.shifts) >= self.day_min
        return any(start <= t < end for start, end in counter.shifts)


class CounterNode(ciw.Node):
    """A ciw node whose servers are named counters that come and go with their own shifts.

    ciw's own shift change (preemption off) sends *every* server off duty and starts the new
    number afresh, the busy ones finishing their customer on the side. A change from 21 to 14
    counters would briefly have up to 35 serving, and even a change to the same number adds
    capacity. Here a counter on duty before and after simply stays; one whose shift ends leaves
    when idle, or after its current citizen (a service is never interrupted); one whose shift
    starts joins.
    """

    def change_shift(self) -> None:
        self.schedule.get_next_shift()
        self.next_shift_change = self.schedule.next_shift_change_date
        self.c = self.schedule.c
        on_duty = self.schedule.on_duty(self.now)
        staying, present = set(on_duty), {server.counter for server in self.servers}
        for server in list(self.servers):
            stays = server.counter in staying
            server.offduty = server.busy and not stays  # ciw retires it when its service ends
            if not stays:
                server.shift_end = self.now
            if not stays and not server.busy:
                self.kill_server(server)
        for counter in [c for c in on_duty if c not in present]:
            self.highest_id += 1
            server = self.simulation.ServerType(self, self.highest_id, self.now)
            server.counter = counter
            self.servers.append(server)
        self.begin_service_if_possible_change_shift()


def run(arrival_dists: dict[str, list], service_dists: dict[str, list], schedules: list[CounterShifts],
        expected: int | None = None) -> list:
    """Simulate until every arrival is served; ciw's service records, one per citizen."""
    size = len(schedules)
    leave = [[0.0] * size for _ in range(size)]  # one visit, then out
    network = ciw.create_network(arrival_distributions=arrival_dists, service_distributions=service_dists,
                                 number_of_servers=schedules, routing={cls: leave for cls in arrival_dists})
    simulation = ciw.Simulation(network, node_class=CounterNode)
    simulation.simulate_until_max_time(HORIZON_MIN)
    records = [r for r in simulation.get_all_records() if r.record_type == "service"]
    if expected is None:
        expected = sum(_arrival_count(d) for per_node in arrival_dists.values() for d in per_node)
    if len(records) != expected:
        raise RuntimeError(f"{expected - len(records)} citizens were never served: no counter left in shift")
    return records


# ---- the day with dedicated counters ---------------------------------------------------------

def per_service_mean_waits(data: dict, seed: int) -> dict[str, float]:
    """Mean wait per service (services with at least one citizen), every counter dedicated."""
    ciw.seed(seed)
    day_min = day_length_min(data)
    staff = _dedicated_staff(data)
    queues = list(arrival_rates(data).items())  # one ciw node per (branch, service)
    services = {s["id"]: s for s in data["services"]}
    for (branch, service), _ in queues:
        if not staff.get((branch, service)):
            raise ValueError(f"no counter at {branch} serves {service}")
    records = run({"citizen": [arrivals(rates, day_min) for _, rates in queues]},
                  {"citizen": [service_time(services[service]) for (_, service), _ in queues]},
                  [CounterShifts(staff[key], day_min) for key, _ in queues])
    waits = defaultdict(list)
    for record in records:
        (_, service), _ = queues[record.node - 1]
        waits[service].append(record.waiting_time)
    return {service: sum(w) / len(w) for service, w in waits.items()}


def _dedicated_staff(data: dict) -> dict[tuple[str, str], list[Counter]]:
    staff = defaultdict(list)
    for counter in counters(data):
        if len(counter.services) != 1:
            raise ValueError(f"counter {counter.branch}/{counter.id} serves {len(counter.services)} services; "
                             "this model needs every counter dedicated to one")
        staff[(counter.branch, counter.services[0])].append(counter)
    return staff


# ---- the pooled limit ------------------------------------------------------------------------

def nearby_groups(data: dict, max_km: float | None = None) -> list[list[str]]:
    """Branch ids grouped as connected components of "great-circle distance ≤ max_km"."""
    if max_km is None:
        max_km = data.get("redirect", {}).get("max_km", DEFAULT_MAX_KM)
    branches = {b["id"]: b for b in data["branches"]}
    groups, seen = [], set()
    for start in branches:
        if start in seen:
            continue
        group, frontier = [], [start]
        seen.add(start)
        while frontier:
            here = frontier.pop()
            group.append(here)
            for other in branches:
                if other not in seen and _km(branches[here], branches[other]) <= max_km:
                    seen.add(other)
                    frontier.append(other)
        groups.append(group)
    return groups


def _km(a: dict, b: dict) -> float:
    return distance_km(float(a["lat"]), float(a["lon"]), float(b["lat"]), float(b["lon"]))


def pooled_day(data: dict, seed: int, max_km: float | None = None) -> list[tuple[float, float]]:
    """(arrived_min, wait_min) per citizen when each group of nearby branches is one queue.

    FIFO over all citizens: priority would reorder them but, being blind to service times,
    hardly moves the mean.
    """
    ciw.seed(seed)
    day_min = day_length_min(data)
    groups = nearby_groups(data, max_km)
    rates = arrival_rates(data)
    services = {s["id"]: s for s in data["services"]}
    classes = sorted({service for _, service in rates})
    staff = counters(data)
    records = run(
        {cls: [arrivals(_group_rates(rates, group, cls), day_min) for group in groups] for cls in classes},
        {cls: [service_time(services[cls]) for _ in groups] for cls in classes},
        [CounterShifts([c for c in staff if c.branch in group], day_min) for group in groups])
    return [(r.arrival_date, r.waiting_time) for r in records]


def _group_rates(rates: dict, group: list[str], service: str) -> list[float]:
    total: list[float] = []
    for branch in group:
        total = _add(total, rates.get((branch, service), []))
    return total


def pooled_waits(data: dict, seed: int, max_km: float | None = None) -> list[float]:
    """One wait (minutes) per citizen of the day, in the pooled limit."""
    return [wait for _, wait in pooled_day(data, seed, max_km)]


def pooled_summary(data: dict, seed: int) -> dict[str, float]:
    """The pooled limit's day in the figures `motcua simulate` prints."""
    return figures(pooled_waits(data, seed), data.get("target_wait_min", 15))


def figures(waits: list[float], target_min: float) -> dict[str, float]:
    """Mean, p90 (linear interpolation) and share within target, over all citizens."""
    if not waits:
        return {"mean_wait_min": 0.0, "p90_wait_min": 0.0, "within_target_pct": 0.0}
    return {
        "mean_wait_min": round(sum(waits) / len(waits), 3),
        "p90_wait_min": round(percentile(waits, 0.9), 3),
        "within_target_pct": round(100 * sum(w <= target_min for w in waits) / len(waits), 3),
    }


# ---- the pooled limit on the simulator's own citizens ----------------------------------------

NO_MORE_MIN = 10 * HORIZON_MIN  # an inter-arrival gap past the horizon: the list of arrivals ends


def pooled_day_of(data: dict, citizens, max_km: float | None = None) -> list[tuple[float, float]]:
    """(arrived_min, wait_min) per citizen, the pooled limit for exactly these citizens.

    citizens: the simulator's generated day (`motcua.core.simulator.generate_citizens`), each
    with origin, service, arrived_min and service_min. Feeding ciw the same arrivals and service
    times (common random numbers) compares a policy with the limit on the same day, which takes
    the day-to-day noise out of "gap closed". ciw still does all the queueing: FIFO per group,
    service times drawn in each class's arrival order, which FIFO keeps.
    """
    day_min = day_length_min(data)
    groups = nearby_groups(data, max_km)
    group_of = {branch: index for index, group in enumerate(groups) for branch in group}
    classes = sorted({s["id"] for s in data["services"]})
    streams = defaultdict(list)
    for citizen in sorted(citizens, key=lambda c: c.arrived_min):
        streams[(group_of[citizen.origin], citizen.service)].append(citizen)
    staff = counters(data)
    records = run({cls: [_replay_arrivals(streams[(g, cls)]) for g in range(len(groups))] for cls in classes},
                  {cls: [_replay_services(streams[(g, cls)]) for g in range(len(groups))] for cls in classes},
                  [CounterShifts([c for c in staff if c.branch in group], day_min) for group in groups],
                  expected=len(citizens))
    return [(r.arrival_date, r.waiting_time) for r in records]


def _replay_arrivals(stream: list):
    if not stream:
        return None
    times = [c.arrived_min for c in stream]
    gaps = [times[0]] + [b - a for a, b in zip(times, times[1:])]
    return ciw.dists.Sequential(gaps + [NO_MORE_MIN])


def _replay_services(stream: list):
    return ciw.dists.Sequential([c.service_min for c in stream] or [1.0])
