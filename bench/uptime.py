"""Uptime benchmark: one long-lived server of a 50-branch city on a fake clock, day after day.

Builds a city of 50 branches (Hoan Kiem's four, repeated, ≈ 9,300 citizens a day) in a fresh database,
opens the server's runtime and app on a fake clock and runs the simulator's day on its one engine
for --days days. The engine journals nothing (the database's writes, a few ms each, would make a
month an hour; they are not what grows) and no socket listens (its broadcaster is detached). Each
day at 10:30 it reads what would grow with the server's uptime if anything did: tickets in memory,
RSS, the city view (`GET /city`), a branch's staff state (`GET /branches/{b}/staff-state`),
`no_shows` (µs) and the voice clip's lookup (`ticket_numbered` across the branches, µs), each as
the least CPU time of several calls (on a shared machine, wall time is mostly a wait for a core). Beside each
day's reads, the reference of the same run: the same reads on an engine freshly loaded with the
day's tickets so far, as a restart would have it. Flat means the long-lived engine reads like the
fresh one, on day 30 as on day 1.

    python bench/uptime.py [--days 30] [--citizens 9300] [--every 5]
"""
from __future__ import annotations

import argparse
import copy
import gc
import os
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from motcua.config import load_config
from motcua.core import scenario
from motcua.core.clock import FakeClock, LocalTime
from motcua.core.engine import QueueEngine
from motcua.core.journeys import Journeys
from motcua.core.simulator import SIM_DAY, CityDay
from motcua.store import Store
from motcua.web.app import create_app
from motcua.web.pages import _called_somewhere
from motcua.web.runtime import engine_settings, open_runtime

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "server" / "data" / "scenarios" / "hoan-kiem.json"
BRANCHES = 50
READ_AT_MIN = 180.0          # after open (07:30): 10:30, as the issue measured
PASSWORD = "uptime-bench-1"  # nosec B105  # a throwaway account of a throwaway database
WATCHED = "b01"              # the branch whose staff state, no-shows and voice are read
REPEATS = {"city": 5, "staff": 20, "no_shows": 50, "voice": 50}


