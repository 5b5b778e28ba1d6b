"""Pausing a counter with a reason: the engine's refusals, the estimates and the staffing advice
without it, its idle time, the store keeping it, and the API routes."""
from __future__ import annotations

import pytest

from motcua.core import scenario
from motcua.core.clock import FakeClock
from motcua.core.engine import QueueEngine
from motcua.core.model import Conflict, Invalid
from motcua.core.staffing import HourlyRates, advise
from motcua.store import Store

from conftest import HOAN_KIEM, MORNING

DATA = scenario.load(HOAN_KIEM)


def make_engine(clock, store=None, tickets=()) -> QueueEngine:
    counters = store.counters() if store else scenario.counters(DATA)
    return QueueEngine(scenario.branches(DATA), scenario.services(DATA), counters, clock, journal=store,
                       tickets=tickets)


@pytest.fixture
def clock():
    return FakeClock(MORNING)


@pytest.fixture
def engine(clock):
    return make_engine(clock)


def code_of(action) -> str:
    with pytest.raises((Conflict, Invalid)) as refused:
        action()
    return refused.value.code


# ---- the engine --------------------------------------------------------------------------------

def test_a_paused_counter_calls_nobody_until_resumed(engine, clock):
    waiting = engine.issue("hk-01", "civil")
    paused = engine.pause("hk-01", "2", "break")
    assert (paused.pause_reason, paused.since, paused.open, paused.available) == ("break", MORNING, True, False)
    assert code_of(lambda: engine.call_next("hk-01", "2")) == "counter_paused"
    assert code_of(lambda: engine.call_ticket(waiting.id, "hk-01", "2")) == "counter_paused"
    assert code_of(lambda: engine.pause("hk-01", "2", "meeting")) == "counter_paused"
    clock.advance(600)
    resumed = engine.resume("hk-01", "2")
    assert (resumed.pause_reason, resumed.since) == (None, MORNING + 600)
    assert engine.call_next("hk-01", "2").id == waiting.id


def test_only_a_free_open_counter_pauses_and_only_a_paused_one_resumes(engine):
    assert code_of(lambda: engine.pause("hk-01", "1", "nap")) == "bad_value"
    assert code_of(lambda: engine.resume("hk-01", "1")) == "not_paused"
    engine.issue("hk-01", "civil")
    engine.call_next("hk-01", "1")
    assert code_of(lambda: engine.pause("hk-01", "1", "break")) == "counter_busy"
    engine.update_counter("hk-01", "3", open=False)
    assert code_of(lambda: engine.pause("hk-01", "3", "break")) == "counter_closed"
    assert engine.counter("hk-01", "1").pause_reason is None and engine.counter("hk-01", "3").pause_reason is None


def test_closing_a_paused_counter_ends_the_pause(engine, clock):
    engine.pause("hk-01", "2", "meeting")
    clock.advance(60)
    closed = engine.update_counter("hk-01", "2", open=False)
    assert (closed.open, closed.pause_reason, closed.since) == (False, None, MORNING + 60)
    reopened = engine.update_counter("hk-01", "2", open=True)
    assert reopened.available and engine.call_next("hk-01", "2") is None


def test_a_pause_ends_with_the_day(engine, clock):
    engine.pause("hk-01", "2", "break")
    clock.advance(24 * 3600)
    assert engine.close_day()
    counter = engine.counter("hk-01", "2")
    assert (counter.pause_reason, counter.since) == (None, MORNING + 24 * 3600)


def test_a_paused_counter_is_dealt_no_tickets_in_the_estimates(engine):
    # Land is served at hk-01 by counters 4 and 5 only.
    tickets = [engine.issue("hk-01", "land") for _ in range(4)]
    both = engine.estimate_new("hk-01", "land")
    last_with_both = engine.estimate(tickets[-1])[1]
    engine.pause("hk-01", "4", "break")
    assert engine.estimate_new("hk-01", "land") > both
    assert engine.estimate(tickets[-1])[1] > last_with_both
    engine.pause("hk-01", "5", "other")
    assert engine.estimate_new("hk-01", "land") is None
    assert engine.estimate(tickets[0]) == (1, None)
    engine.resume("hk-01", "4")
    engine.resume("hk-01", "5")
    assert engine.estimate_new("hk-01", "land") == both


