"""The branch as the unit, in one process: the city view and one branch's issue latency on a
generated 350-branch city with a full day's tickets, beside the old path measured in the same run.

The city: bench/city_scale.py's (`city()`: N branches, default 350, each offering 10–25 of 25
services at 4–20 counters, neighbours within 5 km), and a day of citizens (≈210 a branch: ≈74,000)
issued, called and served on a fake clock up to mid-afternoon, some still waiting.

Measured (the engine's own reads, no HTTP):
- the city view: the rows kept per branch (`QueueEngine.city_rows`) cold (first read), warm
  (nothing changed), after one change at each of 20 branches, and after the clock has moved past the
  schedules' age (each branch's waits dealt again); beside the whole recomputation over every
  branch's state and tickets (what GET /city did), and that recomputation holding every branch
  at once (the old single lock);
- issue latency at one branch (p50 / p99 / max over the issues; a counter there calls one citizen
  after each, so its queue stays as long) while another thread reads the city view in a loop:
  kept rows and per-branch locks, against the whole recomputation holding every branch (the old
  lock), and with nobody reading. In-process threads share the GIL: a reader in a loop delays an
  issue by a switch interval (5 ms) now and then, which a gevent server does not see.

    python bench/branch_locks.py [--branches 350] [--issues 1500] [--seed 1]
"""
from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import threading
import time
from datetime import date
from pathlib import Path

from motcua.core import dashboard, scenario
from motcua.core.clock import FakeClock, LocalTime
from motcua.core.engine import EngineSettings, QueueEngine
from motcua.core.model import Branch

sys.path.insert(0, str(Path(__file__).resolve().parent))   # city_scale sits next to this file
from city_scale import city  # noqa: E402

TZ = "Asia/Ho_Chi_Minh"
DAY = date(2026, 11, 24)
TARGET = 15.0
PER_BRANCH = 210               # citizens a branch has seen by mid-afternoon (350 × 210 ≈ 74,000)
OPEN_MIN, UNTIL_MIN = 7 * 60 + 30, 15 * 60   # the day runs from opening to mid-afternoon


def generate(branches: int, seed: int, clock: FakeClock) -> QueueEngine:
    """The city of bench/city_scale.py (`city()`), in an engine of its own on the fake clock."""
    data = city(branches, seed=seed)
    ids = iter(range(10 ** 9))
    return QueueEngine(scenario.branches(data), scenario.services(data), scenario.counters(data), clock,
                       settings=EngineSettings(timezone=TZ), new_id=lambda: f"t{next(ids)}")


def run_day(engine: QueueEngine, clock: FakeClock, seed: int, local: LocalTime) -> None:
    """Citizens arrive through the day; each free counter calls the next, serves for about the mean."""
    rng = random.Random(seed + 1)
    rate = PER_BRANCH / (UNTIL_MIN - OPEN_MIN)   # a minute, per branch
    busy: dict[tuple[str, str], tuple[str, float]] = {}
    branches = engine.all_branches()
    for minute in range(OPEN_MIN, UNTIL_MIN):
        clock.set(local.epoch(DAY, f"{minute // 60:02d}:{minute % 60:02d}"))
        for branch in branches:
            for _ in range(poisson(rng, rate)):
                engine.issue(branch.id, rng.choice(branch.services))
            for counter in engine.counters_of(branch.id):
                key = (branch.id, counter.id)
                held = busy.get(key)
                if held is not None and held[1] <= minute:
                    engine.done(held[0])
                    del busy[key]
                if key not in busy:
                    ticket = engine.call_next(branch.id, counter.id)
                    if ticket is not None:
                        busy[key] = (ticket.id, minute + rng.expovariate(1 / engine.service(ticket.service).mean_min))
    clock.set(local.epoch(DAY, f"{UNTIL_MIN // 60:02d}:{UNTIL_MIN % 60:02d}"))


def poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def recomputed(engine: QueueEngine) -> list[tuple]:
    """The city view as GET /city worked it out before: every branch's state and all its tickets of
    the day (QueueEngine.city), summed afresh."""
    rows = []
    for row in engine.city(engine.local.day(engine.now())):
        waiting = sum(line.waiting for line in row.state.services)
        rows.append((dashboard.city_figures(row.state.counters, waiting, row.tickets, TARGET),
                     dashboard.longest(line.estimate_min for line in row.state.services)))
    return rows


