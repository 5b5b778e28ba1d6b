"""The events table as a hash chain: each event's hash covers the one before it and its own fields.

An edited, inserted or deleted row breaks the chain at that row (a deleted one at the row after
it), so `motcua audit verify` names the first event that no longer follows from its predecessor.
The chain has no secret: it shows tampering by someone who edits rows, not by someone who also
recomputes every hash after the edit; keep a copy of the last hash (verify prints it) elsewhere to
catch that, or the removal of the newest events.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Iterable

GENESIS = "0" * 64
# Columns whose SQLite affinity changes what a Python value reads back as.
_REAL, _INTEGER = {"at"}, {"id"}
_TEXT = {"ticket", "dossier", "branch", "from_status", "to_status", "counter", "actor", "note"}


def event_hash(previous: str, row: dict) -> str:
    """SHA-256 of the previous event's hash and this event's fields (every column but `hash`), as SQLite gives them back.

    NULL fields are left out, so a column added to the table later leaves the older hashes true.
    """
    fields = {name: _as_stored(name, value) for name, value in row.items() if name != "hash" and value is not None}
    payload = json.dumps([previous, fields], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _as_stored(name: str, value):
    """The value as its column gives it back: `at` is REAL (an int comes back a float), `id` an INTEGER."""
    if name in _REAL:
        return float(value)
    if name in _INTEGER:
        return int(value)
    if name in _TEXT:
        return str(value)
    return value


def append_events(conn: sqlite3.Connection, rows: Iterable[dict]) -> None:
    """Insert event rows extending the chain; call it inside the transaction that writes them."""
    # The one writer connection inserts events, inside a transaction: the last row read here is
    # still the last when these are inserted, and their ids follow it as SQLite would give them.
    last = conn.execute("select id, hash from events order by id desc limit 1").fetchone()
    last_id, previous = (last[0], last[1] or GENESIS) if last else (0, GENESIS)
    chained = []
    for offset, row in enumerate(rows, start=1):
        row = {**row, "id": last_id + offset}
        previous = event_hash(previous, row)
        chained.append({**row, "hash": previous})
    if chained:
        columns = list(dict.fromkeys(name for row in chained for name in row))
        conn.executemany(f"insert into events ({', '.join(columns)}) values ({', '.join('?' * len(columns))})",  # nosec B608  # columns: Event's fields
                         [[row.get(c) for c in columns] for row in chained])


def chain_existing(conn: sqlite3.Connection) -> None:
    """Hash every row in id order: the migration that adds the column chains what came before it."""
    previous, hashes = GENESIS, []
    for row in _rows(conn):
        previous = event_hash(previous, row)
        hashes.append((previous, row["id"]))
    conn.executemany("update events set hash = ? where id = ?", hashes)


@dataclass(frozen=True)
class Verdict:
    """What verify found: how many events it checked, and the first that breaks the chain (None: none)."""

    count: int
    last_hash: str
    broken: dict | None = None


def verify(conn: sqlite3.Connection) -> Verdict:
    """Walk the chain in id order; stop at the first event whose hash does not follow from the one before."""
    previous, count = GENESIS, 0
    for row in _rows(conn):
        expected = event_hash(previous, row)
        if row["hash"] != expected:
            return Verdict(count, previous, row)
        previous, count = expected, count + 1
    return Verdict(count, previous)


def _rows(conn: sqlite3.Connection):
    cursor = conn.execute("select * from events order by id")
    names = [d[0] for d in cursor.description]
    for values in cursor:
        yield dict(zip(names, values))
