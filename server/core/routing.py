"""Which waiting ticket a counter calls next.

The rule, written down: every waiting ticket has a rank, its arrival time at the branch, moved
earlier by `priority_boost_min` for priority citizens. A counter calls the lowest rank among the
services it may serve (ties: earlier arrival, then the lower number). So priority citizens go
first, but a regular citizen who has waited `priority_boost_min` longer than a priority one goes
before them: nobody can be starved by a stream of priority arrivals. A citizen sent here from
another branch arrives when expected (`due_at`), or earlier by checking in: that is their
arrival, and `next` passes over them until then. A remote ticket (motcua.core.remote) is one on
its way that `next` passes over until its citizen checks in, whenever it is due. Ranks change
only through a committed change (a check-in), so each service's queue is kept sorted at insertion.
"""
from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator

from .model import REMOTE, Ticket

Key = tuple[float, float, str]


def arrival(ticket: Ticket) -> float:
    """When the citizen is (or is expected to be) at the ticket's branch."""
    return ticket.issued_at if ticket.due_at is None else ticket.due_at


def awaiting_check_in(ticket: Ticket) -> bool:
    """Whether `next` must pass over the ticket until its citizen checks in: a remote one not yet checked in."""
    return ticket.channel == REMOTE and ticket.checked_in_at is None


def rank(ticket: Ticket, priority_boost_s: float) -> Key:
    """The sort key of a waiting ticket: lower is called earlier."""
    arrived = arrival(ticket)
    boost = priority_boost_s if ticket.priority else 0.0
    return (arrived - boost, arrived, ticket.number)


class ServiceQueue:
    """The waiting tickets of one service at one branch, in calling order."""

    def __init__(self, priority_boost_s: float) -> None:
        self.boost = priority_boost_s
        self._keys: list[Key] = []
        self._ids: list[str] = []
        self._due: dict[str, float] = {}  # tickets with a not-before time: those sent from elsewhere
        self._absent: set[str] = set()    # remote tickets not checked in: never callable until they are

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, ticket: Ticket) -> None:
        key = rank(ticket, self.boost)
        index = bisect.bisect_right(self._keys, key)
        self._keys.insert(index, key)
        self._ids.insert(index, ticket.id)
        if ticket.due_at is not None:
            self._due[ticket.id] = ticket.due_at
        if awaiting_check_in(ticket):
            self._absent.add(ticket.id)

    def remove(self, ticket: Ticket) -> None:
        key = rank(ticket, self.boost)
        index = bisect.bisect_left(self._keys, key)
        while self._ids[index] != ticket.id:
            index += 1
        del self._keys[index]
        del self._ids[index]
        self._due.pop(ticket.id, None)
        self._absent.discard(ticket.id)

    def first_due(self, now: float) -> tuple[Key, str] | None:
        """The best-ranked ticket that may be called at `now` (those on their way are few)."""
        for key, ticket_id in zip(self._keys, self._ids):
            if self._due.get(ticket_id, -math.inf) <= now and ticket_id not in self._absent:
                return key, ticket_id
        return None

    def entries(self, service: str) -> Iterator[tuple[Key, str, float | None, str]]:
        """(rank, ticket id, not-before time or None, service), in calling order."""
        for key, ticket_id in zip(self._keys, self._ids):
            yield key, ticket_id, self._due.get(ticket_id), service

    def count_before(self, key: Key) -> int:
        """How many wait before a ticket of this rank: the people ahead of it (its position − 1)."""
        return bisect.bisect_left(self._keys, key)

    def at(self, index: int) -> str | None:
        """The id of the ticket with `index` people ahead of it (None past the end)."""
        return self._ids[index] if 0 <= index < len(self._ids) else None


def pick_next(queues: Iterable[ServiceQueue], now: float) -> str | None:
    """The id of the best-ranked ticket callable now among the queues a counter serves."""
    best = None
    for queue in queues:
        first = queue.first_due(now)
        if first is not None and (best is None or first[0] < best[0]):
            best = first
    return best[1] if best else None
