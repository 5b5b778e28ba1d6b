"""The store's one writer: off the gevent hub when serving, and reads never wait for it."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading

import pytest

from motcua.store import Store

# Run in a process of its own: gevent's monkey-patching must come before anything else, as in
# `motcua serve`. The write blocks its thread on a native lock (as an fsync blocks in C) until the
# hub has read: were it on the hub, the read could not happen (the write gives up after 10 s).
UNDER_GEVENT = textwrap.dedent('''
    from gevent import monkey; monkey.patch_all()
    import json, sys
    import gevent
    from motcua.store import Store

    native_lock = monkey.get_original("_thread", "allocate_lock")
    native_ident = monkey.get_original("_thread", "get_ident")
    store = Store(sys.argv[1])
    store.write(lambda db: db["probe"].insert({"id": 1}, pk="id"))
    started, release, reads = [], native_lock(), []
    release.acquire()

    def slow(db):
        db["probe"].insert({"id": 2})
        started.append(True)
        release.acquire(timeout=10)  # blocks its thread in C, as an fsync does
        return native_ident()

    def reader():
        while not started:
            gevent.sleep(0.001)
        reads.append([row["id"] for row in store.query("select id from probe order by id")])
        release.release()

    gevent.spawn(reader)
    writer = store.write(slow)
    print(json.dumps({"reads": reads, "hub": native_ident(), "writer": writer,
                      "again": store.write(lambda db: native_ident()),
                      "after": [row["id"] for row in store.query("select id from probe order by id")]}))
''')


def test_under_gevent_writes_run_on_one_native_thread_while_the_hub_reads(tmp_path):
    done = subprocess.run([sys.executable, "-c", UNDER_GEVENT, str(tmp_path / "g.db")], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["reads"] == [[1]]  # read during the write: the last commit, not the write under way
    assert result["writer"] != result["hub"] and result["again"] == result["writer"]
    assert result["after"] == [1, 2]


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "w.db")
    store.write(lambda db: db["probe"].insert({"id": 1}, pk="id"))
    yield store
    store.close()


def ids(store: Store) -> list[int]:
    return [row["id"] for row in store.query("select id from probe order by id")]


def test_reads_proceed_while_a_slow_write_is_in_progress(store):
    started, release = threading.Event(), threading.Event()

    def slow(db):
        db["probe"].insert({"id": 2})
        started.set()
        assert release.wait(10)

    writer = threading.Thread(target=store.write, args=(slow,))
    writer.start()
    assert started.wait(10)
    seen = []
    reader = threading.Thread(target=lambda: seen.append(ids(store)))
    reader.start()
    reader.join(5)
    assert seen == [[1]], "the read waited for the write"
    release.set()
    writer.join(10)
    assert ids(store) == [1, 2]


def test_writes_from_many_threads_go_one_at_a_time(store):
    inside, overlaps = [], []

    def write(n):
        def fn(db):
            inside.append(n)
            overlaps.append(len(inside))
            db["probe"].insert({"id": n})
            inside.remove(n)
        store.write(fn)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(2, 22)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert max(overlaps) == 1 and ids(store) == list(range(1, 22))


def test_a_failed_write_raises_and_writes_nothing(store):
    def half(db):
        db["probe"].insert({"id": 2})
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        store.write(half)
    assert ids(store) == [1]
    assert store.write(lambda db: db["probe"].count) == 1  # the writer is usable after a failure


def test_read_connections_cannot_write(store):
    import sqlite3

    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store.read(lambda db: db.execute("insert into probe (id) values (9)"))
    assert ids(store) == [1]


def test_a_memory_store_reads_what_it_wrote():
    store = Store(":memory:")
    store.write(lambda db: db["probe"].insert({"id": 1}, pk="id"))
    assert ids(store) == [1] and store.services() == []
    store.close()
