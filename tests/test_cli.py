"""The command line as a technician uses it, and the demo as a visitor sees it."""
from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest
import requests

from conftest import HOAN_KIEM, free_port, motcua
from motcua.core import scenario
from motcua.kiosk.settings import load_kiosk_settings


def run(*args, db=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "motcua.cli", *args, *(["--db", str(db)] if db else [])],
                          capture_output=True, text=True, timeout=60, cwd=cwd, stdin=subprocess.DEVNULL)


def start(*args, cwd=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "motcua.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=cwd)


def read_until(proc: subprocess.Popen, marker: str) -> list[str]:
    lines = []
    while not any(marker in line for line in lines):
        line = proc.stdout.readline()
        assert line, "ended early:\n" + "".join(lines)
        lines.append(line)
    return lines


def interrupt(proc: subprocess.Popen) -> str:
    """Ctrl-C, as at a terminal; returns the rest of what it printed."""
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=20)
    return rest


def test_init_is_repeatable_and_devices_print_their_token_last(tmp_path):
    db = tmp_path / "m.db"
    assert "4 branches" in motcua("init", "--scenario", str(HOAN_KIEM), db=db)
    assert "4 branches" in motcua("init", "--scenario", str(HOAN_KIEM), db=db)  # upgrade in place
    out = motcua("device", "add", "--kind", "kiosk", "--branch", "hk-01", db=db)
    token = out.strip().splitlines()[-1]
    assert token.startswith("dev_") and len(token) > 30


def test_bad_input_is_a_clear_message_not_a_traceback(tmp_path):
    db = tmp_path / "m.db"
    motcua("init", "--scenario", str(HOAN_KIEM), db=db)
    cases = [
        (("device", "add", "--kind", "kiosk", "--branch", "nowhere"), "unknown branch"),
        (("user", "add", "--username", "a", "--password", "short", "--role", "officer", "--branch", "hk-01"),
         "at least 8"),
        (("user", "add", "--username", "a", "--password", "long-enough", "--role", "officer"), "--branch"),
        (("user", "add", "--username", "a", "--password", "12345678", "--role", "admin"), "first ones guessed"),
        (("user", "add", "--username", "a\u202eb", "--password", "long-enough", "--role", "admin"), "U+202E"),
        (("init", "--scenario", str(tmp_path / "missing.json")), "cannot read scenario"),
    ]
    for args, message in cases:
        done = run(*args, db=db)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [
    ("serve", "--port", "9"),
    ("device", "add", "--kind", "kiosk", "--branch", "hk-01"),
    ("user", "add", "--username", "a", "--password", "long-enough", "--role", "admin"),
    ("user", "list"), ("user", "remove", "--username", "a"),
    ("user", "passwd", "--username", "a", "--password", "long-enough"),
    ("device", "list"), ("device", "revoke", "--id", "0123abcd"),
])
@pytest.mark.parametrize("given", [True, False], ids=["with --db", "default path"])
def test_a_missing_database_is_refused_not_created(tmp_path, args, given):
    db = tmp_path / "nothing-here.db"
    done = run(*args, db=db if given else None, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "motcua init" in done.stderr and str(db if given else "motcua.db") in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_users_and_devices_are_listed_and_ended_by_name_or_id(tmp_path):
    db = tmp_path / "m.db"
    motcua("init", "--scenario", str(HOAN_KIEM), db=db)
    motcua("user", "add", "--username", "lan", "--password", "long-enough", "--role", "officer", "--branch", "hk-02",
           db=db)
    motcua("user", "add", "--username", "root", "--password", "long-enough", "--role", "admin", db=db)
    assert motcua("user", "list", db=db).splitlines() == ["lan\tofficer\thk-02", "root\tadmin\t*"]
    motcua("user", "remove", "--username", "lan", db=db)
    assert motcua("user", "list", db=db).splitlines() == ["root\tadmin\t*"]
    motcua("device", "add", "--kind", "display", "--branch", "hk-03", db=db)
    (device,) = [line.split("\t") for line in motcua("device", "list", db=db).splitlines()]
    assert device[1:3] == ["display", "hk-03"] and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+07:00", device[3])
    motcua("device", "revoke", "--id", device[0], db=db)
    assert motcua("device", "list", db=db) == ""
    for args, message in [(("user", "remove", "--username", "lan"), "no user 'lan'"),
                          (("device", "revoke", "--id", device[0]), f"no device '{device[0]}'"),
                          (("user", "passwd", "--username", "root"), "MOTCUA_PASSWORD")]:
        done = run(*args, db=db)             # stdin is no terminal here: nobody can be asked
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_a_port_in_use_is_one_clear_line(tmp_path):
    db = tmp_path / "m.db"
    motcua("init", "--scenario", str(HOAN_KIEM), db=db)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run("serve", "--port", str(port), db=db)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"motcua: port {port} on 127.0.0.1 is already in use: "
                                                "stop what uses it or give --port"]


