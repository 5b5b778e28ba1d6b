"""A year of history: the server's start and its memory over a database that holds one, against an empty one.

Builds once (cached under bench/out/, git-ignored, named for its size and last day) a database of
--branches branches (bench/city_scale.py's city) made by the real store and its migrations, then
filled straight with executemany: --days days up to yesterday of --citizens tickets a day
(each with its four events: issued, called, served, done — or no-show and expired by the day's
close; one in eight done ones rated), as the morning after a full day finds it. Then, on it, on
an empty database of the same city and on one holding only yesterday's day (what a start reads:
the year less that is what history adds), in the same run, each --repeats times:

- the engine's load in a fresh process: open the store, run the migrations, load the engine and
  the app (`create_app`, what `motcua serve` does before it listens), its seconds and RSS;
- `motcua serve` itself: seconds from its start to its first /health answer, and its RSS then;

and once, the year's CSV report of the busiest branch through the running server. The issue's
target: start ≤ 5 s and RSS within 1.5× of the empty database's.

With --documents N the history holds N documents of dossiers too (rows, files in the folder beside
the database, a document key beside it), so that each start sweeps the documents folder as a server
with dossiers does.

    python bench/history_start.py [--days 365] [--branches 50] [--citizens 8500] [--repeats 3] [--documents 0]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from city_scale import city, offered  # noqa: E402
from load import NO_ADDRESS_CAP, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
ADMIN, PASSWORD = "history", "history-bench-1"   # nosec B105  # a throwaway account of a throwaway database
BULK = ("tickets", "events", "ratings")
TICKET_COLUMNS = ("id", "branch", "service", "number", "day", "issued_at", "priority", "lang", "status", "created_at",
                  "counter", "called_at", "started_at", "ended_at", "recalls", "origin", "transferred_to", "due_at",
                  "estimate_min", "first_called_at", "rating_code", "rating_code_misses")
EVENT_COLUMNS = ("id", "ticket", "branch", "from_status", "to_status", "at", "counter", "actor", "note", "hash")
START_GOAL_S, RSS_GOAL = 5.0, 1.5
LOAD_ENGINE = """
import json, sys, time
from motcua.config import load_config
from motcua.web.app import create_app
started = time.perf_counter()
app = create_app(load_config(server={"db": sys.argv[1], "async_mode": "threading"}))
seconds = time.perf_counter() - started
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({"s": seconds, "rss": int(status["VmRSS"].split()[0]) / 1024,
                  "tickets": len(app.extensions["motcua"].engine.tickets)}))
"""


# ---- the database ----------------------------------------------------------------------------

def network(path: Path, data: dict) -> None:
    """The city's network and an admin in a new database, through the real store (its migrations)."""
    from motcua.accounts import Accounts
    from motcua.core import scenario
    from motcua.core.clock import SystemClock
    from motcua.store import Store

    store = Store(path, "OFF")
    store.load_network(scenario.services(data), scenario.branches(data), scenario.counters(data))
    Accounts(store, SystemClock(), 1.0).add_user(ADMIN, PASSWORD, "admin", None)
    store.close()


def documents(path: Path, count: int) -> None:
    """`count` documents' rows and files (a few bytes each: a start never opens them) in the folder beside the
    database, as a server of this version leaves it (`.pending` made), and a document key beside it: the start
    sweeps the folder, as a server with dossiers does."""
    from cryptography.fernet import Fernet

    from motcua.documents import PENDING, documents_beside, key_file, write_key_file

    folder = documents_beside(path)
    (folder / PENDING).mkdir(parents=True, exist_ok=True)
    write_key_file(key_file(path), Fernet.generate_key().decode())
    rows = []
    for n in range(count):
        sha = hashlib.sha256(f"document {n}".encode()).hexdigest()
        (folder / sha[:2]).mkdir(exist_ok=True)
        (folder / sha[:2] / sha).write_bytes(b"a Fernet token")
        rows.append((sha, "id_card", "application/pdf", 1, f"{sha[:2]}/{sha}"))
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany("insert into documents (sha256, kind, mime, size, path) values (?, ?, ?, ?, ?)", rows)
    conn.close()


