"""The staffing advice at a real branch's size: what working a trial's shares out for the trying counter
alone saves.

An idle counter's Next asks the advice (QueueEngine.take_on_short), so a busy branch asks it many times
an hour. The plan tries every counter on every short service; each trial needs the shares of the trying
counter's services only (motcua.core.staffing._trial_shares), where the reference works out every
counter's shares again (_shares of the whole trial plan). On a branch of --services services and
--counters counters (each serving 1 to 3), with citizens waiting for a random --short of the services,
for --asks random queues:

1. the advice as shipped, beside
2. the reference: the same plan with each trial's shares worked out in full.

Each advice's moves are checked equal to the reference's. Printed: median and p99 ms per advice.

    python bench/advice.py [--services 40] [--counters 20] [--short 12] [--asks 60]
"""
from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import date
from unittest import mock

from motcua.core import staffing
from motcua.core.clock import FakeClock, LocalTime
from motcua.core.engine import QueueEngine
from motcua.core.model import Branch, Counter, Service
from motcua.core.staffing import HourlyRates, StaffingRules, advise

LOCAL = LocalTime("Asia/Ho_Chi_Minh")
DAY = date(2026, 1, 5)


def branch(services: int, counters: int, rng: random.Random):
    ids = [f"s{i:02d}" for i in range(services)]
    catalogue = [Service(s, s, s, chr(65 + i % 26), rng.choice([5.0, 9.0, 14.0, 20.0])) for i, s in enumerate(ids)]
    desks = [Counter("b", str(n + 1), tuple(rng.sample(ids, rng.randint(1, 3)))) for n in range(counters)]
    return ids, catalogue, desks


def full_best_helper(plan, service, have, needed, waiting, max_services, able, parts) -> str | None:
    """_best_helper as it was: each trial's shares from _shares of the whole trial plan (able and parts, which
    _plan now works out once per round for the shipped one, are ignored)."""
    pressure = staffing._pressure(service, have, needed, waiting)
    candidates = []
    for counter, services in plan.items():
        if service in services or (max_services and len(services) >= max_services):
            continue
        trial = staffing._shares({**plan, counter: services + (service,)}, needed)
        candidates.append((max(staffing._pressure(s, trial, needed, waiting) for s in services + (service,)), counter))
    if not candidates:
        return None
    best, counter = min(candidates)
    return counter if best < pressure else None


def timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    answer = call()
    return (time.perf_counter() - start) * 1000, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=40)
    parser.add_argument("--counters", type=int, default=20)
    parser.add_argument("--short", type=int, default=12)
    parser.add_argument("--asks", type=int, default=60)
    args = parser.parse_args()
    rng = random.Random(7)
    ids, catalogue, desks = branch(args.services, args.counters, rng)
    home = {c.id: c.services for c in desks}
    rates = HourlyRates(LOCAL.epoch(DAY, "07:30"), {s: [rng.uniform(0.2, 6.0)] * 10 for s in ids})
    shipped, reference = [], []
    for _ in range(args.asks):
        clock = FakeClock(LOCAL.epoch(DAY, "09:00"))
        engine = QueueEngine([Branch("b", "B", "B", 21.0, 105.8, tuple(ids))], catalogue, desks, clock)
        for service in rng.sample(ids, args.short):
            for _ in range(rng.randint(3, 15)):
                engine.issue("b", service)
        ms, advice = timed(lambda: advise(engine, "b", rates, StaffingRules(), home))
        with mock.patch.object(staffing, "_best_helper", full_best_helper):
            ref_ms, expected = timed(lambda: advise(engine, "b", rates, StaffingRules(), home))
        assert advice.moves == expected.moves and advice.needs == expected.needs
        shipped.append(ms)
        reference.append(ref_ms)
    p99 = lambda xs: sorted(xs)[min(len(xs) - 1, int(0.99 * len(xs)))]   # noqa: E731
    print(f"a {args.services}-service, {args.counters}-counter branch, {args.short} services with citizens "
          f"waiting, {args.asks} asks (moves checked equal)")
    print(f"  advice, trial shares of the trying counter: median {statistics.median(shipped):.2f} ms, "
          f"p99 {p99(shipped):.2f} ms")
    print(f"  reference, every trial's shares in full:    median {statistics.median(reference):.2f} ms, "
          f"p99 {p99(reference):.2f} ms")


if __name__ == "__main__":
    main()
