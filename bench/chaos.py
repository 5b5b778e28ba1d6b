"""Chaos: kiosks issue and counters call over HTTP while the server is SIGKILLed and restarted.

A fresh database (Hoan Kiem), one `motcua serve` on loopback, KIOSKS kiosk threads issuing at
hk-01 and COUNTERS officer threads calling next and finishing at its counters. The server is
killed (SIGKILL) after a random 10-40 s (seeded), restarted at once, KILLS times; then it is
started once more and what the clients were told is checked against the database:

- lost: a ticket whose 201 a kiosk received, or a call or finish whose 200 a counter received,
  absent from the database after the last restart;
- duplicated: one number twice in a branch-day (as the kiosks were told, and in the database),
  or one ticket called at two counters;
- illegal event paths: a ticket whose events do not chain (each `from_status` the previous
  `to_status`, the first from nothing) or take a step the engine does not allow;
- restart p50/max: from spawning the process to `/health` answering 200;

and `motcua audit verify` runs on the final database.

    python bench/chaos.py                                   # 20 kills, 10-40 s apart (≈ 10 min)
    python bench/chaos.py --kills 20 --min-s 2 --max-s 6    # a short run
"""
from __future__ import annotations

import argparse
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "server" / "data" / "scenarios" / "hoan-kiem.json"
BRANCH = "hk-01"
# Counters 1 and 2 both serve civil, so the two counters contend for the same queue.
COUNTER_IDS = ("1", "2", "3", "4", "5", "6")
SERVICES = ("civil", "cert")
PASSWORD = "chaos-officer-pass-1"
TIMEOUT_S = 5.0
# The steps the engine allows (server/core/engine.py): (from, to); None is a ticket's first event.
ALLOWED = {
    (None, "waiting"),                                   # issued, or arrived by transfer
    ("waiting", "called"), ("no_show", "called"),         # next / call
    ("called", "called"),                                # recall
    ("called", "serving"),                               # start
    ("called", "done"), ("serving", "done"),             # done
    ("called", "no_show"),                               # no-show
    ("no_show", "waiting"),                              # requeue
    ("waiting", "waiting"), ("called", "waiting"), ("serving", "waiting"),  # transfer within, check-in
    ("waiting", "transferred"), ("called", "transferred"), ("serving", "transferred"),
    *((s, "expired") for s in ("waiting", "called", "serving", "no_show")),  # the day's close
}
NOTE_STEPS = {"waiting", "called", "serving", "done", "no_show"}  # a status noted again (not printed)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "motcua.cli", *args], capture_output=True, text=True, timeout=120)