def test_staffing_does_not_count_a_paused_counter(clock):
    engine = make_engine(clock)
    rates = HourlyRates(MORNING, {"land": [0.0] * 12})  # nobody more comes: only the queue counts
    for _ in range(6):
        engine.issue("hk-01", "land")
    have = next(n.have for n in advise(engine, "hk-01", rates).needs if n.service == "land")
    engine.pause("hk-01", "4", "break")
    paused = next(n.have for n in advise(engine, "hk-01", rates).needs if n.service == "land")
    assert paused < have


def test_idle_time_starts_when_the_counter_lets_its_ticket_go_or_takes_citizens_again(engine, clock):
    assert engine.idle_since("hk-01", "1") is None          # nothing known since it was loaded
    first = engine.issue("hk-01", "civil")
    engine.call_next("hk-01", "1")
    assert engine.idle_since("hk-01", "1") is None          # it holds a ticket
    clock.advance(300)
    engine.done(first.id)
    assert engine.idle_since("hk-01", "1") == MORNING + 300
    clock.advance(60)
    second = engine.issue("hk-01", "civil")
    engine.call_next("hk-01", "1")
    clock.advance(60)
    engine.transfer(second.id, "cert")                      # letting a ticket go by moving it counts too
    assert engine.idle_since("hk-01", "1") == MORNING + 420
    clock.advance(60)
    engine.pause("hk-01", "1", "break")
    assert engine.idle_since("hk-01", "1") is None          # paused is not idle
    clock.advance(600)
    engine.resume("hk-01", "1")
    assert engine.idle_since("hk-01", "1") == MORNING + 1080


def test_the_store_keeps_a_pause_and_a_restarted_engine_knows_the_idle_time(tmp_path, clock):
    store = Store(tmp_path / "motcua.db")
    store.load_network(scenario.services(DATA), scenario.branches(DATA), scenario.counters(DATA))
    engine = make_engine(clock, store)
    served = engine.issue("hk-01", "civil")
    engine.call_next("hk-01", "1")
    clock.advance(120)
    engine.done(served.id)
    clock.advance(30)
    engine.pause("hk-01", "2", "meeting")
    store.close()
    store = Store(tmp_path / "motcua.db")
    again = make_engine(clock, store, store.tickets(served.day))
    paused = again.counter("hk-01", "2")
    assert (paused.pause_reason, paused.since) == ("meeting", MORNING + 150)
    assert again.idle_since("hk-01", "1") == MORNING + 120
    assert code_of(lambda: again.call_next("hk-01", "2")) == "counter_paused"
    store.close()


# ---- the API -----------------------------------------------------------------------------------

def test_an_officer_pauses_and_resumes_a_counter_through_the_api(api):
    ticket = api.issue("civil")
    paused = api.post("/branches/hk-01/counters/2/pause", "off1", {"reason": "meeting"})
    assert paused.status_code == 200, paused.text
    assert paused.json | {"since": None} == {"id": "2", "branch": "hk-01", "services": ["civil"], "open": True,
                                             "paused": True, "pause_reason": "meeting", "since": None}
    refused = api.post("/branches/hk-01/counters/2/next", "off1")
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "counter_paused")
    resumed = api.post("/branches/hk-01/counters/2/resume", "off1")
    assert resumed.status_code == 200 and resumed.json["paused"] is False
    assert api.post("/branches/hk-01/counters/2/next", "off1").json["ticket"]["id"] == ticket["id"]


@pytest.mark.parametrize("who, path, body, status, code", [
    (None, "/branches/hk-01/counters/2/pause", {"reason": "break"}, 401, "unauthorized"),
    ("off1", "/branches/hk-01/counters/99/pause", {"reason": "break"}, 404, "unknown_counter"),
    ("off2", "/branches/hk-01/counters/2/pause", {"reason": "break"}, 403, "other_branch"),
    ("kiosk1", "/branches/hk-01/counters/2/pause", {"reason": "break"}, 403, "forbidden"),
    ("off1", "/branches/hk-01/counters/2/pause", {"reason": "lunch"}, 400, "bad_value"),
    ("off1", "/branches/hk-01/counters/2/pause", {}, 400, "missing_field"),
    ("off1", "/branches/hk-01/counters/2/resume", None, 409, "not_paused"),
    ("off2", "/branches/hk-01/counters/2/resume", None, 403, "other_branch"),
])
def test_pause_and_resume_refuse_in_the_published_order(api, who, path, body, status, code):
    answer = api.post(path, who, body)
    assert (answer.status_code, answer.json["error"]["code"]) == (status, code)


