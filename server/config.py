"""Settings: one frozen dataclass per config.toml section, each field's default and meaning beside it.

A setting is one line here, `name: type = setting(default, "meaning")`, plus its documented line
in config.toml (tests/test_config.py holds the two together). The rules of the core keep their
defaults in the core (`EngineSettings`, `RedirectRules`, `StaffingRules`): their sections take
those defaults from there, so every default is written once.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from pathlib import Path
from typing import Any

from motcua.core.appointments import AppointmentRules, weekdays_text
from motcua.core.balancing import RedirectRules
from motcua.core.dossiers import DEFAULT_HOLIDAYS, DossierRules
from motcua.core.engine import EngineSettings
from motcua.core.remote import RemoteRules
from motcua.core.staffing import StaffingRules
from motcua.outbox import RetryRules


def setting(default: Any, help: str, path: bool = False) -> Any:
    """A field of a section: its default, the help config.toml shows, whether it is a file path."""
    return dataclasses.field(default=default, metadata={"help": help, "path": path})


@dataclasses.dataclass(frozen=True)
class Server:
    host: str = setting("127.0.0.1", "Address the server listens on.")
    port: int = setting(8080, "TCP port of HTTP and Socket.IO.")
    db: str = setting("motcua.db", "SQLite database file; MOTCUA_DB or --db override it.", path=True)
    public_url: str = setting("", "Base URL printed in status_url on tickets; empty means the address served.")
    async_mode: str = setting("gevent", "Flask-SocketIO async mode: gevent in production, threading for debugging.")
    message_queue: str = setting(
        "", "Redis URL (redis://host:6379/0) shared by several server processes: their Socket.IO message queue, "
            "and where the sign-in and lookup limits are counted, by all of them together (else in each "
            "process's memory); a server whose Redis does not answer at start does not start. Empty for one "
            "process.")
    queue_push_interval_s: float = setting(
        1.0, "Least seconds between two 'queue' pushes to one branch room (calls are never delayed).")
    max_body_kib: int = setting(64, "Largest request body accepted, in KiB; larger ones get 413.")
    read_limit_s: float = setting(
        30.0, "Seconds a long read (a branch's report over a range of days) may take on the read executor; "
              "one that takes longer is answered 503 read_timed_out rather than left hanging.")
    ping_interval_s: float = setting(10.0, "Seconds between the Socket.IO pings the server sends each client.")
    ping_timeout_s: float = setting(
        10.0, "Seconds a client has to answer a ping; a client that does not (gone, or no longer reading) is closed.")
    header_timeout_s: float = setting(
        10.0, "Seconds a connection has to send a request's line and headers, and an idle keep-alive connection to "
              "start its next request, before it is closed.")
    body_timeout_s: float = setting(
        600.0, "Seconds a request's body has to arrive once its headers are in; a body still coming is answered 408 "
               "and its connection closed (600: the largest document, max_document_mib, at 140 kbit/s).")
    body_grace_s: float = setting(
        10.0, "Seconds a request's body may arrive at any pace before min_body_bytes_per_s applies.")
    min_body_bytes_per_s: int = setting(
        1024, "Least pace of a request's body, in bytes a second averaged since its headers, once body_grace_s has "
              "passed; a slower body (a client trickling bytes to hold a connection) is answered 408 and its "
              "connection closed (0: no least pace).")
    max_connections_per_address: int = setting(
        64, "Most connections open at once from one client address; more are answered 503 and closed (0: no cap; "
            "behind trusted_proxies, its requests in progress, by the address the proxy saw).")
    max_connections: int = setting(
        0, "Most connections open at once; more are answered 503 and closed (0: the process's open-file limit "
           "less 100 files kept for the database and the server itself).")
    gc_full_every: int = setting(
        1000, "Young collections between two full ones of Python's garbage collector (Python's own default is 10). "
              "A full collection stops the whole server for as long as it scans every socket's objects (60-320 ms "
              "with 3,000 displays) and found fewer than 150 objects to free each time, so it runs rarely.")
    access_log: bool = setting(False, "Log a line per HTTP request (off: the lines bury what the server prints).")
    trusted_proxies: int = setting(
        0, "Reverse proxies in front of the server that set X-Forwarded-For and X-Forwarded-Proto (1: one nginx). "
           "The client's address (sign-in and lookup limits, max_connections_per_address) is then the one the "
           "nearest of them saw; 0: the headers are ignored, so that a client cannot forge its address.")
    metrics_from: str = setting(
        "127.0.0.1, ::1", "Addresses or networks (CIDR) that may read GET /api/v1/metrics, comma-separated; others "
                          "are answered 403 (empty: nobody). Behind trusted_proxies, the address the proxy saw; behind a proxy on "
                          "this machine with trusted_proxies = 0, every client is the proxy's loopback address.")
    log_format: str = setting("text", "How the server logs, one line per event: text, or json (an object a line).")
    sqlite_synchronous: str = setting(
        "FULL", "SQLite synchronous pragma: FULL syncs every commit to disk, NORMAL survives a crash of the "
                "process but not of the machine.")


@dataclasses.dataclass(frozen=True)
class Auth:
    token_ttl_hours: float = setting(12.0, "Hours a staff login token stays valid.")
    login_per_minute_per_address: int = setting(
        20, "Logins one address may try in any minute, by every sign-in route together; more answer 429 with "
            "Retry-After.")
    login_failures_per_account: int = setting(
        10, "Wrong passwords for one username within login_lockout_s, by every sign-in route together, before it "
            "is locked (429), right password or not, until that window has passed.")
    login_lockout_s: int = setting(900, "Seconds over which an account's wrong passwords are counted.")


@dataclasses.dataclass(frozen=True)
class Queue:
    timezone: str = setting(EngineSettings.timezone,
                            "Local time zone: ticket numbers start again at 001 every local morning.")
    priority_boost_min: float = setting(
        EngineSettings.priority_boost_min, "Ageing rule: a priority ticket ranks as if it arrived this many minutes "
        "earlier, so nobody waits behind priority citizens for longer than this.")
    learn_min_samples: int = setting(
        EngineSettings.learn_min_samples,
        "Completed services of the day needed before the learned mean replaces the configured one.")
    learn_window: int = setting(EngineSettings.learn_window,
                                "Most recent completed services averaged for the learned service time.")
    recent_calls: int = setting(EngineSettings.recent_calls,
                                "Calls kept in a branch's recent_calls list (and shown on its wall display).")
    enforce_hours: bool = setting(EngineSettings.enforce_hours,
                                  "Refuse tickets outside the branch's opening hours (409).")


@dataclasses.dataclass(frozen=True)
class Balancing:
    max_km: float = setting(RedirectRules.max_km, "Only branches at most this far (great-circle km) are offered.")
    max_travel_min: float = setting(RedirectRules.max_travel_min,
                                    "Only branches at most this many minutes' travel away are offered.")
    speed_kmh: float = setting(RedirectRules.speed_kmh, "Travel speed in the city, for travel minutes.")
    detour_factor: float = setting(RedirectRules.detour_factor, "Road distance over great-circle distance.")
    min_saving_min: float = setting(
        RedirectRules.min_saving_min, "Offer another branch only when it saves at least this many minutes (small: "
        "evening out queues helps everyone behind, and the citizen sees the saving and decides).")
    max_offers: int = setting(RedirectRules.max_offers, "Most alternatives shown with one ticket (0 turns offers off).")


@dataclasses.dataclass(frozen=True)
class Remote:
    grace_min: float = setting(
        RemoteRules.grace_min, "Minutes a remote ticket's arrival window runs past its predicted call (or the longest "
        "trip offered, [balancing] max_travel_min, if later); not checked in by then, it leaves the queue.")
    sweep_s: float = setting(30.0, "Seconds between the server's sweeps that let remote tickets whose window ended "
                                   "leave the queue (a branch's own operations do it too), and that tell a waiting "
                                   "ticket's phone of a branch offered because of a change there (a change at its "
                                   "own branch tells it at once).")
    tickets_per_minute_per_address: int = setting(
        3, "Remote tickets (POST /branches/{b}/remote-tickets) one address may ask for in any minute, taken or "
           "refused; more answer 429 with Retry-After.")
    tickets_per_hour_per_address: int = setting(
        10, "Remote tickets one address may ask for in any hour, as tickets_per_minute_per_address.")
    min_saving_min: float = setting(
        RemoteRules.min_saving_min, "A waiting ticket's phone page offers another branch that would call its citizen at "
        "least this many minutes sooner, travel included (one tap moves the ticket there).")
    lead_min: float = setting(
        RemoteRules.lead_min, "A remote ticket's phone is told to set off (once, through the outbox) when its predicted "
        "call is the citizen's trip plus this many minutes away (the trip its phone gave, else the longest offered).")
    door_secret: str = setting(
        "", "The secret the door codes are made under (a phone checks in at the door with its QR code's, which "
            "changes each day); MOTCUA_DOOR_SECRET overrides it; empty: one made at the first start and kept "
            "beside the database ({db}.door-secret). Every server process of a database must share it.")


@dataclasses.dataclass(frozen=True)
class Appointments:
    slot_min: float = setting(AppointmentRules.slot_min, "Minutes of an appointment slot; a branch's day is cut into "
                                                         "slots from its opening, each ending by its close.")
    max_share: float = setting(
        AppointmentRules.max_share, "Most of a slot's capacity (its counters' minutes on duty) appointments may take.")
    max_load: float = setting(
        AppointmentRules.max_load, "Appointments fill a slot up to this share of its capacity, the forecast walk-ins "
        "and the backlog of earlier slots counted first (what keeps walk-ins' waits as they are).")
    days_ahead: int = setting(AppointmentRules.days_ahead, "How many days ahead slots are offered.")
    early_min: float = setting(AppointmentRules.early_min, "Minutes before its slot a holder may check in (then "
                                                           "waits until the slot starts).")
    grace_min: float = setting(
        AppointmentRules.grace_min, "Minutes after its slot's start a holder may check in and be called as booked; "
        "later, the holder is a walk-in from the check-in, and one who never checks in is a no-show.")
    reminder_min: float = setting(
        AppointmentRules.reminder_min, "Minutes before its slot a holder's phone is reminded, through the outbox "
        "([notify]); 0: no reminders.")
    later_reach_min: float = setting(
        AppointmentRules.later_reach_min, "A walk-in predicted to wait over [staffing] target_wait_min is offered at the "
        "kiosk a slot of today starting within this many minutes, to come back then instead of waiting; 0: none.")
    weekdays: str = setting(
        weekdays_text(AppointmentRules.weekdays), "The days of the week slots are offered, numbers separated by "
        "commas, Monday 1 to Sunday 7 (add 6 where the centres open on Saturdays); never on a [dossiers] holiday.")
    requests_per_minute_per_address: int = setting(
        3, "Slot lists aside, the appointments' calls (book, cancel, move) one address may make in any minute "
           "(without a token); more answer 429 with Retry-After.")
    requests_per_hour_per_address: int = setting(
        10, "The same, in any hour.")


@dataclasses.dataclass(frozen=True)
class Staffing:
    target_wait_min: float = setting(
        StaffingRules.target_wait_min,
        "The wait target the staffing advice plans for, in minutes (the centres promise 15).")
    service_level: float = setting(
        StaffingRules.service_level,
        "Share of citizens to be called within the target; Erlang C gives the counters that achieve it.")
    horizon_min: float = setting(
        StaffingRules.horizon_min,
        "Minutes ahead the advice plans for; the queue already waiting is to be cleared within them.")
    max_services: int = setting(
        StaffingRules.max_services, "Most services one counter is asked to serve at once (0: any the branch "
        "offers, as general reception officers do).")
    history_weeks: int = setting(StaffingRules.history_weeks, "Past same weekdays averaged for the arrivals forecast.")
    idle_takes_on: bool = setting(
        StaffingRules.idle_takes_on, "An officer's Next that finds nobody for the counter's services, while "
        "citizens wait for others, has the counter take on at once the service the advice has it take on "
        "(false: only a manager moves counters).")


@dataclasses.dataclass(frozen=True)
class Display:
    voice_languages: str = setting(
        "vi", "Languages the wall display announces calls in, in order, comma-separated (vi, en).")
    chromium: str = setting("chromium", "The browser `motcua display` starts in kiosk mode.")
    voice_cache_clips: int = setting(
        500, "Spoken phrases the server keeps rendered (each ≈ 40 KB); the least recently used go first.")
    page_seconds: float = setting(
        8.0, "Seconds each page of services stays on the wall display when they do not all fit on one.")
    voice_max_lag_s: float = setting(
        4.0, "The wall display begins a call's announcement within this many seconds: in a burst, calls are said "
        "together, and one it can no longer begin in time is left to the screen (a recall and the latest call always "
        "are spoken).")


@dataclasses.dataclass(frozen=True)
class Kiosk:
    """The [kiosk] section, which is also what a kiosk runs with (motcua.kiosk.settings)."""

    server_url: str = setting("http://127.0.0.1:8080", "The server a kiosk talks to.")
    branch: str = setting("", "The branch the kiosk stands in.")
    token: str = setting("", "The kiosk's device token (motcua device add --kind kiosk).")
    printer: str = setting("", "pyserial URL of the ticket printer: /dev/ttyUSB0?baudrate=19200, "
                               "socket://host:9100, loop://; empty for none.")
    paper: str = setting("80mm", "Printer paper width: 80mm or 58mm.")
    printer_text: str = setting(
        "raster", "How text reaches the printer: raster (images: right on every printer, ≈ 57 KB a ticket) or "
        "cp1258 (the printer's Vietnamese code page: ≈ 1 KB, for slow serial lines).")
    printer_code_page: int = setting(
        52, "ESC t page of CP1258 on this printer when printer_text = cp1258 (Epson 52; clones 27, 94 or 35).")
    language: str = setting("vi", "The language the kiosk starts in (vi or en); it returns to it when idle.")
    fullscreen: bool = setting(True, "Full screen, no window border, no cursor.")
    idle_s: float = setting(30.0, "Seconds untouched before the kiosk returns to its home screen.")
    card_scanner: str = setting(
        "", "A 2D scanner reading citizens' ID cards (CCCD) on the home screen: empty for none, keyboard (a scanner "
            "that types, ending with Enter), or its pyserial URL (/dev/ttyACM0?baudrate=9600, loop://). A card read "
            "links the ticket to its holder for the counter and gives priority from [queue] card_priority_age; a dossier "
            "receipt's QR read on the home or lookup screens looks the dossier up.")
    token_check_s: float = setting(180.0, "Seconds between checks, on the home screen, that the server still takes "
                                          "the kiosk's token; refused, the kiosk shows \"out of service\".")


@dataclasses.dataclass(frozen=True)
class Dossiers:
    procedures: str = setting(
        "", "The procedure catalogue file (JSON: departments, document kinds, procedures) that seeds a database "
            "whose catalogue is empty; empty for the one shipped with motcua.", path=True)
    catalogue_max_kib: int = setting(4096, "Largest catalogue an admin may import into a running server "
                                           "(PUT /api/v1/admin/catalogue), in KiB; larger ones get 413.")
    holidays: str = setting(
        DEFAULT_HOLIDAYS, "Public holidays skipped, with weekends, when a dossier's due date is counted in working "
                          "days: ISO dates separated by commas (the default: Vietnam's days off of 2026 and 2027).")
    documents: str = setting("", "Folder of the dossiers' documents, each stored once by its SHA-256, encrypted. "
                                 "Empty: beside the database, {db folder}/{db name}-documents.", path=True)
    document_key: str = setting(
        "", "Fernet key(s) the documents are encrypted with, comma-separated: the first encrypts, any decrypts "
            "(rotation). MOTCUA_DOCUMENT_KEY overrides it. Empty: documents are refused (503), except in the demo.")
    supplement_days: int = setting(
        DossierRules.supplement_days, "Working days a citizen has to bring a supplement the department asks for "
        "(the notice and the public page say the day); past it the department sees the supplement lapsed.")
    max_document_mib: float = setting(10.0, "Largest document (PDF, JPEG or PNG) accepted, in MiB; larger get 413.")
    lookups_per_minute_per_address: int = setting(
        20, "Public dossier lookups (GET /dossiers/{code}, found or not) one address may make in any minute; more "
            "answer 429 with Retry-After. Staff and kiosk tokens are not counted.")
    lookups_per_hour_per_address: int = setting(
        100, "Public dossier lookups one address may make in any hour, as lookups_per_minute_per_address.")


@dataclasses.dataclass(frozen=True)
class Cards:
    """Citizens' ID cards (CCCD) scanned at a kiosk (motcua.core.cccd)."""

    priority_age: int = setting(
        75, "A citizen who scans their ID card at a kiosk and is this old or older gets a priority ticket without "
            "being asked; 0: the card's age gives no priority.")


