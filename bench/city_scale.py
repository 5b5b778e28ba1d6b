"""City-scale benchmark: a real `motcua serve` under a generated city's day, beside a small city's.

Generates a city of N branches (10–25 services each of 25, 4–20 counters, neighbours within 5 km;
`city()`, also bench/history_start.py's), puts it in a fresh database with a kiosk per branch, one
admin and --waiting citizens queued at each branch, starts `motcua serve` on it, and for S seconds,
from one asyncio client (bench/load.py's pacing and sockets): kiosks issue R tickets a second
spread over the city (a random branch, a random service of it); counters call (done, then next)
as often (--calls) at the branches tickets were issued at, so queues move and hold; one staff
console per branch is subscribed to its staff room (`subscribe_staff`); wall displays at a few
branches time call → display; GET /branches/{b}/state at random branches ten times a second
times a branch's state; and an admin's City tab reloads GET /city every --city-every seconds (the
page itself polls every 30 s: the default 2 s gives its p99 thirty samples a minute and loads the
server more than one page would). Then the same on the reference city (--reference: 5 branches,
the same load, in the same run), the server's writer as its /metrics saw it, and the issue's targets.

    python bench/city_scale.py [--branches 350] [--seconds 60] [--rate 50] [--calls 50] [--reference 5]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import NO_ADDRESS_CAP, Display, free_port, paced, percentile, wait_healthy  # noqa: E402

SERVICES = 25
CENTRE = (10.7769, 106.7009)   # Ho Chi Minh City
SPACING_KM = 2.5               # branches on a jittered grid this far apart: each has neighbours within 5 km
KM_PER_DEGREE = 111.32
DAY_SHAPE = [0.7, 1.3, 1.5, 1.2, 0.5, 0.3, 1.0, 1.2, 0.9, 0.5]   # arrivals per hour from 07:30, as Hoan Kiem's
ADMIN, PASSWORD = "bench", "benchpass1"
DISPLAY_BRANCHES = 5
STATE_READS_PER_S = 10
COMMIT_SLOW_S = 0.05   # a bucket bound of the server's commit histogram (motcua.web.metrics)
TARGETS = (("issue p99", "issue", .99, 50.0), ("branch state p99", "state", .99, 50.0),
           ("city view p99", "city", .99, 200.0))


# ---- the city ---------------------------------------------------------------------------------

def city(branches: int = 350, citizens_per_day: float | None = None, seed: int = 1,
         spacing_km: float = SPACING_KM) -> dict:
    """A motcua-scenario/1 city: branches on a grid around the centre, each offering 10–25 of the
    services at 4–20 counters (every offered service at one counter at least), arrivals of
    citizens_per_day across the city (default: 186 a branch, as a 50-branch city's 9,300), spacing_km apart."""
    rng = random.Random(seed)  # nosec B311  # a reproducible city, not a secret
    ids = [f"s{n + 1:02d}" for n in range(SERVICES)]
    services = [{"id": sid, "name": {"vi": f"Thủ tục nhóm {n + 1:02d}", "en": f"Procedure group {n + 1:02d}"},
                 "service_min": {"mean": rng.choice([6, 8, 10, 12, 15, 20]), "cv": 0.6}} for n, sid in enumerate(ids)]
    side = math.ceil(math.sqrt(branches))
    per_branch = (citizens_per_day or 186.0 * branches) / branches
    out, arrivals = [], []
    for n in range(branches):
        row, col = divmod(n, side)
        north = (row - side / 2 + rng.uniform(-0.2, 0.2)) * spacing_km
        east = (col - side / 2 + rng.uniform(-0.2, 0.2)) * spacing_km
        offered = rng.sample(ids, rng.randint(10, SERVICES))
        counters = [[s] for s in offered[:rng.randint(4, 20)]]
        for index, service in enumerate(offered[len(counters):]):   # the rest shared out, one each
            counters[index % len(counters)].append(service)
        for taken in counters:   # and a few more each, as real counters serve several fields
            taken += [s for s in rng.sample(offered, 2) if s not in taken]
        branch_id = f"b{n + 1:03d}"
        out.append({"id": branch_id, "name": {"vi": f"Chi nhánh số {n + 1:03d}", "en": f"Branch No. {n + 1:03d}"},
                    "lat": round(CENTRE[0] + north / KM_PER_DEGREE, 6),
                    "lon": round(CENTRE[1] + east / (KM_PER_DEGREE * math.cos(math.radians(CENTRE[0]))), 6),
                    "counters": [{"id": str(c + 1), "services": s} for c, s in enumerate(counters)]})
        scale = per_branch / len(offered) / sum(DAY_SHAPE)
        arrivals += [{"branch": branch_id, "service": s, "per_hour": [round(h * scale, 3) for h in DAY_SHAPE]}
                     for s in offered]
    return {"format": "motcua-scenario/1", "name": f"city-{branches}", "timezone": "Asia/Ho_Chi_Minh",
            "open": "07:30", "close": "17:00", "target_wait_min": 15,
            "redirect": {"max_km": 5.0, "max_travel_min": 30, "speed_kmh": 18, "detour_factor": 1.3,
                         "acceptance": 0.7},
            "priority_share": 0.05, "services": services, "branches": out, "arrivals": arrivals, "seed": seed}


def offered(data: dict) -> dict[str, list[tuple[str, list[str]]]]:
    """Per branch, its counters and the services each takes."""
    return {b["id"]: [(c["id"], c["services"]) for c in b["counters"]] for b in data["branches"]}


def build(path: Path, data: dict, waiting: int) -> dict:
    """The city's database, as `motcua init`, `user add` and `device add` make it, with `waiting`
    citizens already queued at each branch (issued through the engine); its tokens."""
    from motcua.accounts import Accounts
    from motcua.config import load_config
    from motcua.core import scenario
    from motcua.core.clock import SystemClock
    from motcua.store import Store
    from motcua.web.runtime import open_runtime

    store = Store(path, "OFF")
    store.load_network(scenario.services(data), scenario.branches(data), scenario.counters(data))
    accounts = Accounts(store, SystemClock(), 24.0)
    accounts.add_user(ADMIN, PASSWORD, "admin", None)
    tokens = {"admin": accounts.login(ADMIN, PASSWORD)[0],
              "kiosks": {b["id"]: accounts.add_device("kiosk", b["id"]) for b in data["branches"]}}
    store.close()
    runtime = open_runtime(load_config(server={"db": str(path), "async_mode": "threading",
                                               "sqlite_synchronous": "OFF"}))
    rng = random.Random(3)  # nosec B311  # a reproducible morning
    for branch, counters in offered(data).items():
        services = sorted({s for _, taken in counters for s in taken})
        for _ in range(waiting):
            runtime.engine.issue(branch, rng.choice(services))
    runtime.store.close()
    return tokens


# ---- one run --------------------------------------------------------------------------------

@dataclass
class Figures:
    """What one run measured, in ms."""

    issue: list[float] = field(default_factory=list)
    state: list[float] = field(default_factory=list)
    city: list[float] = field(default_factory=list)
    display: list[float] = field(default_factory=list)
    calls: int = 0
    skipped: int = 0      # calls not made: every counter of the branch had one on its way
    client_cpu: float = 0.0   # the bench's own CPU seconds driving: near the run's length, the client is the limit
    load: float = 0.0     # the machine's load average (1 min) at the run's end
    commits: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])   # during the run: count, seconds, > 50 ms
    refused: dict[str, int] = field(default_factory=dict)
    staff_sockets: int = 0
    displays: int = 0
    staff_pushes: int = 0
    display_calls: int = 0   # calls made at the branches with a display: each should be heard


