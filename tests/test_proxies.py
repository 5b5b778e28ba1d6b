"""Behind a reverse proxy ([server] trusted_proxies, server/web/app.py and server_main.py): everything that keys on
the client's address sees the client the proxy saw, and a bare server ignores a forged X-Forwarded-For."""
from __future__ import annotations

import socket

import pytest
import requests

from conftest import make_server
from motcua.config import override
from motcua.web.app import create_app

PROXY = "10.0.0.1"          # every request comes from the proxy's address
ALICE, BOB = "203.0.113.5", "203.0.113.6"


@pytest.fixture
def make_app(config, clock):
    """A test app with these settings; closed after the test."""
    made = []

    def make(**sections):
        app = create_app(override(config, **sections), clock)
        app.config["TESTING"] = True
        made.append(app)
        return app
    yield make
    for app in made:
        app.extensions["motcua"].store.close()


def login(client, forwarded_for: str):
    return client.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong-pass"},
                       headers={"X-Forwarded-For": forwarded_for}, environ_base={"REMOTE_ADDR": PROXY})


def lookup(client, forwarded_for: str):
    return client.get("/api/v1/dossiers/X", headers={"X-Forwarded-For": forwarded_for},
                      environ_base={"REMOTE_ADDR": PROXY})


# (call, settings of a limit of 2 per address, the status of a call under the limit: a typo counts too)
LIMITED = {"sign-in": (login, {"auth": {"login_per_minute_per_address": 2, "login_failures_per_account": 100}}, 401),
           "public lookup": (lookup, {"dossiers": {"lookups_per_minute_per_address": 2}}, 400)}


@pytest.mark.parametrize("limited", LIMITED)
def test_behind_one_trusted_proxy_two_clients_are_counted_apart(make_app, limited):
    call, settings, under = LIMITED[limited]
    client = make_app(server={"trusted_proxies": 1}, **settings).test_client()
    assert [call(client, ALICE).status_code for _ in range(3)] == [under, under, 429]
    # Bob's own count: Alice's guesses do not lock him out of the whole centre.
    assert call(client, BOB).status_code == under
    # A client's own X-Forwarded-For, which the proxy appends to, changes nothing: the proxy's entry counts.
    assert call(client, f"{BOB}, {ALICE}").status_code == 429


@pytest.mark.parametrize("limited", LIMITED)
def test_a_bare_server_ignores_x_forwarded_for(make_app, limited):
    call, settings, under = LIMITED[limited]
    client = make_app(**settings).test_client()
    assert [call(client, ALICE).status_code for _ in range(2)] == [under, under]
    # A new X-Forwarded-For is no new client: the header is anyone's to write.
    assert call(client, BOB).status_code == 429


def test_behind_a_trusted_proxy_the_scheme_is_the_one_the_proxy_was_asked_for(make_app):
    """The session cookie is Secure when the citizen's browser came over HTTPS to the proxy."""
    app = make_app(server={"trusted_proxies": 1})
    answer = app.test_client().post("/api/v1/auth/session", json={"username": "off1", "password": "s3cret-pass"},
                                    headers={"X-Forwarded-For": ALICE, "X-Forwarded-Proto": "https"},
                                    environ_base={"REMOTE_ADDR": PROXY})
    assert answer.status_code == 200, answer.text
    assert "Secure" in answer.headers["Set-Cookie"]


# ---- connections per client address, on a real server -------------------------------------------

PER_ADDRESS = 2


@pytest.fixture(scope="module")
def proxied(tmp_path_factory, real_template):
    """A real server behind one (pretended) proxy, with 2 connections per client address."""
    srv = make_server(tmp_path_factory.mktemp("proxied"), real_template,
                      f"[server]\ntrusted_proxies = 1\nmax_connections_per_address = {PER_ADDRESS}\nbody_grace_s = 30.0\n")
    yield srv
    srv.kill()


def held_request(server, forwarded_for: str) -> socket.socket:
    """A request from the proxy for a client, open: its headers in, its body not yet sent."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(f"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {forwarded_for}\r\n"
                 "Content-Type: application/json\r\nContent-Length: 50\r\n\r\n".encode())
    return sock


def health_for(server, forwarded_for: str) -> int:
    return requests.get(server.api + "/health", headers={"X-Forwarded-For": forwarded_for}, timeout=10).status_code


def wait_for_status(server, forwarded_for: str, status: int) -> bool:
    """Whether the client's requests are answered status within a few seconds (the held ones reach the app)."""
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if health_for(server, forwarded_for) == status:
            return True
        time.sleep(0.05)
    return False


def test_behind_a_trusted_proxy_connections_are_capped_per_client_not_per_proxy(proxied):
    held = [held_request(proxied, ALICE) for _ in range(PER_ADDRESS)]
    try:
        assert wait_for_status(proxied, ALICE, 503)
        answer = requests.get(proxied.api + "/health", headers={"X-Forwarded-For": ALICE}, timeout=10)
        assert answer.json()["error"]["code"] == "server_busy"
        # Bob comes through the same proxy, from the same address as Alice's connections: he is served.
        assert health_for(proxied, BOB) == 200
    finally:
        [sock.close() for sock in held]
    assert wait_for_status(proxied, ALICE, 200)
