"""Fixtures: a fake clock and the app on Flask's test client for fast tests, a real `motcua serve` on a
free port for durability and end to end, Chromium, and serial cables."""
from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from werkzeug import serving

from motcua.accounts import Accounts
from motcua.config import load_config
from motcua.core.dossiers import DEFAULT_HOLIDAYS
from motcua.core import scenario
from motcua.core.clock import FakeClock, SystemClock
from motcua.store import Store
from motcua.web.app import create_app

from serial_pairs import SerialPair

ROOT = Path(__file__).resolve().parent.parent
HOAN_KIEM = ROOT / "server" / "data" / "scenarios" / "hoan-kiem.json"
PASSWORD = "s3cret-pass"
# A Tuesday, 08:00 in Hanoi: the branches are open and the day's numbering has just begun.
MORNING = datetime(2026, 11, 24, 8, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")).timestamp()
USERS = {"off1": ("officer", "hk-01"), "off2": ("officer", "hk-02"), "mgr1": ("manager", "hk-01"),
         "admin": ("admin", None)}
DEVICES = {"kiosk1": ("kiosk", "hk-01"), "kiosk2": ("kiosk", "hk-02"), "display1": ("display", "hk-01")}
TOKEN_TTL_HOURS = 12.0   # the staff tokens a test is handed outlast any test run

os.environ.pop("MOTCUA_DB", None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def motcua(*args: str, db: Path) -> str:
    """Run the CLI as a user would; returns stdout, fails the test on a non-zero exit."""
    done = subprocess.run([sys.executable, "-m", "motcua.cli", *args, "--db", str(db)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


# ---- databases: made once per session with library calls, copied for each test ----------------

def build_database(path: Path, clock) -> dict[str, str]:
    """Hoan Kiem's network, USERS logged in and DEVICES registered, as `motcua init`, `user add` and
    `device add` make them (tests/test_cli.py runs those commands themselves); the tokens by name."""
    return load_with_staff(path, scenario.load(HOAN_KIEM), clock)


def load_with_staff(path: Path, data: dict, clock) -> dict[str, str]:
    """A scenario's network in a new database, USERS logged in and DEVICES registered; the tokens by name."""
    store = Store(path)
    store.load_network(scenario.services(data), scenario.branches(data), scenario.counters(data))
    accounts = Accounts(store, clock, TOKEN_TTL_HOURS)
    tokens = {}
    for name, (role, branch) in USERS.items():
        accounts.add_user(name, PASSWORD, role, branch)
        tokens[name] = accounts.login(name, PASSWORD)[0]
    for name, (kind, branch) in DEVICES.items():
        tokens[name] = accounts.add_device(kind, branch)
    store.close()
    return tokens


@dataclass(frozen=True)
class Template:
    """A database to start tests from, and the tokens it holds."""

    path: Path
    tokens: dict

    def copy_to(self, path: Path) -> Path:
        """A copy through SQLite's backup API: whole and consistent, WAL or not."""
        with closing(sqlite3.connect(self.path)) as source, closing(sqlite3.connect(path)) as target:
            source.backup(target)
        return path


@pytest.fixture(scope="session")
def real_template(tmp_path_factory) -> Template:
    """For real servers: staff tokens issued by the wall clock, as a running server sees them."""
    path = tmp_path_factory.mktemp("template-real") / "motcua.db"
    return Template(path, build_database(path, SystemClock()))


@pytest.fixture(scope="session")
def morning_template(tmp_path_factory) -> Template:
    """For the app on the fake clock: staff tokens issued at MORNING."""
    path = tmp_path_factory.mktemp("template-morning") / "motcua.db"
    return Template(path, build_database(path, FakeClock(MORNING)))


# ---- the app on Flask's test client, on a fake clock ----------------------------------------------

# MORNING's day, 24 November, is a day off by the default holidays (Vietnam's Culture Day), so no appointment slot
# is offered on it; the tests that book today run on the holidays without it, as if the centres opened that day.
WORKING_MORNING = ", ".join(d for d in (p.strip() for p in DEFAULT_HOLIDAYS.split(",")) if d != "2026-11-24")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MORNING)


@pytest.fixture
def config(tmp_path, morning_template):
    """The settings of a test's app: its own copy of the Hoan Kiem database; threads, not gevent."""
    db = morning_template.copy_to(tmp_path / "motcua.db")
    return load_config(server={"db": str(db), "async_mode": "threading"}, dossiers={"holidays": WORKING_MORNING})


@pytest.fixture
def app(config, clock):
    app = create_app(config, clock)
    app.config["TESTING"] = True
    yield app
    app.extensions["motcua"].store.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def tokens(morning_template) -> dict:
    """Bearer tokens of the test app's staff (off1, off2, mgr1, admin) and devices (kiosk1, kiosk2, display1)."""
    return dict(morning_template.tokens)


@dataclass
class Api:
    """Flask's test client on /api/v1, acting as the named staff member or device."""

    client: object
    tokens: dict

    def headers(self, who: str | None) -> dict:
        return {"Authorization": f"Bearer {self.tokens.get(who, who)}"} if who else {}

    def request(self, method: str, path: str, who: str | None = None, json=None, **kwargs):
        return self.client.open("/api/v1" + path, method=method, json=json, headers=self.headers(who), **kwargs)

    def post(self, path: str, who: str | None = None, json=None, **kwargs):
        return self.request("POST", path, who, json, **kwargs)

    def get(self, path: str, who: str | None = None):
        return self.request("GET", path, who)

    def issue(self, service: str = "civil", who: str = "kiosk1", branch: str = "hk-01", **body) -> dict:
        """A new ticket, or the test fails."""
        answer = self.post(f"/branches/{branch}/tickets", who, {"service": service, **body})
        assert answer.status_code == 201, answer.text
        return answer.json


@pytest.fixture
def api(client, tokens) -> Api:
    return Api(client, tokens)


# ---- a real server process ------------------------------------------------------------------------

class Http:
    """The published interface of a server at base, as the named staff member or device calls it."""

    base: str
    tokens: dict

    @property
    def api(self) -> str:
        return self.base + "/api/v1"

    def auth(self, who: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def login(self, username: str) -> str:
        answer = requests.post(self.api + "/auth/login", json={"username": username, "password": PASSWORD})
        answer.raise_for_status()
        return answer.json()["token"]

    def post(self, path: str, who: str | None = None, json=None, **kwargs) -> requests.Response:
        headers = self.auth(who) if who else {}
        return requests.post(self.api + path, json=json, headers=headers, timeout=10, **kwargs)

    def get(self, path: str) -> requests.Response:
        return requests.get(self.api + path, timeout=10)


@dataclass
class Server(Http):
    """A real `motcua serve` process on its own copy of a template database."""

    db: Path
    port: int
    log: Path
    proc: subprocess.Popen | None = None
    tokens: dict = field(default_factory=dict)
    args: tuple[str, ...] = ()   # more options of `motcua serve`, such as --config FILE

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "motcua.cli", "serve", "--db", str(self.db), "--port", str(self.port), *self.args],
            stdout=self.log.open("a"), stderr=subprocess.STDOUT)
        # A loaded CI machine can take seconds to import and to answer the first request: a slow answer
        # is waited for, only a process that exited or a minute without an answer is a failure.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if requests.get(self.api + "/health", timeout=5).ok:
                    return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.05)
        raise RuntimeError("server did not start: " + self.log.read_text())

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)


