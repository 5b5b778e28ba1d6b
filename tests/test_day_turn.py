"""The day's turn: at local midnight, with or without a restart, every ticket left over ends `expired`
with a `day_closed` event, counters are free and the branch shows today's (empty) queue."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from motcua.core.model import DAY_CLOSED, EXPIRED, OPEN, Conflict
from motcua.web.app import create_app
from motcua.web.events import EXTENSION
from motcua.web.events import socketio as io
from motcua.web.runtime import open_runtime
from motcua.web.views import branch_state, ticket_view

from conftest import MORNING, PASSWORD

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def at(day: int, hour: int, minute: int = 0) -> float:
    """Epoch seconds of a local time `day` days after MORNING's date."""
    base = datetime.fromtimestamp(MORNING, HANOI).replace(hour=0, minute=0, second=0)
    return (base + timedelta(days=day, hours=hour, minutes=minute)).timestamp()


def open_tickets_of_past_days(runtime) -> list[dict]:
    today = runtime.engine.local.day(runtime.engine.now())
    return runtime.store.query("select id, day, status from tickets where day < ? and status in "
                               "(select value from json_each(?))", [today, json.dumps(OPEN)])


def counters_holding_two(runtime) -> list[dict]:
    return runtime.store.query("select branch, counter, count(*) n from tickets where status in ('called', 'serving') "
                               "group by branch, counter having n > 1")


def leave_a_day_open(engine) -> dict[str, str]:
    """One ticket of each state a day can end with still open, and one done; their ids by state."""
    waiting = engine.issue("hk-01", "civil")
    called = engine.issue("hk-01", "civil")
    serving = engine.issue("hk-01", "cert")
    no_show = engine.issue("hk-01", "civil")
    done = engine.issue("hk-01", "civil")
    engine.call_ticket(done.id, "hk-01", "4")
    engine.done(done.id)
    engine.call_ticket(called.id, "hk-01", "1")
    engine.call_ticket(serving.id, "hk-01", "2")
    engine.start(serving.id)
    engine.call_ticket(no_show.id, "hk-01", "3")
    engine.no_show(no_show.id)
    return {"waiting": waiting.id, "called": called.id, "serving": serving.id, "no_show": no_show.id,
            "done": done.id}


def assert_closed(runtime, ids: dict[str, str]) -> None:
    """Each open ticket of `ids` ended expired with one day_closed event from its state; done stayed done."""
    for state, ticket_id in ids.items():
        stored = runtime.store.ticket(ticket_id)
        closing = [e for e in runtime.store.events(ticket_id) if e["note"] == DAY_CLOSED]
        if state == "done":
            assert stored.status == "done" and closing == []
            continue
        assert stored.status == EXPIRED and runtime.engine.ticket(ticket_id).status == EXPIRED
        assert [(e["from_status"], e["to_status"]) for e in closing] == [(state, EXPIRED)]


def assert_today_is_empty(engine, branch: str = "hk-01") -> None:
    state = branch_state(engine, branch)
    assert all(s["waiting"] == 0 for s in state["services"]), state["services"]
    assert all(c["serving"] is None for c in state["counters"]) and state["recent_calls"] == []


def test_three_days_a_restart_and_no_restart(config, clock):
    # Day 1: the server stops for the night with tickets in every open state.
    clock.set(at(0, 16))
    runtime = open_runtime(config, clock)
    day1 = leave_a_day_open(runtime.engine)
    runtime.store.close()

    # Day 2, 07:30: restarted. Yesterday is closed before anything is served.
    clock.set(at(1, 7, 30))
    runtime = open_runtime(config, clock)
    engine = runtime.engine
    assert_closed(runtime, day1)
    assert_today_is_empty(engine)
    view = ticket_view(engine, day1["waiting"])
    assert (view["status"], view["position"], view["estimated_wait_min"]) == (EXPIRED, None, None)
    with pytest.raises(Conflict):
        engine.transfer(day1["waiting"], "cert")
    fresh = engine.issue("hk-01", "civil")
    assert fresh.number == "A001"
    assert engine.call_next("hk-01", "1").id == fresh.id  # the counter yesterday's call held is free
    engine.done(fresh.id)
    day2 = leave_a_day_open(engine)

    # Day 3, no restart: the close runs at midnight, before anyone does anything.
    clock.set(at(1, 23, 59))
    assert engine.seconds_to_next_day() == pytest.approx(60)
    clock.advance(engine.seconds_to_next_day())
    assert engine.close_day() is True
    assert engine.close_day() is False
    assert_closed(runtime, day2)
    assert_today_is_empty(engine)
    assert open_tickets_of_past_days(runtime) == [] and counters_holding_two(runtime) == []
    runtime.store.close()

    # And a later restart finds nothing left to close or to hold.
    clock.set(at(2, 8))
    runtime = open_runtime(config, clock)
    assert runtime.engine.close_day() is False
    assert_today_is_empty(runtime.engine)
    runtime.store.close()


