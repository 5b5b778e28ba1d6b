"""The kiosk's offers and a phone's best branch at a city's size: what asking only the branches that could
win saves.

A citizen is never called at a branch before the trip there is over, so a branch whose trip alone is
longer than the saving an offer needs, or than the best branch found so far, cannot win and is not
asked its wait (motcua.core.balancing._serving_from). On a generated city (bench/city_scale.py's
`city()`, --branches of them, a branch every --spacing-km: 2.5 as a city's districts, 1 as its inner
wards) with --waiting citizens queued at each branch
through the engine, for --asks random (branch, service) pairs at 09:00:

1. a ticket's offers at the kiosk (`balancing.alternatives`, what every issue at a kiosk asks), beside
   the reference: every reachable branch asked (`nearby`'s full list) and the offers picked from it
   as the rule says;
2. the best branch for a remote ticket (`nearby(limit=1)`, the simulator's remote citizen), beside the
   reference: the full ranking, as GET /branches/nearby lists it.

Each pair's answers are checked equal to the reference's. Printed: median and p99 ms per call, and
the waits asked per call (each deals out a branch's queue).

    python bench/offers.py [--branches 350] [--spacing-km 2.5] [--waiting 10] [--asks 300]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from motcua.core import scenario
from motcua.core.balancing import RedirectRules, alternatives, nearby
from motcua.core.clock import FakeClock
from motcua.core.engine import QueueEngine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from city_scale import SPACING_KM, city  # noqa: E402


class Counting:
    """A queue view counting the waits asked of it."""

    def __init__(self, view):
        self.view, self.asked = view, 0

    def __getattr__(self, name):
        return getattr(self.view, name)

    def estimate_new(self, *args, **kwargs):
        self.asked += 1
        return self.view.estimate_new(*args, **kwargs)


def engine_of(branches: int, spacing_km: float, waiting: int) -> QueueEngine:
    data = city(branches, spacing_km=spacing_km)
    at = datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo(data["timezone"])).timestamp()
    engine = QueueEngine(scenario.branches(data), scenario.services(data), scenario.counters(data), FakeClock(at))
    rng = random.Random(3)  # nosec B311  # a reproducible morning
    for branch in engine.branches.values():
        for _ in range(waiting):
            engine.issue(branch.id, rng.choice(sorted(branch.services)))
    return engine


def timed(work) -> tuple[object, float]:
    start = time.perf_counter()
    answer = work()
    return answer, (time.perf_counter() - start) * 1000


def line(label: str, ms: list[float], asked: int, calls: int) -> str:
    p99 = sorted(ms)[int(0.99 * (len(ms) - 1))]
    return (f"  {label:<52} median {statistics.median(ms):7.3f} ms   p99 {p99:7.3f} ms   "
            f"{asked / calls:6.1f} waits asked")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--branches", type=int, default=350)
    parser.add_argument("--spacing-km", type=float, default=SPACING_KM)
    parser.add_argument("--waiting", type=int, default=10)
    parser.add_argument("--asks", type=int, default=300)
    args = parser.parse_args()

    engine = engine_of(args.branches, args.spacing_km, args.waiting)
    rules = RedirectRules()
    rng = random.Random(7)  # nosec B311  # the same questions every run
    ms = {key: [] for key in ("offers", "offers-ref", "best", "best-ref")}
    asked = dict.fromkeys(ms, 0)
    for _ in range(args.asks):
        home = engine.branch(rng.choice(sorted(engine.branches)))
        service = rng.choice(sorted(home.services))
        views = {key: Counting(engine.published()) for key in ms}
        full, spent = timed(lambda: nearby(views["best-ref"], home.lat, home.lon, service, rules))
        ms["best-ref"].append(spent)
        best, spent = timed(lambda: nearby(views["best"], home.lat, home.lon, service, rules, limit=1))
        ms["best"].append(spent)
        offers, spent = timed(lambda: alternatives(views["offers"], home.id, service, rules))
        ms["offers"].append(spent)

        def reference():
            here = views["offers-ref"].estimate_new(home.id, service)
            if here is None or here < rules.min_saving_min:
                return []
            everyone = nearby(views["offers-ref"], home.lat, home.lon, service, rules)
            return [a for a in everyone if a.branch != home.id
                    and here - a.called_in_min >= rules.min_saving_min][:rules.max_offers]
        wanted, spent = timed(reference)
        ms["offers-ref"].append(spent)
        if best != full[:1] or offers != wanted:
            raise SystemExit(f"answers differ at {home.id} for {service}")
        for key, view in views.items():
            asked[key] += view.asked
    print(f"a generated city of {args.branches} branches {args.spacing_km} km apart, {args.waiting} waiting at each, "
          f"{args.asks} questions "
          "(answers equal to the reference's):")
    print(line("kiosk's offers, every reachable branch asked (reference)", ms["offers-ref"], asked["offers-ref"],
               args.asks))
    print(line("kiosk's offers, only branches that could win", ms["offers"], asked["offers"], args.asks))
    print(line("remote ticket's best branch, full ranking (reference)", ms["best-ref"], asked["best-ref"],
               args.asks))
    print(line("remote ticket's best branch, nearest first", ms["best"], asked["best"], args.asks))


if __name__ == "__main__":
    main()
