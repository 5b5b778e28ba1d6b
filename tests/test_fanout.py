"""`motcua fanout`: Socket.IO processes fed by the writer through Redis, each a real process here
(Debian's redis-server, one `motcua serve`, two `motcua fanout`)."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests

from conftest import Server, free_port
from redis_server import redis_server  # noqa: F401  (the fixture)
from test_sockets import Listener


@dataclass
class Fanout:
    """A real `motcua fanout` process."""

    port: int
    log: Path
    proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, config: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "motcua.cli", "fanout", "--config", str(config), "--port", str(self.port)],
            stdout=self.log.open("a"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if requests.get(self.base + "/api/v1/health", timeout=5).ok:
                    return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.05)
        raise RuntimeError("fanout did not start: " + self.log.read_text())

    def kill(self, sig=signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)


@pytest.fixture
def listen():
    """listen(process): a Socket.IO client connected to it, closed with the test."""
    made = []

    def connect(process) -> Listener:
        made.append(Listener(process))
        return made[-1]

    yield connect
    for listener in made:
        listener.close()


def issue(writer, count: int) -> list[dict]:
    """count new tickets of hk-01's land service (counters 4 and 5 call it), in order."""
    return [writer.post("/branches/hk-01/tickets", "kiosk1", {"service": "land"}).json() for _ in range(count)]


@pytest.fixture
def city(tmp_path, real_template, redis_server):  # noqa: F811
    """The writer and two fan-out processes on one Redis, all reading the same config file."""
    db = real_template.copy_to(tmp_path / "motcua.db")
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(f'[server]\ndb = "{db}"\nport = {port}\nmessage_queue = "{redis_server.url}"\n')
    writer = Server(db, port, tmp_path / "writer.log", tokens=dict(real_template.tokens),
                    args=("--config", str(config)))
    writer.start()
    fanouts = [Fanout(free_port(), tmp_path / f"fanout-{name}.log") for name in "ab"]
    try:
        for fanout in fanouts:
            fanout.start(config)
        yield writer, fanouts
    finally:
        for fanout in fanouts:
            fanout.kill()
        writer.kill(signal.SIGTERM)


def test_a_display_on_a_fanout_gets_the_state_at_once_and_hears_a_call_made_at_the_writer(city, listen):
    writer, (_, fanout_b) = city
    ticket = writer.post("/branches/hk-01/tickets", "kiosk1", {"service": "build"}).json()
    display = listen(fanout_b)
    assert display.subscribe(branch="hk-01") == {"ok": True}
    state, _ = display.wait_for("queue", timeout=2)
    assert state == writer.get("/branches/hk-01/state").json()
    assert ticket["number"] not in str(state["recent_calls"])
    answer = writer.post("/branches/hk-01/counters/5/next", "off1")
    returned = time.monotonic()
    assert answer.json()["ticket"]["id"] == ticket["id"]
    payload, at = display.wait_for("called", lambda d: d["number"] == ticket["number"], timeout=5)
    assert at - returned < 2 and payload["counter"] == "5"
    display.wait_for("queue", lambda d: d["recent_calls"] and d["recent_calls"][0]["number"] == ticket["number"],
                     timeout=5)


def test_a_subscription_a_fanout_cannot_answer_is_refused_as_the_writer_refuses_it(city, listen):
    writer, (fanout_a, _) = city
    display, direct = listen(fanout_a), listen(writer)
    for event, room in (("subscribe", {"branch": "nowhere"}), ("subscribe", {"ticket": "nothing"}),
                        ("subscribe", {"shop": "x"}), ("subscribe_staff", {"branch": "hk-01"}),
                        ("subscribe_staff", {"branch": "hk-02", "token": writer.tokens["off1"]}),
                        ("subscribe_staff", {"branch": "hk-01", "token": "forged"})):
        refused = display.subscribe(event, **room)
        assert refused["ok"] is False and refused == direct.subscribe(event, **room), (event, room)


