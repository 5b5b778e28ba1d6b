"""Who holds a counter (motcua.core.holders): one officer per counter, take-overs explicit and in the
event chain, releases; the engine on a fake clock, the store keeping it, the report crediting the
officer who served, and the API routes."""
from __future__ import annotations

import pytest

from motcua import audit
from motcua.core import reports, scenario
from motcua.core.clock import FakeClock
from motcua.core.engine import QueueEngine
from motcua.core.model import Conflict
from motcua.store import Store

from conftest import HOAN_KIEM, MORNING

DATA = scenario.load(HOAN_KIEM)
LAN, MINH = "staff:lan", "staff:minh"


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


def refusal(action) -> Conflict:
    with pytest.raises(Conflict) as refused:
        action()
    return refused.value


# ---- the engine --------------------------------------------------------------------------------

def test_acting_at_a_free_counter_takes_it_and_another_officer_is_refused_every_action(engine, clock):
    first, second = engine.issue("hk-01", "land"), engine.issue("hk-01", "land")
    assert engine.call_next("hk-01", "4", actor=LAN).id == first.id
    counter = engine.counter("hk-01", "4")
    assert (counter.holder, counter.held_since) == (LAN, MORNING)
    attempts = {
        "next": lambda: engine.call_next("hk-01", "4", actor=MINH),
        "pick": lambda: engine.call_ticket(second.id, "hk-01", "4", actor=MINH),
        "recall": lambda: engine.recall(first.id, actor=MINH),
        "start": lambda: engine.start(first.id, actor=MINH),
        "done": lambda: engine.done(first.id, actor=MINH),
        "no-show": lambda: engine.no_show(first.id, actor=MINH),
        "transfer": lambda: engine.transfer(first.id, "cert", actor=MINH),
        "transfer away": lambda: engine.transfer(first.id, "civil", "hk-02", actor=MINH),
        "pause": lambda: engine.pause("hk-01", "4", "break", actor=MINH),
        "resume": lambda: engine.resume("hk-01", "4", actor=MINH),
        "release": lambda: engine.release("hk-01", "4", actor=MINH),
        "take": lambda: engine.take("hk-01", "4", MINH),
    }
    for name, attempt in attempts.items():
        refused = refusal(attempt)
        assert refused.code == "counter_taken", name
        assert refused.details == {"branch": "hk-01", "counter": "4", "holder": "lan"}, name
    assert engine.ticket(first.id).status == "called" and engine.ticket(second.id).status == "waiting"
    # The holder goes on; the rule binds no one else's counter, and a caller with no actor (the simulator).
    assert engine.done(first.id, actor=LAN).status == "done"
    assert engine.call_next("hk-01", "5", actor=MINH).id == second.id
    assert engine.done(second.id).status == "done"


def test_a_take_over_is_explicit_says_whose_it_was_and_hands_the_ticket_on(engine, clock):
    ticket = engine.issue("hk-01", "land")
    engine.call_next("hk-01", "4", actor=LAN)
    clock.advance(60)
    counter, previous = engine.take("hk-01", "4", MINH, take_over=True)
    assert (counter.holder, counter.held_since, previous) == (MINH, MORNING + 60, LAN)
    assert refusal(lambda: engine.done(ticket.id, actor=LAN)).details["holder"] == "minh"
    assert engine.done(ticket.id, actor=MINH).status == "done"
    # Taking one's own counter, or a free one, changes nothing and was nobody's.
    assert engine.take("hk-01", "4", MINH) == (counter, None)
    assert engine.take("hk-01", "6", LAN)[1] is None and engine.counter("hk-01", "6").holder == LAN


def test_nobody_waiting_still_takes_the_counter_and_release_frees_it(engine):
    assert engine.call_next("hk-01", "4", actor=LAN) is None
    assert engine.counter("hk-01", "4").holder == LAN
    assert refusal(lambda: engine.call_next("hk-01", "4", actor=MINH)).code == "counter_taken"
    freed = engine.release("hk-01", "4", LAN)
    assert (freed.holder, freed.held_since) == (None, None)
    assert engine.call_next("hk-01", "4", actor=MINH) is None and engine.counter("hk-01", "4").holder == MINH


