"""The SQLite store (server/store.py, sqlite-utils): migrations run once each, a change is one
transaction, and what is written reads back the same after a restart."""
from __future__ import annotations

import sqlite3

import pytest
from sqlite_utils import Database

from motcua.core import scenario
from motcua.core.clock import FakeClock, LocalTime
from motcua.core.engine import QueueEngine
from motcua.core.model import CALLED, DONE, WAITING, Change, Counter, Event, Rating, Ticket
from motcua.store import Store, migrations

from conftest import HOAN_KIEM, MORNING

DATA = scenario.load(HOAN_KIEM)
TODAY = LocalTime("Asia/Ho_Chi_Minh").day(MORNING)
YESTERDAY = LocalTime("Asia/Ho_Chi_Minh").day(MORNING - 86400)
TABLES = {"services", "branches", "counters", "tickets", "events", "ratings", "users", "tokens", "devices"}


def migration_names() -> list[str]:
    return [migration.name for migration in migrations.pending(Database(memory=True))]


def ticket(number: str = "A001", day: str = TODAY, at: float = MORNING, **fields) -> Ticket:
    return Ticket(id=f"t-{day}-{number}", branch="hk-01", service="civil", number=number, day=day, issued_at=at,
                  created_at=at, **fields)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "motcua.db"


class Restarts:
    """The store of one database file, closed and opened again as a restarted server would."""

    def __init__(self, path) -> None:
        self.path, self.store = path, Store(path)

    def restart(self) -> Store:
        self.store.close()
        self.store = Store(self.path)
        return self.store


@pytest.fixture
def files(path):
    files = Restarts(path)
    files.store.load_network(scenario.services(DATA), scenario.branches(DATA), scenario.counters(DATA))
    yield files
    files.store.close()


@pytest.fixture
def store(files):
    return files.store


# ---- migrations --------------------------------------------------------------------------------

def test_the_migrations_make_every_table_in_memory():
    db = Database(memory=True)
    migrations.apply(db)
    assert TABLES <= set(db.table_names())
    assert migrations.pending(db) == []
    assert [m.name for m in migrations.applied(db)] == migration_names()


def test_a_store_applies_each_migration_once_however_often_it_opens(path):
    for _ in range(3):
        Store(path).close()
    db = Database(path)
    assert [m.name for m in migrations.applied(db)] == migration_names()
    assert TABLES <= set(db.table_names())
    db.close()


def test_an_old_database_is_upgraded_and_keeps_its_rows(path):
    db = Database(path)
    migrations.apply(db, stop_before=migration_names()[1])   # a database from the first release
    db["tickets"].insert({"id": "old", "branch": "hk-01", "service": "civil", "number": "A001", "day": TODAY,
                          "issued_at": MORNING, "priority": 1, "lang": "vi", "status": WAITING,
                          "created_at": MORNING, "recalls": 0})
    db.close()
    store = Store(path)
    kept = store.ticket("old")
    assert (kept.number, kept.priority, kept.status, kept.issued_at) == ("A001", True, WAITING, MORNING)
    assert migrations.pending(Database(path)) == []
    store.close()


# ---- one change, one transaction ---------------------------------------------------------------

def test_a_change_is_written_whole(store):
    first = ticket("A001")
    store.commit(Change(tickets=[first], events=[Event(first.id, "hk-01", None, WAITING, MORNING, actor="kiosk")]))
    assert store.ticket(first.id) == first
    assert [e["to_status"] for e in store.events(first.id)] == [WAITING]


def test_a_change_that_fails_writes_nothing_at_all(files, store):
    store.commit(Change(tickets=[ticket("A001")]))
    second, twin = ticket("A002"), ticket("A001").replace(id="a-second-A001")   # the database refuses a twin number
    moved = Counter("hk-01", "1", ("land",), False)
    with pytest.raises(sqlite3.IntegrityError):
        store.commit(Change(tickets=[second, twin], counters=[moved],
                            events=[Event(second.id, "hk-01", None, WAITING, MORNING)]))
    for seen_by in (lambda: store, files.restart):          # now, and after a restart
        now = seen_by()
        assert now.ticket(second.id) is None and now.ticket(twin.id) is None
        assert now.events(second.id) == []
        assert next(c for c in now.counters() if (c.branch, c.id) == ("hk-01", "1")).services == ("civil", "cert")


