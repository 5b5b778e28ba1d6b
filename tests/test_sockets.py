"""Live events with real python-socketio clients against a running server."""
from __future__ import annotations

import queue
import time

import socketio


class Listener:
    """A real Socket.IO client that keeps every event it receives, in order."""

    def __init__(self, server, transports=("websocket",)):
        self.events: queue.Queue = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        for name in ("queue", "called", "ticket", "error"):
            self.client.on(name, lambda data, name=name: self.events.put((name, data, time.monotonic())))
        self.client.connect(server.base, transports=list(transports), wait_timeout=10)

    def subscribe(self, **room):
        return self.client.call("subscribe", room, timeout=10)

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


def test_subscribe_answers_with_the_current_state_at_once(server):
    display = Listener(server)
    try:
        assert display.subscribe(branch="hk-01") == {"ok": True}
        state, _ = display.wait_for("queue", timeout=2)
        assert state["branch"] == "hk-01" and {s["id"] for s in state["services"]} >= {"civil", "cert"}
        assert display.subscribe(branch="nowhere") == {"ok": False, "error": "unknown_branch"}
        error, _ = display.wait_for("error", timeout=2)
        assert error["error"]["code"] == "unknown_branch"
    finally:
        display.close()


def test_call_reaches_branch_displays_and_the_ticket_phone(server):
    displays = [Listener(server) for _ in range(3)]
    phone = Listener(server, transports=("polling", "websocket"))
    try:
        for display in displays:
            display.subscribe(branch="hk-01")
        ticket = server.post("/branches/hk-01/tickets", "kiosk1", {"service": "build"}).json()
        phone.subscribe(ticket=ticket["id"])
        first, _ = phone.wait_for("ticket", timeout=2)
        assert first["status"] == "waiting" and first["id"] == ticket["id"]
        # Counter 5 serves land and build; call until it is our ticket.
        while True:
            sent = time.monotonic()
            answer = server.post("/branches/hk-01/counters/5/next", "off1")
            returned = time.monotonic()
            called = answer.json()["ticket"]
            if called["id"] == ticket["id"]:
                break
            server.post(f"/tickets/{called['id']}/done", "off1")
        for display in displays:
            payload, at = display.wait_for("called", lambda d: d["ticket"] == ticket["id"], timeout=2)
            assert payload == {"branch": "hk-01", "ticket": ticket["id"], "number": ticket["number"],
                               "counter": "5", "service": "build", "at": payload["at"], "recall": False}
            assert at - returned < 0.5, f"{(at - sent) * 1000:.0f} ms from the call"
        status, _ = phone.wait_for("ticket", lambda d: d["status"] == "called", timeout=2)
        assert status["counter"] == "5"
        server.post(f"/tickets/{ticket['id']}/recall", "off1")
        recall, _ = displays[0].wait_for("called", lambda d: d["ticket"] == ticket["id"], timeout=2)
        assert recall["recall"] is True
        queue_state, _ = displays[0].wait_for(
            "queue", lambda d: any(c["serving"] and c["serving"]["ticket"] == ticket["id"] for c in d["counters"]),
            timeout=3)
        assert queue_state["recent_calls"][0]["ticket"] == ticket["id"]
    finally:
        for client in displays + [phone]:
            client.close()


def test_phone_hears_its_position_move(server):
    first = server.post("/branches/hk-01/tickets", "kiosk1", {"service": "business"}).json()
    second = server.post("/branches/hk-01/tickets", "kiosk1", {"service": "business"}).json()
    phone = Listener(server)
    try:
        phone.subscribe(ticket=second["id"])
        before, _ = phone.wait_for("ticket", timeout=2)
        state = server.get("/branches/hk-01/state").json()
        serving = next(c["serving"] for c in state["counters"] if c["id"] == "6")
        if serving:
            server.post(f"/tickets/{serving['ticket']}/done", "off1")
        server.post(f"/tickets/{first['id']}/transfer", "off1", {"service": "cert"})
        after, _ = phone.wait_for("ticket", lambda d: d["position"] < before["position"], timeout=3)
        assert after["position"] == before["position"] - 1
    finally:
        phone.close()