def test_a_pause_keeps_the_counter_a_sign_out_and_the_day_s_close_free_it(engine, clock):
    engine.pause("hk-01", "4", "break", actor=LAN)
    engine.take("hk-01", "5", LAN)
    assert engine.counter("hk-01", "4").holder == LAN
    assert refusal(lambda: engine.resume("hk-01", "4", actor=MINH)).code == "counter_taken"
    assert {c.id for c in engine.release_held_by(LAN)} == {"4", "5"}
    assert engine.counter("hk-01", "4").holder is None and engine.counter("hk-01", "4").pause_reason == "break"
    engine.resume("hk-01", "4", actor=MINH)
    clock.advance(20 * 3600)  # the next morning
    assert engine.close_day()
    assert all(c.holder is None for c in engine.counters.values())


def test_takes_take_overs_and_releases_are_events_of_the_chain_and_the_store_keeps_the_holder(tmp_path, clock):
    store = Store(tmp_path / "m.db")
    store.load_network(scenario.services(DATA), scenario.branches(DATA), scenario.counters(DATA))
    engine = make_engine(clock, store)
    ticket = engine.issue("hk-01", "land")
    engine.call_next("hk-01", "4", actor=LAN)
    clock.advance(30)
    engine.take("hk-01", "4", MINH, take_over=True)
    engine.done(ticket.id, actor=MINH)
    engine.release("hk-01", "4", MINH)
    engine.take("hk-01", "2", LAN)
    rows = store.query("select ticket, branch, from_status, to_status, counter, actor, note from events "
                       "where ticket is null order by id")
    assert rows == [
        {"ticket": None, "branch": "hk-01", "from_status": "free", "to_status": "held", "counter": "4",
         "actor": LAN, "note": None},
        {"ticket": None, "branch": "hk-01", "from_status": "held", "to_status": "held", "counter": "4",
         "actor": MINH, "note": "taken_from:staff:lan"},
        {"ticket": None, "branch": "hk-01", "from_status": "held", "to_status": "free", "counter": "4",
         "actor": MINH, "note": "released"},
        {"ticket": None, "branch": "hk-01", "from_status": "free", "to_status": "held", "counter": "2",
         "actor": LAN, "note": None}]
    # The take and the call it came with are one commit, the take first.
    ids = [r["to_status"] for r in store.query("select to_status from events order by id")]
    assert ids[1:3] == ["held", "called"]
    assert store.read(lambda db: audit.verify(db.conn)).broken is None
    restarted = make_engine(clock, store, store.tickets("2000-01-01"))
    assert restarted.counter("hk-01", "2").holder == LAN and restarted.counter("hk-01", "2").held_since == MORNING + 30
    assert refusal(lambda: restarted.call_next("hk-01", "2", actor=MINH)).code == "counter_taken"
    store.close()


# ---- the report credits the officer who served ------------------------------------------------

def test_the_report_credits_the_officer_who_finished_the_ticket_not_its_caller():
    tickets = [{"id": "t1", "service": "civil", "status": "done", "created_at": 0.0, "due_at": None,
                "first_called_at": 60.0, "called_at": 60.0, "started_at": 90.0, "ended_at": 600.0}]
    events = [{"ticket": "t1", "from_status": "waiting", "to_status": "called", "counter": "4", "actor": LAN},
              {"ticket": "t1", "from_status": "called", "to_status": "serving", "counter": "4", "actor": LAN},
              {"ticket": "t1", "from_status": "serving", "to_status": "done", "counter": "4", "actor": MINH}]
    [facts] = reports.ticket_facts(tickets, events, [])
    assert (facts.counter, facts.officer) == ("4", "minh")
    # Finished with no staff account (the simulator): the caller keeps it.
    [facts] = reports.ticket_facts(tickets, [*events[:2], {**events[2], "actor": None}], [])
    assert facts.officer == "lan"
