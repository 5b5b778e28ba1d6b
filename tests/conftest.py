"""Fixtures: a fake clock for the core, and a real `motcua serve` on a free port for the rest."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from serial_pairs import SerialPair

ROOT = Path(__file__).resolve().parent.parent
HOAN_KIEM = ROOT / "server" / "data" / "scenarios" / "hoan-kiem.json"
PASSWORD = "s3cret-pass"


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


@dataclass
class Server:
    """A real server process over a database made with the CLI."""

    db: Path
    port: int
    log: Path
    proc: subprocess.Popen | None = None
    tokens: dict = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return self.base + "/api/v1"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "motcua.cli", "serve", "--db", str(self.db), "--port", str(self.port)],
            stdout=self.log.open("a"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.api + "/health", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("server did not start: " + self.log.read_text())

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)

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


def make_server(tmp_path: Path) -> Server:
    db = tmp_path / "motcua.db"
    motcua("init", "--scenario", str(HOAN_KIEM), db=db)
    users = {"off1": ("officer", "hk-01"), "off2": ("officer", "hk-02"), "mgr1": ("manager", "hk-01"),
             "admin": ("admin", None)}
    for name, (role, branch) in users.items():
        motcua("user", "add", "--username", name, "--password", PASSWORD, "--role", role,
               *(["--branch", branch] if branch else []), db=db)
    kiosk1 = motcua("device", "add", "--kind", "kiosk", "--branch", "hk-01", db=db).strip().splitlines()[-1]
    kiosk2 = motcua("device", "add", "--kind", "kiosk", "--branch", "hk-02", db=db).strip().splitlines()[-1]
    display = motcua("device", "add", "--kind", "display", "--branch", "hk-01", db=db).strip().splitlines()[-1]
    server = Server(db, free_port(), tmp_path / "server.log")
    server.start()
    server.tokens = {"kiosk1": kiosk1, "kiosk2": kiosk2, "display1": display}
    for name in users:
        server.tokens[name] = server.login(name)
    return server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for a test module (state carries over between its tests)."""
    srv = make_server(tmp_path_factory.mktemp("srv"))
    yield srv
    srv.kill(signal.SIGTERM)


@pytest.fixture
def fresh_server(tmp_path):
    """A server of one's own, for tests that kill it or need an empty day."""
    srv = make_server(tmp_path)
    yield srv
    srv.kill(signal.SIGTERM)


os.environ.pop("MOTCUA_DB", None)


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
