"""Logging in and out (server/web/auth_routes.py, server/accounts.py): tokens that end when they should, at
once, even when the command line ends them while a server runs."""
from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import threading
import time

import pytest
import requests

from conftest import PASSWORD, Server, free_port
from motcua.config import override
from motcua.web.app import create_app

LOCKOUT_S = 2        # the limiter keeps its own time (time.time): a short window the test waits out


def cli(*args: str, db, **env: str) -> str:
    """Run the CLI on db with extra environment variables; returns stdout, fails on a non-zero exit."""
    done = subprocess.run([sys.executable, "-m", "motcua.cli", *args, "--db", str(db)], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    return done.stdout


def issue(http, who: str, branch: str = "hk-01") -> int:
    """Status of a ticket issued at branch with who's token: 201 while the token stands."""
    return http.post(f"/branches/{branch}/tickets", who, {"service": "civil"}).status_code


def app_with(config, clock, **auth):
    """A test app with these [auth] settings; the caller closes its store."""
    app = create_app(override(config, auth=auth), clock)
    app.config["TESTING"] = True
    return app


def login(client, username: str, password: str = PASSWORD):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


@pytest.fixture
def locking(config, clock):
    """The test client of an app that locks an account after 3 wrong passwords within LOCKOUT_S."""
    app = app_with(config, clock, login_failures_per_account=3, login_lockout_s=LOCKOUT_S)
    yield app.test_client()
    app.extensions["motcua"].store.close()


# ---- throttled logins ----------------------------------------------------------------------

@pytest.mark.parametrize("username", ["off1", "nobody"])
def test_wrong_passwords_lock_the_account_until_the_window_passes(locking, username):
    first = time.monotonic()
    assert [login(locking, username, "wrong-pass").status_code for _ in range(3)] == [401] * 3
    last = time.monotonic()
    refused = login(locking, username)
    assert refused.status_code == 429 and refused.json["error"]["code"] == "too_many_requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= LOCKOUT_S
    assert time.monotonic() - first < LOCKOUT_S, "too slow a machine: the window passed during the test"
    assert login(locking, "off2").status_code == 200              # another account is not locked
    time.sleep(max(0.0, last + LOCKOUT_S + 0.1 - time.monotonic()))
    assert login(locking, username).status_code == (200 if username == "off1" else 401)   # unlocked


def test_one_address_may_try_only_so_many_logins_a_minute(config, clock):
    app = app_with(config, clock, login_per_minute_per_address=4)
    client = app.test_client()
    assert [login(client, name).status_code for name in ("off1", "off2", "mgr1", "admin")] == [200] * 4
    refused = login(client, "off1")
    assert refused.status_code == 429 and 50 <= int(refused.headers["Retry-After"]) <= 60
    other = client.post("/api/v1/auth/login", json={"username": "off1", "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert other.status_code == 200                                 # another counter's PC
    app.extensions["motcua"].store.close()


SIGN_INS = ("/api/v1/auth/login", "/api/v1/auth/session")   # every way to sign in


def sign_in_by(client, route: str, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(route, json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


@pytest.mark.parametrize("first", SIGN_INS)
def test_an_account_s_wrong_passwords_count_across_every_way_to_sign_in(client, first):
    """The default limit, 10 wrong passwords, whichever routes they came by; from many addresses."""
    routes = [first, *[r for r in SIGN_INS if r != first]]
    tries = [sign_in_by(client, routes[n % 2], "off1", f"wrong-pass-{n}", f"10.0.0.{n}").status_code
             for n in range(10)]
    assert tries == [401] * 10
    for route in SIGN_INS:
        refused = sign_in_by(client, route, "off1", PASSWORD, "10.0.1.1")
        assert refused.status_code == 429 and refused.json["error"]["code"] == "too_many_requests", route
    assert sign_in_by(client, first, "off2", PASSWORD, "10.0.1.1").status_code == 200   # not another account


@pytest.mark.parametrize("first", SIGN_INS)
def test_an_address_s_sign_ins_count_across_every_way_to_sign_in(client, first):
    """The default limit, 20 a minute from one address, whichever routes and usernames they tried."""
    routes = [first, *[r for r in SIGN_INS if r != first]]
    tries = [sign_in_by(client, routes[n % 2], f"nobody-{n}", "wrong-pass").status_code for n in range(20)]
    assert tries == [401] * 20
    for route in SIGN_INS:
        refused = sign_in_by(client, route, "off1", PASSWORD)
        assert refused.status_code == 429 and 50 <= int(refused.headers["Retry-After"]) <= 60, route
    assert sign_in_by(client, first, "off1", PASSWORD, "10.0.0.7").status_code == 200  # another address


def test_an_unknown_username_takes_as_long_as_a_known_one(config, clock):
    app = app_with(config, clock, login_per_minute_per_address=1000, login_failures_per_account=1000)
    client = app.test_client()
    taken = {"off1": [], "nobody": []}
    for _ in range(6):                       # interleaved, so a busier moment weighs on both alike
        for username in taken:
            start = time.perf_counter()
            assert login(client, username, "wrong-pass").status_code == 401
            taken[username].append(time.perf_counter() - start)
    known, unknown = statistics.mean(taken["off1"]), statistics.mean(taken["nobody"])
    assert abs(known - unknown) < 0.5 * max(known, unknown), taken
    app.extensions["motcua"].store.close()


def test_health_stays_fast_while_8_threads_guess_passwords(tmp_path, real_template):
    unthrottled = tmp_path / "config.toml"  # every guess hashes: what is measured is the hub, not the limiter
    unthrottled.write_text("[auth]\nlogin_per_minute_per_address = 100000\nlogin_failures_per_account = 100000\n",
                           encoding="utf-8")
    server = Server(real_template.copy_to(tmp_path / "motcua.db"), free_port(), tmp_path / "server.log",
                    args=("--config", str(unthrottled)))
    server.start()
    stop, guesses = threading.Event(), []

    def guess(n: int) -> None:
        with requests.Session() as session:
            while not stop.is_set():
                answer = session.post(server.api + "/auth/login", timeout=30,
                                      json={"username": f"off{n % 2 + 1}", "password": f"guess-{n}"})
                guesses.append(answer.status_code)

    guessers = [threading.Thread(target=guess, args=(n,)) for n in range(8)]
    try:
        for thread in guessers:
            thread.start()
        while len(guesses) < 8:              # every guesser under way
            time.sleep(0.01)
        taken = []
        with requests.Session() as session:
            for _ in range(40):
                start = time.perf_counter()
                assert session.get(server.api + "/health", timeout=10).ok
                taken.append(time.perf_counter() - start)
                time.sleep(0.02)
    finally:
        stop.set()
        for thread in guessers:
            thread.join(30)
        server.kill(signal.SIGTERM)
    assert set(guesses) == {401} and len(guesses) >= 16
    assert statistics.median(taken) < 0.020, sorted(taken)


# ---- logout --------------------------------------------------------------------------------

def test_logout_ends_the_token_given_and_no_other(api):
    api.tokens["again"] = api.post("/auth/login", json={"username": "off1", "password": PASSWORD}).json["token"]
    answer = api.post("/auth/logout", "off1")
    assert answer.status_code == 200 and answer.json == {"status": "logged_out"}
    assert api.post("/branches/hk-01/tickets", "off1", {"service": "civil"}).status_code == 401
    assert api.post("/auth/logout", "off1").json["error"]["code"] == "invalid_token"
    assert api.post("/branches/hk-01/tickets", "again", {"service": "civil"}).status_code == 201


def test_logout_needs_a_staff_token(api):
    assert api.post("/auth/logout").status_code == 401
    answer = api.post("/auth/logout", "kiosk1")
    assert answer.status_code == 403 and answer.json["error"]["code"] == "forbidden"
    assert api.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).status_code == 201


def test_logout_is_in_the_document(api):
    declared = api.get("/openapi.json").json["paths"]["/auth/logout"]["post"]
    assert "requestBody" not in declared and {"200", "401", "403"} <= set(declared["responses"])


# ---- the command line, while a real server runs ---------------------------------------------

def test_the_command_line_ends_tokens_in_a_running_server_at_once(fresh_server):
    server = fresh_server
    server.tokens["mgr1-login"] = server.login("mgr1")
    assert {issue(server, who) for who in ("off1", "mgr1", "mgr1-login", "admin")} == {201}
    assert issue(server, "kiosk2", "hk-02") == 201

    cli("user", "remove", "--username", "off1", db=server.db)
    assert issue(server, "off1") == 401
    assert "off1" not in cli("user", "list", db=server.db).split()

    cli("user", "passwd", "--username", "mgr1", db=server.db, MOTCUA_PASSWORD="another-pass-1")
    assert issue(server, "mgr1") == 401 and issue(server, "mgr1-login") == 401
    login = server.post("/auth/login", json={"username": "mgr1", "password": "another-pass-1"})
    assert login.status_code == 200

    devices = [line.split("\t") for line in cli("device", "list", db=server.db).splitlines()]
    (kiosk2,) = [d[0] for d in devices if d[1:3] == ["kiosk", "hk-02"]]
    cli("device", "revoke", "--id", kiosk2, db=server.db)
    assert issue(server, "kiosk2", "hk-02") == 401
    assert issue(server, "admin") == 201                                # the others stand


# ---- who a token is ----------------------------------------------------------------------------

def test_a_token_tells_who_it_is_and_a_revoked_device_is_refused(api):
    answer = api.get("/auth/me", "kiosk1")
    assert answer.status_code == 200
    assert answer.json == {"kind": "device", "role": "kiosk", "branch": "hk-01"}
    assert api.get("/auth/me", "off1").json == {"kind": "staff", "role": "officer", "branch": "hk-01"}
    assert api.get("/auth/me").status_code == 401
    devices = api.get("/admin/devices", "admin").json
    kiosk = next(d for d in devices if d["kind"] == "kiosk" and d["branch"] == "hk-01")
    assert api.request("DELETE", f"/admin/devices/{kiosk['id']}", "admin").status_code == 200
    refused = api.get("/auth/me", "kiosk1")
    assert refused.status_code == 401 and refused.json["error"]["code"] == "invalid_token"
    declared = api.get("/openapi.json").json["paths"]["/auth/me"]["get"]
    assert {"200", "401"} <= set(declared["responses"])
