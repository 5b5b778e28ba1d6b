"""Booking ahead at a city's size: what a branch's day of slots costs, and a simulated day with the shares.

1. A branch of 40 services and 20 counters: its day's slots worked out from nothing (`allowances`,
   as every GET /slots and every booking did before they were remembered) beside the same day asked
   again with nothing changed but the bookings (`day_allowances`, remembered).
2. A generated city (bench/city_scale.py's `city()`, --branches of them): one day of `motcua
   simulate`'s `balance+realloc` with `--appointment-share 0.3 --remote-share 0.2` (every booker
   books before the opening, asking each branch's slots), beside the same day without the shares,
   the reference measured in the same run.

    python bench/booking.py [--branches 50] [--spacing-km 2.5] [--repeat 200]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from motcua.core import scenario
from motcua.core.appointments import AppointmentRules, allowances, day_allowances, slot_starts
from motcua.core.simulator import CityDay
from motcua.core.staffing import HourlyRates

sys.path.insert(0, str(Path(__file__).resolve().parent))
from city_scale import SPACING_KM, city  # noqa: E402

SERVICES, COUNTERS, HOURS = 40, 20, 10


def branch_day(seed: int = 1):
    """A branch of SERVICES services at COUNTERS counters (4 each, a lunch break), over a day of slots."""
    rng = random.Random(seed)  # nosec B311  # a reproducible branch, not a secret
    services = [f"service-{n:02d}" for n in range(SERVICES)]
    counters = [(tuple(rng.sample(services, 4)), [(0.0, 4 * 3600.0), (5.5 * 3600, 9.5 * 3600)]) for _ in range(COUNTERS)]
    means = {s: rng.uniform(5, 30) for s in services}
    rates = HourlyRates(0.0, {s: [rng.uniform(0, 6) for _ in range(HOURS)] for s in services})
    return slot_starts(0.0, 9.5 * 3600, 15), counters, means, rates


def per_call_ms(work, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--branches", type=int, default=50)
    parser.add_argument("--spacing-km", type=float, default=SPACING_KM, help="between branches (city_scale's city())")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    starts, counters, means, rates = branch_day()
    rules = AppointmentRules()
    day_allowances(starts, 15, counters, means, rates, rules)
    fresh = per_call_ms(lambda: allowances(starts, 15, counters, means, rates, rules), args.repeat)
    again = per_call_ms(lambda: day_allowances(starts, 15, counters, means, rates, rules), args.repeat)
    print(f"a branch of {SERVICES} services and {COUNTERS} counters, a day of {len(starts)} slots (median of {args.repeat}):")
    print(f"  worked out from nothing (reference)   {fresh:8.3f} ms")
    print(f"  asked again, remembered               {again:8.3f} ms   ({fresh / again:.0f}x)")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "city.json"
        path.write_text(__import__("json").dumps(city(args.branches, spacing_km=args.spacing_km)), encoding="utf-8")
        data = scenario.load(path)
    print(f"\na generated city of {args.branches} branches {args.spacing_km} km apart, one day of balance+realloc:")
    for label, shares in (("today, no shares (reference)", {}),
                          ("--appointment-share 0.3 --remote-share 0.2", {"appointment_share": 0.3, "remote_share": 0.2})):
        start = time.perf_counter()
        day = CityDay(data, "balance+realloc", 1, **shares).run()
        seconds = time.perf_counter() - start
        summary = day.summary()
        print(f"  {label:<44} {seconds:7.1f} s   {summary['citizens']:>6} citizens, "
              f"{summary['within_target_pct']:.1f}% within 15 min")


if __name__ == "__main__":
    main()