@dataclasses.dataclass(frozen=True)
class Notify:
    gateway: str = setting(
        "log", "Where messages to citizens leave (motcua.gateways): log (written to the server's log), webhook "
               "(JSON POSTed to url, signed with HMAC-SHA256 of the body under secret in X-Motcua-Signature), sms "
               "(an SMS brand-name HTTP gateway at url) or zalo_zns (Zalo ZNS template messages).")
    url: str = setting("", "The gateway's URL (webhook, sms; zalo_zns: empty for Zalo's own endpoint).")
    secret: str = setting(
        "", "The gateway's credential: the webhook's HMAC secret, the SMS gateway's API key or the Zalo access "
            "token. MOTCUA_NOTIFY_SECRET overrides it.")
    sms_brand: str = setting("", "The brand name SMS messages are sent under (sms).")
    zns_templates: str = setting(
        "", "The Zalo ZNS template of each kind of message, comma-separated kind=template_id "
            "(result_ready=123456); a message without one is not sent by zalo_zns.")
    timeout_s: float = setting(10.0, "Seconds the gateway has to answer one message; no answer is a failed attempt.")
    retry_base_s: float = setting(RetryRules.retry_base_s, "Seconds before a failed message is tried again, "
                                  "doubled after each further failure.")
    retry_max_s: float = setting(RetryRules.retry_max_s, "The longest wait between two attempts of a message.")
    max_attempts: int = setting(RetryRules.max_attempts, "Attempts before a message is given up: marked failed, "
                                "counted in /metrics (motcua_outbox_messages).")
    poll_s: float = setting(5.0, "Seconds between two looks at the outbox when no commit woke the sender.")
    near_ahead: int = setting(
        3, "A ticket with a phone (a remote ticket) is told once that its turn is near when a call leaves this many "
           "people ahead of it (motcua.core.notices); 0: never.")


