"""Live events: Flask-SocketIO's test client on a fresh app for the rules, a real server for the wire."""
from __future__ import annotations

import queue
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import socketio

from motcua.accounts import Accounts
from motcua.config import load_config
from motcua.core import scenario
from motcua.core.clock import FakeClock
from motcua.core.engine import QueueEngine
from motcua.store import Store
from motcua.web.app import create_app
from motcua.web.events import EXTENSION, Broadcaster
from motcua.web.events import socketio as io
from motcua.web.openapi import spec

PASSWORD = "s3cret-pass"
MORNING = datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")).timestamp()


class Site:
    """One app on its own database and fake clock, with HTTP and Socket.IO test clients."""

    def __init__(self, tmp_path, **server) -> None:
        db = tmp_path / "motcua.db"
        store = Store(db)
        data = scenario.load(scenario.bundled("hoan-kiem"))
        store.load_network(scenario.services(data), scenario.branches(data), scenario.counters(data))
        self.clock = FakeClock(MORNING)
        accounts = Accounts(store, self.clock, 12)
        accounts.add_user("off1", PASSWORD, "officer", "hk-01")
        self.kiosk = {"Authorization": "Bearer " + accounts.add_device("kiosk", "hk-01")}
        store.close()
        config = load_config(None, server={"db": str(db), "async_mode": "threading", **server})
        self.app = create_app(config, self.clock)
        self.http = self.app.test_client()
        token = self.http.post("/api/v1/auth/login", json={"username": "off1", "password": PASSWORD}).json["token"]
        self.officer = {"Authorization": "Bearer " + token}
        self.broadcaster: Broadcaster = self.app.extensions[EXTENSION]
        self.clients = []

    def client(self):
        client = io.test_client(self.app, flask_test_client=self.http)
        self.clients.append(client)
        return client

    def issue(self, service: str) -> dict:
        answer = self.http.post("/api/v1/branches/hk-01/tickets", json={"service": service}, headers=self.kiosk)
        assert answer.status_code == 201, answer.json
        return answer.json

    def post(self, path: str, json=None) -> dict:
        answer = self.http.post("/api/v1" + path, json=json, headers=self.officer)
        assert answer.status_code < 300, answer.json
        return answer.json

    def close(self) -> None:
        for client in self.clients:
            if client.is_connected():
                client.disconnect()
        self.app.extensions["motcua"].store.close()


@pytest.fixture
def site(tmp_path):
    site = Site(tmp_path)
    yield site
    site.close()


def events(client, name: str) -> list:
    return [e["args"][0] for e in client.get_received() if e["name"] == name]


def test_subscribe_answers_with_the_current_state_at_once(site):
    display = site.client()
    assert display.emit("subscribe", {"branch": "hk-01"}, callback=True) == {"ok": True}
    [state] = events(display, "queue")
    assert state["branch"] == "hk-01" and {s["id"] for s in state["services"]} == {"civil", "cert", "land",
                                                                                     "business", "build"}
    cases = [({"branch": "nowhere"}, "unknown_branch"), ({"ticket": "nope"}, "unknown_ticket"),
             ({"room": "hk-01"}, "malformed"), ("hk-01", "malformed")]
    for data, code in cases:
        assert display.emit("subscribe", data, callback=True) == {"ok": False, "error": code}
        assert [e["error"]["code"] for e in events(display, "error")] == [code]


MALFORMED = {"none": (), "null": (None,), "a string": ("hk-01",), "a list": (["hk-01"],), "a number": (7,),
             "one argument too many": ({"branch": "hk-01"}, {"branch": "hk-01"}),
             "a wrong type inside": ({"branch": ["hk-01"], "ticket": 7},)}


# Every event a client may send: each handler registered, but the connection's own.
CLIENT_EVENTS = [name for name, _, _ in io.handlers if name not in ("connect", "disconnect")]


def test_every_client_event_is_published(site):
    assert sorted(CLIENT_EVENTS) == sorted(spec(site.app)["x-socketio"]["client"])


@pytest.mark.parametrize("form", MALFORMED)
@pytest.mark.parametrize("event", CLIENT_EVENTS)
def test_every_malformed_event_is_answered_with_an_error_and_logs_no_traceback(site, caplog, event, form):
    client = site.client()
    with caplog.at_level("DEBUG"):
        ack = client.emit(event, *MALFORMED[form], callback=True)
    assert ack == {"ok": False, "error": "malformed"}
    assert [e["error"]["code"] for e in events(client, "error")] == ["malformed"]
    assert not [r for r in caplog.records if r.exc_info], caplog.text
    assert client.emit("subscribe", {"branch": "hk-01"}, callback=True) == {"ok": True}  # the socket goes on