@dataclass
class LiveApp(Http):
    """The test's app on a real port of this process: HTTP for clients that run as programs of their
    own (the kiosk), on the fake clock, so that what depends on the hour does not hang on the wall's."""

    base: str
    tokens: dict
    clock: FakeClock


@pytest.fixture
def live_app(app, clock, tokens):
    http = serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield LiveApp(f"http://127.0.0.1:{http.server_port}", tokens, clock)
    http.shutdown()
    thread.join(10)


def make_server(folder: Path, template: Template, settings: str = "", log: Path | None = None) -> Server:
    """A started server on a copy of template in folder; settings: its config.toml's text, if any."""
    args = ()
    if settings:
        (folder / "config.toml").write_text(settings)
        args = ("--config", str(folder / "config.toml"))
    server = Server(template.copy_to(folder / "motcua.db"), free_port(), log or folder / "server.log",
                    tokens=dict(template.tokens), args=args)
    server.start()
    return server


@pytest.fixture(scope="module")
def server(tmp_path_factory, real_template):
    """One server for a test module (state carries over between its tests)."""
    srv = make_server(tmp_path_factory.mktemp("srv"), real_template)
    yield srv
    srv.kill(signal.SIGTERM)


@pytest.fixture
def fresh_server(tmp_path, real_template):
    """A server of one's own, for tests that kill it or need an empty day."""
    srv = make_server(tmp_path, real_template)
    yield srv
    srv.kill(signal.SIGTERM)


# ---- real Chromium (Debian's), driven by Playwright; never `playwright install` ----------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-sync"]
SCREENSHOTS = ROOT / "test-output"


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session; sound may play without a tap, as on a display PC."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=CHROMIUM_FLAGS + ["--autoplay-policy=no-user-gesture-required"])
        yield browser
        browser.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


# ---- serial lines: socat pty pairs ------------------------------------------------------------

@pytest.fixture
def serial_pair(tmp_path):
    """serial_pair(name): a SerialPair (tests/serial_pairs.py) in the test's folder, unplugged at its end."""
    pairs = []

    def make(name: str) -> SerialPair:
        pairs.append(SerialPair(tmp_path, name))
        return pairs[-1]

    yield make
    for pair in pairs:
        pair.unplug()
