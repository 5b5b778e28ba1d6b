"""The engine's published read models: consistent snapshots, the same figures as its reads, kept as taken."""
from __future__ import annotations

import dataclasses
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from motcua.core import scenario
from motcua.core.clock import FakeClock
from motcua.core.engine import QueueEngine
from motcua.core.model import WAITING

from conftest import HOAN_KIEM

MORNING = datetime(2026, 11, 24, 8, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")).timestamp()


@pytest.fixture
def clock():
    return FakeClock(MORNING)


@pytest.fixture
def engine(clock):
    data = scenario.load(HOAN_KIEM)
    return QueueEngine(scenario.branches(data), scenario.services(data), scenario.counters(data), clock)


def test_branch_state_has_every_service_and_counter_with_the_engine_s_own_figures(engine):
    for _ in range(3):
        engine.issue("hk-01", "civil")
    engine.issue("hk-01", "cert")
    called = engine.call_next("hk-01", "2")
    state = engine.branch_state("hk-01")
    assert state.branch == engine.branch("hk-01")
    assert [(line.service.id, line.waiting, line.estimate_min) for line in state.services] == [
        (s, engine.waiting("hk-01", s), engine.estimate_new("hk-01", s)) for s in engine.branch("hk-01").services]
    assert [(line.counter, line.ticket) for line in state.counters] == [
        (c, engine.serving_at("hk-01", c.id)) for c in engine.counters_of("hk-01")]
    assert [line.ticket for line in state.counters if line.ticket] == [called]
    assert [call.number for call in state.recent_calls] == [called.number]


def test_a_snapshot_stays_as_taken_while_the_engine_moves_on(engine):
    engine.issue("hk-01", "civil")
    state, staff = engine.branch_state("hk-01"), engine.staff_state("hk-01")
    kept = (dataclasses.astuple(state), dataclasses.astuple(staff))
    engine.issue("hk-01", "civil")
    engine.call_next("hk-01", "1")
    assert (dataclasses.astuple(state), dataclasses.astuple(staff)) == kept
    assert engine.staff_state("hk-01").version > staff.version


def test_staff_state_lists_the_waiting_then_today_s_no_shows_and_names_the_kiosks_problems(engine, clock):
    first, second, third = (engine.issue("hk-01", "civil") for _ in range(3))
    engine.call_next("hk-01", "2")
    engine.no_show(first.id)
    engine.note_not_printed(third.id, "paper_out")
    clock.advance(60)
    staff = engine.staff_state("hk-01")
    assert staff.at == clock.now() and staff.version == engine.version
    assert [t.id for t in staff.waiting] == [second.id, third.id, first.id]
    assert [(p.number, p.event.note) for p in staff.kiosk_problems] == [(third.number, "not_printed:paper_out")]


def test_the_day_record_holds_the_branch_s_tickets_of_the_day_and_only_their_ratings(engine):
    here = engine.issue("hk-01", "civil")
    there = engine.issue("hk-02", "civil")
    for branch, ticket in (("hk-01", here), ("hk-02", there)):
        engine.call_ticket(ticket.id, branch, "1")
        engine.done(ticket.id)
        engine.rate(ticket.id, 4)
    record = engine.day_record("hk-01", here.day)
    assert [t.id for t in record.tickets] == [here.id]
    assert [r.ticket for r in record.ratings] == [here.id]


def test_the_city_has_a_row_per_branch_with_its_state_and_its_tickets_of_the_day(engine):
    ticket = engine.issue("hk-02", "land")
    rows = engine.city(ticket.day)
    assert [row.state.branch.id for row in rows] == engine.branch_ids()
    assert {row.state.branch.id: [t.id for t in row.tickets] for row in rows} == {
        b: ([ticket.id] if b == "hk-02" else []) for b in engine.branch_ids()}


def test_the_network_has_every_branch_s_counters_and_every_service(engine):
    network = engine.network()
    assert [setup.branch.id for setup in network.branches] == engine.branch_ids()
    assert [[line.counter for line in setup.counters] for setup in network.branches] == [
        engine.counters_of(b) for b in engine.branch_ids()]
    assert network.services == engine.all_services()


def test_a_staff_state_taken_while_kiosks_issue_and_counters_call_adds_up(engine):
    """Taken in one hold: the queues' counts are the waiting list's, however the operations interleave."""
    stop = threading.Event()

    def busy():
        while not stop.is_set():
            engine.issue("hk-01", "civil")
            engine.issue("hk-01", "cert")
            for counter in ("1", "2", "3"):
                ticket = engine.serving_at("hk-01", counter)
                if ticket is not None:
                    engine.done(ticket.id)
                engine.call_next("hk-01", counter)

    worker = threading.Thread(target=busy)
    worker.start()
    try:
        for _ in range(1000):
            staff = engine.staff_state("hk-01")
            waiting = [t for t in staff.waiting if t.status == WAITING]
            assert sum(line.waiting for line in staff.public.services) == len(waiting)
            held = {line.ticket.id for line in staff.public.counters if line.ticket}
            assert not held & {t.id for t in waiting}
    finally:
        stop.set()
        worker.join()
