"""The server's start reads what today needs through indexes: nothing it runs reads the history
(tickets, events, ratings, dossiers…) whole, so a year of it starts as fast as a day (bench/history_start.py)."""
from __future__ import annotations

import hashlib
import re
import sqlite3
from contextlib import closing, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet

from motcua.config import load_config
from motcua.core import scenario
from motcua.core.clock import FakeClock
from motcua.core.engine import EngineSettings, QueueEngine
from motcua.documents import PENDING
from motcua.store import Store
from motcua.web.app import create_app

from conftest import HOAN_KIEM

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
DAYS = 30
KEY = Fernet.generate_key().decode()
# Tables small and fixed whatever the history (the network, accounts, the catalogue): a start may read them whole.
NETWORK = {"branches", "services", "counters", "users", "devices", "revocations", "departments", "document_kinds",
           "procedures", "_sqlite_migrations", "probe", "json_each", "sqlite_master"}
STEP = 100  # SQLite VM instructions a count of traced() stands for
# The events' chain reads its last link by rowid: SQLite calls that a SCAN, but it reads one row.
CHAIN_TAIL = re.compile(r"order by id desc limit 1$", re.IGNORECASE)


def at(day: int, hour: int) -> float:
    return (datetime(2026, 11, 2, tzinfo=HANOI) + timedelta(days=day, hours=hour)).timestamp()


def history(path, days: int) -> None:
    """`days` days of Hoan Kiem's tickets through the engine (each called, served, rated) and of
    documents (three a day, their rows and files), and one ticket left waiting on the last day: the
    start must find it and close its day."""
    data = scenario.load(HOAN_KIEM)
    store = Store(path, "OFF")
    store.load_network(scenario.services(data), scenario.branches(data), scenario.counters(data))
    documents = [hashlib.sha256(f"scan {n}".encode()).hexdigest() for n in range(3 * days)]
    for sha in documents:
        (folder(path) / sha[:2]).mkdir(parents=True, exist_ok=True)
        (folder(path) / sha[:2] / sha).write_bytes(b"a Fernet token")
    store.write(lambda db: db["documents"].insert_all(
        {"sha256": sha, "kind": "id_card", "mime": "application/pdf", "size": 1, "path": f"{sha[:2]}/{sha}"}
        for sha in documents))
    clock = FakeClock(at(0, 8))
    engine = QueueEngine(store.branches(), store.services(), store.counters(), clock, journal=store,
                         archive=store, settings=EngineSettings())
    for day in range(days):
        clock.set(at(day, 8))
        for n in range(20):
            engine.issue("hk-01", "civil")
        while (called := engine.call_next("hk-01", "1")) is not None:
            engine.start(called.id)
            engine.done(called.id)
            engine.rate(called.id, 4)
    engine.issue("hk-01", "civil")
    store.close()


@contextmanager
def traced():
    """Every statement the store's connections run, and the SQLite VM steps (hundreds) each took."""
    statements: list[list] = []
    opened = Store._connect

    def connect(self, query_only: bool = False) -> sqlite3.Connection:
        conn = opened(self, query_only)
        conn.set_trace_callback(lambda sql: statements.append([sql, 0]))

        def step() -> int:
            if statements:
                statements[-1][1] += 1
            return 0

        conn.set_progress_handler(step, STEP)
        return conn

    Store._connect = connect
    try:
        yield statements
    finally:
        Store._connect = opened


def folder(path) -> Path:
    return path.parent / f"{path.stem}-documents"


def start(path, day: int) -> list[list]:
    """The statements of a start of the server on `path`, the morning of `day`, documents on (the second
    start: the first seeds the catalogue, once in a database's life)."""
    config = load_config(server={"db": str(path), "async_mode": "threading"},
                         dossiers={"documents": str(folder(path)), "document_key": KEY})
    create_app(config, FakeClock(at(day, 7))).extensions["motcua"].store.close()
    with traced() as statements:
        create_app(config, FakeClock(at(day, 7))).extensions["motcua"].store.close()
    return statements


def scans(path, sql: str) -> list[str]:
    """The tables a statement reads whole, as EXPLAIN QUERY PLAN says."""
    with closing(sqlite3.connect(path)) as conn:
        plan = [row[3] for row in conn.execute("explain query plan " + sql)]
    return [detail for detail in plan if detail.startswith("SCAN ")]


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    path = tmp_path_factory.mktemp("history") / "motcua.db"
    history(path, DAYS)
    return path


def test_no_statement_of_the_start_reads_a_history_table_whole(year):
    statements = start(year, DAYS)
    selects = [sql for sql, _ in statements if sql.lstrip().lower().startswith(("select", "with"))]
    assert any("from tickets" in sql for sql in selects), selects  # the trace sees the start's reads
    whole = {sql: found for sql in selects if not CHAIN_TAIL.search(sql.strip())
             if (found := [d for d in scans(year, sql) if d.split()[1] not in NETWORK])}
    assert whole == {}


def test_the_start_does_as_much_work_over_a_month_of_history_as_over_two_days(tmp_path, year):
    days = tmp_path / "days.db"
    history(days, 2)
    # Both starts load the same: yesterday's tickets and the one left waiting. A month holds 15× the
    # tickets, events and ratings of two days: a read of any of them whole would show.
    small = sum(steps for _, steps in start(days, 2))
    large = sum(steps for _, steps in start(year, DAYS))
    assert large <= 1.2 * small + 3, (small, large)


def test_a_start_looks_only_at_the_documents_of_writes_that_died(tmp_path):
    path = tmp_path / "motcua.db"
    history(path, 1)
    start(path, 1)   # a folder of before: swept whole once, and marked as swept by marks from now on
    stray, dead = (hashlib.sha256(text).hexdigest() for text in (b"put by hand", b"killed before its row"))
    for sha in (stray, dead):
        (folder(path) / sha[:2]).mkdir(exist_ok=True)
        (folder(path) / sha[:2] / sha).write_bytes(b"no row names it")
    (folder(path) / dead[:2] / ".upload-x1").write_bytes(b"half")
    (folder(path) / PENDING / f"{dead}.x1").touch()   # what a write killed before its row leaves
    config = load_config(server={"db": str(path), "async_mode": "threading"},
                         dossiers={"documents": str(folder(path)), "document_key": KEY})
    app = create_app(config, FakeClock(at(1, 7)))
    try:
        assert not (folder(path) / dead[:2] / dead).exists() and not (folder(path) / dead[:2] / ".upload-x1").exists()
        assert list((folder(path) / PENDING).iterdir()) == []
        assert (folder(path) / stray[:2] / stray).exists()   # no write marked it: the start never lists the folder
        found = app.extensions["motcua"].documents.check()   # `motcua documents check` does
        assert not (folder(path) / stray[:2] / stray).exists() and found.removed == [f"{stray[:2]}/{stray}"]
    finally:
        app.extensions["motcua"].store.close()