def under_one_lock(engine: QueueEngine) -> list[tuple]:
    """The old path: the whole recomputation holding every branch at once (the one lock it had)."""
    with engine.hold_all():
        return recomputed(engine)


def timed(fn, repeat: int = 1) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
    return f"p50 {statistics.median(ordered):8.2f}  p99 {p99:8.2f}  max {ordered[-1]:8.2f} ms"


def issue_latency(engine: QueueEngine, clock: FakeClock, branch: Branch, issues: int, reader) -> list[float]:
    """Issue at one branch, 1 ms apart, while `reader` (if any) runs in a loop in another thread: the
    milliseconds each issue took."""
    stop = threading.Event()
    reads = [0]

    def loop():
        while not stop.is_set():
            reader()
            reads[0] += 1

    thread = threading.Thread(target=loop, daemon=True) if reader else None
    if thread:
        thread.start()
        time.sleep(0.05)
    latencies = []
    counters = engine.counters_of(branch.id)
    try:
        for i in range(issues):
            clock.advance(0.05)   # seconds of the day go by: schedules age and are dealt again
            started = time.perf_counter()
            engine.issue(branch.id, branch.services[i % len(branch.services)])
            latencies.append((time.perf_counter() - started) * 1000)
            # A counter finishes its citizen and calls the next: the queue stays as long as it was.
            counter = counters[i % len(counters)]
            serving = engine.serving_at(branch.id, counter.id)
            if serving is not None:
                engine.done(serving.id)
            engine.call_next(branch.id, counter.id)
            time.sleep(0.001)
    finally:
        stop.set()
        if thread:
            thread.join()
    if thread:
        print(f"      (the other thread read the city view {reads[0]} times meanwhile)")
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--branches", type=int, default=350)
    parser.add_argument("--issues", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    local = LocalTime(TZ)
    clock = FakeClock(local.epoch(DAY, "07:30"))
    started = time.perf_counter()
    engine = generate(args.branches, args.seed, clock)
    run_day(engine, clock, args.seed, local)
    day = engine.local.day(clock.now())
    tickets = sum(len(engine.tickets_of(b, day)) for b in engine.branch_ids())
    waiting = sum(len(engine.waiting_list(b)) for b in engine.branch_ids())
    counters = len(engine.all_counters())
    print(f"city: {args.branches} branches, {counters} counters, {tickets} tickets today, {waiting} waiting "
          f"(made in {time.perf_counter() - started:.1f} s)")

    print("\nthe city view (ms):")
    cold = timed(lambda: engine.city_rows(TARGET))
    warm = timed(lambda: engine.city_rows(TARGET), 20)
    rng = random.Random(args.seed + 2)
    changed = []
    for _ in range(10):
        for branch_id in rng.sample(engine.branch_ids(), min(20, len(engine.branch_ids()))):
            engine.issue(branch_id, engine.branch(branch_id).services[0])
        changed += timed(lambda: engine.city_rows(TARGET))
    aged = []
    for _ in range(3):
        clock.advance(11)   # past the schedules' age: every branch's waits are dealt again
        aged += timed(lambda: engine.city_rows(TARGET))
    whole = timed(lambda: recomputed(engine), 5)
    one_lock = timed(lambda: under_one_lock(engine), 5)
    print(f"  kept rows, cold (first read)            {ms(cold)}")
    print(f"  kept rows, warm (nothing changed)       {ms(warm)}")
    print(f"  kept rows, 20 branches changed          {ms(changed)}")
    print(f"  kept rows, clock past schedules' age    {ms(aged)}")
    print(f"  reference: whole recomputation          {ms(whole)}")
    print(f"  reference: the same under one lock      {ms(one_lock)}")

    branch = engine.branch(engine.branch_ids()[0])
    print(f"\nissue latency at {branch.id}, {args.issues} issues 1 ms apart (ms):")
    alone = issue_latency(engine, clock, branch, args.issues, None)
    print(f"  nobody reading the city view            {ms(alone)}")
    kept = issue_latency(engine, clock, branch, args.issues, lambda: engine.city_rows(TARGET))
    print(f"  city view (kept rows) read in a loop    {ms(kept)}")
    old = issue_latency(engine, clock, branch, max(50, args.issues // 10), lambda: under_one_lock(engine))
    print(f"  reference: whole recomputation under one lock, in a loop  {ms(old)}")


if __name__ == "__main__":
    main()