def test_a_restart_after_days_away_closes_every_missed_day(config, clock):
    clock.set(at(0, 10))
    runtime = open_runtime(config, clock)
    day1 = leave_a_day_open(runtime.engine)
    runtime.store.close()
    clock.set(at(3, 8))  # back after a long weekend: day 1 is older than the "yesterday" loaded
    runtime = open_runtime(config, clock)
    assert_closed(runtime, day1)
    assert open_tickets_of_past_days(runtime) == [] and counters_holding_two(runtime) == []
    runtime.store.close()


def test_the_first_operation_after_midnight_closes_the_day(config, clock):
    clock.set(at(0, 15))
    runtime = open_runtime(config, clock)
    engine = runtime.engine
    day1 = leave_a_day_open(engine)
    clock.set(at(1, 7))
    waiting = engine.issue("hk-01", "civil")
    assert_closed(runtime, day1)
    assert engine.call_next("hk-01", "1").id == waiting.id  # counter 1 held yesterday's call
    runtime.store.close()


def login(client) -> dict:
    answer = client.post("/api/v1/auth/login", json={"username": "off1", "password": PASSWORD})
    assert answer.status_code == 200, answer.json
    return {"Authorization": "Bearer " + answer.json["token"]}


def test_next_morning_over_http_after_a_restart(config, clock):
    clock.set(at(0, 16))
    runtime = open_runtime(config, clock)
    day1 = leave_a_day_open(runtime.engine)
    runtime.store.close()
    clock.set(at(1, 7, 45))
    app = create_app(config, clock)
    try:
        client = app.test_client()
        officer = login(client)
        state = client.get("/api/v1/branches/hk-01/state").json
        assert state["recent_calls"] == [] and all(c["serving"] is None for c in state["counters"])
        waiting = client.get(f"/api/v1/tickets/{day1['waiting']}").json
        assert (waiting["status"], waiting["position"]) == (EXPIRED, None)
        moved = client.post(f"/api/v1/tickets/{day1['waiting']}/transfer", json={"service": "cert"}, headers=officer)
        assert moved.status_code == 409 and moved.json["error"]["code"] == "bad_transition"
        called = client.post("/api/v1/branches/hk-01/counters/1/next", headers=officer).json
        assert called == {"ticket": None, "took_on": None}
    finally:
        app.extensions["motcua"].store.close()


class MidnightIO:
    """Stands in for the Socket.IO server in the day-closing task: a sleep moves the fake clock."""

    def __init__(self, clock, nights: int) -> None:
        self.clock, self.nights, self.slept = clock, nights, []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if len(self.slept) > self.nights:
            raise StopIteration  # the test has seen enough midnights
        self.clock.advance(seconds)


def test_the_server_s_task_closes_each_midnight_and_displays_hear_it(config, clock):
    clock.set(at(0, 17))
    app = create_app(config, clock)
    try:
        engine = app.extensions["motcua"].engine
        broadcaster = app.extensions[EXTENSION]
        wall = io.test_client(app, flask_test_client=app.test_client())
        wall.emit("subscribe", {"branch": "hk-02"})  # a branch with nothing left over still hears the turn
        for day in range(3):
            engine.issue("hk-01", "civil")
            engine.call_ticket(engine.issue("hk-02", "civil").id, "hk-02", "1")
            broadcaster.drain()
            wall.get_received()
            real_io, broadcaster.io = broadcaster.io, MidnightIO(clock, nights=1)
            with pytest.raises(StopIteration):
                broadcaster._close_days()
            broadcaster.io = real_io
            assert engine.local.day(clock.now()) == engine.local.day(at(day + 1, 0))
            assert_today_is_empty(engine)
            assert_today_is_empty(engine, "hk-02")
            broadcaster.drain()
            [state] = [e["args"][0] for e in wall.get_received() if e["name"] == "queue"]
            assert state["recent_calls"] == [] and all(c["serving"] is None for c in state["counters"])
        assert open_tickets_of_past_days(app.extensions["motcua"]) == []
    finally:
        app.extensions["motcua"].store.close()