@dataclasses.dataclass(frozen=True)
class Demo:
    speed: float = setting(
        30.0, "How many times faster than real time the demo's simulated citizens and officers act.")
    db: str = setting("motcua-demo.db", "Database file of the demo, kept between starts (motcua demo --fresh "
                                        "starts anew).", path=True)


@dataclasses.dataclass(frozen=True)
class Config:
    """Every setting, typed and frozen: config.server.port, config.queue.timezone, ..."""

    server: Server = dataclasses.field(default_factory=Server)
    auth: Auth = dataclasses.field(default_factory=Auth)
    queue: Queue = dataclasses.field(default_factory=Queue)
    balancing: Balancing = dataclasses.field(default_factory=Balancing)
    remote: Remote = dataclasses.field(default_factory=Remote)
    appointments: Appointments = dataclasses.field(default_factory=Appointments)
    staffing: Staffing = dataclasses.field(default_factory=Staffing)
    display: Display = dataclasses.field(default_factory=Display)
    kiosk: Kiosk = dataclasses.field(default_factory=Kiosk)
    dossiers: Dossiers = dataclasses.field(default_factory=Dossiers)
    cards: Cards = dataclasses.field(default_factory=Cards)
    notify: Notify = dataclasses.field(default_factory=Notify)
    demo: Demo = dataclasses.field(default_factory=Demo)


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting as config.toml documents it."""

    section: str
    name: str
    default: Any
    help: str
    type: type
    path: bool


SECTIONS: dict[str, type] = {f.name: f.default_factory for f in dataclasses.fields(Config)}
SETTINGS: tuple[Setting, ...] = tuple(
    Setting(section, f.name, f.default, f.metadata["help"], typing.get_type_hints(cls)[f.name], f.metadata["path"])
    for section, cls in SECTIONS.items() for f in dataclasses.fields(cls))
_BY_KEY = {(s.section, s.name): s for s in SETTINGS}


class ConfigError(ValueError):
    """A config file with an unknown setting or a value of the wrong type."""


def build(kind: type, section: Any, **given: Any) -> Any:
    """A dataclass of the core (EngineSettings, RedirectRules, ...) from the section's settings of the same names,
    but for those `given` (parsed from the section, or from another)."""
    named = (f.name for f in dataclasses.fields(kind) if f.init and f.name not in given)
    return kind(**{name: getattr(section, name) for name in named}, **given)


def override(config: Config, base: Path | None = None, /, **sections: dict[str, Any]) -> Config:
    """config with some settings changed, checked as a config file is: override(c, server={"port": 0}).

    None means "not given" (a command-line option left out). Relative paths resolve against base.
    """
    changed = {}
    for section, table in sections.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{section} must be a [section]")
        values = {}
        for name, value in table.items():
            if value is None:
                continue
            found = _BY_KEY.get((section, name))
            if found is None:
                raise ConfigError(f"unknown setting [{section}] {name}")
            value = _coerce(found, value)
            if found.path and base is not None and value and not Path(value).is_absolute():  # empty: none
                value = str(base / value)
            values[name] = value
        if values:
            changed[section] = dataclasses.replace(getattr(config, section), **values)
    return dataclasses.replace(config, **changed)


def _coerce(setting: Setting, value: Any) -> Any:
    expected = setting.type
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ConfigError(f"[{setting.section}] {setting.name} must be {expected.__name__}, got {value!r}")
    return value


def load_config(path: str | os.PathLike | None = None, **overrides: dict[str, Any]) -> Config:
    """Read config.toml (if given), then MOTCUA_DB, then overrides such as server={"port": 0}."""
    config = Config()
    if path is not None:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"cannot read {path}: {error.strerror}") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path} is not valid TOML: {error}") from None
        # Relative paths in the config file resolve against the file's folder (API.md).
        config = override(config, path.resolve().parent, **data)
    config = override(config, server={"db": os.environ.get("MOTCUA_DB") or None})
    return override(config, **overrides)
