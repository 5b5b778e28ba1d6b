"""Call order: ranks by arrival (expected arrival for a citizen on the way), priority ageing, and
`next` passing over whoever cannot be there yet."""
from __future__ import annotations

from motcua.core.model import Ticket
from motcua.core.routing import ServiceQueue, pick_next, rank

BOOST_S = 20 * 60


def ticket(number: str, issued_at: float, priority: bool = False, due_at: float | None = None) -> Ticket:
    return Ticket(number, "b", "civil", number, "2026-11-24", issued_at, priority, due_at=due_at)


def test_rank_is_the_arrival_here_moved_earlier_for_priority():
    assert rank(ticket("A001", 1000.0), BOOST_S) == (1000.0, 1000.0, "A001")
    assert rank(ticket("A002", 1000.0, priority=True), BOOST_S) == (1000.0 - BOOST_S, 1000.0, "A002")
    # Sent from another branch: it ranks by when it is expected here, not by its first arrival.
    assert rank(ticket("A003", 1000.0, due_at=1600.0), BOOST_S) == (1600.0, 1600.0, "A003")


def test_a_queue_keeps_calling_order_through_adds_and_removes():
    queue = ServiceQueue(BOOST_S)
    late, early, vip = ticket("A002", 2000.0), ticket("A001", 1000.0), ticket("A003", 1900.0, priority=True)
    for t in (late, early, vip):
        queue.add(t)
    assert [entry[1] for entry in queue.entries("civil")] == ["A003", "A001", "A002"]
    queue.remove(early)
    assert [entry[1] for entry in queue.entries("civil")] == ["A003", "A002"] and len(queue) == 2
    assert queue.count_before(rank(late, BOOST_S)) == 1


def test_next_passes_over_a_citizen_not_yet_due_and_takes_them_once_due():
    queue = ServiceQueue(BOOST_S)
    # A priority citizen on the way ranks first (expected at 1500, boosted), yet cannot be called before 1500.
    on_the_way = ticket("A001", 100.0, priority=True, due_at=1500.0)
    here = ticket("A002", 1000.0)
    queue.add(on_the_way)
    queue.add(here)
    assert pick_next([queue], now=1200.0) == "A002"
    assert pick_next([queue], now=1500.0) == "A001"
    queue.remove(here)
    assert pick_next([queue], now=1499.0) is None


def test_next_takes_the_best_callable_head_among_the_counters_services():
    civil, cert = ServiceQueue(BOOST_S), ServiceQueue(BOOST_S)
    civil.add(ticket("A001", 1000.0))
    cert.add(ticket("B001", 900.0, due_at=1100.0))  # expected after A001 arrived
    cert.add(ticket("B002", 950.0))
    assert pick_next([civil, cert], now=1200.0) == "B002"
    assert pick_next([civil], now=1200.0) == "A001"
    assert pick_next([], now=1200.0) is None