def test_a_second_rating_of_a_ticket_is_refused_and_the_first_kept(store):
    done = ticket("A001", status=DONE)
    store.commit(Change(tickets=[done], ratings=[Rating(done.id, 4, ("fast",), "", MORNING)]))
    with pytest.raises(sqlite3.IntegrityError):
        store.commit(Change(ratings=[Rating(done.id, 1, (), "", MORNING + 1)]))
    assert [r.score for r in store.ratings(TODAY)] == [4]


# ---- what is written reads back the same -----------------------------------------------------------

def test_the_network_reads_back_as_the_scenario_made_it(files):
    store = files.restart()
    assert sorted(store.services(), key=lambda s: s.id) == sorted(scenario.services(DATA), key=lambda s: s.id)
    assert sorted(store.branches(), key=lambda b: b.id) == sorted(scenario.branches(DATA), key=lambda b: b.id)
    key = lambda c: (c.branch, c.id)  # noqa: E731
    assert sorted(store.counters(), key=key) == sorted(scenario.counters(DATA), key=key)


def test_loading_the_network_again_updates_it_in_place(store):
    services = scenario.services(DATA)
    renamed = [services[0].__class__(**{**services[0].__dict__, "name_en": "Civil registry"}), *services[1:]]
    store.load_network(renamed, scenario.branches(DATA), scenario.counters(DATA))
    assert len(store.services()) == len(services)
    assert next(s for s in store.services() if s.id == services[0].id).name_en == "Civil registry"


def test_every_field_of_tickets_ratings_and_counters_survives_a_restart(files, store):
    served = ticket("A001", priority=True, lang="en", status=DONE, counter="2", called_at=MORNING + 60,
                    started_at=MORNING + 90, ended_at=MORNING + 600, recalls=1)
    moved = ticket("B001", status=WAITING, origin="t-elsewhere", at=MORNING - 300).replace(
        id="t-moved", service="cert", created_at=MORNING + 30)
    old = ticket("A001", day=YESTERDAY, at=MORNING - 86400, status=DONE)
    rating = Rating(served.id, 3, ("slow", "documents_twice"), "chờ lâu", MORNING + 700)
    counter = Counter("hk-01", "3", ("cert", "civil"), False, (("07:30", "11:30"),))
    note = Event(served.id, "hk-01", CALLED, CALLED, MORNING + 120, "2", "staff:off1", "recall")
    store.commit(Change(tickets=[old]))
    store.commit(Change(tickets=[served, moved], ratings=[rating], counters=[counter], events=[note]))
    store = files.restart()
    assert store.tickets(TODAY) == [served, moved]              # in the order they joined
    assert store.tickets(YESTERDAY) == [old, served, moved]
    assert store.ticket(served.id) == served and store.ticket("nope") is None
    assert store.ratings(TODAY) == [rating]
    assert next(c for c in store.counters() if (c.branch, c.id) == ("hk-01", "3")) == counter
    [event] = store.events(served.id)
    assert (event["from_status"], event["to_status"], event["counter"], event["actor"], event["note"]) == (
        CALLED, CALLED, "2", "staff:off1", "recall")
    assert sorted(store.arrivals("hk-01", TODAY)) == sorted([(TODAY, "civil", MORNING), (TODAY, "cert", MORNING + 30)])
    assert store.arrivals("hk-02", YESTERDAY) == []


def test_an_engine_rebuilt_from_the_store_continues_the_day(files, store):
    clock = FakeClock(MORNING)
    engine = QueueEngine(store.branches(), store.services(), store.counters(), clock, journal=store)
    issued = [engine.issue("hk-01", "civil") for _ in range(3)]
    called = engine.call_next("hk-01", "2")
    clock.advance(300)
    engine.done(called.id)
    engine.rate(called.id, 4, ("fast",))
    store = files.restart()
    again = QueueEngine(store.branches(), store.services(), store.counters(), clock, journal=store,
                        tickets=store.tickets(TODAY), ratings=store.ratings(TODAY))
    assert again.tickets[called.id].status == DONE and again.tickets[issued[1].id].status == WAITING
    assert again.issue("hk-01", "civil").number == "A004"       # numbering goes on, no twin
    assert again.call_next("hk-01", "2").id == issued[1].id     # and so does the order
