"""The engine's memory over days of uptime: today's tickets and the open ones, never the archive, which
the store keeps and answers from; today's start query reads through indexes only."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from motcua.core import scenario
from motcua.core.clock import FakeClock
from motcua.core.engine import EngineSettings, QueueEngine
from motcua.core.model import DONE, EXPIRED, Conflict, NotFound
from motcua.core.simulator import SIM_DAY, CityDay
from motcua.store import OPEN_BEFORE_SQL, SINCE_SQL, Store

from conftest import HOAN_KIEM

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
DAYS = 6


def at(day: int, hour: int, minute: int = 0) -> float:
    return (datetime(2026, 11, 24, tzinfo=HANOI) + timedelta(days=day, hours=hour, minutes=minute)).timestamp()


@pytest.fixture
def store(tmp_path):
    data = scenario.load(HOAN_KIEM)
    store = Store(tmp_path / "memory.db", "OFF")
    store.load_network(scenario.services(data), scenario.branches(data), scenario.counters(data))
    yield store
    store.close()


def make_engine(store, clock) -> QueueEngine:
    return QueueEngine(store.branches(), store.services(), store.counters(), clock, journal=store,
                       archive=store, settings=EngineSettings())


def a_day(engine, clock, day: int) -> dict[str, str]:
    """A day's work at every branch: done (one rated), no-shows, and some left waiting; the ids by fate."""
    ids = {}
    for branch in engine.branch_ids():
        first = engine.branches[branch].services[0]
        clock.set(at(day, 9))
        done, no_show, waiting = (engine.issue(branch, first) for _ in range(3))
        counter = next(c.id for c in engine.counters_of(branch) if first in c.services)
        engine.call_ticket(done.id, branch, counter)
        clock.advance(300)
        engine.done(done.id)
        engine.rate(done.id, 4)
        engine.call_ticket(no_show.id, branch, counter)
        engine.no_show(no_show.id)
        ids.update({f"{branch}:done": done.id, f"{branch}:no_show": no_show.id, f"{branch}:waiting": waiting.id})
    return ids


def test_memory_holds_today_and_the_open_tickets_only_over_days_of_uptime(store):
    clock = FakeClock(at(0, 8))
    engine = make_engine(store, clock)
    past: dict[str, str] = {}
    for day in range(DAYS):
        clock.set(at(day, 8))
        engine.close_day()
        # Right after the turn: nothing of the days before stays (their open tickets expired, the store has them).
        assert engine.tickets == {} and engine.ratings == {}
        ids = a_day(engine, clock, day)
        today = engine.local.day(clock.now())
        assert {t.day for t in engine.tickets.values()} == {today}
        assert len(engine.tickets) == len(ids) == 3 * len(engine.branch_ids())
        assert len(engine.ratings) == len(engine.branch_ids())
        # What learns per day forgets the days gone: numbering and service times.
        assert {key[0] for book in engine._books.values() for key in book.seq} == {today}
        assert {key[2] for key in engine.times._recent} <= {today}
        for branch in engine.branch_ids():
            assert [t.id for t in engine.no_shows(branch)] == [ids[f"{branch}:no_show"]]
            assert len(engine.tickets_of(branch, today)) == 3
            number = engine.tickets[ids[f"{branch}:waiting"]].number
            assert engine.ticket_numbered(branch, number).id == ids[f"{branch}:waiting"]
        # Yesterday's tickets are read from the store: found, as they ended, rated once.
        for key, ticket_id in past.items():
            ticket = engine.ticket(ticket_id)
            assert ticket.status == {"done": DONE, "no_show": EXPIRED, "waiting": EXPIRED}[key.split(":")[1]]
            assert engine.rated(ticket_id) == key.endswith(":done")
            if key.endswith(":done"):
                with pytest.raises(Conflict):
                    engine.rate(ticket_id, 3)
            if key.endswith(":no_show"):
                with pytest.raises(Conflict):
                    engine.requeue(ticket_id)
        assert not set(past.values()) & set(engine.tickets)
        past = ids
    with pytest.raises(NotFound):
        engine.ticket("no-such-ticket")


