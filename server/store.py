"""SQLite storage through sqlite-utils: schema as migrations, WAL, one writer, the writes waiting for it
committed together (group commit)."""
from __future__ import annotations

import json
import sqlite3
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Callable, Sequence, TypeVar

from sqlite_utils import Database, Migrations

from motcua import audit, outbox
from motcua.core.appointments import Appointment
from motcua.core.dossier_codes import unit_of
from motcua.core.model import OPEN, Branch, Change, Counter, Rating, Service, StorageUnavailable, Ticket

migrations = Migrations("motcua")
T = TypeVar("T")
# How SQLite words a fault of the disk rather than of the query: a read-only file or filesystem,
# an I/O error (EFBIG past RLIMIT_FSIZE, EIO), a full disk.
STORAGE_FAULTS = ("readonly", "read-only", "disk i/o", "database or disk is full")


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


@migrations()
def m005_token_revocations(db: Database) -> None:
    """The revocation counter: one row, raised in the transaction of each revocation."""
    # A server caches tokens; it reads this counter on each request, so that a user or device
    # removed by another process (the command line) loses access at once.
    db["revocations"].create({"id": int, "generation": int}, pk="id")
    db["revocations"].insert({"id": 1, "generation": 0})


@migrations()
def m006_events_hash_chained(db: Database) -> None:
    """Each event carries the hash of the one before and its own fields (motcua.audit); the events
    written before this migration are chained by it, in id order."""
    db["events"].add_column("hash", str)
    audit.chain_existing(db.conn)


@migrations()
def m007_counter_pauses(db: Database) -> None:
    """Why a counter is paused (null: working) and when it was last opened, closed, paused or resumed."""
    db["counters"].add_column("pause_reason", str)
    db["counters"].add_column("since", float)


@migrations()
def m008_administration(db: Database) -> None:
    """What live administration keeps: a user disabled (kept for the record, refused at login) and
    the short description of a service the kiosk shows under its name."""
    db["users"].add_column("disabled", int, not_null_default=0)
    db["services"].add_column("description_vi", str, not_null_default="")
    db["services"].add_column("description_en", str, not_null_default="")


@migrations()
def m009_dossiers(db: Database) -> None:
    """Dossiers received at a branch and processed by a department; department staff; the events of
    a dossier (their ticket null) in the same hash-chained table as the tickets'."""
    db["dossiers"].create({
        "code": str, "branch": str, "day": str, "seq": int, "officer": str, "ticket": str, "return_branch": str,
        "procedure": str, "department": str, "citizen_id": str, "citizen_name": str, "citizen_phone": str,
        "status": str, "received_at": float, "due_date": str, "reject_reason": str, "updated_at": float,
    }, pk="code", not_null={"branch", "day", "seq", "procedure", "department", "citizen_id", "status"})
    # The database itself refuses a second dossier under one number, whatever the process.
    db["dossiers"].create_index(["branch", "day", "seq"], unique=True)
    db["dossiers"].create_index(["department", "status", "due_date"])
    db["dossiers"].create_index(["citizen_id"])
    db["users"].add_column("department", str)
    db["events"].add_column("dossier", str)
    db["events"].create_index(["dossier"])


@migrations()
def m010_documents(db: Database) -> None:
    """Documents stored once by their SHA-256 (motcua.documents), and which dossier holds which, reused or not."""
    db["documents"].create({"sha256": str, "kind": str, "mime": str, "size": int, "citizen_id": str,
                            "created_at": float, "created_by": str, "path": str}, pk="sha256",
                           not_null={"kind", "mime", "size", "path"})
    db["dossier_documents"].create({"dossier": str, "sha256": str, "kind": str, "reused": int, "attached_at": float,
                                    "attached_by": str}, pk=("dossier", "sha256"),
                                   not_null={"kind", "reused"}, foreign_keys=[("sha256", "documents", "sha256")])
    db["dossier_documents"].create_index(["sha256"])


@migrations()
def m011_rating_code(db: Database) -> None:
    """Each ticket's rating code, which rates it by its number, and the wrong codes tried with it.
    Tickets issued before have none: they are rated by their id (the QR code) only."""
    db["tickets"].add_column("rating_code", str)
    db["tickets"].add_column("rating_code_misses", int, not_null_default=0)


