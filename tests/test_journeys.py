"""A citizen's way through the branches, on a fake clock: issue with offers, redirect, check in,
and what happens to a citizen on the way who is early, on time, or never comes."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from motcua.core import scenario
from motcua.core.balancing import RedirectRules
from motcua.core.clock import FakeClock
from motcua.core.engine import QueueEngine
from motcua.core.journeys import Journeys
from motcua.core.model import Conflict, NotFound

from conftest import HOAN_KIEM

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 11, 24, 9, 0, tzinfo=HANOI).timestamp())


@pytest.fixture
def engine(clock):
    data = scenario.load(HOAN_KIEM)
    return QueueEngine(scenario.branches(data), scenario.services(data), scenario.counters(data), clock)


@pytest.fixture
def journeys(engine):
    return Journeys(engine, RedirectRules())


def sent_to_hk03(engine, journeys):
    """A land citizen at a crowded hk-01 who takes hk-03, the branch offered first."""
    for _ in range(12):
        engine.issue("hk-01", "land")
    issued = journeys.issue("hk-01", "land")
    assert issued.alternatives[0].branch == "hk-03"
    return issued.ticket, journeys.redirect(issued.ticket.id, "hk-03")


def test_a_redirect_queues_the_citizen_there_by_their_expected_arrival(engine, journeys, clock):
    origin, moved = sent_to_hk03(engine, journeys)
    ticket = moved.ticket
    assert engine.ticket(origin.id).status == "transferred" and engine.ticket(origin.id).transferred_to == ticket.id
    assert (ticket.branch, ticket.status, ticket.number, ticket.issued_at) == ("hk-03", "waiting", "C001", origin.issued_at)
    assert ticket.due_at == pytest.approx(clock.now() + moved.travel_min * 60)
    # Idle counter there: called once there, after the trip; the ticket says so.
    assert ticket.estimate_min == pytest.approx(moved.travel_min) == engine.estimate(ticket)[1]
    assert engine.waiting("hk-03", "land") == 1 and engine.waiting("hk-01", "land") == 12


def test_not_called_before_arriving_while_the_branch_serves_who_is_there(engine, journeys, clock):
    _, moved = sent_to_hk03(engine, journeys)
    clock.advance(60)
    walk_in = engine.issue("hk-03", "land")  # arrives before the traveller: goes first
    assert engine.call_next("hk-03", "3").id == walk_in.id
    engine.done(walk_in.id)
    assert engine.call_next("hk-03", "3") is None  # the traveller cannot be there yet
    clock.set(moved.ticket.due_at)
    assert engine.call_next("hk-03", "3").id == moved.ticket.id


def test_checking_in_early_makes_the_citizen_callable_and_ranks_them_from_then(engine, journeys, clock):
    _, moved = sent_to_hk03(engine, journeys)
    clock.advance(60)
    arrived = journeys.check_in(moved.ticket.id)
    assert arrived.due_at == clock.now()
    walk_in = engine.issue("hk-03", "land")  # came after the check-in: ranks behind
    assert engine.call_next("hk-03", "3").id == moved.ticket.id
    assert engine.ticket(walk_in.id).status == "waiting"
    with pytest.raises(Conflict):
        journeys.check_in(moved.ticket.id)  # called already
    assert journeys.check_in(walk_in.id) == engine.ticket(walk_in.id)  # never on the way: nothing changes


def test_a_citizen_who_never_arrives_is_called_once_due_and_is_a_no_show(engine, journeys, clock):
    _, moved = sent_to_hk03(engine, journeys)
    clock.set(moved.ticket.due_at + 120)
    called = engine.call_next("hk-03", "3")
    assert called.id == moved.ticket.id
    assert engine.no_show(called.id).status == "no_show"
    assert engine.waiting("hk-03", "land") == 0 and engine.estimate_new("hk-03", "land") == 0


def test_redirect_refusals_and_no_offers_for_priority(engine, journeys):
    for _ in range(12):
        engine.issue("hk-01", "land")
    assert journeys.issue("hk-01", "land", priority=True).alternatives == []
    ticket = journeys.issue("hk-01", "land").ticket
    with pytest.raises(NotFound):
        journeys.redirect(ticket.id, "nowhere")
    for rules, target in ((RedirectRules(), "hk-01"), (RedirectRules(max_km=0.5), "hk-03")):
        with pytest.raises(Conflict) as refused:  # its own branch; too far
            Journeys(engine, rules).redirect(ticket.id, target)
        assert refused.value.code == "not_reachable"
    assert engine.ticket(ticket.id).status == "waiting"
    assert Journeys(engine, RedirectRules(max_offers=0)).issue("hk-01", "land").alternatives == []
