"""The door secret: configured, or made once beside the database and kept across restarts."""
from __future__ import annotations

import stat

from motcua.core.remote import door_code
from motcua.doors import DOOR_CREDENTIAL_ENV, door_secret, secret_file


def test_a_secret_not_configured_is_made_once_beside_the_database_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv(DOOR_CREDENTIAL_ENV, raising=False)
    db = tmp_path / "motcua.db"
    first = door_secret("", db)
    assert len(first) >= 32 and secret_file(db).is_file()
    assert stat.S_IMODE(secret_file(db).stat().st_mode) == 0o600
    assert door_secret("", db) == first   # a restart, or another process on the database: the same doors' codes
    assert door_secret("", tmp_path / "other.db") != first


def test_the_setting_then_the_environment_win_over_the_file(tmp_path, monkeypatch):
    monkeypatch.delenv(DOOR_CREDENTIAL_ENV, raising=False)
    db = tmp_path / "motcua.db"
    assert door_secret("configured", db) == b"configured" and not secret_file(db).exists()
    monkeypatch.setenv(DOOR_CREDENTIAL_ENV, "from-env")
    assert door_secret("configured", db) == b"from-env"


def test_a_door_code_is_short_url_safe_and_its_branchs_and_days_own():
    code = door_code(b"s", "hk-01", "2026-11-24")
    assert len(code) == 12 and code.replace("-", "").replace("_", "").isalnum()
    assert code == door_code(b"s", "hk-01", "2026-11-24")
    assert len({code, door_code(b"s", "hk-02", "2026-11-24"), door_code(b"s", "hk-01", "2026-11-25"),
                door_code(b"t", "hk-01", "2026-11-24")}) == 4