def test_call_reaches_branch_displays_and_the_ticket_phone(site):
    displays = [site.client() for _ in range(3)]
    phone = site.client()
    elsewhere = site.client()
    for display in displays:
        display.emit("subscribe", {"branch": "hk-01"})
    elsewhere.emit("subscribe", {"branch": "hk-02"})
    ticket = site.issue("build")
    site.broadcaster.drain()
    phone.emit("subscribe", {"ticket": ticket["id"]})
    [first] = events(phone, "ticket")
    assert first["status"] == "waiting" and first["id"] == ticket["id"]
    for client in displays + [elsewhere]:
        client.get_received()

    called = site.post("/branches/hk-01/counters/5/next")["ticket"]
    assert called["id"] == ticket["id"]
    # The call goes out on its own task, before anything else the change causes.
    site.broadcaster.send_calls()
    for client in displays + [phone]:
        [payload] = [e["args"][0] for e in client.get_received()]
        public = {"branch": "hk-01", "number": ticket["number"], "counter": "5", "service": "build",
                  "at": payload["at"], "recall": False, "channel": "walk_in"}
        # Only the ticket's own room hears its id.
        assert payload == (public if client is not phone else {**public, "ticket": ticket["id"]})
    site.broadcaster.drain()
    for display in displays:
        [state] = events(display, "queue")
        serving = {c["id"]: c["serving"] for c in state["counters"]}
        assert serving["5"] == {"number": ticket["number"], "service": "build", "status": "called"}
        assert state["recent_calls"][0]["number"] == ticket["number"]
    assert elsewhere.get_received() == []
    heard = phone.get_received()
    assert heard and {(e["name"], e["args"][0]["status"], e["args"][0]["counter"]) for e in heard} == {
        ("ticket", "called", "5")}

    site.post(f"/tickets/{ticket['id']}/recall")
    site.broadcaster.drain()
    [recall] = events(displays[0], "called")
    assert recall["number"] == ticket["number"] and recall["recall"] is True


def test_phone_hears_its_position_move(site):
    first = site.issue("business")
    second = site.issue("business")
    site.broadcaster.drain()
    phone = site.client()
    phone.emit("subscribe", {"ticket": second["id"]})
    [before] = events(phone, "ticket")
    site.post(f"/tickets/{first['id']}/transfer", {"service": "cert"})
    site.broadcaster.drain()
    assert {e["position"] for e in events(phone, "ticket")} == {before["position"] - 1}


def test_queue_pushes_are_coalesced_and_calls_are_not(tmp_path):
    site = Site(tmp_path, queue_push_interval_s=3600.0)
    try:
        display = site.client()
        display.emit("subscribe", {"branch": "hk-01"})
        display.get_received()
        site.issue("civil")
        site.broadcaster.step()
        assert len(events(display, "queue")) == 1  # the first change of the hour goes out
        site.issue("civil")
        site.issue("civil")
        site.post("/branches/hk-01/counters/2/next")
        site.broadcaster.step()
        received = display.get_received()
        assert [e["name"] for e in received] == ["called"]
        site.broadcaster.drain()
        [state] = events(display, "queue")
        assert next(s["waiting"] for s in state["services"] if s["id"] == "civil") == 2
    finally:
        site.close()


def test_a_phone_that_leaves_takes_its_subscription_with_it(site):
    ticket = site.issue("land")
    phone, other = site.client(), site.client()
    phone.emit("subscribe", {"ticket": ticket["id"]})
    other.emit("subscribe", {"ticket": ticket["id"]})
    phone.disconnect()
    assert ticket["id"] in site.broadcaster.watched["hk-01"]
    other.get_received()
    site.post("/branches/hk-01/counters/4/next")
    site.broadcaster.drain()
    assert {e["status"] for e in events(other, "ticket")} == {"called"}
    other.disconnect()
    assert site.broadcaster.watched["hk-01"] == {} and site.broadcaster.subscriptions == {}

    third = site.client()
    third.emit("subscribe", {"ticket": ticket["id"]})
    assert third.emit("unsubscribe", {"ticket": ticket["id"]}, callback=True) == {"ok": True}
    assert site.broadcaster.watched["hk-01"] == {}
    third.get_received()
    site.post(f"/tickets/{ticket['id']}/recall")
    site.broadcaster.drain()
    assert third.get_received() == []