def test_ctrl_c_stops_the_server_cleanly_and_access_logs_are_a_setting(tmp_path):
    db = tmp_path / "m.db"
    motcua("init", "--scenario", str(HOAN_KIEM), db=db)
    for access_log in (False, True):
        config = tmp_path / "config.toml"
        config.write_text(f"[server]\naccess_log = {str(access_log).lower()}\n", encoding="utf-8")
        port = free_port()
        server = start("serve", "--db", str(db), "--port", str(port), "--config", str(config))
        read_until(server, "motcua serving")
        assert requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5).ok
        rest = interrupt(server)
        assert server.returncode == 0 and "Traceback" not in rest and "motcua: stopped" in rest
        assert ("GET /api/v1/health" in rest) is access_log, rest


def test_demo_serves_moving_queues_a_start_page_and_a_ready_kiosk(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    demo = start("demo", "--port", str(port), "--speed", "300", "--db", str(tmp_path / "demo.db"))
    try:
        lines = read_until(demo, "staff login")
        api = f"{base}/api/v1"
        assert any(f"{api}/branches/hk-01/state" in line for line in lines)
        assert any(line.split() == ["start", "page:", f"{base}/"] for line in lines)
        kiosk_toml = tmp_path / "kiosk.toml"
        assert any(str(kiosk_toml) in line for line in lines)
        settings = load_kiosk_settings(str(kiosk_toml))
        assert any(settings.token in line for line in lines)
        ticket = requests.post(f"{api}/branches/{settings.branch}/tickets", json={"service": "civil"}, timeout=5,
                               headers={"Authorization": f"Bearer {settings.token}"})
        assert ticket.status_code == 201 and settings.server_url == base

        start_page = requests.get(base + "/", timeout=5)
        assert start_page.status_code == 200 and "script-src 'self'" in start_page.headers["Content-Security-Policy"]
        assert "<script" not in start_page.text
        links = set(re.findall(r'href="([^"]+)"', start_page.text))
        assert {f"/display/{b}" for b in ("hk-01", "hk-02", "hk-03", "hn-hq")} <= links
        assert "/api/v1/openapi.json" in links and "/login" in links
        for link in links:
            assert requests.get(base + link, timeout=5).status_code == 200, link

        # The staff accounts it prints sign in.
        for name, role in (("canbo", "officer"), ("quanly", "manager")):
            [line] = [line for line in lines if f" {name} / " in line]
            password = line.split(f" {name} / ")[1].split()[0]
            session = requests.post(f"{api}/auth/session", json={"username": name, "password": password}, timeout=10)
            assert session.status_code == 200 and session.json()["role"] == role, session.text
        # The visitor's counter waits for them, paused and held for the officer; the simulated officers
        # work the others, each branch's under an account of its own.
        counters = {c["id"]: c for c in requests.get(f"{api}/branches/hk-01/staff-state", timeout=5,
                                                      cookies=session.cookies).json()["counters"]}
        assert counters["1"]["status"] == "paused" and counters["2"]["status"] != "paused"
        assert counters["1"]["holder"] == "canbo" and counters["2"]["holder"] in (None, "sim-hk-01")

        # The department user it prints sees its work; the dossiers it prints have their public page;
        # the manager's dossier report counts them.
        [line] = [line for line in lines if " phongtp / " in line]
        assert f"{base}/department" in line
        department = requests.post(f"{api}/auth/session", timeout=10, json={
            "username": "phongtp", "password": line.split(" phongtp / ")[1].split()[0]})
        assert department.status_code == 200 and department.json()["role"] == "department", department.text
        work = requests.get(f"{api}/departments/justice/dossiers", cookies=department.cookies, timeout=5).json()
        assert {d["status"] for d in work} == {"processing", "supplement_requested"}
        assert any(d["overdue"] for d in work), work
        codes = [line.split("/d/")[1].split()[0] for line in lines if f"{base}/d/" in line]
        assert len(codes) >= 5
        for code in codes:
            assert requests.get(f"{base}/d/{code}", timeout=5).status_code == 200
        assert {requests.get(f"{api}/dossiers/{code}", timeout=5).json()["status"] for code in codes} >= {
            "received", "processing", "supplement_requested", "result_ready", "returned"}
        today = date.today()
        figures = requests.get(f"{api}/branches/hk-01/dossiers-report.json", cookies=session.cookies, timeout=5,
                               params={"from": (today - timedelta(days=30)).isoformat(),
                                       "to": (today + timedelta(days=1)).isoformat()}).json()["total"]
        assert figures["received"] == len(codes) and figures["returned"] == 1 and figures["overdue"] >= 1

        deadline, called = time.monotonic() + 40, set()
        while time.monotonic() < deadline and len(called) < 5:
            for branch in ("hk-01", "hk-02", "hk-03", "hn-hq"):
                state = requests.get(f"{api}/branches/{branch}/state", timeout=5).json()
                called |= {(branch, c["number"]) for c in state["recent_calls"]}
            time.sleep(0.5)
        assert len(called) >= 5, "the demo's counters called nobody"
        holders = {c["id"]: c["holder"] for c in requests.get(f"{api}/branches/hk-01/staff-state", timeout=5,
                                                               cookies=session.cookies).json()["counters"]}
        assert holders["1"] == "canbo" and "sim-hk-01" in holders.values(), holders
        rest = interrupt(demo)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    output = "".join(lines) + rest
    assert demo.returncode == 0 and "Traceback" not in output
    assert "HTTP/1.1" not in output, "access log lines bury the demo's URLs"


def test_the_start_page_speaks_vietnamese_first_from_the_catalogues(tmp_path):
    from markupsafe import escape

    from motcua.config import load_config
    from motcua.i18n import catalogue
    from motcua.web.app import create_app

    db = tmp_path / "m.db"
    motcua("init", "--scenario", str(HOAN_KIEM), db=db)
    app = create_app(load_config(None, server={"db": str(db), "async_mode": "threading"}))
    page = app.test_client().get("/").get_data(as_text=True)
    vi, en = catalogue("vi"), catalogue("en")
    for key in ("start.title", "start.displays", "start.phone", "start.api"):
        assert page.index(escape(vi[key])) < page.index(escape(en[key]))
    app.extensions["motcua"].store.close()


def test_the_demo_runs_the_real_size_city_it_is_given(tmp_path):
    port = free_port()
    api = f"http://127.0.0.1:{port}/api/v1"
    city = scenario.load(scenario.bundled("ha-noi"))
    demo = start("demo", "--scenario", "ha-noi", "--port", str(port), "--speed", "300", "--db", str(tmp_path / "d.db"))
    try:
        lines = read_until(demo, "staff login")
        for branch in city["branches"]:
            assert any(f"{api}/branches/{branch['id']}/state" in line for line in lines), branch["id"]
        first = city["branches"][0]
        state = requests.get(f"{api}/branches/{first['id']}/state", timeout=5).json()
        assert len(state["services"]) >= 20 and len(state["counters"]) == len(first["counters"]) >= 15
        deadline, called = time.monotonic() + 40, set()
        while time.monotonic() < deadline and len(called) < 5:
            state = requests.get(f"{api}/branches/{first['id']}/state", timeout=5).json()
            assert "recent_calls" in state, state
            called |= {c["number"] for c in state["recent_calls"]}
            time.sleep(0.5)
        assert len(called) >= 5, "the city's busiest branch called nobody"
        rest = interrupt(demo)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    assert demo.returncode == 0 and "Traceback" not in "".join(lines) + rest


def test_the_demo_refuses_a_scenario_it_cannot_read_in_words(tmp_path):
    done = run("demo", "--scenario", str(tmp_path / "nowhere.json"), db=tmp_path / "d.db")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("motcua: cannot read scenario") and "nowhere.json" in done.stderr
    assert not (tmp_path / "d.db").exists()