def test_transfer_options_show_the_queue_here_and_other_branches_with_travel_and_wait(api):
    api.issue("land")
    answer = api.get("/branches/hk-01/transfer-options", "off1")
    assert answer.status_code == 200, answer.text
    land = next(s for s in answer.json["services"] if s["id"] == "land")
    assert land["here"]["waiting"] == 1
    branches = land["branches"]
    assert branches and all(b["branch"] != "hk-01" and b["travel_min"] >= 0 for b in branches)
    totals = [b["travel_min"] + b["estimated_wait_min"] for b in branches if b["estimated_wait_min"] is not None]
    assert all(a <= b + 1 for a, b in zip(totals, totals[1:]))   # soonest first, up to rounding
    assert api.get("/branches/hk-01/transfer-options", "off2").status_code == 403


def counter_in(api, counter_id: str, who: str = "off1") -> dict:
    state = api.get("/branches/hk-01/staff-state", who)
    assert state.status_code == 200, state.text
    return next(c for c in state.json["counters"] if c["id"] == counter_id)


def test_the_staff_state_says_what_each_counter_is_doing_and_since_when_it_is_idle(api, clock):
    assert counter_in(api, "1")["status"] == "idle"
    ticket = api.issue("civil")
    api.post("/branches/hk-01/counters/1/next", "off1")
    assert counter_in(api, "1")["status"] == "called" and counter_in(api, "1")["idle_since"] is None
    api.post(f"/tickets/{ticket['id']}/start", "off1")
    assert counter_in(api, "1")["ticket"]["status"] == "serving"
    clock.advance(300)
    api.post(f"/tickets/{ticket['id']}/done", "off1")
    clock.advance(120)
    idle = counter_in(api, "1")
    assert (idle["status"], idle["idle_min"]) == ("idle", 2.0)
    assert idle["idle_since"] == "2026-11-24T08:05:00+07:00"     # MORNING, and the five minutes of service
    api.post("/branches/hk-01/counters/1/pause", "off1", {"reason": "other"})
    paused = counter_in(api, "1")
    assert (paused["status"], paused["paused"], paused["pause_reason"], paused["idle_min"]) == ("paused", True, "other",
                                                                                             None)
    api.post("/branches/hk-01/counters/1", "mgr1", {"open": False})
    assert counter_in(api, "1")["status"] == "closed" and counter_in(api, "1")["paused"] is False


def test_the_staff_state_lists_waiting_tickets_in_calling_order_hears_kiosks_and_counts_changes(api):
    civil = api.issue("civil")
    cert = api.issue("cert", priority=True)       # ranked 20 minutes earlier: called first
    before = api.get("/branches/hk-01/staff-state", "off1").json
    assert [t["id"] for t in before["waiting"]] == [cert["id"], civil["id"]]
    api.post(f"/tickets/{civil['id']}/not-printed", "kiosk1", {"problem": "paper_out"})
    after = api.get("/branches/hk-01/staff-state", "off1").json
    assert after["version"] > before["version"]
    assert [(p["number"], p["problem"]) for p in after["kiosk_problems"]] == [(civil["number"], "paper_out")]
    assert api.get("/branches/hk-02/staff-state", "off2").json["kiosk_problems"] == []


def test_a_citizen_sent_to_another_branch_is_expected_there_after_the_trip(api, clock):
    ticket = api.issue("civil")
    api.post("/branches/hk-01/counters/1/next", "off1")
    options = api.get("/branches/hk-01/transfer-options", "off1").json
    trip = next(b for b in next(s for s in options["services"] if s["id"] == "civil")["branches"]
                if b["branch"] == "hk-02")
    moved = api.post(f"/tickets/{ticket['id']}/transfer", "off1", {"service": "civil", "branch": "hk-02"})
    assert moved.status_code == 200, moved.text
    new = moved.json
    assert new["issued_at"] == ticket["issued_at"] and new["due_at"] is not None
    assert api.post("/branches/hk-02/counters/1/next", "off2").json["ticket"] is None   # still on the way
    clock.advance((trip["travel_min"] + 1) * 60)
    assert api.post("/branches/hk-02/counters/1/next", "off2").json["ticket"]["id"] == new["id"]
