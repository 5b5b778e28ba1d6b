"""Group commit (server/store.py): the writes queued while the writer commits go next in one transaction,
in their order, each in a savepoint of its own; under threads and under gevent."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from motcua import audit
from motcua.core.model import CALLED, WAITING, Change, Event, Rating, StorageUnavailable, Ticket
from motcua.store import Store

DAY = "2026-03-02"


def change(n: int, rating: int | None = None) -> Change:
    """Ticket n issued and called (two events); with a rating of ticket `rating` if given."""
    ticket = Ticket(id=f"t{n}", branch="hk-01", service="civil", number=f"A{n:03d}", day=DAY, issued_at=n,
                    created_at=n)
    events = [Event(ticket.id, "hk-01", None, WAITING, n), Event(ticket.id, "hk-01", WAITING, CALLED, n + 0.5)]
    ratings = [Rating(f"t{rating}", 4, (), "", n)] if rating is not None else []
    return Change(tickets=[ticket], events=events, ratings=ratings)


class Commits:
    """The COMMITs the write connection runs (its trace, independent of the store's own count)."""

    def __init__(self, store: Store) -> None:
        self.seen: list[str] = []
        store.write(lambda db: db.conn.set_trace_callback(self.trace))
        self.seen.clear()

    def trace(self, statement: str) -> None:
        if statement.strip().upper() == "COMMIT":
            self.seen.append(statement)


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "g.db")
    yield store
    store.close()


def until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.001)


class Queued:
    """The writer held by a write that waits, while changes queue behind it one at a time (their order known)."""

    def __init__(self, store: Store) -> None:
        self.store, self.outcomes, self.threads = store, {}, []
        started, self.release = threading.Event(), threading.Event()
        self.holder = threading.Thread(target=store.write, args=(lambda db: started.set() or self.release.wait(10),))
        self.holder.start()
        assert started.wait(10)

    def commit(self, n: int, change: Change) -> None:
        def run():
            try:
                self.store.commit(change)
                self.outcomes[n] = "committed"
            except Exception as error:  # what this caller alone was told
                self.outcomes[n] = error

        queued = self.store.queued
        self.threads.append(threading.Thread(target=run))
        self.threads[-1].start()
        until(lambda: self.store.queued == queued + 1)

    def go(self) -> dict:
        self.release.set()
        for thread in [self.holder, *self.threads]:
            thread.join(10)
        return self.outcomes


def chain(store: Store) -> audit.Verdict:
    return store.read(lambda db: audit.verify(db.conn))


def test_twenty_changes_queued_behind_the_writer_commit_in_one_transaction_in_their_order(store):
    sizes, commits = [], Commits(store)
    store.batch_observers.append(sizes.append)
    queued = Queued(store)
    for n in range(1, 21):
        queued.commit(n, change(n))
    assert queued.go() == {n: "committed" for n in range(1, 21)}
    assert len(commits.seen) == 2 and sizes == [1, 20]  # the holder's, then the twenty at once
    rows = store.query("select ticket, id from events order by id")
    assert [row["ticket"] for row in rows] == [f"t{n}" for n in range(1, 21) for _ in range(2)]
    assert chain(store).count == 40 and chain(store).broken is None
    assert store.query("select count(*) as n from tickets")[0]["n"] == 20


def test_a_change_that_fails_alone_raises_to_its_caller_only_and_its_batch_mates_commit(store):
    store.commit(change(1))
    commits, queued = Commits(store), Queued(store)
    queued.commit(2, change(2, rating=1))
    queued.commit(3, change(3, rating=1))  # a second rating of t1: the database refuses it
    queued.commit(4, change(4, rating=2))
    outcomes = queued.go()
    assert outcomes[2] == outcomes[4] == "committed"
    assert isinstance(outcomes[3], sqlite3.IntegrityError)
    assert len(commits.seen) == 2  # the holder's, then the three in one
    assert [row["id"] for row in store.query("select id from tickets order by id")] == ["t1", "t2", "t4"]
    assert [row["ticket"] for row in store.query("select ticket from ratings order by ticket")] == ["t1", "t2"]
    assert [row["ticket"] for row in store.query("select ticket from events order by id")] == [
        "t1", "t1", "t2", "t2", "t4", "t4"]
    assert chain(store).count == 6 and chain(store).broken is None


def test_a_fault_of_the_disk_in_a_batch_fails_every_change_of_it_and_the_next_commit_succeeds(store):
    queued = Queued(store)
    queued.commit(1, change(1))
    threading.Thread(target=lambda: queued.outcomes.setdefault(2, _fails(store))).start()
    until(lambda: store.queued == 2)
    queued.commit(3, change(3))
    outcomes = queued.go()
    until(lambda: 2 in outcomes)
    assert all(isinstance(outcomes[n], StorageUnavailable) for n in (1, 2, 3)), outcomes
    assert store.query("select count(*) as n from tickets")[0]["n"] == 0
    store.commit(change(4))
    assert [row["id"] for row in store.query("select id from tickets")] == ["t4"] and chain(store).count == 2