@migrations()
def m012_documents_file_sha256(db: Database) -> None:
    """The SHA-256 of each document's file as stored (encrypted): a file that no longer has it is damaged,
    one that has it and does not open is under another key."""
    db["documents"].add_column("file_sha256", str)


@migrations()
def m013_counter_holder(db: Database) -> None:
    """Who holds each counter (the actor of a staff account; null: free) and since when (motcua.core.holders)."""
    db["counters"].add_column("holder", str)
    db["counters"].add_column("held_since", float)


@migrations()
def m014_catalogue(db: Database) -> None:
    """The procedure catalogue's home (motcua.core.catalogue): departments, document kinds (reusable: a copy
    may serve another dossier of the citizen) and procedures (retired: closed to new dossiers), in the
    order written. Empty here: the server seeds it from the catalogue file when it finds it empty."""
    db["departments"].create({"code": str, "name_vi": str, "name_en": str}, pk="code")
    db["document_kinds"].create({"kind": str, "name_vi": str, "name_en": str, "reusable": int}, pk="kind",
                                not_null={"reusable"})
    db["procedures"].create({"code": str, "name_vi": str, "name_en": str, "field": str, "department": str,
                             "statutory_days": int, "documents": str, "services": str, "retired": int},
                            pk="code", not_null={"department", "statutory_days", "retired"})


@migrations()
def m015_branch_setup(db: Database) -> None:
    """What an admin gives a new branch besides its names and hours: its address, the unit code its
    dossiers' codes begin with (empty: the branch id) and whether it is closed (issues no tickets)."""
    db["branches"].add_column("address_vi", str, not_null_default="")
    db["branches"].add_column("address_en", str, not_null_default="")
    db["branches"].add_column("unit_code", str, not_null_default="")
    db["branches"].add_column("closed", int, not_null_default=0)


@migrations()
def m016_memory_open_tickets(db: Database) -> None:
    """The open tickets of old days by status, then day: today's start finds them through an index
    (the day-first index would read every day of history to find them)."""
    db["tickets"].create_index(["status", "day"])


@migrations()
def m017_operable_probe(db: Database) -> None:
    """One row /health rewrites: a real write and commit through the writer, a page of the journal."""
    db["probe"].create({"id": int, "at": float}, pk="id")


@migrations()
def m018_outbox(db: Database) -> None:
    """Messages to citizens (motcua.outbox), each written in the transaction of the change that causes it and
    sent after: its idempotency key (unique), gateway, recipient, template and texts by language; its attempts,
    when it is next due, the lease of the worker sending it, when it was sent or given up, and the last error."""
    db["outbox"].create({
        "id": int, "key": str, "kind": str, "gateway": str, "recipient": str, "lang": str, "template_id": str,
        "params": str, "texts": str, "attempts": int, "created_at": float, "next_attempt_at": float,
        "claimed_until": float, "claimed_by": str, "sent_at": float, "failed_at": float, "last_error": str,
    }, pk="id", not_null={"key", "kind", "gateway", "recipient", "texts", "attempts", "next_attempt_at"})
    db["outbox"].create_index(["key"], unique=True)
    db["outbox"].create_index(["sent_at", "failed_at", "next_attempt_at"])


@migrations()
def m019_remote(db: Database) -> None:
    """How each ticket was taken (walk_in, remote), and a remote ticket's phone, arrival window and check-in."""
    db["tickets"].add_column("channel", str, not_null_default="walk_in")
    db["tickets"].add_column("phone", str)
    db["tickets"].add_column("window_end", float)
    db["tickets"].add_column("checked_in_at", float)


@migrations()
def m020_appointments(db: Database) -> None:
    """Appointments booked ahead (motcua.core.appointments), and the appointment a ticket was checked in from."""
    db["appointments"].create({
        "id": str, "code": str, "branch": str, "service": str, "day": str, "start": float, "phone": str,
        "lang": str, "status": str, "created_at": float, "id_digest": str, "ticket": str, "checked_in_at": float,
        "ended_at": float, "reminded_at": float}, pk="id")
    db["appointments"].create_index(["day"])
    db["appointments"].create_index(["code"])
    db["tickets"].add_column("appointment", str)


@migrations()
def m022_dossier_lang(db: Database) -> None:
    """The language a dossier's citizen is told in (their messages: result ready); earlier dossiers Vietnamese."""
    db["dossiers"].add_column("citizen_lang", str, not_null_default="vi")