def test_a_display_whose_fanout_is_killed_moves_to_another_and_shows_no_stale_call(city, listen):
    writer, (fanout_a, fanout_b) = city
    first, second = issue(writer, 2)
    display = listen(fanout_a)
    writer.post("/branches/hk-01/counters/5/next", "off1")
    display.subscribe(branch="hk-01")
    display.wait_for("queue", lambda d: d["recent_calls"] and d["recent_calls"][0]["number"] == first["number"],
                     timeout=5)
    fanout_a.kill(signal.SIGKILL)
    deadline = time.monotonic() + 10
    while display.client.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not display.client.connected
    # Called while the display has no fan-out: the one it moves to says so at once.
    assert writer.post("/branches/hk-01/counters/4/next", "mgr1").json()["ticket"]["id"] == second["id"]
    moved = listen(fanout_b)
    assert moved.subscribe(branch="hk-01") == {"ok": True}
    state, _ = moved.wait_for("queue", timeout=2)
    assert state["recent_calls"][0]["number"] == second["number"]
    assert state == writer.get("/branches/hk-01/state").json()


def test_staff_on_a_fanout_hear_their_room_until_their_session_is_revoked(city, listen):
    writer, (fanout_a, _) = city
    token = writer.login("mgr1")
    staff, colleague = listen(fanout_a), listen(fanout_a)
    assert staff.subscribe("subscribe_staff", branch="hk-01", token=token) == {"ok": True}
    assert colleague.subscribe("subscribe_staff", branch="hk-01", token=writer.tokens["off1"]) == {"ok": True}
    staff.wait_for("staff_queue", timeout=2)
    ticket = writer.post("/branches/hk-01/tickets", "kiosk1", {"service": "build"}).json()
    writer.post("/branches/hk-01/counters/5/next", "off1")
    called, _ = staff.wait_for("called", lambda d: d["number"] == ticket["number"], timeout=5)
    assert called["ticket"] == ticket["id"]
    assert requests.post(writer.api + "/auth/logout", headers={"Authorization": f"Bearer {token}"},
                         timeout=10).ok
    later = writer.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).json()
    assert writer.post("/branches/hk-01/counters/1/next", "mgr1").json()["ticket"]["id"] == later["id"]
    staff.wait_for("error", lambda d: d["error"]["code"] == "session_ended", timeout=5)
    # The colleague, on the same fan-out, hears the call: the revoked page was passed over, not late.
    colleague.wait_for("called", lambda d: d["number"] == later["number"], timeout=5)
    # Only what was sent before the logout came before session_ended, and nothing after it.
    assert staff.heard[staff.heard.index("error"):] == ["error"]
    assert later["number"] not in str(list(staff.events.queue))


def test_a_phone_on_a_fanout_hears_its_ticket_move_and_be_called(city, listen):
    writer, (_, fanout_b) = city
    ahead, mine = issue(writer, 2)
    phone = listen(fanout_b)
    assert phone.subscribe(ticket=mine["id"]) == {"ok": True}
    phone.wait_for("ticket", lambda d: d["position"] == 2, timeout=2)
    assert writer.post("/branches/hk-01/counters/5/next", "off1").json()["ticket"]["id"] == ahead["id"]
    phone.wait_for("ticket", lambda d: d["position"] == 1, timeout=5)
    assert writer.post("/branches/hk-01/counters/4/next", "mgr1").json()["ticket"]["id"] == mine["id"]
    phone.wait_for("called", timeout=5)
    phone.wait_for("ticket", lambda d: d["status"] == "called" and d["counter"] == "4", timeout=5)


def test_a_fanout_s_health_says_when_its_redis_is_lost(city, redis_server):  # noqa: F811
    _, (fanout_a, _) = city
    health = fanout_a.base + "/api/v1/health"
    assert requests.get(health, timeout=10).json() == {"status": "ok", "checks": {"redis": "ok"}}
    redis_server.stop()
    answer = requests.get(health, timeout=10)
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "unhealthy"
    assert answer.json()["error"]["details"]["redis"].startswith("Redis does not answer")