def build(path: Path, data: dict, days: list[date], citizens: float) -> dict[str, int]:
    """The history, written straight into the tables (indexes dropped meanwhile, made again at the end)."""
    network(path, data)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    indexes = [sql for (sql,) in conn.execute(
        "select sql from sqlite_master where type = 'index' and sql is not null and tbl_name in (?, ?, ?)", BULK)]
    for (name,) in conn.execute("select name from sqlite_master where type = 'index' and sql is not null "
                                "and tbl_name in (?, ?, ?)", BULK).fetchall():
        conn.execute(f'drop index "{name}"')
    rng = random.Random(7)  # nosec B311  # a reproducible year
    counters = offered(data)
    letters = {s["id"]: chr(ord("A") + n) for n, s in enumerate(data["services"])}
    weights = {b: rng.uniform(0.4, 1.6) for b in counters}   # some branches busier than others
    per_weight = citizens / sum(weights.values())
    counts = {"tickets": 0, "events": 0, "ratings": 0}
    event_id = 0
    insert_ticket = f"insert into tickets ({', '.join(TICKET_COLUMNS)}) values ({', '.join('?' * len(TICKET_COLUMNS))})"
    insert_event = f"insert into events ({', '.join(EVENT_COLUMNS)}) values ({', '.join('?' * len(EVENT_COLUMNS))})"
    for day_index, day in enumerate(days):
        opening = datetime(day.year, day.month, day.day, 7, 30, tzinfo=ZONE).timestamp()
        iso = day.isoformat()
        tickets, events, ratings = [], [], []
        for branch, branch_counters in counters.items():
            seq: dict[str, int] = {}
            for n in range(int(rng.gauss(weights[branch] * per_weight, 10))):
                counter, services = branch_counters[n % len(branch_counters)]
                service = services[n % len(services)]
                seq[service] = seq.get(service, 0) + 1
                ticket = f"y{day_index:03d}{branch}{n:05d}"
                created = opening + rng.uniform(0, 34200)
                called = created + rng.expovariate(1 / 720)
                started = called + 30
                ended = started + rng.expovariate(1 / 600)
                actor = f"staff:officer-{branch}-{counter}"
                served = rng.random() < 0.93
                status = "done" if served else "expired"
                tickets.append((ticket, branch, service, f"{letters[service]}{seq[service]:03d}", iso, created, 0, "vi",
                                status, created, counter, called, started if served else None,
                                ended if served else None, 0, None, None, None, 12.0, called,
                                f"{rng.randrange(10 ** 6):06d}", 0))
                steps = ((None, "waiting", created, None, None), ("waiting", "called", called, counter, None),
                         ("called", "serving", started, counter, None), ("serving", "done", ended, counter, None)
                         ) if served else (
                         (None, "waiting", created, None, None), ("waiting", "called", called, counter, None),
                         ("called", "no_show", called + 180, counter, None),
                         ("no_show", "expired", opening + 59400, None, "day_closed"))
                for before, after, at, where, note in steps:
                    event_id += 1
                    events.append((event_id, ticket, branch, before, after, at, where, actor if where else None, note,
                                   f"{event_id * 0x9E3779B97F4A7C15 % (1 << 256):064x}"))
                if served and rng.random() < 0.125:
                    ratings.append((ticket, rng.randint(1, 4), "[]", "", ended + 60))
        conn.execute("begin")
        conn.executemany(insert_ticket, tickets)
        conn.executemany(insert_event, events)
        conn.executemany("insert into ratings (ticket, score, reasons, comment, at) values (?, ?, ?, ?, ?)", ratings)
        conn.execute("commit")
        counts["tickets"] += len(tickets)
        counts["events"] += len(events)
        counts["ratings"] += len(ratings)
        if day_index % 30 == 29:
            print(f"  {day_index + 1} days: {counts['tickets']:,} tickets", flush=True)
    for sql in indexes:
        conn.execute(sql)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    return counts


def history(args) -> tuple[Path, dict]:
    """The cached database of the asked size ending yesterday (local), built if missing."""
    today = datetime.now(ZONE).date()
    days = [today - timedelta(days=n) for n in range(args.days, 0, -1)]
    kept = f"-{args.documents}docs" if args.documents else ""
    path = args.out / f"history-{args.branches}b-{args.days}d-{args.citizens:g}{kept}-{days[-1]}.db"
    if not path.exists():
        args.out.mkdir(parents=True, exist_ok=True)
        building = path.with_suffix(".building")
        building.unlink(missing_ok=True)
        print(f"building {path} (once; reused while its last day is yesterday; indexes made at the end)",
              flush=True)
        started = time.monotonic()
        build(building, city(args.branches), days, args.citizens)
        building.rename(path)
        if args.documents:
            documents(path, args.documents)
        print(f"  built in {time.monotonic() - started:.0f} s", flush=True)
    return path, {"first": days[0].isoformat(), "last": days[-1].isoformat()}


def history_name(days: int) -> str:
    return "a year" if days == 365 else f"{days} days"


