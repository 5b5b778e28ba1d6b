"""The secret the branches' door codes are made under (motcua.core.remote.door_code): configured, or made
once and kept beside the database, so that every process on that database, and each restart, shows the same
code at a door."""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from motcua.documents import write_key_file

DOOR_CREDENTIAL_ENV = "MOTCUA_DOOR_SECRET"
log = logging.getLogger("motcua")


def secret_file(db: str | Path) -> Path:
    """The door secret's file beside a database ({db}.door-secret)."""
    return Path(f"{db}.door-secret")


def door_secret(configured: str, db: str | Path) -> bytes:
    """MOTCUA_DOOR_SECRET, else [remote] door_secret, else the file beside the database, made (0600) when
    missing; an in-memory database's: this process's own."""
    given = os.environ.get(DOOR_CREDENTIAL_ENV) or configured
    if given:
        return given.encode()
    if str(db) == ":memory:":
        return secrets.token_bytes(32)
    path = secret_file(db)
    try:
        write_key_file(path, secrets.token_urlsafe(32))
        log.info("door secret made in %s (no [remote] door_secret configured)", path)
    except FileExistsError:
        pass   # made at an earlier start, or by another process on this database
    return path.read_text(encoding="utf-8").strip().encode()