def test_a_rating_of_yesterday_s_ticket_is_stored_and_stays_out_of_memory(store):
    clock = FakeClock(at(0, 8))
    engine = make_engine(store, clock)
    ticket = engine.issue("hk-01", "civil")
    engine.call_ticket(ticket.id, "hk-01", "2")
    engine.done(ticket.id)
    clock.set(at(1, 8))
    engine.close_day()
    assert not engine.rated(ticket.id)
    engine.rate(ticket.id, 2)
    assert engine.rated(ticket.id) and store.rating(ticket.id).score == 2
    assert ticket.id not in engine.tickets and ticket.id not in engine.ratings
    with pytest.raises(Conflict):
        engine.rate(ticket.id, 3)


def test_a_restart_loads_yesterday_to_learn_from_and_keeps_only_today(store):
    clock = FakeClock(at(0, 8))
    engine = make_engine(store, clock)
    yesterday = a_day(engine, clock, 0)
    clock.set(at(1, 8))
    engine = QueueEngine(store.branches(), store.services(), store.counters(), clock, journal=store,
                         archive=store, tickets=store.tickets("2026-11-24"), ratings=store.ratings("2026-11-24"))
    engine.close_day()
    assert engine.tickets == {} and engine.ratings == {}
    assert engine.ticket(yesterday["hk-01:waiting"]).status == EXPIRED


# Each half searches by what bounds it: today's by day, the old open ones by status first (by day,
# they would read every day of history).
@pytest.mark.parametrize("sql, params, search", [
    (SINCE_SQL, ["2026-11-24"], "(day>?)"),
    (OPEN_BEFORE_SQL, ['["waiting", "called"]', "2026-11-24"], "(status=? AND day<?)")])
def test_today_s_start_query_reads_through_an_index(store, sql, params, search):
    plan = store.query(f"explain query plan {sql}", params)
    details = [row["detail"] for row in plan]
    assert not any(d.startswith("SCAN tickets") for d in details), details
    assert any(d.startswith("SEARCH tickets USING INDEX") and d.endswith(search) for d in details), details


def test_the_start_query_finds_today_s_and_older_open_tickets(store):
    clock = FakeClock(at(0, 8))
    engine = make_engine(store, clock)
    day0 = a_day(engine, clock, 0)
    clock.set(at(3, 9))
    fresh = engine.issue("hk-01", "civil")  # closes the days before: nothing older is open any more
    assert [t.id for t in store.tickets("2026-11-26")] == [fresh.id]
    # A ticket of an old day left open (a server stopped before it could close the day) is loaded too.
    store.write(lambda db: db.execute("update tickets set status = 'waiting' where id = ?", [day0["hk-02:done"]]))
    assert [t.id for t in store.tickets("2026-11-27")] == [day0["hk-02:done"], fresh.id]


def test_simulated_days_on_one_engine_keep_one_day_in_memory():
    data = scenario.load(HOAN_KIEM)
    first = CityDay(data, seed=1)
    engine = first.engine
    first.run()
    for n in range(1, 4):
        day = CityDay(data, seed=n + 1, engine=engine, day=SIM_DAY + timedelta(days=n))
        seen = {}
        day.at(120.0, lambda _: seen.update(tickets=len(engine.tickets), days={t.day for t in engine.tickets.values()}))
        day.run()
        today = engine.local.day(day.t0)
        # Mid-morning, and at the end of the day: that day's tickets only, every citizen's among them.
        assert seen["days"] == {today} and 0 < seen["tickets"] < len(day.citizens)
        assert {t.day for t in engine.tickets.values()} == {today}
        assert len(engine.tickets) >= len(day.citizens)
        assert all(c.started_min is not None for c in day.citizens)
