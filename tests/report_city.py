"""A simulated city day in a database, for the reports' tests (tests/test_reports.py, test_report_page.py):
through the engine, with what the simulator never does added in the evening."""
from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import timedelta

from motcua.accounts import Accounts
from motcua.core import scenario
from motcua.core.simulator import SIM_DAY, CityDay
from motcua.store import Store

from conftest import HOAN_KIEM, PASSWORD

DAY, NEXT = SIM_DAY.isoformat(), (SIM_DAY + timedelta(days=1)).isoformat()
OFFICERS_PER_BRANCH = 4


def build_city(path) -> tuple:
    """A Hoan Kiem day (balancing and re-skilling on) written through the engine into the database at
    path, the evening's extras, the day's close, one ticket early on the next day; a manager of hk-01
    ("boss") and an admin ("root"). Returns the clock, at the next morning."""
    data = scenario.load(HOAN_KIEM)
    store = Store(path, synchronous="OFF")
    store.load_network(scenario.services(data), scenario.branches(data), scenario.counters(data))
    day = CityDay(data, "balance+realloc", seed=5)
    engine, clock = day.engine, day.clock
    engine.journal = store
    staffed(engine)
    day.run()
    evening(engine, clock)
    rate(engine, seed=5)
    # 06:30 in Hanoi is 23:30 UTC the day before: a report by UTC dates would count it on the simulated day.
    clock.set(engine.local.epoch(SIM_DAY + timedelta(days=1), "06:30"))
    assert engine.close_day()
    tomorrow = engine.issue("hk-01", "civil")
    clock.advance(180)
    engine.call_next("hk-01", "1", actor="staff:hk-01-o0")
    clock.advance(300)
    engine.done(tomorrow.id)
    accounts = Accounts(store, clock, 12)
    accounts.add_user("boss", PASSWORD, "manager", "hk-01")
    accounts.add_user("root", PASSWORD, "admin", None)
    store.close()
    return clock


def staffed(engine) -> None:
    """The simulated counters call as officers: four per branch, each at one counter in the morning and
    the next one in the afternoon (taking it over), so that officers and counters group the tickets
    differently."""
    call_next = engine.call_next

    def call(branch, counter, actor=None):
        afternoon = engine.local_minute() >= 12 * 60
        officer = f"staff:{branch}-o{(int(counter) + afternoon) % OFFICERS_PER_BRANCH}"
        engine.take(branch, counter, officer, take_over=True)
        return call_next(branch, counter, actor=officer)
    engine.call_next = call


def evening(engine, clock) -> None:
    """After closing, at hk-01, what the simulated day never does: no-shows, a no-show come back,
    recalls, transfers within the branch and to another, tickets left waiting, called or serving, and
    a ticket finished by an officer who took the counter over."""
    engine.settings = replace(engine.settings, enforce_hours=False)
    b, who = "hk-01", "staff:evening"
    for counter in ("1", "2", "3", "4", "5", "6"):  # the evening's officer takes the day's counters over
        engine.take(b, counter, who, take_over=True)
    clock.set(math.ceil(clock.now()))  # whole seconds: the wait of exactly the target below is exactly 15 min

    def later(minutes: float) -> None:
        clock.advance(minutes * 60)

    back, gone, moved, away, left, called, serving = (
        engine.issue(b, s) for s in ("civil", "cert", "civil", "civil", "land", "cert", "civil"))
    later(4)
    engine.call_ticket(back.id, b, "1", who)
    engine.no_show(back.id, who)
    later(11)
    engine.call_ticket(gone.id, b, "2", who)   # waited the target exactly: within it
    later(7)
    engine.no_show(gone.id, who)
    engine.requeue(back.id, who)
    engine.take(b, "2", "staff:hk-01-o1", take_over=True)
    engine.call_ticket(back.id, b, "2", "staff:hk-01-o1")
    later(2)  # service time runs from the start, not the call
    engine.start(back.id)
    later(20)
    engine.done(back.id)
    engine.call_ticket(moved.id, b, "1", who)
    engine.start(moved.id)
    later(3)
    engine.transfer(moved.id, "cert", actor=who)
    later(6)
    engine.call_ticket(moved.id, b, "3", who)
    later(1)
    engine.recall(moved.id, who)
    later(5)
    engine.done(moved.id)
    engine.call_ticket(away.id, b, "1", who)
    engine.transfer(away.id, "civil", "hk-02", actor=who)
    engine.call_ticket(called.id, b, "3", who)
    # Sent from hk-02, expected in 20 minutes, there already and called after 5: waited 0, not -15.
    early = engine.transfer(engine.issue("hk-02", "civil").id, "civil", b, due_at=clock.now() + 20 * 60)
    later(5)
    engine.call_ticket(early.id, b, "4", who)
    engine.done(early.id)
    engine.call_ticket(serving.id, b, "5", who)
    engine.start(serving.id)
    relieved = engine.issue(b, "business")
    engine.call_ticket(relieved.id, b, "6", who)
    later(3)
    engine.take(b, "6", "staff:hk-01-o3", take_over=True)
    engine.done(relieved.id, "staff:hk-01-o3")  # credited to o3, who served, not to the evening's caller
    assert engine.ticket(left.id).status == "waiting"


def rate(engine, seed: int) -> None:
    """Two in five served citizens rate, with scores from 1 to 4."""
    rng = random.Random(seed)
    for ticket in sorted((t for t in engine.tickets.values() if t.status == "done"), key=lambda t: t.id):
        if rng.random() < 0.4:
            engine.rate(ticket.id, rng.randint(1, 4))
