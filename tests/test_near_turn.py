"""'Your turn is near' (motcua.core.notices): told once, in the call's transaction, through the outbox."""
from __future__ import annotations

import json

from motcua.core.notices import NearTurn
from motcua.gateways import LogGateway, WebhookGateway
from motcua.notify import Notifier
from motcua.outbox import RetryRules, Sender
from motcua.store import Store
from motcua.web.runtime import branch_place

from conftest import HOAN_KIEM
from test_outbox import SECRET, TIMEOUT_S, FakeGateway
from test_remote import PHONE, RULES, clock, make_engine  # noqa: F401  clock: the fixture, 09:00


def told(ticket, ahead):
    return {"key": f"near:{ticket.id}", "ahead": ahead, "phone": ticket.phone}


def queue_with_remote(engine, walk_ins: int = 5):
    """hk-01's one business counter, `walk_ins` business citizens, then a remote ticket behind them."""
    for _ in range(walk_ins):
        engine.issue("hk-01", "business")
    return engine.issue_remote("hk-01", "business", PHONE, "en", RULES)


def serve_next(engine):
    """Counter 6 finishes its citizen, if any, and calls the next."""
    busy = engine.serving_at("hk-01", "6")
    if busy is not None:
        engine.done(busy.id)
    return engine.call_next("hk-01", "6")


def test_the_call_that_leaves_three_ahead_tells_the_phone_once(clock):
    engine = make_engine(clock)
    engine.near_turn = NearTurn(3, told)
    changes = []
    engine.listeners.append(changes.append)
    ticket = queue_with_remote(engine)
    assert engine.estimate(ticket)[0] - 1 == 5       # five ahead, as its phone page says
    serve_next(engine)
    assert [m for c in changes for m in c.messages] == []   # four ahead: not yet
    changes.clear()
    called = serve_next(engine)
    [change] = [c for c in changes if c.messages]
    assert change.messages == [told(ticket, 3)]
    assert called.id in {t.id for t in change.tickets}      # in the very change of the call
    assert engine.estimate(ticket)[0] - 1 == 3              # the phone page's own count
    changes.clear()
    for _ in range(3):
        serve_next(engine)
    assert [m for c in changes for m in c.messages] == []   # told once


def test_walk_ins_without_a_phone_are_told_nothing(clock):
    engine = make_engine(clock)
    engine.near_turn = NearTurn(3, told)
    changes = []
    engine.listeners.append(changes.append)
    for _ in range(8):
        engine.issue("hk-01", "business")
    for _ in range(6):
        serve_next(engine)
    assert [m for c in changes for m in c.messages] == []


def test_a_ticket_joining_near_the_front_is_not_told(clock):
    engine = make_engine(clock)
    engine.near_turn = NearTurn(3, told)
    changes = []
    engine.listeners.append(changes.append)
    queue_with_remote(engine, walk_ins=2)
    for _ in range(3):
        serve_next(engine)
    assert [m for c in changes for m in c.messages] == []


def test_without_near_ahead_nobody_is_told(clock):
    engine = make_engine(clock)
    changes = []
    engine.listeners.append(changes.append)
    queue_with_remote(engine)
    for _ in range(4):
        serve_next(engine)
    assert [m for c in changes for m in c.messages] == []


def notified_engine(tmp_path, clock, gateway="log"):
    """An engine journaled to a store, its near turns through a Notifier as the server wires them."""
    from motcua.core import scenario

    store = Store(tmp_path / "motcua.db")
    data = scenario.load(HOAN_KIEM)
    store.load_network(scenario.services(data), scenario.branches(data), scenario.counters(data))
    engine = make_engine(clock, journal=store, tickets=store.tickets("2026-11-24"))
    notifier = Notifier(gateway, clock, place=lambda b: branch_place(engine, b))
    engine.near_turn = NearTurn(3, notifier.near_turn)
    return store, engine


def test_the_message_is_committed_with_the_call_in_the_tickets_language(tmp_path, clock, caplog):
    store, engine = notified_engine(tmp_path, clock)
    try:
        ticket = queue_with_remote(engine)
        serve_next(engine)
        assert store.query("select * from outbox") == []
        serve_next(engine)
        [row] = store.query("select * from outbox")
        assert (row["key"], row["kind"], row["recipient"], row["lang"]) == (
            f"ticket:{ticket.id}:turn_near", "turn_near", PHONE, "en")
        texts = json.loads(row["texts"])
        assert ticket.number in texts["en"] and "3" in texts["en"] and engine.branch("hk-01").name_vi in texts["vi"]
        assert texts["vi"] != texts["en"]
        assert json.loads(row["params"]) == {"number": ticket.number, "branch": engine.branch("hk-01").name_vi,
                                             "ahead": 3}
        sender = Sender(store, clock, LogGateway(), RetryRules(), lease_s=60)
        with caplog.at_level("INFO"):
            assert sender.send_due()["sent"] == 1
        assert texts["en"] in caplog.text
        for _ in range(3):
            serve_next(engine)
        assert sender.send_due()["sent"] == 0
        assert len(store.query("select * from outbox")) == 1
    finally:
        store.close()


def test_a_gateway_down_at_the_call_gets_the_message_once_it_is_back(tmp_path, clock):
    gateway = FakeGateway()
    store, engine = notified_engine(tmp_path, clock, "webhook")
    try:
        ticket = queue_with_remote(engine)
        serve_next(engine)
        serve_next(engine)
        gateway.script = [503]
        sender = Sender(store, clock, WebhookGateway(gateway.url, SECRET, TIMEOUT_S), RetryRules(), lease_s=60)
        assert sender.send_due() == {"sent": 0, "pending": 1, "failed": 0}
        clock.advance(sender.next_due_s())
        assert sender.send_due()["sent"] == 1
        [delivered] = gateway.delivered.values()
        assert delivered["to"] == PHONE and ticket.number in delivered["text"]
        assert list(gateway.delivered) == [f"ticket:{ticket.id}:turn_near"]
    finally:
        store.close()
        gateway.close()