def test_once_redis_is_back_calls_at_the_writer_reach_a_display_and_staff_on_a_fanout(
        city, listen, redis_server):  # noqa: F811
    writer, (fanout_a, _) = city
    display, staff = listen(fanout_a), listen(fanout_a)
    display.subscribe(branch="hk-01")
    staff.subscribe("subscribe_staff", branch="hk-01", token=writer.tokens["mgr1"])
    redis_server.stop()
    redis_server.start()  # the same port, empty
    ticket = issue(writer, 1)[0]
    assert writer.post("/branches/hk-01/counters/5/next", "off1").json()["ticket"]["id"] == ticket["id"]
    # A call made before the processes' listeners are back (within a second or two) is lost to the
    # fan-outs' displays: recalled until one is heard, within a deadline.
    deadline, heard = time.monotonic() + 20, False
    while not heard and time.monotonic() < deadline:
        try:
            display.wait_for("called", lambda d: d["number"] == ticket["number"], timeout=1)
            heard = True
        except AssertionError:
            assert writer.post(f"/tickets/{ticket['id']}/recall", "off1").ok
    assert heard
    staff.wait_for("called", lambda d: d["ticket"] == ticket["id"], timeout=10)


def test_a_phone_on_a_fanout_hears_its_ticket_move_after_redis_restarted(city, listen, redis_server):  # noqa: F811
    writer, (_, fanout_b) = city
    ahead, mine = issue(writer, 2)
    phone = listen(fanout_b)
    assert phone.subscribe(ticket=mine["id"]) == {"ok": True}
    phone.wait_for("ticket", lambda d: d["position"] == 2, timeout=2)
    redis_server.stop()
    redis_server.start()  # the same port, empty: the tickets watched from fan-outs are listed again
    assert writer.post("/branches/hk-01/counters/5/next", "off1").json()["ticket"]["id"] == ahead["id"]
    deadline, heard = time.monotonic() + 20, False
    while not heard and time.monotonic() < deadline:
        try:
            phone.wait_for("ticket", lambda d: d["position"] == 1, timeout=1)
            heard = True
        except AssertionError:  # moved before the fan-out listed it again: the next move says it
            assert writer.post(f"/tickets/{ahead['id']}/recall", "off1").ok
    assert heard


def test_two_cities_on_one_redis_with_a_database_number_each_hear_only_their_own_calls(
        city, listen, tmp_path, real_template, redis_server):  # noqa: F811
    writer, (fanout_a, _) = city
    other = tmp_path / "other"
    other.mkdir()
    db = real_template.copy_to(other / "motcua.db")
    port = free_port()
    config = other / "config.toml"
    config.write_text(f'[server]\ndb = "{db}"\nport = {port}\nmessage_queue = "{redis_server.url[:-1]}1"\n')
    second = Server(db, port, other / "writer.log", tokens=dict(real_template.tokens), args=("--config", str(config)))
    second.start()
    second_fanout = Fanout(free_port(), other / "fanout.log")
    try:
        second_fanout.start(config)
        here, there, there_staff = listen(fanout_a), listen(second_fanout), listen(second_fanout)
        here.subscribe(branch="hk-01")
        there.subscribe(branch="hk-01")  # the same branch id, in another city
        there_staff.subscribe("subscribe_staff", branch="hk-01", token=second.tokens["mgr1"])
        mine = issue(writer, 1)[0]
        writer.post("/branches/hk-01/counters/5/next", "off1")
        here.wait_for("called", lambda d: d["number"] == mine["number"], timeout=5)
        # Its own call, published after: a process listening where the first city publishes hears that first.
        theirs = issue(second, 1)[0]
        assert second.post("/branches/hk-01/counters/4/next", "mgr1").json()["ticket"]["id"] == theirs["id"]
        there.wait_for("called", lambda d: d["number"] == theirs["number"], timeout=5)
        there_staff.wait_for("called", lambda d: d["ticket"] == theirs["id"], timeout=5)
        assert there.heard.count("called") == 1 and there_staff.heard.count("called") == 1
    finally:
        second_fanout.kill()
        second.kill(signal.SIGTERM)


def test_a_crowd_subscribing_at_once_is_answered_over_kept_connections_to_the_writer(city):
    """A fan-out's reconnect storm (another one died): many subscriptions read the writer at once, over a
    pool of connections large enough to keep them, never opening and dropping one per read."""
    writer, (fanout_a, _) = city
    crowd = [Listener(fanout_a) for _ in range(40)]
    try:
        start = threading.Barrier(len(crowd))

        def subscribe(listener: Listener) -> dict:
            start.wait(timeout=30)
            return listener.subscribe(branch="hk-01")

        with ThreadPoolExecutor(len(crowd)) as pool:
            assert list(pool.map(subscribe, crowd)) == [{"ok": True}] * len(crowd)
    finally:
        for listener in crowd:
            listener.close()
    assert "Connection pool is full" not in fanout_a.log.read_text()


