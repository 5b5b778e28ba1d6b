"""The production shape with its fan-outs: writer, Redis, three `motcua fanout` and nginx, each started with
its systemd unit's command (test_deploy's `city`); Socket.IO clients over HTTPS through nginx, as displays
and phones are, with the calls made at the writer."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import socketio

from conftest import free_port
from motcua.config import load_config
from test_deploy import DEPLOY, City, city, exec_start, render, wait_until  # noqa: F401  (city: the fixture)

ROUTE = "motcua_route"


class Screen:
    """A display's or phone's Socket.IO client through nginx, subscribing on every connection as
    display/live.js does, and keeping every event with the time it came."""

    def __init__(self, city: City, subject: dict, transports=None, reconnection_delay: float = 1,  # noqa: F811
                 host: str | None = None) -> None:
        self.http = city.session()
        if host:   # on every request: Engine.IO sends connect()'s headers with the first only
            self.http.headers["Host"] = host
        self.subject = subject
        self.events: queue.Queue = queue.Queue()
        self.client = socketio.Client(http_session=self.http, reconnection=True, reconnection_delay=reconnection_delay,
                                      randomization_factor=0)
        self.client.on("connect", self._connected)
        self.client.on("disconnect", lambda *reason: self.events.put(("disconnect", None, time.monotonic())))
        for name in ("queue", "called", "ticket", "error"):
            self.client.on(name, lambda data, name=name: self.events.put((name, data, time.monotonic())))
        self.client.connect(city.base, transports=transports, wait_timeout=30)

    def _connected(self) -> None:
        self.events.put(("connect", None, time.monotonic()))
        self.client.emit("subscribe", self.subject)

    @property
    def route(self) -> str:
        """The sticky cookie nginx gave this client at its first request."""
        return self.http.cookies[ROUTE]

    def wait_for(self, name: str, predicate=lambda data: True, timeout: float = 10) -> tuple[dict, float]:
        deadline = time.monotonic() + timeout
        seen = []  # what came instead, to say why when nothing matched
        while True:
            try:
                event, data, at = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {name} event matching within {timeout} s; came: {seen}") from None
            seen.append(event if event != "error" else data)
            if event == name and predicate(data):
                return data, at

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def screens(city):  # noqa: F811
    """screens(subject, …): Screens through nginx, closed with the test."""
    made: list[Screen] = []

    def open_one(subject: dict, **kwargs) -> Screen:
        made.append(Screen(city, subject, **kwargs))
        return made[-1]

    yield open_one
    for screen in made:
        screen.close()


def at_writer(city: City, method: str, path: str, who: str, body: dict | None = None) -> dict:  # noqa: F811
    answer = requests.request(method, city.at_writer + path, json=body, timeout=10,
                              headers={"Authorization": f"Bearer {city.tokens[who]}"})
    assert answer.ok, answer.text
    return answer.json()


def issue(city: City, service: str) -> dict:  # noqa: F811
    return at_writer(city, "POST", "/branches/hk-01/tickets", "kiosk1", {"service": service})


def call(city: City, counter: str, who: str) -> dict:  # noqa: F811
    return at_writer(city, "POST", f"/branches/hk-01/counters/{counter}/next", who)["ticket"]


def finish(city: City, ticket: dict, who: str) -> None:  # noqa: F811
    """The counter's ticket done, so that the counter calls again in the tests after."""
    at_writer(city, "POST", f"/tickets/{ticket['id']}/done", who)


def is_called(ticket: dict):
    return lambda state: bool(state["recent_calls"]) and state["recent_calls"][0]["number"] == ticket["number"]