class Server:
    """One `motcua serve` process at a time on the chaos database."""

    def __init__(self, folder: Path, db: str, port: int) -> None:
        self.db, self.port = db, port
        self.base = f"http://127.0.0.1:{port}/api/v1"
        self.settings = folder / "chaos.toml"
        # Every client of the run comes from 127.0.0.1: the cap per address would refuse them.
        self.settings.write_text("[server]\nmax_connections_per_address = 0\n")
        self.log = (folder / "server.log").open("a")
        self.proc: subprocess.Popen | None = None
        self.restarts: list[float] = []

    def start(self) -> None:
        began = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "motcua.cli", "serve", "--db", self.db,
                                      "--port", str(self.port), "--config", str(self.settings)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        while time.monotonic() - began < 60:
            try:
                if requests.get(self.base + "/health", timeout=1).ok:
                    self.restarts.append(time.monotonic() - began)
                    return
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}; see {self.log.name}")
            time.sleep(0.02)
        raise RuntimeError(f"the server did not answer /health within 60 s; see {self.log.name}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)


class Record:
    """What the clients were told: every acknowledged ticket, call and finish (threads append)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.issued: list[tuple[str, str]] = []          # (id, number)
        self.called: list[tuple[str, str]] = []          # (id, counter)
        self.finished: list[str] = []
        self.refused = Counter()                         # answers other than success, by status

    def add(self, kind: str, item) -> None:
        with self.lock:
            getattr(self, kind).append(item)

    def refuse(self, status) -> None:
        with self.lock:
            self.refused[status] += 1


def post(session: requests.Session, url: str, token: str, body: dict | None = None):
    """The answer, or None when the server is down or the connection broke (the kill)."""
    try:
        return session.post(url, json=body or {}, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT_S)
    except requests.RequestException:
        return None


def kiosk(base: str, token: str, rng: random.Random, record: Record, stop: threading.Event, pace_s: float) -> None:
    session = requests.Session()
    while not stop.is_set():
        answer = post(session, f"{base}/branches/{BRANCH}/tickets", token, {"service": rng.choice(SERVICES)})
        if answer is not None and answer.status_code == 201:
            record.add("issued", (answer.json()["id"], answer.json()["number"]))
        else:
            record.refuse(answer.status_code if answer is not None else "down")
        stop.wait(rng.uniform(0, 2 * pace_s))


def held_at(db: str, counter: str) -> str | None:
    """The ticket the counter holds, read from the database: when a kill cut off the answer to its
    call, the officer does not know the id (public views carry numbers only)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        row = conn.execute("select id from tickets where branch = ? and counter = ? and status in ('called', 'serving') "
                           "order by called_at desc limit 1", [BRANCH, counter]).fetchone()
    return row[0] if row else None


def officer(base: str, db: str, token: str, counter: str, rng: random.Random, record: Record,
            stop: threading.Event, pace_s: float) -> None:
    session = requests.Session()
    current: str | None = None
    while not stop.is_set():
        if current is None:
            answer = post(session, f"{base}/branches/{BRANCH}/counters/{counter}/next", token)
            if answer is not None and answer.status_code == 200:
                ticket = answer.json()["ticket"]
                if ticket is None:
                    stop.wait(pace_s)
                    continue
                current = ticket["id"]
                record.add("called", (current, counter))
            elif answer is not None and answer.status_code == 409:  # counter_busy: a call whose answer was lost
                current = held_at(db, counter)
                continue
            else:
                record.refuse(answer.status_code if answer is not None else "down")
                stop.wait(0.05)
                continue
        stop.wait(rng.uniform(0, 2 * pace_s))
        answer = post(session, f"{base}/tickets/{current}/done", token)
        if answer is not None and answer.status_code == 200:
            record.add("finished", current)
            current = None
        elif answer is not None and answer.status_code == 409:  # finished before the kill cut off the answer
            current = None
        else:
            record.refuse(answer.status_code if answer is not None else "down")
            stop.wait(0.05)


def illegal_paths(rows: list[tuple]) -> list[str]:
    """Tickets whose events (ordered by id) break the chain or take a step the engine does not allow."""
    last: dict[str, str | None] = {}
    bad = []
    for ticket, from_status, to_status, note in rows:
        chained = last.get(ticket) == from_status
        allowed = (from_status, to_status) in ALLOWED or (note and from_status == to_status in NOTE_STEPS)
        if not (chained and allowed):
            bad.append(ticket)
        last[ticket] = to_status
    return sorted(set(bad))


def check(db: str, record: Record) -> dict:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        tickets = {row[0]: row[1:] for row in conn.execute("select id, number, day, status from tickets where branch = ?",
                                                           [BRANCH])}
        events = conn.execute("select ticket, from_status, to_status, note from events order by id").fetchall()
        calls = conn.execute("select ticket, counter from events where to_status = 'called'").fetchall()
        done = {row[0] for row in conn.execute("select ticket from events where to_status = 'done'")}
        numbers = conn.execute("select count(*) from (select 1 from tickets group by branch, day, number "
                               "having count(*) > 1)").fetchone()[0]
    called_at = {(ticket, counter) for ticket, counter in calls}
    counters_of = defaultdict(set)
    for ticket, counter in calls + record.called:
        counters_of[ticket].add(counter)
    told = Counter(number for _, number in record.issued)
    return {
        "lost_tickets": sum(1 for id_, _ in record.issued if id_ not in tickets),
        "lost_calls": sum(1 for call in record.called if call not in called_at),
        "lost_finishes": sum(1 for id_ in record.finished if id_ not in done),
        "duplicated_numbers": sum(1 for n in told.values() if n > 1) + numbers,
        "called_at_two_counters": sum(1 for c in counters_of.values() if len(c) > 1),
        "illegal_event_paths": len(illegal_paths(events)),
        "events": len(events),
        "tickets_in_db": len(tickets),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--min-s", type=float, default=10.0, help="shortest run between kills")
    parser.add_argument("--max-s", type=float, default=40.0, help="longest run between kills")
    parser.add_argument("--kiosks", type=int, default=8)
    parser.add_argument("--counters", type=int, default=2, help="officers at counters 1..N of hk-01 (at most 6)")
    parser.add_argument("--kiosk-pace-s", type=float, default=0.2, help="mean pause between a kiosk's tickets")
    parser.add_argument("--counter-pace-s", type=float, default=0.1, help="mean time a counter serves")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="keep the folder with the database and server log")
    args = parser.parse_args()
    if not 0 < args.min_s <= args.max_s or not 1 <= args.counters <= len(COUNTER_IDS):
        parser.error("need 0 < --min-s <= --max-s and 1 <= --counters <= 6")

    folder = Path(tempfile.mkdtemp(prefix="motcua-chaos-"))
    db = str(folder / "chaos.db")
    for step in (("init", "--scenario", str(SCENARIO)),
                 ("user", "add", "--username", "officer", "--password", PASSWORD, "--role", "officer",
                  "--branch", BRANCH)):
        done = cli(*step, "--db", db)
        if done.returncode != 0:
            sys.exit(f"motcua {step[0]}: {done.stderr}")
    kiosk_tokens = []
    for _ in range(args.kiosks):
        done = cli("device", "add", "--kind", "kiosk", "--branch", BRANCH, "--db", db)
        if done.returncode != 0:
            sys.exit(f"motcua device add: {done.stderr}")
        kiosk_tokens.append(done.stdout.strip().splitlines()[-1])

    rng = random.Random(args.seed)
    server = Server(folder, db, free_port())
    server.start()
    login = requests.post(server.base + "/auth/login", json={"username": "officer", "password": PASSWORD},
                          timeout=TIMEOUT_S)
    login.raise_for_status()
    officer_token = login.json()["token"]

    record, stop = Record(), threading.Event()
    threads = [threading.Thread(target=kiosk, daemon=True,
                                args=(server.base, token, random.Random(rng.random()), record, stop, args.kiosk_pace_s))
               for token in kiosk_tokens]
    threads += [threading.Thread(target=officer, daemon=True,
                                 args=(server.base, db, officer_token, counter, random.Random(rng.random()), record,
                                       stop, args.counter_pace_s))
                for counter in COUNTER_IDS[:args.counters]]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    try:
        for kill in range(args.kills):
            time.sleep(rng.uniform(args.min_s, args.max_s))
            server.kill()
            print(f"kill {kill + 1}/{args.kills} at {time.monotonic() - began:.0f} s: "
                  f"{len(record.issued)} tickets acknowledged", file=sys.stderr)
            server.start()
        time.sleep(args.min_s)  # the clients meet the last restart too
    finally:
        stop.set()
        for thread in threads:
            thread.join(2 * TIMEOUT_S)
        server.kill(signal.SIGTERM)

    server.start()  # the last restart: what it loads is what the database holds
    figures = check(db, record)
    server.kill(signal.SIGTERM)
    audit = cli("audit", "verify", "--db", db)
    restarts = server.restarts[1:] or [0.0]  # the first start is not a restart
    print(f"kills                    {args.kills}")
    print(f"seconds                  {time.monotonic() - began:.0f}")
    print(f"tickets acknowledged     {len(record.issued)}")
    print(f"calls acknowledged       {len(record.called)}")
    print(f"finishes acknowledged    {len(record.finished)}")
    print(f"refused or cut off       {dict(record.refused)}")
    print(f"lost                     {figures['lost_tickets']} tickets, {figures['lost_calls']} calls, "
          f"{figures['lost_finishes']} finishes")
    print(f"duplicated               {figures['duplicated_numbers']} numbers, "
          f"{figures['called_at_two_counters']} tickets called at two counters")
    print(f"illegal event paths      {figures['illegal_event_paths']} (of {figures['events']} events, "
          f"{figures['tickets_in_db']} tickets)")
    print(f"restart p50 / max        {statistics.median(restarts) * 1000:.0f} / {max(restarts) * 1000:.0f} ms")
    print(f"audit verify             exit {audit.returncode}: {(audit.stdout + audit.stderr).strip()}")
    if args.keep:
        print(f"folder                   {folder}")
    else:
        server.log.close()
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    bad = (figures["lost_tickets"] + figures["lost_calls"] + figures["lost_finishes"] + figures["duplicated_numbers"]
           + figures["called_at_two_counters"] + figures["illegal_event_paths"])
    return 1 if bad or audit.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
