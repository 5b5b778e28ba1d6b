"""One branch's book: its queues, its tickets of the day and those still open, its counters and its
schedule, behind a lock of its own. The engine (motcua.core.engine) keeps one per branch, so a
change or a read at one branch waits for nobody at another.

What a branch publishes for others to read without its lock:
- its outlook: a copy of its schedule as of its last change (`version`), from which a neighbour's
  offer reckons the wait there;
- its city row's day figures, kept until its version moves (the city view recomputes only the
  branches that changed since it last looked).

Locks are taken in one order, branch ids sorted (the engine's `hold`), so that no two threads ever
wait for each other.
"""
from __future__ import annotations

import threading
from collections import defaultdict, deque
from dataclasses import dataclass

from .model import Call, Counter, Event, Rating
from .prediction import Schedule
from .routing import ServiceQueue

KIOSK_PROBLEMS_KEPT = 5        # per branch, for the staff's banner


@dataclass(frozen=True)
class Outlook:
    """A branch's schedule as it stood at its change `version`, published for other branches' reads:
    nothing deals onto it once published."""

    version: int
    schedule: Schedule

    def current(self, version: int, now: float, max_age_s: float) -> bool:
        """Whether it is the schedule the branch itself would use now."""
        return self.version == version and 0 <= now - self.schedule.at <= max_age_s


class BranchBook:
    """Everything the engine keeps of one branch, and the lock that guards it.

    The dicts are keyed within the branch: counters and what each holds by counter id, the days'
    tickets by day, numbers by (day, number), the sequences by (day, letter).
    """

    def __init__(self, branch_id: str, recent_calls: int) -> None:
        self.id = branch_id
        self.lock = threading.RLock()
        # The engine's version at the branch's last committed change (its city row and outlook are of it).
        self.version = 0
        self.counters: dict[str, Counter] = {}
        self.queues: dict[str, ServiceQueue] = {}
        self.of_day: dict[str, dict[str, None]] = defaultdict(dict)   # day -> ticket ids, in the order they came
        self.numbered: dict[tuple[str, str], str] = {}               # (day, number) -> ticket id
        self.seq: dict[tuple[str, str], int] = defaultdict(int)      # (day, letter) -> last sequence issued
        self.at_counter: dict[str, str] = {}                         # counter id -> the ticket it holds
        self.windows: dict[str, float] = {}                          # remote ticket not checked in -> its window's end
        # When each counter last let a ticket go (done, no-show, transfer): where its idle time starts.
        self.freed_at: dict[str, float] = {}
        self.kiosk_problems: deque[Event] = deque(maxlen=KIOSK_PROBLEMS_KEPT)
        self.recent: deque[Call] = deque(maxlen=recent_calls)
        self.schedule: Schedule | None = None
        self.outlook: Outlook | None = None
        self.ratings: dict[str, Rating] = {}                        # ticket id -> its rating, in the order rated
        # ((version, day, target), figures): the city row's figures that only a change moves, as last worked out.
        self.city: tuple[tuple, dict] | None = None

    def publish(self) -> None:
        """Publish the schedule as it stands (called under the lock, whenever the schedule moves)."""
        self.outlook = None if self.schedule is None else Outlook(self.version, self.schedule.copy())
