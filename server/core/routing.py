"""Which waiting ticket a counter calls next.

The rule, written down: every waiting ticket has a rank, its arrival time, moved earlier by
`priority_boost_min` for priority citizens. A counter calls the lowest rank among the services
it may serve (ties: earlier arrival, then the lower number). So priority citizens go first, but a
regular citizen who has waited `priority_boost_min` longer than a priority one goes before them:
nobody can be starved by a stream of priority arrivals. Ranks never change while a ticket
waits, so each service's queue is kept sorted once, at insertion.
"""
from __future__ import annotations

import bisect
from collections.abc import Iterable

from .model import Ticket


def rank(ticket: Ticket, priority_boost_s: float) -> tuple[float, float, str]:
    """The sort key of a waiting ticket: lower is called earlier."""
    boost = priority_boost_s if ticket.priority else 0.0
    return (ticket.issued_at - boost, ticket.issued_at, ticket.number)


class ServiceQueue:
    """The waiting tickets of one service at one branch, in calling order."""

    def __init__(self, priority_boost_s: float) -> None:
        self.boost = priority_boost_s
        self._keys: list[tuple[float, float, str]] = []
        self._ids: list[str] = []

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, ticket: Ticket) -> None:
        key = rank(ticket, self.boost)
        index = bisect.bisect_right(self._keys, key)
        self._keys.insert(index, key)
        self._ids.insert(index, ticket.id)

    def remove(self, ticket: Ticket) -> None:
        key = rank(ticket, self.boost)
        index = bisect.bisect_left(self._keys, key)
        while self._ids[index] != ticket.id:
            index += 1
        del self._keys[index]
        del self._ids[index]

    def head(self) -> tuple[tuple[float, float, str], str] | None:
        return (self._keys[0], self._ids[0]) if self._ids else None

    def count_before(self, key: tuple[float, float, str]) -> int:
        return bisect.bisect_left(self._keys, key)

    def keys_before(self, key: tuple[float, float, str]) -> list[tuple[float, float, str]]:
        return self._keys[:self.count_before(key)]


def pick_next(queues: Iterable[ServiceQueue]) -> str | None:
    """The id of the best-ranked head among the queues a counter serves."""
    best = None
    for queue in queues:
        head = queue.head()
        if head is not None and (best is None or head[0] < best[0]):
            best = head
    return best[1] if best else None
