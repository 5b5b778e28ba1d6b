"""SQLite storage through sqlite-utils: schema as migrations, WAL, one transaction per change."""
from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from sqlite_utils import Database, Migrations

from .core.model import Branch, Change, Counter, Rating, Service, Ticket

migrations = Migrations("motcua")


@migrations()
def m001_queue(db: Database) -> None:
    db["services"].create({"id": str, "name_vi": str, "name_en": str, "letter": str,
                           "mean_min": float, "cv": float}, pk="id")
    db["branches"].create({"id": str, "name_vi": str, "name_en": str, "lat": float, "lon": float,
                           "services": str, "open": str, "close": str, "shifts": str}, pk="id")
    db["counters"].create({"branch": str, "id": str, "services": str, "open": int, "shifts": str},
                          pk=("branch", "id"))
    db["tickets"].create({
        "id": str, "branch": str, "service": str, "number": str, "day": str, "issued_at": float,
        "priority": int, "lang": str, "status": str, "created_at": float, "counter": str,
        "called_at": float, "started_at": float, "ended_at": float, "recalls": int,
        "origin": str, "transferred_to": str,
    }, pk="id", not_null={"branch", "service", "number", "day", "status"})
    # The database itself refuses a duplicate number, whatever the process that asks.
    db["tickets"].create_index(["branch", "day", "number"], unique=True)
    db["tickets"].create_index(["day", "status"])
    db["events"].create({"id": int, "ticket": str, "branch": str, "from_status": str,
                         "to_status": str, "at": float, "counter": str, "actor": str}, pk="id")
    db["events"].create_index(["ticket"])
    db["ratings"].create({"ticket": str, "score": int, "reasons": str, "comment": str, "at": float},
                         pk="ticket")


@migrations()
def m002_accounts(db: Database) -> None:
    db["users"].create({"username": str, "password_hash": str, "role": str, "branch": str}, pk="username")
    db["tokens"].create({"token_hash": str, "username": str, "expires_at": float}, pk="token_hash")
    db["devices"].create({"id": str, "kind": str, "branch": str, "token_hash": str, "created_at": float},
                         pk="id")
    db["devices"].create_index(["token_hash"], unique=True)


@migrations()
def m003_event_notes(db: Database) -> None:
    db["events"].add_column("note", str)


@migrations()
def m004_tickets_on_their_way(db: Database) -> None:
    """A redirected ticket's expected arrival; the estimate each ticket was issued with and its
    first call, from which a restarted engine learns again how its estimates turned out."""
    db["tickets"].add_column("due_at", float)
    db["tickets"].add_column("estimate_min", float)
    db["tickets"].add_column("first_called_at", float)


class Store:
    """The database of one server: the journal the engine commits through, and what it loads."""

    def __init__(self, path: str | Path, synchronous: str = "FULL") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: sqlite-utils' atomic() issues BEGIN/COMMIT itself.
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10)
        self.db = Database(conn)
        self.lock = threading.RLock()
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous}")
        self.db.execute("PRAGMA busy_timeout=10000")
        migrations.apply(self.db)

    def close(self) -> None:
        self.db.close()

    # ---- the journal ---------------------------------------------------------------------

    def commit(self, change: Change) -> None:
        """Write one operation's change in one transaction; raises and writes nothing on failure."""
        with self.lock, self.db.atomic():
            if change.tickets:
                self.db["tickets"].upsert_all([_ticket_row(t) for t in change.tickets], pk="id")
            if change.events:
                self.db["events"].insert_all([dict(e.__dict__) for e in change.events])
            for counter in change.counters:
                self.db["counters"].upsert(_counter_row(counter), pk=("branch", "id"))
            for rating in change.ratings:
                self.db["ratings"].insert({**rating.__dict__, "reasons": json.dumps(rating.reasons)})

    # ---- loading -------------------------------------------------------------------------

    def load_network(self, services: list[Service], branches: list[Branch], counters: list[Counter]) -> None:
        """Create or update branches, services and counters (from a scenario), in one transaction."""
        with self.lock, self.db.atomic():
            self.db["services"].upsert_all([s.__dict__ for s in services], pk="id")
            self.db["branches"].upsert_all([_branch_row(b) for b in branches], pk="id")
            self.db["counters"].upsert_all([_counter_row(c) for c in counters], pk=("branch", "id"))

    def services(self) -> list[Service]:
        return [Service(**row) for row in self.db["services"].rows]

    def branches(self) -> list[Branch]:
        return [Branch(**{**row, "services": tuple(json.loads(row["services"])),
                          "shifts": _tuples(json.loads(row["shifts"]))})
                for row in self.db["branches"].rows]

    def counters(self) -> list[Counter]:
        return [Counter(row["branch"], row["id"], tuple(json.loads(row["services"])), bool(row["open"]),
                        _tuples(json.loads(row["shifts"])))
                for row in self.db["counters"].rows]

    def tickets(self, since_day: str) -> list[Ticket]:
        """Tickets of since_day and after: the engine needs today's, never the archive."""
        rows = self.db.query("select * from tickets where day >= ? order by created_at, rowid", [since_day])
        return [Ticket(**{**row, "priority": bool(row["priority"])}) for row in rows]

    def arrivals(self, branch_id: str, since_day: str) -> list[tuple[str, str, float]]:
        """(day, service, joined at) of every ticket that joined the branch's queues since since_day."""
        rows = self.db.query("select day, service, created_at from tickets where branch = ? and day >= ?",
                             [branch_id, since_day])
        return [(row["day"], row["service"], row["created_at"]) for row in rows]

    def ticket(self, ticket_id: str) -> Ticket | None:
        rows = list(self.db.query("select * from tickets where id = ?", [ticket_id]))
        return Ticket(**{**rows[0], "priority": bool(rows[0]["priority"])}) if rows else None

    def ratings(self, since_day: str) -> list[Rating]:
        rows = self.db.query("select r.* from ratings r join tickets t on t.id = r.ticket where t.day >= ?",
                             [since_day])
        return [Rating(**{**row, "reasons": tuple(json.loads(row["reasons"]))}) for row in rows]

    def events(self, ticket_id: str) -> list[dict]:
        return list(self.db.query("select * from events where ticket = ? order by id", [ticket_id]))


def _ticket_row(ticket: Ticket) -> dict:
    return {**ticket.__dict__, "priority": int(ticket.priority)}


def _branch_row(branch: Branch) -> dict:
    return {**branch.__dict__, "services": json.dumps(list(branch.services)),
            "shifts": json.dumps([list(s) for s in branch.shifts])}


def _counter_row(counter: Counter) -> dict:
    return {"branch": counter.branch, "id": counter.id, "services": json.dumps(list(counter.services)),
            "open": int(counter.open), "shifts": json.dumps([list(s) for s in counter.shifts])}


def _tuples(pairs) -> tuple[tuple[str, str], ...]:
    return tuple(tuple(p) for p in pairs)