async def connect(http, base, sockets: list[Display], stop) -> list[asyncio.Task]:
    tasks = []
    for start in range(0, len(sockets), 50):
        batch = sockets[start:start + 50]
        tasks += [asyncio.create_task(s.run(http, base, stop)) for s in batch]
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in batch)), timeout=120)
    return tasks


async def commits(http, base: str) -> list[float]:
    """The server's commits so far, their seconds in all, and how many took over 50 ms (its /metrics)."""
    async with http.get(base + "/api/v1/metrics") as answer:
        text = await answer.text()
    found = {"count": 0.0, "sum": 0.0, "slow": 0.0, "all": 0.0}
    for family in text_string_to_metric_families(text):
        if family.name != "motcua_commit_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_count"):
                found["count"] = sample.value
            elif sample.name.endswith("_sum"):
                found["sum"] = sample.value
            elif sample.name.endswith("_bucket") and sample.labels["le"] == "+Inf":
                found["all"] = sample.value
            elif sample.name.endswith("_bucket") and float(sample.labels["le"]) == COMMIT_SLOW_S:
                found["slow"] = sample.value
    return [found["count"], found["sum"], found["all"] - found["slow"]]


async def drive(base: str, data: dict, tokens: dict, args, figures: Figures) -> None:
    rng = random.Random(2)  # nosec B311  # the same load on every run
    counters = offered(data)
    branch_ids = list(counters)
    services = {b: sorted({s for _, taken in cs for s in taken}) for b, cs in counters.items()}
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    watched = branch_ids[:: max(1, len(branch_ids) // DISPLAY_BRANCHES)][:DISPLAY_BRANCHES]
    issued_at: list[str] = []      # the branch of each ticket issued: a call follows each, so queues hold
    holding: dict[tuple[str, str], str] = {}
    busy: set[tuple[str, str]] = set()   # counters with a call on its way: a counter calls one at a time
    call_sent: dict[tuple[str, str], float] = {}
    stop = asyncio.Event()

    def refused(what: str, status: int | str) -> None:
        key = f"{what} {status}"
        figures.refused[key] = figures.refused.get(key, 0) + 1

    async def ask(what: str, method: str, path: str, ok: int = 200, **options) -> tuple[dict | None, float]:
        """One request: its JSON answer (None when refused or failed, counted) and its ms."""
        sent = time.perf_counter()
        try:
            async with http.request(method, base + "/api/v1" + path, **options) as answer:
                body = await answer.json()
                status = answer.status
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            refused(what, type(error).__name__)   # a failed request is counted, never timed
            return None, 0.0
        if status != ok:
            refused(what, status)
            return None, 0.0
        return body, (time.perf_counter() - sent) * 1000

    async def issue(n: int) -> None:
        branch = rng.choice(branch_ids)
        body, ms = await ask("issue", "POST", f"/branches/{branch}/tickets", 201,
                             json={"service": rng.choice(services[branch])},
                             headers={"Authorization": f"Bearer {tokens['kiosks'][branch]}"})
        if body is not None:
            figures.issue.append(ms)
            issued_at.append(branch)

    async def call(n: int) -> None:
        if not issued_at:
            return
        branch = issued_at.pop(0)
        ids = [c for c, _ in counters[branch]]
        free = [c for c in ids[n % len(ids):] + ids[:n % len(ids)] if (branch, c) not in busy]
        if not free:
            figures.skipped += 1
            return
        counter = free[0]
        busy.add((branch, counter))
        try:
            if (branch, counter) in holding:
                await ask("done", "POST", f"/tickets/{holding.pop((branch, counter))}/done", headers=admin)
            sent = time.time()
            body, _ = await ask("next", "POST", f"/branches/{branch}/counters/{counter}/next", headers=admin)
            if body and body.get("ticket"):
                figures.calls += 1
                call_sent[(branch, body["ticket"]["number"])] = sent
                holding[(branch, counter)] = body["ticket"]["id"]
        finally:
            busy.discard((branch, counter))

    async def read_state(n: int) -> None:
        body, ms = await ask("state", "GET", f"/branches/{rng.choice(branch_ids)}/state")
        if body is not None:
            figures.state.append(ms)

    async def read_city(n: int) -> None:
        body, ms = await ask("city", "GET", "/city", headers=admin)
        if body is not None:
            figures.city.append(ms)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        await wait_healthy(http, base)
        staff = [Display(f'42["subscribe_staff",{{"branch":"{b}","token":"{tokens["admin"]}"}}]', '42["staff_queue"')
                 for b in branch_ids[:args.staff_consoles]]
        displays = {b: Display(f'42["subscribe",{{"branch":"{b}"}}]', '42["queue"') for b in watched}
        tasks = await connect(http, base, staff + list(displays.values()), stop)
        figures.staff_sockets, figures.displays = len(staff), len(displays)
        # Once each before timing: the server's first answer of a kind pays its lazy imports.
        await asyncio.gather(issue(-1), read_state(-1), read_city(-1))
        figures.issue.clear(), figures.state.clear(), figures.city.clear(), issued_at.clear()
        pushes_before = sum(s.pushes for s in staff)
        cpu_before, commits_before = time.process_time(), await commits(http, base)
        await paced(args.seconds, [(args.rate, issue), (args.calls, call), (STATE_READS_PER_S, read_state),
                                   (1 / args.city_every, read_city)])
        figures.client_cpu = time.process_time() - cpu_before
        figures.commits = [after - before for after, before in zip(await commits(http, base), commits_before)]
        figures.load = os.getloadavg()[0]
        await asyncio.sleep(2)  # the last calls reach the displays
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    figures.staff_pushes = sum(s.pushes for s in staff) - pushes_before
    figures.display_calls = sum(1 for b, _ in call_sent if b in displays)
    for branch, display in displays.items():
        figures.display += [(display.received[number] - sent) * 1000
                            for (b, number), sent in call_sent.items() if b == branch and number in display.received]


def run(folder: Path, branches: int, args) -> Figures:
    """One city: built, served by a real `motcua serve`, driven for args.seconds."""
    data = city(branches)
    db = folder / "city.db"
    tokens = build(db, data, args.waiting)
    settings = folder / "bench.toml"
    settings.write_text(NO_ADDRESS_CAP)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "motcua.cli", "serve", "--db", str(db), "--port", str(port),
                               "--config", str(settings)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    figures = Figures()
    try:
        asyncio.run(drive(f"http://127.0.0.1:{port}", data, tokens, args, figures))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return figures


# ---- output ----------------------------------------------------------------------------------

ROW = "{:<24} {:>7} {:>9} {:>9} {:>10} {:>10} {:>9} {:>9} {:>6} {:>9}"


def print_row(name: str, f: Figures, seconds: float) -> None:
    ms = lambda values, share: f"{percentile(values, share):.1f}"  # noqa: E731
    print(ROW.format(name, f"{len(f.issue) / seconds:.1f}", ms(f.issue, .5), ms(f.issue, .99), ms(f.state, .99),
                     ms(f.display, .99), ms(f.city, .5), ms(f.city, .99), len(f.city), f.calls))
    print(f"{'':<24} staff consoles subscribed {f.staff_sockets} (staff pushes heard {f.staff_pushes}), "
          f"displays {f.displays} (calls heard {len(f.display)} of {f.display_calls}), state reads {len(f.state)}, "
          f"refused {f.refused or 'none'}, calls skipped (counters busy) {f.skipped}")
    count, total, slow = f.commits
    print(f"{'':<24} the server's writer: {count / seconds:.0f} commits/s, mean {1000 * total / max(count, 1):.1f} ms, "
          f"{slow:.0f} over {1000 * COMMIT_SLOW_S:g} ms, busy {100 * total / seconds:.0f}% of the run; "
          f"the bench's own CPU {f.client_cpu:.1f} s; machine load average {f.load:.1f} on {os.cpu_count()} cores")


def print_targets(f: Figures, rate: float, seconds: float) -> None:
    achieved = len(f.issue) / seconds
    print(f"targets (issue 20), at {achieved:.1f} tickets/s issued of {rate:g} asked:")
    for title, key, share, limit in TARGETS:
        value = percentile(getattr(f, key), share)
        met = value <= limit and (key != "issue" or achieved >= 0.95 * rate)
        print(f"  {title:<18} {value:8.1f} ms  (target ≤ {limit:g} ms): {'met' if met else 'NOT met'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branches", type=int, default=350)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=50, help="tickets issued per second across the city "
                                                                "(and calls made per second)")
    parser.add_argument("--calls", type=float, default=None,
                        help="calls (done, then next) per second across the city (default: --rate, as in a steady day)")
    parser.add_argument("--city-every", type=float, default=2.0,
                        help="seconds between the admin's GET /city (the page polls every 30)")
    parser.add_argument("--staff-consoles", type=int, default=None,
                        help="staff consoles subscribed, one per branch from the first (default: every branch)")
    parser.add_argument("--waiting", type=int, default=10, help="citizens queued at each branch at the start")
    parser.add_argument("--reference", type=int, default=5, help="branches of the reference city (0: none)")
    args = parser.parse_args(argv)
    args.calls = args.rate if args.calls is None else args.calls
    print("$ " + shlex.join(["python", "bench/city_scale.py", *sys.argv[1:]]), flush=True)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server started below inherits it
    staff_asked = args.staff_consoles
    # A reference the size of the city itself would measure the same thing twice.
    sizes = [args.branches] + ([args.reference] if args.reference not in (0, args.branches) else [])
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for branches in sizes:
            args.staff_consoles = branches if staff_asked is None else min(staff_asked, branches)
            run_folder = Path(folder) / str(branches)
            run_folder.mkdir()
            started = time.monotonic()
            results[branches] = run(run_folder, branches, args)
            print(f"ran {branches} branches ({time.monotonic() - started:.0f} s with building and starting)",
                  flush=True)
    data = city(args.branches)
    print(f"\n{args.branches} branches: {sum(len(b['counters']) for b in data['branches'])} counters, "
          f"{SERVICES} services, {args.waiting} waiting at each at the start; "
          f"{args.rate:g} tickets/s and {args.calls:g} calls/s for {args.seconds:g} s; "
          f"GET /city every {args.city_every:g} s; state reads {STATE_READS_PER_S}/s; ms")
    print(ROW.format("city", "issued/s", "issue p50", "issue p99", "state p99", "call→disp", "city p50", "city p99",
                     "city n", "calls"))
    for branches in sizes:
        name = f"{branches} branches" + (" (reference)" if branches != args.branches else "")
        print_row(name, results[branches], args.seconds)
    print_targets(results[args.branches], args.rate, args.seconds)


if __name__ == "__main__":
    main()