def _fails(store: Store) -> Exception:
    def fault(db):
        raise sqlite3.OperationalError("disk I/O error")  # as SQLite words an EIO

    try:
        store.write(fault)
    except Exception as error:
        return error
    return AssertionError("the fault was not raised")


def test_a_lone_commit_is_a_batch_of_one(store):
    sizes, commits = [], Commits(store)
    store.batch_observers.append(sizes.append)
    for n in range(1, 4):
        store.commit(change(n))
    assert sizes == [1, 1, 1] and len(commits.seen) == 3


# Its own process: gevent's monkey-patching comes first, as in `motcua serve`. Twenty greenlets
# commit at once: the first finds the writer free, the others queue while it commits.
UNDER_GEVENT = textwrap.dedent('''
    from gevent import monkey; monkey.patch_all()
    import json, sys
    import gevent
    from motcua import audit
    from motcua.store import Store
    from test_store_group_commit import change, Commits

    store = Store(sys.argv[1])
    commits, sizes, seconds = Commits(store), [], []
    store.batch_observers.append(sizes.append)
    store.commit_observers.append(seconds.append)
    gevent.joinall([gevent.spawn(store.commit, change(n)) for n in range(1, 21)], raise_error=True)
    verdict = store.read(lambda db: audit.verify(db.conn))
    print(json.dumps({"commits": len(commits.seen), "sizes": sizes, "observed": len(seconds),
                      "events": [r["ticket"] for r in store.query("select ticket from events order by id")],
                      "chain": [verdict.count, verdict.broken]}))
''')


def test_under_gevent_greenlets_committing_at_once_share_transactions(tmp_path):
    done = subprocess.run([sys.executable, "-c", UNDER_GEVENT, str(tmp_path / "g.db")], capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).parent)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["commits"] < 20 and sum(result["sizes"]) == 20 and len(result["sizes"]) == result["commits"]
    assert result["observed"] == 20  # each change's own time, for /metrics
    assert result["events"] == [f"t{n}" for n in range(1, 21) for _ in range(2)]  # in the order they came
    assert result["chain"] == [40, None]


# Its own process: RLIMIT_FSIZE makes the batch's commit fail as the disk would (EFBIG), for root too;
# SIGXFSZ ignored so that the process sees the error instead of dying.
FILE_SIZE_LIMIT = textwrap.dedent('''
    import json, resource, signal, sys
    from motcua.store import Store
    from test_store_group_commit import Queued, change

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    store = Store(sys.argv[1])
    store.commit(change(1))
    queued = Queued(store)
    for n in (2, 3, 4):
        queued.commit(n, change(n))
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, limits[1]))
    outcomes = queued.go()
    resource.setrlimit(resource.RLIMIT_FSIZE, limits)
    store.commit(change(5))
    print(json.dumps({"outcomes": {n: type(o).__name__ for n, o in outcomes.items()},
                      "tickets": [r["id"] for r in store.query("select id from tickets order by id")]}))
''')


def test_a_batch_whose_commit_meets_the_file_size_limit_fails_all_of_it_and_the_writer_resumes(tmp_path):
    done = subprocess.run([sys.executable, "-c", FILE_SIZE_LIMIT, str(tmp_path / "f.db")], capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).parent)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["outcomes"] == {"2": "StorageUnavailable", "3": "StorageUnavailable", "4": "StorageUnavailable"}
    assert result["tickets"] == ["t1", "t5"]


# Its own process, under gevent: once the writer is free it takes the next batch by itself, with no
# help from the hub, which here is kept busy (a native sleep, as a long computation would).
HUB_BUSY = textwrap.dedent('''
    from gevent import monkey; monkey.patch_all()
    import json, sqlite3, sys
    import gevent
    from motcua.store import Store
    from test_store_group_commit import change

    native_lock, native_sleep = monkey.get_original("_thread", "allocate_lock"), monkey.get_original("time", "sleep")
    monotonic = monkey.get_original("time", "monotonic")
    store, started, release = Store(sys.argv[1]), [], native_lock()
    release.acquire()
    holder = gevent.spawn(store.write, lambda db: started.append(True) or release.acquire(timeout=10))
    while not started:
        gevent.sleep(0.001)
    greenlets = [gevent.spawn(store.commit, change(n)) for n in range(1, 21)]
    while store.queued < 20:
        gevent.sleep(0.001)
    release.release()
    committed, deadline = 0, monotonic() + 5
    while committed < 20 and monotonic() < deadline:  # the hub never yields in here
        native_sleep(0.01)
        committed = sqlite3.connect(sys.argv[1]).execute("select count(*) from tickets").fetchone()[0]
    gevent.joinall([holder, *greenlets], raise_error=True)
    print(json.dumps({"committed while the hub was busy": committed, "in the end": store.query(
        "select count(*) as n from tickets")[0]["n"]}))
''')


def test_under_gevent_the_writer_commits_what_is_queued_while_the_hub_is_busy(tmp_path):
    done = subprocess.run([sys.executable, "-c", HUB_BUSY, str(tmp_path / "h.db")], capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).parent)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"committed while the hub was busy": 20, "in the end": 20}