@migrations()
def m023_intake(db: Database) -> None:
    """How long a copy of a document kind serves another dossier (null: no limit), and why each required
    document missing from a dossier sent on is missing (motcua.core.intake), recorded as it was digitised."""
    db["document_kinds"].add_column("valid_months", int)
    db["dossier_missing_documents"].create({"dossier": str, "kind": str, "reason": str, "note": str,
                                            "at": float, "actor": str}, pk=("dossier", "kind"),
                                           not_null={"reason"})


@migrations()
def m024_supplement(db: Database) -> None:
    """A supplement asked for (motcua.core.supplements): what, which kinds (JSON), the day asked and the day due,
    null when none is awaited; and the working days a dossier has waited for its citizen, added to its due date."""
    for column in ("supplement_note", "supplement_kinds", "supplement_asked_on", "supplement_due"):
        db["dossiers"].add_column(column, str)
    db["dossiers"].add_column("waited_days", int, not_null_default=0)


@migrations()
def m025_codes(db: Database) -> None:
    """Dossier codes in the official form (motcua.core.dossier_codes): the unit each code was numbered under,
    earlier codes' read off their start, and the database refusing a second dossier under one unit's number of
    a day (the branch's own numbering, which a change of unit code would break, no longer unique); and the
    channel each dossier was received through (in person, online, by post)."""
    db["dossiers"].add_column("unit", str, not_null_default="")
    for row in list(db.query("select code from dossiers")):
        db.execute("update dossiers set unit = ? where code = ?", [unit_of(row["code"]), row["code"]])
    db.execute("drop index if exists idx_dossiers_branch_day_seq")
    db["dossiers"].create_index(["branch", "day"])
    db["dossiers"].create_index(["unit", "day", "seq"], unique=True)
    # How each dossier came in (Decision 766/QĐ-TTg counts them apart): earlier ones at a counter.
    db["dossiers"].add_column("channel", str, not_null_default="in_person")


@migrations()
def m026_evaluations(db: Database) -> None:
    """Each dossier's one satisfaction evaluation (motcua.core.evaluations): its receiving branch and department,
    when, the nine indicators' scores (JSON) and their total, convenience, overall, and where it was made."""
    db["dossier_evaluations"].create({
        "code": str, "branch": str, "department": str, "at": float, "indicators": str, "total": int,
        "convenience": str, "overall": str, "channel": str}, pk="code",
        not_null={"branch", "department", "at", "indicators", "total", "convenience", "overall", "channel"})
    db["dossier_evaluations"].create_index(["at"])


@migrations()
def m027_cccd(db: Database) -> None:
    """The citizen a kiosk ticket was taken for by scanning their ID card (motcua.core.cccd): kept apart from the
    tickets table, which public views read, and shown only to the branch's staff; a dossier's citizen's date of
    birth and permanent address."""
    db["ticket_cards"].create({"ticket": str, "id_number": str, "name": str, "birth_date": str, "linked_at": float},
                              pk="ticket", not_null={"id_number", "name", "birth_date", "linked_at"})
    # A dossier's citizen as the card gives them, for dossiers opened from now (earlier ones: unknown).
    db["dossiers"].add_column("citizen_birth_date", str)
    db["dossiers"].add_column("citizen_address", str, not_null_default="")


@migrations()
def m028_remote_set_off(db: Database) -> None:
    """A remote ticket's trip as its phone gave it, and when its citizen was told to set off (motcua.core.remote)."""
    db["tickets"].add_column("travel_min", float)
    db["tickets"].add_column("set_off_at", float)


ARRIVALS_SQL = "select day, service, created_at from tickets where branch = ? and day >= ?"
WALK_INS_SQL = ARRIVALS_SQL + " and appointment is null"   # those not checked in from an appointment

# Today's start reads the tickets of since_day and after, and the older ones still open: two
# queries, each through its index, for an `OR` of the two is a scan of the whole table.
SINCE_SQL = "select * from tickets where day >= ? order by created_at, rowid"
OPEN_BEFORE_SQL = ("select * from tickets where status in (select value from json_each(?1)) and day < ?2 "
                   "order by created_at, rowid")