def test_socket_io_goes_to_the_fanouts_sticky_from_polling_to_websocket_and_spread_over_one_address(
        city, screens):  # noqa: F811
    # Twelve displays from one address, each first polling then upgrading, as a browser that falls back
    # does: each upgrade reaches the process holding its polling session, or it would stay on polling.
    displays = [screens({"branch": "hk-01"}) for _ in range(12)]
    assert {display.client.transport() for display in displays} == {"websocket"}
    held = {display.route: city.upstreams(display.route) for display in displays}
    # Every request of a client went to one fan-out, never to the writer; one address's clients on several.
    assert all(len(set(ports)) == 1 for ports in held.values()), held
    # (Each on one of three at random: all twelve on one would come once in 177,000 runs.)
    assert 2 <= len({ports[0] for ports in held.values()}) and {ports[0] for ports in held.values()} <= set(city.fanouts)
    for display in displays:   # subscribed: its fan-out put it in the branch's room before it answered
        display.wait_for("queue")
    ticket = issue(city, "build")
    assert call(city, "5", "off1")["id"] == ticket["id"]
    for display in displays:
        payload, _ = display.wait_for("called", lambda d: d["number"] == ticket["number"])
        assert payload["counter"] == "5"
    finish(city, ticket, "off1")


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_a_phone_behind_nginx_hears_its_ticket_move_and_be_called(city, screens, transport):  # noqa: F811
    ahead, mine = issue(city, "land"), issue(city, "land")
    phone = screens({"ticket": mine["id"]}, transports=[transport])
    phone.wait_for("ticket", lambda d: d["position"] == 2)
    assert call(city, "4", "mgr1")["id"] == ahead["id"]
    phone.wait_for("ticket", lambda d: d["position"] == 1)
    finish(city, ahead, "mgr1")
    assert call(city, "4", "mgr1")["id"] == mine["id"]
    phone.wait_for("called")
    phone.wait_for("ticket", lambda d: d["status"] == "called" and d["counter"] == "4")
    finish(city, mine, "mgr1")


def test_a_display_whose_fanout_is_killed_reconnects_through_nginx_to_another_and_shows_no_stale_call(
        city, screens):  # noqa: F811
    first, second = issue(city, "civil"), issue(city, "civil")
    # Four seconds before it tries again: the call below is made while it has no fan-out.
    display = screens({"branch": "hk-01"}, reconnection_delay=4)
    assert call(city, "1", "mgr1")["id"] == first["id"]
    display.wait_for("queue", is_called(first))
    port = city.upstreams(display.route)[-1]
    killed_at = time.monotonic()
    city.fanouts[port].send_signal(signal.SIGKILL)
    city.fanouts[port].wait(timeout=10)
    try:
        display.wait_for("disconnect", timeout=10)
        finish(city, first, "mgr1")
        assert call(city, "1", "mgr1")["id"] == second["id"]
        called_at = time.monotonic()
        _, connected_at = display.wait_for("connect", timeout=10 - (time.monotonic() - killed_at))
        assert called_at < connected_at, "reconnected before the call: nothing was shown about a stale call"
        # The first state it shows after reconnecting, the subscription's answer, has the call it missed.
        state, shown_at = display.wait_for("queue", timeout=10 - (time.monotonic() - killed_at))
        assert shown_at - killed_at < 10 and is_called(second)(state)
        assert state == requests.get(city.at_writer + "/branches/hk-01/state", timeout=10).json()
        moved_to = city.upstreams(display.route)[-1]
        assert moved_to in city.fanouts and moved_to != port
        finish(city, second, "mgr1")
    finally:
        city.start_fanout(port)   # as systemd's Restart=on-failure does, for the tests after this one


# The second city's server name, behind the same nginx as the first.
HCM = "hcm.motcua.example.vn"


@dataclass
class SecondCity:
    """Another city's writer (its own database and Redis database number) and one fan-out of its own."""

    writer: int
    fanout: int
    tokens: dict

    @property
    def at_writer(self) -> str:
        return f"http://127.0.0.1:{self.writer}/api/v1"