class RecordingIO:
    """Stands in for the Socket.IO server: a room of many sockets, every emit and yield noted."""

    def __init__(self, members: int) -> None:
        self.sent: list[tuple[str, object]] = []
        self.on_yield = []
        room = {f"sid{i}": f"eio{i}" for i in range(members)}
        self.server = type("Server", (), {"manager": self})()
        self.rooms = {"branch:hk-01": room}

    def get_participants(self, namespace, room):
        return iter(self.rooms.get(room, {}).items())

    def emit(self, event, payload, to):
        self.sent.append((event, to))

    def sleep(self, seconds):
        while self.on_yield:
            self.on_yield.pop(0)()


def test_a_call_overtakes_a_queue_push_to_a_big_room():
    data = scenario.load(scenario.bundled("hoan-kiem"))
    engine = QueueEngine(scenario.branches(data), scenario.services(data), scenario.counters(data),
                         FakeClock(MORNING))
    fake = RecordingIO(members=1000)
    broadcaster = Broadcaster(fake, engine, interval_s=1.0, chunk=100)
    engine.issue("hk-01", "civil")
    broadcaster.pending.popleft()  # the push below is the one under way when the call comes
    broadcaster.dirty.add("hk-01")
    # A counter calls while the first slice of the push is being written.
    fake.on_yield.append(lambda: engine.call_next("hk-01", "2"))
    broadcaster.drain()
    names = [event for event, _ in fake.sent]
    assert names[0] == "queue" and names[1] == "called", names[:3]
    slices = [to for event, to in fake.sent if event == "queue"]
    # Every socket hears the queue once per push: the one under way, then the one the call caused.
    assert sorted(sum(slices, [])) == sorted([f"sid{i}" for i in range(1000)] * 2)
    assert max(len(s) for s in slices) == 100


def test_a_big_staff_room_is_checked_before_each_push_by_token_not_by_socket(site, monkeypatch):
    """3,000 staff sockets on 3 sessions: a push reads the revocation generation once and, sessions
    unchanged, nothing more; a session ended costs a look-up per token, never one per socket."""
    accounts = site.app.extensions["motcua"].accounts
    tokens = [site.http.post("/api/v1/auth/login", json={"username": "off1", "password": PASSWORD}).json["token"]
              for _ in range(3)]
    fake = RecordingIO(members=0)
    broadcaster = Broadcaster(fake, site.app.extensions["motcua"].engine, interval_s=1.0, accounts=accounts)
    for i in range(3000):
        broadcaster.join_staff(f"sid{i}", "hk-01", tokens[i % 3])
    broadcaster.to_staff("dossier", {"n": 0}, "hk-01")
    reads = []
    query = accounts.store.query
    monkeypatch.setattr(accounts.store, "query", lambda sql, params=(): reads.append(sql) or query(sql, params))
    for n in range(1, 4):
        broadcaster.to_staff("dossier", {"n": n}, "hk-01")
    assert len(reads) == 3                                   # one read a push, whatever the room's size
    assert [len(to) for event, to in fake.sent if event == "dossier"] == [3000] * 4
    assert site.http.post("/api/v1/auth/logout", headers={"Authorization": "Bearer " + tokens[0]}).status_code == 200
    reads.clear()
    fake.sent.clear()
    broadcaster.to_staff("dossier", {"n": 4}, "hk-01")
    assert len(reads) <= 1 + 2 * 3                           # the generation, then each token once
    [kept] = [to for event, to in fake.sent if event == "dossier"]
    told = [to for event, to in fake.sent if event == "error"]
    assert len(kept) == 2000 and sorted(told) == sorted(f"sid{i}" for i in range(0, 3000, 3))


# ---- a real server: what only the wire shows ---------------------------------------------------

