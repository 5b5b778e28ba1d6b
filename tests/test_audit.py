"""The events table's hash chain (server/audit.py) and `motcua audit verify`."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing

import pytest

from motcua import audit
from motcua.store import Store, migrations


def verify(db) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "motcua.cli", "audit", "verify", "--db", str(db)],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def journal(app, api, config):
    """The test app's database after a morning of tickets issued, called and served; its path."""
    for _ in range(3):
        ticket = api.issue()
        api.post("/branches/hk-01/counters/2/next", "off1")
        api.post(f"/tickets/{ticket['id']}/done", "off1")
    api.issue("cert")
    app.extensions["motcua"].store.close()
    return config.server.db


def rows(db) -> list[dict]:
    with closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("select * from events order by id")]


def test_every_event_written_carries_the_hash_of_the_one_before(journal):
    events = rows(journal)
    assert len(events) >= 10
    previous = audit.GENESIS
    for event in events:
        assert event["hash"] == audit.event_hash(previous, event)
        previous = event["hash"]
    done = verify(journal)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"OK: {len(events)} events") and previous in done.stdout


@pytest.mark.parametrize("tamper", [
    "update events set to_status = 'done' where id = {id}",
    "update events set at = at - 60 where id = {id}",
    "update events set actor = 'mgr1' where id = {id}",
])
def test_an_edited_event_is_named(journal, tamper):
    target = rows(journal)[4]
    with closing(sqlite3.connect(journal)) as conn, conn:
        conn.execute(tamper.format(id=target["id"]))
    done = verify(journal)
    assert done.returncode == 1
    assert f"event {target['id']} (ticket {target['ticket']}, at 2026-" in done.stdout


def test_a_deleted_event_is_found_at_the_one_after_it(journal):
    events = rows(journal)
    with closing(sqlite3.connect(journal)) as conn, conn:
        conn.execute("delete from events where id = ?", [events[3]["id"]])
    done = verify(journal)
    assert done.returncode == 1
    assert f"event {events[4]['id']} (ticket {events[4]['ticket']}," in done.stdout


def test_an_event_inserted_outside_the_chain_is_named(journal):
    last = rows(journal)[-1]
    with closing(sqlite3.connect(journal)) as conn, conn:
        conn.execute("insert into events (ticket, branch, from_status, to_status, at) values (?, ?, 'waiting', "
                     "'done', ?)", [last["ticket"], last["branch"], last["at"] + 1])
    done = verify(journal)
    assert done.returncode == 1 and f"event {last['id'] + 1} " in done.stdout


def test_the_migration_chains_the_events_written_before_it(tmp_path):
    path = tmp_path / "old.db"
    from sqlite_utils import Database

    old = Database(path)
    migrations.apply(old, stop_before="m006_events_hash_chained")
    old["events"].insert_all([{"ticket": f"t{i}", "branch": "hk-01", "from_status": None, "to_status": "waiting",
                               "at": 1_790_000_000 + i, "note": None} for i in range(5)])
    old.close()
    Store(path).close()
    events = rows(path)
    assert len(events) == 5 and all(e["hash"] for e in events)
    with closing(sqlite3.connect(path)) as conn:
        assert audit.verify(conn) == audit.Verdict(5, events[-1]["hash"])
    # Events written afterwards extend the same chain.
    store = Store(path)
    store.write(lambda db: audit.append_events(db.conn, [{"ticket": "t9", "branch": "hk-01",
                                                           "to_status": "waiting", "at": 1_790_000_100}]))
    store.close()
    with closing(sqlite3.connect(path)) as conn:
        assert audit.verify(conn).count == 6 and audit.verify(conn).broken is None
