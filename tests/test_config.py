"""Settings: every one documented in config.toml with its default; bad files refused clearly."""
from __future__ import annotations

import re

import pytest

from motcua.config import SETTINGS, ConfigError, load_config

from conftest import ROOT


def documented_settings() -> dict[tuple[str, str], tuple[str, str]]:
    """(section, name) -> (comment just above, value text) as written in config.toml."""
    found, section, comment = {}, None, ""
    for line in (ROOT / "config.toml").read_text(encoding="utf-8").splitlines():
        if match := re.fullmatch(r"\[(\w+)\]", line.strip()):
            section = match.group(1)
        elif line.startswith("#"):
            comment = line
        elif match := re.fullmatch(r"(\w+) = (.+)", line.strip()):
            found[(section, match.group(1))] = (comment, match.group(2))
            comment = ""
    return found


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: f"{s.section}.{s.name}")
def test_every_setting_is_documented_with_its_default(setting):
    documented = documented_settings()
    assert (setting.section, setting.name) in documented, "undocumented setting"
    comment, _ = documented[(setting.section, setting.name)]
    assert setting.help in comment and "default" in comment


def test_config_file_has_no_unknown_setting_and_holds_the_defaults():
    documented = documented_settings()
    assert set(documented) == {(s.section, s.name) for s in SETTINGS}
    config = load_config(ROOT / "config.toml")
    for setting in SETTINGS:
        if setting.name != "db":  # paths resolve against the file's folder
            assert getattr(config, f"{setting.section}_{setting.name}") == setting.default


def test_relative_db_resolves_against_the_config_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("MOTCUA_DB", raising=False)
    (tmp_path / "c.toml").write_text('[server]\ndb = "data/q.db"\nport = 9000\n')
    config = load_config(tmp_path / "c.toml")
    assert config.server_db == str(tmp_path / "data" / "q.db") and config.server_port == 9000
    monkeypatch.setenv("MOTCUA_DB", "/elsewhere.db")
    assert load_config(tmp_path / "c.toml").server_db == "/elsewhere.db"


@pytest.mark.parametrize("text, message", [
    ("[server]\nprot = 1\n", "unknown setting"),
    ("[server]\nport = \"80\"\n", "must be int"),
    ("[queue]\nenforce_hours = 1\n", "must be bool"),
])
def test_bad_config_files_are_refused(tmp_path, text, message):
    (tmp_path / "c.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path / "c.toml")


def test_a_missing_or_broken_config_file_is_a_readable_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nowhere.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("x = [\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)