class Listener:
    """A real Socket.IO client that keeps every event it receives, in order."""

    def __init__(self, server, transports=("websocket",)):
        self.events: queue.Queue = queue.Queue()
        self.heard: list[str] = []  # every event's name, in order
        self.client = socketio.Client(reconnection=False)
        for name in ("queue", "called", "ticket", "error", "staff_queue", "dossier"):
            self.client.on(name, lambda data, name=name: self._hear(name, data))
        self.client.connect(server.base, transports=list(transports), wait_timeout=10)

    def _hear(self, name, data):
        self.heard.append(name)
        self.events.put((name, data, time.monotonic()))

    def subscribe(self, event="subscribe", **room):
        return self.client.call(event, room, timeout=10)

    def wait_for(self, name, predicate=lambda data: True, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event, data, at = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if event == name and predicate(data):
                return data, at
        raise AssertionError(f"no {name} event matching within {timeout} s")

    def close(self):
        self.client.disconnect()


def test_a_real_server_pushes_calls_over_websocket_and_polling(fresh_server):
    server = fresh_server
    display = Listener(server)
    phone = Listener(server, transports=("polling",))
    try:
        assert display.subscribe(branch="hk-01") == {"ok": True}
        display.wait_for("queue", timeout=2)
        ticket = server.post("/branches/hk-01/tickets", "kiosk1", {"service": "build"}).json()
        assert phone.subscribe(ticket=ticket["id"]) == {"ok": True}
        phone.wait_for("ticket", lambda d: d["status"] == "waiting", timeout=2)
        answer = server.post("/branches/hk-01/counters/5/next", "off1")
        returned = time.monotonic()
        assert answer.json()["ticket"]["id"] == ticket["id"]
        payload, at = display.wait_for("called", lambda d: d["number"] == ticket["number"], timeout=2)
        assert at - returned < 0.5 and payload["counter"] == "5"
        status, _ = phone.wait_for("ticket", lambda d: d["status"] == "called", timeout=2)
        assert status["counter"] == "5"
        state, _ = display.wait_for(
            "queue", lambda d: any(c["serving"] and c["serving"]["number"] == ticket["number"] for c in d["counters"]),
            timeout=3)
        assert state["recent_calls"][0]["number"] == ticket["number"] and ticket["id"] not in str(state)
    finally:
        display.close()
        phone.close()


CITIZEN = {"id_number": "001090012345", "name": "Trần Thị Bình", "phone": "0987654321"}


def call_at_hk01(server) -> list:
    """`called`, with the ticket's id, for hk-01's staff room, and no other change before it."""
    return [server.post("/branches/hk-01/counters/1/next", "mgr1")]


def open_at_hk01(server) -> list:
    """`dossier`, with the citizen's name, for hk-01's staff room."""
    return [server.post("/dossiers", "mgr1", {"procedure": "KD-TL", "citizen": CITIZEN})]


def test_a_real_server_stops_telling_a_signed_out_staff_socket_of_calls_and_dossiers(fresh_server):
    server = fresh_server
    witness = Listener(server)
    listeners = [witness]
    # Waiting before anyone subscribes: its queue push would check the room before the call does.
    assert server.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).status_code == 201
    try:
        assert witness.subscribe("subscribe_staff", branch="hk-01", token=server.tokens["mgr1"]) == {"ok": True}
        for event, trigger in (("called", call_at_hk01), ("dossier", open_at_hk01)):
            server.tokens["ended"] = server.login("off1")
            ended = Listener(server)
            listeners.append(ended)
            assert ended.subscribe("subscribe_staff", branch="hk-01", token=server.tokens["ended"]) == {"ok": True}
            ended.wait_for("staff_queue")
            assert server.post("/auth/logout", "ended").status_code == 200
            assert all(answer.status_code < 300 for answer in trigger(server))
            witness.wait_for(event)                                   # the room heard it
            ended.wait_for("error", lambda d: d["error"]["code"] == "session_ended")
            assert event not in ended.heard, ended.heard              # and whatever it heard came before that
    finally:
        for listener in listeners:
            listener.close()


def test_a_waiting_tickets_socket_carries_its_offer(site):
    for _ in range(12):
        site.issue("land")
    mine = site.issue("land")
    site.broadcaster.drain()
    phone = site.client()
    phone.emit("subscribe", {"ticket": mine["id"]})
    [first] = events(phone, "ticket")
    offer = site.http.get(f"/api/v1/tickets/{mine['id']}").json["offer"]
    assert offer is not None and first["offer"] == offer
    called = site.post("/branches/hk-01/counters/4/next")["ticket"]   # a change at its branch: pushed again
    assert called["id"] != mine["id"]
    site.broadcaster.drain()
    pushed = events(phone, "ticket")
    assert pushed and pushed[-1]["offer"] is not None and pushed[-1]["offer"]["branch"] == offer["branch"]
