"""Settings: every one documented in config.toml with its default; bad files refused clearly."""
from __future__ import annotations

import dataclasses
import json
import re
from datetime import date

import pytest

from motcua.config import SECTIONS, SETTINGS, Config, ConfigError, build, load_config, override
from motcua.core.balancing import RedirectRules
from motcua.core.clock import FakeClock, LocalTime
from motcua.core.engine import EngineSettings
from motcua.core.staffing import StaffingRules
from motcua.kiosk.settings import KioskSettings, load_kiosk_settings
from motcua.web.app import create_app
from motcua.web.views import branch_state

from conftest import HOAN_KIEM, ROOT, motcua


def toml_literal(value) -> str:
    return json.dumps(value) if isinstance(value, (bool, str)) else repr(value)


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
    assert comment == f"# {setting.help} (default {toml_literal(setting.default)})"


def test_config_file_has_no_unknown_setting_and_holds_the_defaults():
    documented = documented_settings()
    assert set(documented) == {(s.section, s.name) for s in SETTINGS}
    config = load_config(ROOT / "config.toml")
    for setting in SETTINGS:
        if not setting.path:  # paths resolve against the file's folder
            assert getattr(getattr(config, setting.section), setting.name) == setting.default


def test_relative_db_resolves_against_the_config_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("MOTCUA_DB", raising=False)
    (tmp_path / "c.toml").write_text('[server]\ndb = "data/q.db"\nport = 9000\n')
    config = load_config(tmp_path / "c.toml")
    assert config.server.db == str(tmp_path / "data" / "q.db") and config.server.port == 9000
    monkeypatch.setenv("MOTCUA_DB", "/elsewhere.db")
    assert load_config(tmp_path / "c.toml").server.db == "/elsewhere.db"
    assert load_config(tmp_path / "c.toml", server={"db": "cli.db"}).server.db == "cli.db"


def test_overrides_are_nested_checked_and_none_means_not_given(tmp_path):
    (tmp_path / "c.toml").write_text('[server]\nport = 9000\n[queue]\nrecent_calls = 3\n')
    config = load_config(tmp_path / "c.toml", server={"port": 0, "host": None}, balancing={"max_km": 2})
    assert (config.server.port, config.server.host, config.queue.recent_calls) == (0, "127.0.0.1", 3)
    assert config.balancing.max_km == 2.0 and isinstance(config.balancing.max_km, float)
    with pytest.raises(ConfigError, match="unknown setting"):
        load_config(server={"prot": 1})
    with pytest.raises(ConfigError, match="must be int"):
        override(config, server={"port": "80"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.server.port = 1


@pytest.mark.parametrize("kind, section", [(EngineSettings, "queue"), (RedirectRules, "balancing"),
                                           (StaffingRules, "staffing")])
def test_the_cores_rules_are_built_from_their_section_by_name(kind, section):
    """Every rule of the core is a setting, with the core's default; a changed setting reaches it."""
    names = [f.name for f in dataclasses.fields(kind)]
    assert names == [f.name for f in dataclasses.fields(SECTIONS[section])]
    assert build(kind, getattr(Config(), section)) == kind()
    first = SETTINGS[[(s.section, s.name) for s in SETTINGS].index((section, names[0]))]
    changed = "UTC" if first.type is str else first.default + 1
    built = build(kind, getattr(load_config(**{section: {names[0]: changed}}), section))
    assert getattr(built, names[0]) == changed


def test_the_kiosk_runs_with_its_section(tmp_path):
    (tmp_path / "kiosk.toml").write_text('[kiosk]\nserver_url = "http://q:8080/"\nbranch = "hk-01"\n'
                                         'token = "t"\nidle_s = 5\n')
    settings = load_kiosk_settings(tmp_path / "kiosk.toml", fullscreen=False, language=None)
    assert settings == KioskSettings("http://q:8080", "hk-01", "t", idle_s=5.0, fullscreen=False)
    (tmp_path / "bare.toml").write_text('[kiosk]\nbranch = "hk-01"\n')
    with pytest.raises(ValueError, match="token"):
        load_kiosk_settings(tmp_path / "bare.toml")


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


def test_recent_calls_is_what_the_state_keeps_and_the_wall_display_shows(tmp_path):
    db = tmp_path / "motcua.db"
    motcua("init", "--scenario", str(HOAN_KIEM), db=db)
    config = load_config(server={"db": str(db), "async_mode": "threading"}, queue={"recent_calls": 3})
    app = create_app(config, clock=FakeClock(LocalTime(config.queue.timezone).epoch(date.today(), "09:00")))
    page = app.test_client().get("/display/hk-01").get_data(as_text=True)
    block = re.search(r'<script id="motcua-settings" type="application/json">(.*?)</script>', page, re.S)
    assert json.loads(block.group(1))["recent_calls"] == 3
    engine = app.extensions["motcua"].engine
    for _ in range(4):
        ticket = engine.issue("hk-01", "business", False, "vi")
        engine.call_next("hk-01", "6")
        engine.done(ticket.id)
    assert len(branch_state(engine, "hk-01")["recent_calls"]) == 3
