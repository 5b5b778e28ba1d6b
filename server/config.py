"""Settings: one table of every setting with its default and meaning, read once into a frozen object."""
from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path
from typing import Any


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting: its section in config.toml, name, default and meaning."""

    section: str
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("server", "host", "127.0.0.1", "Address the server listens on."),
    Setting("server", "port", 8080, "TCP port of HTTP and Socket.IO."),
    Setting("server", "db", "motcua.db", "SQLite database file; MOTCUA_DB or --db override it."),
    Setting("server", "public_url", "", "Base URL printed in status_url on tickets; empty means the address served."),
    Setting("server", "async_mode", "gevent", "Flask-SocketIO async mode: gevent in production, threading for debugging."),
    Setting("server", "message_queue", "", "Redis URL shared by several server processes; empty for one process."),
    Setting("server", "queue_push_interval_s", 1.0, "Least seconds between two 'queue' pushes to one branch room (calls are never delayed)."),
    Setting("server", "max_body_kib", 64, "Largest request body accepted, in KiB; larger ones get 413."),
    Setting("server", "access_log", False, "Log a line per HTTP request (off: the lines bury what the server prints)."),
    Setting("server", "sqlite_synchronous", "FULL", "SQLite synchronous pragma: FULL syncs every commit to disk, NORMAL survives a crash of the process but not of the machine."),
    Setting("auth", "token_ttl_hours", 12.0, "Hours a staff login token stays valid."),
    Setting("queue", "timezone", "Asia/Ho_Chi_Minh", "Local time zone: ticket numbers start again at 001 every local morning."),
    Setting("queue", "priority_boost_min", 20.0, "Ageing rule: a priority ticket ranks as if it arrived this many minutes earlier, so nobody waits behind priority citizens for longer than this."),
    Setting("queue", "learn_min_samples", 5, "Completed services of the day needed before the learned mean replaces the configured one."),
    Setting("queue", "learn_window", 30, "Most recent completed services averaged for the learned service time."),
    Setting("queue", "recent_calls", 8, "Calls kept in a branch's recent_calls list."),
    Setting("queue", "enforce_hours", False, "Refuse tickets outside the branch's opening hours (409)."),
    Setting("balancing", "max_km", 5.0, "Only branches at most this far (great-circle km) are offered."),
    Setting("balancing", "max_travel_min", 30.0, "Only branches at most this many minutes' travel away are offered."),
    Setting("balancing", "speed_kmh", 18.0, "Travel speed in the city, for travel minutes."),
    Setting("balancing", "detour_factor", 1.3, "Road distance over great-circle distance."),
    Setting("balancing", "min_saving_min", 1.0, "Offer another branch only when it saves at least this many minutes (small: evening out queues helps everyone behind, and the citizen sees the saving and decides)."),
    Setting("balancing", "max_offers", 2, "Most alternatives shown with one ticket (0 turns offers off)."),
    Setting("staffing", "target_wait_min", 15.0, "The wait target the staffing advice plans for, in minutes (the centres promise 15)."),
    Setting("staffing", "service_level", 0.9, "Share of citizens to be called within the target; Erlang C gives the counters that achieve it."),
    Setting("staffing", "horizon_min", 60.0, "Minutes ahead the advice plans for; the queue already waiting is to be cleared within them."),
    Setting("staffing", "max_services", 0, "Most services one counter is asked to serve at once (0: any the branch offers, as general reception officers do)."),
    Setting("staffing", "history_weeks", 8, "Past same weekdays averaged for the arrivals forecast."),
    Setting("display", "voice_languages", "vi", "Languages the wall display announces calls in, in order, comma-separated (vi, en)."),
    Setting("display", "chromium", "chromium", "The browser `motcua display` starts in kiosk mode."),
    Setting("kiosk", "server_url", "http://127.0.0.1:8080", "The server a kiosk talks to."),
    Setting("kiosk", "branch", "", "The branch the kiosk stands in."),
    Setting("kiosk", "token", "", "The kiosk's device token (motcua device add --kind kiosk)."),
    Setting("kiosk", "printer", "", "pyserial URL of the ticket printer: /dev/ttyUSB0?baudrate=19200, socket://host:9100, loop://; empty for none."),
    Setting("kiosk", "paper", "80mm", "Printer paper width: 80mm or 58mm."),
    Setting("kiosk", "printer_text", "raster", "How text reaches the printer: raster (images: right on every printer, ≈ 57 KB a ticket) or cp1258 (the printer's Vietnamese code page: ≈ 1 KB, for slow serial lines)."),
    Setting("kiosk", "printer_code_page", 52, "ESC t page of CP1258 on this printer when printer_text = cp1258 (Epson 52; clones 27, 94 or 35)."),
    Setting("kiosk", "language", "vi", "The language the kiosk starts in (vi or en); it returns to it when idle."),
    Setting("kiosk", "fullscreen", True, "Full screen, no window border, no cursor."),
    Setting("kiosk", "idle_s", 30.0, "Seconds untouched before the kiosk returns to its home screen."),
    Setting("demo", "speed", 30.0, "How many times faster than real time the demo's simulated citizens and officers act."),
    Setting("demo", "db", "motcua-demo.db", "Database file of the demo, created anew at each start."),
)


def _field_name(setting: Setting) -> str:
    return f"{setting.section}_{setting.name}"


Config = dataclasses.make_dataclass(
    "Config",
    [(_field_name(s), type(s.default), dataclasses.field(default=s.default)) for s in SETTINGS],
    frozen=True,
)
Config.__doc__ = "Every setting, typed and frozen; field names are section_name."


class ConfigError(ValueError):
    """A config file with an unknown setting or a value of the wrong type."""


def _coerce(setting: Setting, value: Any) -> Any:
    expected = type(setting.default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ConfigError(f"[{setting.section}] {setting.name} must be {expected.__name__}, got {value!r}")
    return value


def load_config(path: str | os.PathLike | None = None, **overrides: Any) -> Config:
    """Read config.toml (if given) and apply keyword overrides such as server_port=0."""
    values: dict[str, Any] = {}
    by_key = {(s.section, s.name): s for s in SETTINGS}
    base = Path.cwd()
    if path is not None:
        path = Path(path)
        base = path.resolve().parent
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"cannot read {path}: {error.strerror}") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path} is not valid TOML: {error}") from None
        for section, table in data.items():
            if not isinstance(table, dict):
                raise ConfigError(f"{section} must be a [section]")
            for name, value in table.items():
                setting = by_key.get((section, name))
                if setting is None:
                    raise ConfigError(f"unknown setting [{section}] {name}")
                values[_field_name(setting)] = _coerce(setting, value)
    # Relative paths in the config file resolve against the file's folder (API.md).
    for key in ("server_db", "demo_db"):
        if key in values and not Path(values[key]).is_absolute():
            values[key] = str(base / values[key])
    if os.environ.get("MOTCUA_DB"):
        values["server_db"] = os.environ["MOTCUA_DB"]
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Config(**values)
