"""Backups of a live database and restores onto one no server holds.

A backup is SQLite's online backup in one step: one read transaction, so in WAL mode it copies the
last committed state while the server keeps writing. A restore replaces a database file, which no
running server may have open: every server holds a shared lock on its database file (`hold`) for
as long as it runs, and a restore takes the exclusive one or refuses. A database has one writer:
each server first takes the exclusive lock of the file `{db}.writer` beside it (`writer`), which a
second server on the same database cannot get.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import IO

from motcua import audit

# Tables every motcua database has, whatever its migrations.
TABLES = {"tickets", "events", "counters", "branches", "services", "_sqlite_migrations"}


class BackupError(ValueError):
    """A backup or restore that cannot go ahead; nothing was replaced."""


def hold(db_path: str | os.PathLike) -> IO:
    """A shared lock on the database file for a server's lifetime (kept while the returned file stays open)."""
    handle = open(db_path, "rb")
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise BackupError(f"{db_path} is being restored: start the server again once the restore is done") from None
    return handle


def writer(db_path: str | os.PathLike) -> IO:
    """The database's one writer for this process's lifetime (kept while the returned file stays open).

    An exclusive flock of `{db}.writer`: the kernel drops it when the process ends, however it ends
    (SIGKILL too), so a crash never blocks the next start. The file stays; it holds the writer's pid.
    """
    db = Path(os.path.realpath(db_path))
    lock = db.with_name(db.name + ".writer")
    try:
        handle = open(lock, "a+b", buffering=0)  # unbuffered: nothing left to flush
    except OSError as error:
        raise BackupError(f"cannot open {lock}, the lock of the writer of {db}: {error.strerror}") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid = handle.read().decode("ascii", "replace").strip()
        handle.close()
        raise BackupError(f"another process{f' (pid {pid})' if pid else ''} is the writer of {db}: one server "
                          "per database; stop that one first, or serve another database with --db") from None
    try:
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n".encode())
    except OSError:
        pass  # a full disk: the pid only helps the message of a second server, the lock holds without it
    return handle


@contextmanager
def alone(db_path: str | os.PathLike, instead: str) -> Iterator[None]:
    """The database file to this process alone while in the block: refused, saying what to do instead,
    while a server holds it (every server does, for as long as it runs: `hold`)."""
    with open(db_path, "rb") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"a server is using {db_path}: {instead}") from None
        yield


def backup(db_path: str | os.PathLike, target: str | os.PathLike) -> int:
    """Copy the database, live or not, into a new file target; returns the number of events it holds."""
    db_path, target = Path(db_path), Path(target)
    if not db_path.is_file():
        raise BackupError(f"no database at {db_path}")
    if target.exists():
        raise BackupError(f"{target} exists: give a new file")
    partial = target.with_name(target.name + ".partial")
    try:
        with closing(_connect(db_path)) as source, closing(sqlite3.connect(partial)) as copy:
            # pages=-1: all in one step, one snapshot; in steps a write between two would restart it.
            source.backup(copy, pages=-1)
            # One self-contained file, with no -wal beside it to lose when it is copied elsewhere.
            copy.execute("PRAGMA journal_mode=DELETE")
            events = check(copy)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return events


def restore(source: str | os.PathLike, db_path: str | os.PathLike) -> Path | None:
    """Put the backup source in place of db_path (no server may hold it); returns where the old one was kept."""
    source, db_path = Path(source), Path(db_path)
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    with closing(_connect(source)) as backup_db:
        check(backup_db)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    partial = db_path.with_name(db_path.name + ".partial")
    kept = db_path.with_name(db_path.name + ".bak") if db_path.exists() else None
    try:
        with closing(_connect(source)) as backup_db, closing(sqlite3.connect(partial)) as copy:
            backup_db.backup(copy, pages=-1)
        if kept is None:
            os.replace(partial, db_path)
            return None
        with alone(db_path, "stop it first, or restore to a new file with --db"):
            with closing(sqlite3.connect(db_path, isolation_level=None)) as old, \
                    closing(sqlite3.connect(kept)) as keep:
                # Whatever the old database's -wal held goes into the .bak, and the -wal is emptied.
                old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                old.backup(keep, pages=-1)
            # No connection is open and the WAL is empty: its files would otherwise be read as the
            # new database's.
            for suffix in ("-wal", "-shm"):
                db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
            os.replace(partial, db_path)
        return kept
    finally:
        partial.unlink(missing_ok=True)


def check(conn: sqlite3.Connection) -> int:
    """Refuse what is not a whole motcua database with an unbroken event chain; returns its number of events."""
    try:
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
        intact = conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    except sqlite3.DatabaseError as error:
        raise BackupError(f"not a SQLite database: {error}") from None
    if not intact or not TABLES <= tables or not conn.execute(
            "select 1 from _sqlite_migrations where migration_set = 'motcua'").fetchone():
        raise BackupError("not a motcua database, or a damaged one")
    if "hash" not in {row[1] for row in conn.execute("PRAGMA table_info(events)")}:
        return conn.execute("select count(*) from events").fetchone()[0]  # chained when a server opens it
    verdict = audit.verify(conn)
    if verdict.broken is not None:
        raise BackupError(f"its event log has been tampered with from event {verdict.broken['id']} "
                          "(motcua audit verify --db FILE)")
    return verdict.count


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=10)
    conn.execute("PRAGMA query_only=1")
    return conn
