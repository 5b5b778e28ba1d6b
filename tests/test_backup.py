"""`motcua backup` of a live server under load and `motcua restore` (server/backup.py)."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing

import pytest
import requests

from conftest import motcua


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "motcua.cli", *args], capture_output=True, text=True, timeout=60)


def ticket_ids(db) -> set[str]:
    with closing(sqlite3.connect(db)) as conn:
        return {row[0] for row in conn.execute("select id from tickets")}


class Kiosks:
    """Threads issuing tickets against a server until stopped; every acknowledged ticket id, in order."""

    def __init__(self, server, count: int = 4) -> None:
        self.server, self.acknowledged, self.failures = server, [], []
        self.stop, self.lock = threading.Event(), threading.Lock()
        self.threads = [threading.Thread(target=self.issue) for _ in range(count)]
        [t.start() for t in self.threads]

    def issue(self) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.server.tokens['kiosk1']}"
        while not self.stop.is_set():
            answer = session.post(self.server.api + "/branches/hk-01/tickets", json={"service": "civil"}, timeout=10)
            if answer.status_code != 201:
                self.failures.append(answer.status_code)
                continue
            with self.lock:
                self.acknowledged.append(answer.json()["id"])

    def wait_for(self, count: int) -> list[str]:
        """Block until count tickets are acknowledged; those acknowledged by now."""
        while True:
            with self.lock:
                if len(self.acknowledged) >= count:
                    return list(self.acknowledged)
            self.stop.wait(0.01)

    def finish(self) -> list[str]:
        self.stop.set()
        [t.join(30) for t in self.threads]
        return self.acknowledged


def test_a_backup_taken_under_load_holds_every_ticket_acknowledged_before_it(fresh_server, tmp_path):
    kiosks = Kiosks(fresh_server)
    before = kiosks.wait_for(40)
    done = run("backup", str(tmp_path / "backup.db"), "--db", str(fresh_server.db))
    during = kiosks.wait_for(len(before) + 40)  # the server kept serving while and after it copied
    acknowledged = kiosks.finish()
    assert done.returncode == 0, done.stderr
    assert not kiosks.failures and len(during) > len(before)
    saved = ticket_ids(tmp_path / "backup.db")
    assert set(before) <= saved and saved <= set(acknowledged)
    with closing(sqlite3.connect(tmp_path / "backup.db")) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert "events" in done.stdout and run("audit", "verify", "--db", str(tmp_path / "backup.db")).returncode == 0
    assert run("backup", str(tmp_path / "backup.db"), "--db", str(fresh_server.db)).returncode == 2


def test_restore_refuses_a_database_a_server_holds_and_replaces_it_once_stopped(fresh_server, tmp_path):
    issue = lambda: fresh_server.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).json()["id"]
    saved = issue()
    motcua("backup", str(tmp_path / "backup.db"), db=fresh_server.db)
    later = issue()

    refused = run("restore", str(tmp_path / "backup.db"), "--db", str(fresh_server.db))
    assert refused.returncode == 2 and "stop it first" in refused.stderr
    assert later in ticket_ids(fresh_server.db)
    assert not fresh_server.db.with_name("motcua.db.bak").exists()

    fresh_server.kill(signal.SIGTERM)
    out = motcua("restore", str(tmp_path / "backup.db"), db=fresh_server.db)
    kept = fresh_server.db.with_name("motcua.db.bak")
    assert str(kept) in out
    assert saved in ticket_ids(fresh_server.db) and later not in ticket_ids(fresh_server.db)
    assert {saved, later} <= ticket_ids(kept)  # the old database, its -wal included

    fresh_server.start()
    assert fresh_server.get(f"/tickets/{saved}").status_code == 200
    assert fresh_server.get(f"/tickets/{later}").status_code == 404
    assert issue()


def test_a_server_does_not_start_on_a_database_being_restored(tmp_path, real_template):
    import fcntl

    db = real_template.copy_to(tmp_path / "motcua.db")
    with open(db, "rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        done = run("serve", "--db", str(db), "--port", "0")
    assert done.returncode == 2 and "being restored" in done.stderr


@pytest.mark.parametrize("make", ["text", "other sqlite", "damaged"])
def test_restore_refuses_what_is_not_a_motcua_database_and_replaces_nothing(tmp_path, real_template, make):
    db = real_template.copy_to(tmp_path / "motcua.db")
    before = db.read_bytes()
    bad = tmp_path / "bad.db"
    if make == "text":
        bad.write_text("not a database\n" * 100)
    elif make == "other sqlite":
        with closing(sqlite3.connect(bad)) as conn:
            conn.execute("create table tickets (id text)")
    else:
        bad.write_bytes(before[: len(before) // 2])
    done = run("restore", str(bad), "--db", str(db))
    assert done.returncode == 2 and "motcua:" in done.stderr
    assert db.read_bytes() == before and not db.with_name("motcua.db.bak").exists()


def test_restore_refuses_a_backup_whose_events_were_tampered_with(tmp_path, fresh_server):
    fresh_server.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).raise_for_status()
    motcua("backup", str(tmp_path / "backup.db"), db=fresh_server.db)
    with closing(sqlite3.connect(tmp_path / "backup.db")) as conn, conn:
        conn.execute("update events set to_status = 'done'")
    done = run("restore", str(tmp_path / "backup.db"), "--db", str(tmp_path / "new.db"))
    assert done.returncode == 2 and "tampered" in done.stderr and not (tmp_path / "new.db").exists()


def test_restore_to_a_new_path(tmp_path, real_template):
    motcua("backup", str(tmp_path / "backup.db"), db=real_template.path)
    out = motcua("restore", str(tmp_path / "backup.db"), db=tmp_path / "new" / "motcua.db")
    assert "kept" not in out
    assert ticket_ids(tmp_path / "new" / "motcua.db") == ticket_ids(real_template.path)
    assert motcua("user", "add", "--username", "x1", "--password", "long-enough-pass", "--role", "admin",
                  db=tmp_path / "new" / "motcua.db")