class Store:
    """The database of one server: the journal the engine commits through, and what it loads.

    As in Datasette's database.py, one connection writes and readers take connections of their
    own: WAL lets a reader see the last commit while a write is in progress. Under gevent the
    writes run on a pool of one native thread, so a commit's fsync (synchronous=FULL) waits there
    instead of stalling every greenlet on the hub; otherwise they run in the caller's thread, one
    at a time.

    Group commit: the writes that queue while the writer commits are written next in one
    transaction, one fsync for all, in the order they were queued, each in a savepoint of its own.
    """

    def __init__(self, path: str | Path, synchronous: str = "FULL", idle_readers: int = 4) -> None:
        self.path = str(path)
        self.memory = self.path == ":memory:"
        if not self.memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.synchronous = synchronous
        self._pool = native_thread() if under_gevent() else None
        self._write_lock = threading.Lock()
        self._idle: list[Database] = []
        self._idle_max = idle_readers
        self.commit_observers: list[Callable[[float], None]] = []  # each journal commit's seconds (/metrics)
        # Each transaction's number of writes (/metrics), called on the writer's thread.
        self.batch_observers: list[Callable[[int], None]] = []
        # Called after a commit of a Change that carried messages: the outbox's sender, woken.
        self.message_observers: list[Callable[[], None]] = []
        self._queue: deque[_Write] = deque()  # writes waiting for the writer, in the order they came
        self._writer = self._on_writer(self._open_writer)

    def close(self) -> None:
        self._on_writer(self._drop_writer)
        while self._idle:
            self._idle.pop().close()
        if self._pool is not None:
            self._pool.kill()

    # ---- the two paths to the file -----------------------------------------------------------

    def write(self, fn: Callable[[Database], T]) -> T:
        """Run fn(db) on the write connection and commit it; its result once durable, or raises (nothing written).

        fn runs in the transaction that commits every write queued with it, in a savepoint of its own
        when there are several: its own failure undoes it alone and raises here only; a fault of the
        disk fails them all.
        """
        pending = _Write(fn)
        self._queue.append(pending)
        self._on_writer(self._drain, pending)
        return pending.outcome()

    @property
    def queued(self) -> int:
        """Writes waiting for the writer."""
        return len(self._queue)

    def query(self, sql: str, params: Sequence | dict = ()) -> list[dict]:
        """Rows of one read, from the last committed state."""
        return self.read(lambda db: list(db.query(sql, params)))

    def read(self, fn: Callable[[Database], T]) -> T:
        """Run fn(db) on a read connection of its own (the write connection for :memory:)."""
        if self.memory:  # another connection would open another, empty, database
            return self._on_writer(fn, self._writer)
        try:
            db = self._idle.pop()
        except IndexError:
            db = Database(self._connect(query_only=True))
        try:
            return fn(db)
        finally:
            if len(self._idle) < self._idle_max:
                self._idle.append(db)
            else:
                db.close()

    def _connect(self, query_only: bool = False) -> sqlite3.Connection:
        # isolation_level=None: sqlite-utils' atomic() issues BEGIN/COMMIT itself.
        # check_same_thread=False: each connection is used by one thread at a time, the writer's
        # by its one thread, a reader's by whichever thread took it from the idle list.
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        conn.execute("PRAGMA busy_timeout=10000")
        if query_only:
            conn.execute("PRAGMA query_only=1")
        return conn

    def _open_writer(self) -> Database:
        db = Database(self._connect())
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={self.synchronous}")
        migrations.apply(db)
        return db

    def _drain(self, pending: _Write) -> None:
        """On the writer: commit what is queued, in batches, until pending is done (perhaps by an earlier drain)."""
        # The writer's thread takes the next batch itself: under gevent it never waits for the hub
        # between two commits, however busy the hub is.
        while not pending.done:
            batch = [self._queue.popleft() for _ in range(len(self._queue))]
            self._write_batch(batch)
            for observe in self.batch_observers:
                observe(len(batch))

    def _write_batch(self, batch: list[_Write]) -> None:
        """Write the batch in one transaction and mark each write done with its outcome."""
        try:
            self._in_transaction(lambda db: self._each_in_savepoint(db, batch))
        except BaseException as error:  # the transaction as a whole: no write of the batch was committed
            for pending in batch:
                pending.error = pending.error or error
        finally:
            for pending in batch:
                pending.done = True

    @staticmethod
    def _each_in_savepoint(db: Database, batch: list[_Write]) -> None:
        if len(batch) == 1:  # alone, its transaction is its savepoint
            batch[0].result = batch[0].fn(db)
            return
        for pending in batch:
            db.conn.execute("SAVEPOINT one_write")
            try:
                pending.result = pending.fn(db)
            except Exception as error:
                # A fault of the disk, or an error that ended the transaction itself (SQLite rolls
                # back on some), takes the whole batch; any other undoes this write alone.
                if storage_fault(error) or not db.conn.in_transaction:
                    raise
                db.conn.execute("ROLLBACK TO one_write")
                pending.result, pending.error = None, error
            db.conn.execute("RELEASE one_write")

    def _in_transaction(self, fn: Callable[[Database], T]) -> T:
        try:
            if self._writer is None:  # dropped after a fault of the disk: opened again on the next write
                self._writer = self._open_writer()
            with self._writer.atomic():
                return fn(self._writer)
        except sqlite3.OperationalError as error:
            if not storage_fault(error):
                raise
            # atomic() rolled back; a connection that met an I/O error may still hold a broken WAL
            # index, so it is dropped and the next write opens a fresh one: service resumes by
            # itself once the fault clears, with no restart.
            if not self.memory:  # :memory: lives in its one connection
                self._drop_writer()
            raise StorageUnavailable(f"the database cannot be written: {error}") from error

    def _drop_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.close()
            except sqlite3.Error:  # a broken connection is dropped all the same
                pass

    def _on_writer(self, fn: Callable[..., T], *args) -> T:
        """Run fn on the writer: its native thread under gevent, else the caller's, one at a time."""
        if self._pool is not None:
            return self._pool.apply(fn, args)
        with self._write_lock:
            return fn(*args)

    def probe(self, at: float) -> None:
        """A write and commit round-trip of one small row; raises (StorageUnavailable on a fault of the disk)."""
        self.write(lambda db: db.execute("insert or replace into probe (id, at) values (1, ?)", [at]))

    # ---- the journal ---------------------------------------------------------------------

    def commit(self, change: Change) -> None:
        """Write one operation's change in one transaction; raises and writes nothing on failure."""
        def write(db: Database) -> None:
            if change.tickets:
                db["tickets"].upsert_all([_ticket_row(t) for t in change.tickets], pk="id")
            if change.events:
                # Chained in this transaction: the event and its place in the chain land together.
                audit.append_events(db.conn, [dict(e.__dict__) for e in change.events])
            for counter in change.counters:
                db["counters"].upsert(_counter_row(counter), pk=("branch", "id"))
            for rating in change.ratings:
                db["ratings"].insert({**rating.__dict__, "reasons": json.dumps(rating.reasons)})
            if change.services:
                db["services"].upsert_all([s.__dict__ for s in change.services], pk="id")
            if change.branches:
                db["branches"].upsert_all([_branch_row(b) for b in change.branches], pk="id")
            for counter in change.removed_counters:
                db.execute("delete from counters where branch = ? and id = ?", [counter.branch, counter.id])
            if change.messages:
                outbox.insert(db, change.messages)
            if change.appointments:
                db["appointments"].upsert_all([a.__dict__ for a in change.appointments], pk="id")

        started = time.perf_counter()
        self.write(write)
        for observe in self.commit_observers:
            observe(time.perf_counter() - started)
        if change.messages:
            for wake in self.message_observers:
                wake()

    # ---- loading -------------------------------------------------------------------------

    def load_network(self, services: list[Service], branches: list[Branch], counters: list[Counter]) -> None:
        """Create or update branches, services and counters (from a scenario), in one transaction."""
        def write(db: Database) -> None:
            db["services"].upsert_all([s.__dict__ for s in services], pk="id")
            # A scenario says nothing of what an admin gave a branch since: its address, unit code, closing.
            db["branches"].upsert_all([{k: v for k, v in _branch_row(b).items() if k not in ADMINISTERED}
                                       for b in branches], pk="id")
            db["counters"].upsert_all([_counter_row(c) for c in counters], pk=("branch", "id"))

        self.write(write)

    def services(self) -> list[Service]:
        return [Service(**row) for row in self.query("select * from services")]

    def branches(self) -> list[Branch]:
        return [Branch(**{**row, "services": tuple(json.loads(row["services"])), "closed": bool(row["closed"]),
                          "shifts": _tuples(json.loads(row["shifts"]))})
                for row in self.query("select * from branches")]

    def counters(self) -> list[Counter]:
        return [Counter(row["branch"], row["id"], tuple(json.loads(row["services"])), bool(row["open"]),
                        _tuples(json.loads(row["shifts"])), row["pause_reason"], row["since"], row["holder"],
                        row["held_since"])
                for row in self.query("select * from counters")]

    def tickets(self, since_day: str) -> list[Ticket]:
        """Tickets of since_day and after, and older ones still open (the engine closes their day):
        the engine needs today's, never the archive."""
        def read(db: Database) -> list[dict]:
            older = list(db.query(OPEN_BEFORE_SQL, [json.dumps(OPEN), since_day]))
            return older + list(db.query(SINCE_SQL, [since_day]))

        return [Ticket(**{**row, "priority": bool(row["priority"])}) for row in self.read(read)]

    def appointments(self, since_day: str) -> list[Appointment]:
        """Appointments of since_day and after (the engine keeps them; the older ones are the archive's)."""
        return [Appointment(**row) for row in self.query("select * from appointments where day >= ?", [since_day])]

    def arrivals(self, branch_id: str, since_day: str, walk_ins: bool = False) -> list[tuple[str, str, float]]:
        """(day, service, joined at) of every ticket that joined the branch's queues since since_day (only
        those not checked in from an appointment, if `walk_ins`)."""
        rows = self.query(WALK_INS_SQL if walk_ins else ARRIVALS_SQL, [branch_id, since_day])
        return [(row["day"], row["service"], row["created_at"]) for row in rows]

    def ticket(self, ticket_id: str) -> Ticket | None:
        rows = self.query("select * from tickets where id = ?", [ticket_id])
        return Ticket(**{**rows[0], "priority": bool(rows[0]["priority"])}) if rows else None

    def rating(self, ticket_id: str) -> Rating | None:
        rows = self.query("select * from ratings where ticket = ?", [ticket_id])
        return Rating(**{**rows[0], "reasons": tuple(json.loads(rows[0]["reasons"]))}) if rows else None

    def ratings(self, since_day: str) -> list[Rating]:
        rows = self.query("select r.* from ratings r join tickets t on t.id = r.ticket where t.day >= ?",
                          [since_day])
        return [Rating(**{**row, "reasons": tuple(json.loads(row["reasons"]))}) for row in rows]

    def events(self, ticket_id: str) -> list[dict]:
        return self.query("select * from events where ticket = ? order by id", [ticket_id])