def table_sizes(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        counts = {t: conn.execute(f"select count(*) from {t}").fetchone()[0]  # nosec B608  # our names
                  for t in (*BULK, "documents")}
    finally:
        conn.close()
    return (f"{counts['tickets']:,} tickets, {counts['events']:,} events, {counts['ratings']:,} ratings, "
            f"{counts['documents']:,} documents, {path.stat().st_size / 2 ** 30:.2f} GiB")


# ---- the measurements -----------------------------------------------------------------------

def load_engine(path: Path) -> dict:
    """Open, migrate and load, in a fresh process: its seconds, RSS (MiB) and tickets loaded."""
    import json

    done = subprocess.run([sys.executable, "-c", LOAD_ENGINE, str(path)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def serve(path: Path, report: dict | None = None) -> dict:
    """`motcua serve` on the database: seconds to its first /health answer, its RSS (MiB) then, and
    with `report` ({"branch", "first", "last"}) the seconds of that CSV report through it."""
    port = free_port()
    settings = path.parent / f"{path.name}.bench.toml"
    settings.write_text(NO_ADDRESS_CAP)
    base = f"http://127.0.0.1:{port}/api/v1"
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "motcua.cli", "serve", "--db", str(path), "--port", str(port),
                             "--config", str(settings)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while proc.poll() is None:
            try:
                if requests.get(base + "/health", timeout=5).ok:
                    break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.02)
        else:
            raise RuntimeError(f"motcua serve on {path} exited with {proc.returncode}")
        result = {"s": time.perf_counter() - started, "rss": rss_mib(proc.pid)}
        if report:
            token = requests.post(base + "/auth/login", json={"username": ADMIN, "password": PASSWORD},
                                  timeout=30).json()["token"]
            asked = time.perf_counter()
            answer = requests.get(f"{base}/branches/{report['branch']}/report.csv",
                                  params={"from": report["first"], "to": report["last"]},
                                  headers={"Authorization": f"Bearer {token}"}, timeout=600)
            answer.raise_for_status()
            result["report_s"] = time.perf_counter() - asked
            result["report_rows"] = answer.text.count("\n") - 1
            result["rss_after_report"] = rss_mib(proc.pid)
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        settings.unlink(missing_ok=True)


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def busiest(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:  # once, outside any measurement: the branch with the most tickets of the last day
        last = conn.execute("select max(day) from tickets").fetchone()[0]
        return conn.execute("select branch from tickets where day = ? group by branch order by count(*) desc limit 1",
                            [last]).fetchone()[0]
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--branches", type=int, default=50)
    parser.add_argument("--citizens", type=float, default=8500, help="tickets a day across the city")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-report", action="store_true", help="skip the year's CSV report")
    parser.add_argument("--documents", type=int, default=0,
                        help="documents of dossiers in the history (rows, files, a document key beside each database)")
    parser.add_argument("--out", type=Path, default=OUT, help="where the built history is kept (default bench/out)")
    args = parser.parse_args()
    print("$ " + shlex.join(["python", "bench/history_start.py", *sys.argv[1:]]), flush=True)
    full, span = history(args)
    print(f"history: {full}: {table_sizes(full)}, {span['first']} to {span['last']}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        empty, day = Path(folder) / "empty.db", Path(folder) / "day.db"
        network(empty, city(args.branches))
        build(day, city(args.branches), [date.fromisoformat(span["last"])], args.citizens)
        if args.documents:   # their folders empty: what differs is the year's documents
            documents(empty, 0)
            documents(day, 0)
        rows = {}
        for name, path in (("empty", empty), ("yesterday", day), (history_name(args.days), full)):
            rows[name] = {"load": [load_engine(path) for _ in range(args.repeats)],
                          "serve": [serve(path) for _ in range(args.repeats)]}
        report = None if args.no_report else serve(full, {"branch": busiest(full), **span})
    print(f"\n{args.branches} branches; median of {args.repeats} starts each, in this run")
    print(f"{'database':<9} {'load s':>7} {'load RSS':>9} {'tickets':>8} {'serve s':>8} {'serve RSS':>10}")
    medians = {}
    for name, row in rows.items():
        m = medians[name] = {
            "load": statistics.median(r["s"] for r in row["load"]),
            "load_rss": statistics.median(r["rss"] for r in row["load"]),
            "tickets": row["load"][0]["tickets"],
            "serve": statistics.median(r["s"] for r in row["serve"]),
            "serve_rss": statistics.median(r["rss"] for r in row["serve"])}
        print(f"{name:<9} {m['load']:7.2f} {m['load_rss']:8.0f}M {m['tickets']:8} {m['serve']:8.2f} "
              f"{m['serve_rss']:9.0f}M")
    year, base = medians[history_name(args.days)], medians["empty"]
    start_met = year["serve"] <= START_GOAL_S
    ratio = year["serve_rss"] / base["serve_rss"]
    print(f"target: start ≤ {START_GOAL_S:g} s: {year['serve']:.2f} s (serve to /health; engine load "
          f"{year['load']:.2f} s; the empty database's {base['serve']:.2f} s and {base['load']:.2f} s, machine load "
          f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores): {'met' if start_met else 'NOT met'}")
    print(f"target: RSS within {RSS_GOAL:g}× of empty: {ratio:.2f}× ({year['serve_rss']:.0f} / "
          f"{base['serve_rss']:.0f} MiB; engine load {year['load_rss'] / base['load_rss']:.2f}×): "
          f"{'met' if ratio <= RSS_GOAL else 'NOT met'}")
    if report:
        print(f"the history's CSV report of the busiest branch ({report['report_rows']} rows, {span['first']} to "
              f"{span['last']}): {report['report_s']:.2f} s; the server's RSS after it "
              f"{report['rss_after_report']:.0f} MiB")


if __name__ == "__main__":
    main()
