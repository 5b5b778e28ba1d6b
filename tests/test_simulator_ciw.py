"""Our city-day simulator against an independent ciw model of the same day.

In `single-branch.json` every counter serves one service, so each service is its own
multi-server queue with Poisson arrivals at hourly rates and lognormal service times, which
ciw models exactly (bench/ciw_reference.py, built without motcua's engine). The two must agree
in distribution: over many seeds each service's mean wait must be statistically the same.

Priorities: our engine serves the 5% priority citizens first (with its ageing rule), ciw serves
FIFO. Within one service that does not move the mean over all citizens: every citizen's service
time has the same distribution and the calling order does not look at it, so the sequence of
service times in calling order, hence the queue length over the day and the total wait, has the
same distribution under both orders. FIFO in ciw is therefore the right reference for the mean.

Run with `-s` to see the figures.
"""
from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from functools import partial

from scipy import stats

from motcua.core import scenario
from motcua.core.simulator import CityDay

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from ciw_reference import per_service_mean_waits  # noqa: E402  (lives in bench/, not in the package)

# A day takes ~30 ms in our engine and ~10 ms in ciw, and a day's mean wait varies a lot (sd ~4 min
# for civil and cert, ~10 for land), so many days are cheap and needed: with 500 a side the test
# notices a shift of ~15-20% in a service's mean wait, in ~20 s of CPU. The days are independent
# and each is fixed by its seed: they run on every core, and give the same figures as one by one.
SEEDS = 500
WORKERS = min(4, os.cpu_count() or 1)
ENGINE_SEEDS = range(1, SEEDS + 1)
CIW_SEEDS = range(100_001, 100_001 + SEEDS)  # other seeds: the two sides share no random numbers
MIN_P = 0.001
MAX_STANDARD_ERRORS = 4.0


def engine_mean_waits(data: dict, seed: int) -> dict[str, float]:
    """Each service's mean wait over one day of our simulator, no balancing."""
    day = CityDay(data, "none", seed).run()
    waits = defaultdict(list)
    for citizen in day.citizens:
        assert citizen.wait_min is not None, "every citizen of the day is served"
        waits[citizen.service].append(citizen.wait_min)
    return {service: statistics.fmean(w) for service, w in waits.items()}


def by_service(days: list[dict[str, float]]) -> dict[str, list[float]]:
    """Per-day means regrouped per service (a day without a citizen of a service adds nothing)."""
    result = defaultdict(list)
    for day in days:
        for service, mean in day.items():
            result[service].append(mean)
    return result


def compare(engine_data: dict, ciw_data: dict) -> list[dict]:
    """Per service: both sides' mean of daily mean waits, the standard error of the difference
    and Welch's p-value. Two data dicts so that a perturbed copy can be fed to one side."""
    # spawn, not fork: the test process may have threads (servers' clients, browsers) running.
    with ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn")) as pool:
        ours = pool.map(partial(engine_mean_waits, engine_data), ENGINE_SEEDS, chunksize=25)
        reference = pool.map(partial(per_service_mean_waits, ciw_data), CIW_SEEDS, chunksize=25)
        ours, reference = by_service(list(ours)), by_service(list(reference))
    rows = []
    for service in sorted(ours.keys() | reference.keys()):
        a, b = ours.get(service, []), reference.get(service, [])
        se = (statistics.variance(a) / len(a) + statistics.variance(b) / len(b)) ** 0.5
        rows.append({"service": service, "ours": statistics.fmean(a), "ciw": statistics.fmean(b), "se": se,
                     "p": stats.ttest_ind(a, b, equal_var=False).pvalue, "days": (len(a), len(b))})
    return rows


def disagreements(rows: list[dict]) -> list[str]:
    return [f"{r['service']}: ours {r['ours']:.3f} vs ciw {r['ciw']:.3f} min, p={r['p']:.2g}"
            for r in rows
            if not (r["p"] > MIN_P and abs(r["ours"] - r["ciw"]) < MAX_STANDARD_ERRORS * r["se"])]


def show(rows: list[dict], seconds: float) -> None:
    print(f"\nsingle-branch, policy none, {SEEDS} days each side: mean wait per service (minutes)")
    print(f"{'service':<8} {'ours':>8} {'ciw':>8} {'diff/SE':>8} {'Welch p':>8}")
    for r in rows:
        print(f"{r['service']:<8} {r['ours']:8.3f} {r['ciw']:8.3f} {(r['ours'] - r['ciw']) / r['se']:8.2f} "
              f"{r['p']:8.3f}")
    print(f"({seconds:.1f} s)")


def test_each_service_waits_as_long_as_in_an_independent_ciw_model():
    data = scenario.load(scenario.bundled("single-branch"))
    started = time.monotonic()
    rows = compare(data, data)
    show(rows, time.monotonic() - started)
    assert {r["service"] for r in rows} == {s["id"] for s in data["services"]}
    assert all(r["days"] == (SEEDS, SEEDS) for r in rows)
    assert not disagreements(rows)