def first_call(number: str):
    """A `queue` or `staff_queue` state whose latest call is the ticket number."""
    return lambda d: bool(d["recent_calls"]) and d["recent_calls"][0]["number"] == number


def test_a_fanout_whose_redis_subscription_is_cut_while_a_call_is_made_shows_it_once_back(
        city, listen, redis_server):  # noqa: F811
    """Redis drops subscribers (a restart, or a subscriber past `client-output-buffer-limit pubsub`): what is
    published meanwhile never comes. Once the fan-out has subscribed again, the displays, phones and staff it
    holds get the writer's current state, and so show the call made while it was away, without its repeat."""
    writer, (fanout_a, _) = city
    ahead, mine = issue(writer, 2)
    display, phone, staff = listen(fanout_a), listen(fanout_a), listen(fanout_a)
    display.subscribe(branch="hk-01")
    phone.subscribe(ticket=mine["id"])
    staff.subscribe("subscribe_staff", branch="hk-01", token=writer.tokens["mgr1"])
    display.wait_for("queue", timeout=5)
    phone.wait_for("ticket", lambda d: d["position"] == 2, timeout=5)
    staff.wait_for("staff_queue", timeout=5)
    admin = redis.Redis.from_url(redis_server.url)
    # Every subscriber cut off, and subscribing refused to all but the test's own witness until the call is
    # published: the fan-outs are surely away when it goes.
    admin.execute_command("ACL", "SETUSER", "witness", "on", "nopass", "~*", "&*", "+@all")
    admin.execute_command("ACL", "SETUSER", "default", "-subscribe")
    try:
        assert admin.client_kill_filter(_type="pubsub") >= 2
        witness = redis.Redis.from_url(redis_server.url, username="witness", password="x").pubsub()
        witness.psubscribe("*")
        assert writer.post("/branches/hk-01/counters/5/next", "off1").json()["ticket"]["id"] == ahead["id"]
        # Until the call, and every state naming it, has gone to nobody: nothing published later names it.
        awaited = {"called": lambda d: d["number"] == ahead["number"], "queue": first_call(ahead["number"]),
                   "ticket": lambda d: d["id"] == mine["id"] and d["position"] == 1,
                   "staff_queue": first_call(ahead["number"])}
        deadline = time.monotonic() + 10
        while awaited and time.monotonic() < deadline:
            message = witness.get_message(timeout=1)
            if message and message["type"] == "pmessage":
                sent = json.loads(message["data"])
                name, payload = sent.get("event"), sent.get("payload") or (sent.get("data") or [None])[0]
                if name in awaited and awaited[name](payload):
                    del awaited[name]
        assert not awaited
        witness.close()
    finally:
        admin.execute_command("ACL", "SETUSER", "default", "+subscribe")
    display.wait_for("queue", first_call(ahead["number"]), timeout=15)
    phone.wait_for("ticket", lambda d: d["position"] == 1, timeout=15)
    staff.wait_for("staff_queue", first_call(ahead["number"]), timeout=15)
    assert "called" not in display.heard  # published while it was away: the state says it instead


def test_a_subscription_made_while_the_writer_is_down_is_answered_once_it_is_back(city, listen):
    # The writer restarting (a deploy, a crash): a display that subscribes meanwhile must still join its
    # room and get the state, or it would hear nothing more until it happened to reconnect.
    writer, (fanout_a, _) = city
    writer.kill(signal.SIGTERM)
    display = listen(fanout_a)
    assert display.subscribe(branch="hk-01") == {"ok": True}
    with pytest.raises(AssertionError):
        display.wait_for("queue", timeout=1)
    writer.start()
    state, _ = display.wait_for("queue", timeout=15)
    assert state == writer.get("/branches/hk-01/state").json()
    ticket = issue(writer, 1)[0]
    assert writer.post("/branches/hk-01/counters/5/next", "off1").json()["ticket"]["id"] == ticket["id"]
    display.wait_for("called", lambda d: d["number"] == ticket["number"], timeout=5)