class _Write:
    """One write waiting for the writer, then its outcome."""

    __slots__ = ("fn", "done", "result", "error")

    def __init__(self, fn: Callable[[Database], object]) -> None:
        self.fn, self.done, self.result, self.error = fn, False, None, None

    def outcome(self):
        if self.error is not None:
            raise self.error
        return self.result


def storage_fault(error: BaseException) -> bool:
    """True for an error of the disk rather than of the query (STORAGE_FAULTS)."""
    return isinstance(error, sqlite3.OperationalError) and any(f in str(error).lower() for f in STORAGE_FAULTS)


def under_gevent() -> bool:
    """True in a process monkey-patched by gevent (serve, demo): blocking there stalls the hub."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")


def native_thread():
    """A gevent pool of one native thread: work there blocks neither the hub nor, beyond one core, the machine."""
    from gevent.threadpool import ThreadPool

    return ThreadPool(1)


def _ticket_row(ticket: Ticket) -> dict:
    return {**ticket.__dict__, "priority": int(ticket.priority)}


ADMINISTERED = ("address_vi", "address_en", "unit_code", "closed")


def _branch_row(branch: Branch) -> dict:
    return {**branch.__dict__, "services": json.dumps(list(branch.services)), "closed": int(branch.closed),
            "shifts": json.dumps([list(s) for s in branch.shifts])}


def _counter_row(counter: Counter) -> dict:
    return {"branch": counter.branch, "id": counter.id, "services": json.dumps(list(counter.services)),
            "open": int(counter.open), "shifts": json.dumps([list(s) for s in counter.shifts]),
            "pause_reason": counter.pause_reason, "since": counter.since, "holder": counter.holder,
            "held_since": counter.held_since}


def _tuples(pairs) -> tuple[tuple[str, str], ...]:
    return tuple(tuple(p) for p in pairs)
