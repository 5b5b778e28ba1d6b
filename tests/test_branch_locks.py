"""The branch as the unit: each branch's book has its own lock, what spans branches takes the locks
in one order, and a branch's offers read its neighbours' published waits, not their locks."""
from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from motcua.core import scenario
from motcua.core.balancing import RedirectRules
from motcua.core.clock import FakeClock
from motcua.core.engine import EngineSettings, QueueEngine
from motcua.core.journeys import Journeys
from motcua.core.model import WAITING

from conftest import HOAN_KIEM

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=HANOI).timestamp()
DEADLINE_S = 30.0


@pytest.fixture
def engine():
    data = scenario.load(HOAN_KIEM)
    return QueueEngine(scenario.branches(data), scenario.services(data), scenario.counters(data),
                       FakeClock(MORNING), settings=EngineSettings())


class Held:
    """Another thread holding one branch (a long read there) until let go."""

    def __init__(self, engine: QueueEngine, branch: str) -> None:
        self.taken, self.done = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, args=(engine, branch), daemon=True)

    def _hold(self, engine, branch):
        with engine.hold(branch):
            self.taken.set()
            self.done.wait(DEADLINE_S)

    def __enter__(self):
        self.thread.start()
        assert self.taken.wait(DEADLINE_S)
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join(DEADLINE_S)


def within_deadline(fn):
    """fn() run in a thread: its result, or a failure if it waited DEADLINE_S (for a lock)."""
    out: dict = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            out["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(DEADLINE_S)
    assert not thread.is_alive(), "waited for another branch's lock"
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_a_branch_held_elsewhere_holds_up_nobody_at_another(engine):
    engine.issue("hk-01", "civil")
    with Held(engine, "hk-01"):
        ticket = within_deadline(lambda: engine.issue("hk-02", "civil"))
        called = within_deadline(lambda: engine.call_next("hk-02", "1"))
        state = within_deadline(lambda: engine.staff_state("hk-02"))
        assert called.id == ticket.id
        assert [line.counter.id for line in state.public.counters if line.ticket is not None] == ["1"]


def test_offers_read_the_neighbours_published_waits_while_they_are_busy(engine):
    journeys = Journeys(engine, RedirectRules(max_offers=3))
    for _ in range(40):
        engine.issue("hk-01", "civil")
    for branch in ("hk-02", "hk-03", "hn-hq"):
        engine.branch_state(branch)   # what each publishes as it stands
    free = {b: engine.published_estimate(b, "civil") for b in ("hk-02", "hk-03", "hn-hq")}
    with Held(engine, "hk-02"), Held(engine, "hn-hq"):
        issued = within_deadline(lambda: journeys.issue("hk-01", "civil"))
    offered = {a.branch for a in issued.alternatives}
    assert "hk-02" in offered and "hn-hq" in offered
    # The same offer as with the neighbours free: what they published is what they would say.
    again = Journeys(engine, RedirectRules(max_offers=3)).issue("hk-01", "civil")
    assert [(a.branch, a.estimated_wait_min) for a in again.alternatives] == \
           [(a.branch, a.estimated_wait_min) for a in issued.alternatives]
    assert free == {b: engine.published_estimate(b, "civil") for b in free}


def test_locks_are_taken_in_branch_order_or_refused(engine):
    with engine.hold("hk-02"):
        with engine.hold("hk-02", "hk-03"):   # more, after those held: fine
            pass
        with pytest.raises(RuntimeError):
            with engine.hold("hk-01"):          # before one held: could wait for a thread waiting for this one
                pass
    with engine.hold("hk-01"):                  # and nothing is left held by the refusal
        pass


def test_threads_transferring_across_two_branches_both_ways_never_deadlock(engine):
    """Each transfer holds both branches; taken home first, these two threads would hang each other."""
    rounds = 150
    errors: list[BaseException] = []
    moved = {"hk-01": [], "hk-02": []}

    def hammer(home: str, other: str) -> None:
        try:
            for _ in range(rounds):
                ticket = engine.issue(home, "civil")
                moved[home].append(engine.transfer(ticket.id, "cert", other))
                engine.city_rows(15.0)
                engine.staff_state(other)
        except BaseException as error:  # noqa: BLE001 - the test reports it
            errors.append(error)

    def reader() -> None:
        try:
            for _ in range(rounds):
                engine.network()
                engine.city_rows(15.0)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=hammer, args=("hk-01", "hk-02"), daemon=True),
               threading.Thread(target=hammer, args=("hk-02", "hk-01"), daemon=True),
               threading.Thread(target=reader, daemon=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_S * 4)
    assert not any(thread.is_alive() for thread in threads), "deadlocked"
    assert errors == []
    # Every ticket moved sits once in its new branch's queue; the numbers ran without a gap.
    for home, other in (("hk-01", "hk-02"), ("hk-02", "hk-01")):
        assert all(t.branch == other and engine.ticket(t.id).status == WAITING for t in moved[home])
    for branch in ("hk-01", "hk-02"):
        certs = [t.number for t in engine.tickets_of(branch, engine.local.day(MORNING)) if t.service == "cert"]
        assert sorted(certs) == [f"B{n:03d}" for n in range(1, rounds + 1)]
        waiting = [t.id for t in engine.waiting_list(branch)]
        assert len(waiting) == len(set(waiting)) == rounds