def city(citizens: float) -> dict:
    """Hoan Kiem's branches repeated to BRANCHES, a few hundred metres apart, their arrivals scaled to
    `citizens` a day."""
    data = scenario.load(SCENARIO)
    out = copy.deepcopy(data)
    out["branches"], out["arrivals"] = [], []
    for n in range(BRANCHES):
        template = data["branches"][n % len(data["branches"])]
        branch_id = f"b{n + 1:02d}"
        out["branches"].append({**copy.deepcopy(template), "id": branch_id,
                                "lat": template["lat"] + 0.004 * (n // 4), "lon": template["lon"]})
        out["arrivals"] += [{**a, "branch": branch_id} for a in data["arrivals"] if a["branch"] == template["id"]]
    scale = citizens / sum(sum(a["per_hour"]) for a in out["arrivals"])
    for arrival in out["arrivals"]:
        arrival["per_hour"] = [rate * scale for rate in arrival["per_hour"]]
    return out


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def best_ms(fn, repeats: int) -> float:
    """The least CPU time of `repeats` calls, after one untimed (caches warm, as a running server's are):
    on a shared machine wall time is mostly waiting for a core, which is other processes' doing."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append((time.process_time() - start) * 1000)
    return min(times)


def reads(app, tokens: dict[str, str]) -> dict[str, float]:
    """Each read's time in ms on this app's engine (no_shows and voice in µs), and the tickets it holds."""
    engine = app.extensions["motcua"].engine
    client = app.test_client()
    gc.collect()  # what building the app left is not the reads' to collect
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    officer = {"Authorization": f"Bearer {tokens['officer']}"}
    call = engine.recent_calls(WATCHED)[0]

    def get(path, headers):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:200])

    return {
        "tickets": len(engine.tickets),
        "city": best_ms(lambda: get("/api/v1/city", admin), REPEATS["city"]),
        "staff": best_ms(lambda: get(f"/api/v1/branches/{WATCHED}/staff-state", officer), REPEATS["staff"]),
        "no_shows": 1000 * best_ms(lambda: engine.no_shows(WATCHED), REPEATS["no_shows"]),
        "voice": 1000 * best_ms(lambda: _called_somewhere(engine, call.number, call.counter), REPEATS["voice"]),
    }


def open_app(config, clock, tickets=()):
    """The server's app on the database's network and accounts, its engine holding `tickets` and
    journaling nothing."""
    runtime = open_runtime(config, clock)
    store = runtime.store
    engine = QueueEngine(store.branches(), store.services(), store.counters(), clock,
                         settings=engine_settings(config), tickets=tickets)
    app = create_app(config, clock, replace(runtime, engine=engine, journeys=Journeys(engine, runtime.redirect)))
    app.config["TESTING"] = True
    engine.listeners.clear()  # no socket listens: nothing would ever drain the broadcaster
    return app


def staff_tokens(app) -> dict[str, str]:
    accounts = app.extensions["motcua"].accounts
    accounts.add_user("admin", PASSWORD, "admin", None)
    accounts.add_user("officer", PASSWORD, "officer", WATCHED)
    return {name: accounts.login(name, PASSWORD)[0] for name in ("admin", "officer")}


READS = ("city", "staff", "no_shows", "voice")
ROW = "{:>4} {:>9} {:>7} {:>9} {:>9} {:>10} {:>9} {:>11} {:>9}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--citizens", type=float, default=9300.0, help="citizens a day across the city")
    parser.add_argument("--every", type=int, default=5, help="print every Nth day (and days 1 and the last)")
    args = parser.parse_args()
    print(f"$ python bench/uptime.py --days {args.days} --citizens {args.citizens:g} --every {args.every}")
    data = city(args.citizens)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "uptime.db"
        store = Store(db)
        store.load_network(scenario.services(data), scenario.branches(data), scenario.counters(data))
        store.close()
        config = load_config(server={"db": str(db), "async_mode": "threading", "sqlite_synchronous": "OFF"},
                             auth={"token_ttl_hours": 24.0 * (args.days + 2)})
        clock = FakeClock(LocalTime(data["timezone"]).epoch(SIM_DAY, data["open"]))
        app = open_app(config, clock)
        tokens = staff_tokens(app)
        engine = app.extensions["motcua"].engine
        print(f"{BRANCHES} branches, ≈{args.citizens:g} citizens a day; reads at 10:30, CPU time, the best of "
              f"{min(REPEATS.values())} or more in ms; no_shows and voice in µs; "
              "'fresh': the same reads on an engine loaded with the day so far")
        print(ROW.format("day", "tickets", "RSS MiB", "city ms", "staff ms", "no_shows", "voice", "issued", "run s"))
        shown = {1, args.days, *range(args.every, args.days + 1, args.every)}
        first = last = last_fresh = None
        for day in range(1, args.days + 1):
            started = time.perf_counter()
            run = CityDay(data, seed=day, engine=engine, day=SIM_DAY + timedelta(days=day - 1))
            measured, fresh = {}, {}
            if day in shown:
                run.at(READ_AT_MIN, lambda _: (measured.update(reads(app, tokens), rss=rss_mib()),
                                               fresh.update(fresh_reads(config, engine, tokens))))
            run.run()
            if day in shown:
                print(ROW.format(day, measured["tickets"], f"{measured['rss']:.0f}", *(
                    f"{measured[k]:.1f}" for k in READS), len(run.citizens), f"{time.perf_counter() - started:.1f}"))
                print(ROW.format("", fresh["tickets"], "fresh", *(f"{fresh[k]:.1f}" for k in READS), "", ""),
                      flush=True)
                first, last, last_fresh = first or measured, measured, fresh
        print(f"day {args.days} against day 1: " + ", ".join(
            f"{k} ×{last[k] / first[k]:.2f}" for k in ("tickets", "rss", *READS)))
        print(f"day {args.days}, the long-lived engine against the fresh one: " + ", ".join(
            f"{k} ×{last[k] / last_fresh[k]:.2f}" for k in ("tickets", *READS)))
        app.extensions["motcua"].store.close()


def fresh_reads(config, engine, tokens: dict[str, str]) -> dict[str, float]:
    """The same reads on an app freshly loaded with the day's tickets so far, as a restart would have it."""
    today = engine.local.day(engine.now())
    app = open_app(config, FakeClock(engine.now()), [t for t in engine.tickets.values() if t.day == today])
    try:
        return reads(app, tokens)
    finally:
        app.extensions["motcua"].store.close()


if __name__ == "__main__":
    main()