@pytest.fixture(scope="module")
def second_city(city, real_template):  # noqa: F811
    """The README's way to a second city: its config, the units' commands on it, and a copy of the site's city
    part with its own names and ports, which nginx takes on a reload."""
    folder = city.folder / "hcm"
    folder.mkdir()
    first = load_config(city.folder / "config.toml").server.message_queue
    writer_port, fanout_port = free_port(), free_port()
    db = real_template.copy_to(folder / "motcua.db")
    config = render(DEPLOY / "config.toml", folder / "config.toml",
                    {"port = 8080": f"port = {writer_port}", '"/var/lib/motcua/motcua.db"': f'"{db}"',
                     "redis://127.0.0.1:6379/0": first.removesuffix("/0") + "/1"})
    motcua = city.fanout_command[0]
    paths = {"/opt/motcua/venv/bin/motcua": motcua, "/etc/motcua/config.toml": str(config)}
    commands = {"writer": [paths.get(part, part) for part in exec_start("motcua.service")],
                "fanout": [paths.get(part, part).replace("%i", str(fanout_port))
                           for part in exec_start("motcua-fanout@.service")]}
    procs = []
    try:
        for name, port in (("writer", writer_port), ("fanout", fanout_port)):
            log = folder / f"{name}.log"
            procs.append(subprocess.Popen(commands[name], cwd=folder, stdout=log.open("a"), stderr=subprocess.STDOUT))
            wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5).ok, name, procs[-1],
                       log)
        site = (DEPLOY / "nginx" / "motcua.conf").read_text()
        part = folder / "city-part.conf"
        part.write_text(site[site.index("# A city: from here to the end."):])
        render(part, city.folder / "cities" / "hcm.conf", {
            "listen 80;": f"listen 127.0.0.1:{city.http};", "listen [::]:80;": "",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{city.https} ssl http2;", "listen [::]:443 ssl http2;": "",
            "/etc/letsencrypt/live/motcua.example.vn/fullchain.pem": str(city.folder / "fullchain.pem"),
            "/etc/letsencrypt/live/motcua.example.vn/privkey.pem": str(city.folder / "privkey.pem"),
            "server_name motcua.example.vn;": f"server_name {HCM};",
            "motcua_writer": "hcm_writer", "motcua_socketio": "hcm_socketio",
            "server 127.0.0.1:8080;": f"server 127.0.0.1:{writer_port};",
            "server 127.0.0.1:8101;": f"server 127.0.0.1:{fanout_port};",
            "    server 127.0.0.1:8102;\n": "", "    server 127.0.0.1:8103;\n": ""})
        hcm = SecondCity(writer_port, fanout_port, dict(real_template.tokens))
        # Known only to the second city's writer: found through nginx by its name once nginx has reloaded.
        ticket = requests.post(hcm.at_writer + "/branches/hk-01/tickets", json={"service": "cert"}, timeout=10,
                               headers={"Authorization": f"Bearer {hcm.tokens['kiosk1']}"}).json()
        os.kill(int((city.folder / "nginx.pid").read_text()), signal.SIGHUP)   # systemctl reload nginx
        found = lambda: city.session().get(f"{city.base}/api/v1/tickets/{ticket['id']}", headers={"Host": HCM},  # noqa: E731
                                           timeout=5).ok
        deadline = time.monotonic() + 30
        while not found() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert found(), (city.folder / "nginx.log").read_text()
        yield hcm
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=20)


def test_two_cities_behind_one_nginx_each_by_its_name_reach_their_own_writer_and_fanouts(
        city, second_city, screens):  # noqa: F811
    mine = issue(city, "land")
    theirs = requests.post(second_city.at_writer + "/branches/hk-01/tickets", json={"service": "build"}, timeout=10,
                           headers={"Authorization": f"Bearer {second_city.tokens['kiosk1']}"}).json()
    client = city.session()
    assert client.get(f"{city.base}/api/v1/tickets/{theirs['id']}", headers={"Host": HCM}, timeout=10).ok
    assert client.get(f"{city.base}/api/v1/tickets/{theirs['id']}", timeout=10).status_code == 404
    here = screens({"branch": "hk-01"}, transports=["polling"])
    there = screens({"branch": "hk-01"}, transports=["polling"], host=HCM)   # the same branch id, another city
    assert set(city.upstreams(there.route)) == {second_city.fanout}
    here.wait_for("queue")
    there.wait_for("queue")
    assert call(city, "4", "mgr1")["id"] == mine["id"]
    here.wait_for("called", lambda d: d["number"] == mine["number"] and d["counter"] == "4")
    # The second city's call, made after: a display hearing the first city's calls would have heard that first.
    answer = requests.post(second_city.at_writer + "/branches/hk-01/counters/5/next", timeout=10,
                           headers={"Authorization": f"Bearer {second_city.tokens['off1']}"})
    assert answer.json()["ticket"]["id"] == theirs["id"]
    heard, _ = there.wait_for("called")
    assert heard["number"] == theirs["number"] and heard["counter"] == "5"
    finish(city, mine, "mgr1")
