"""The queue engine: issues, calls and moves tickets, one committed change at a time.

Every operation works out a `Change` from the current state, hands it to the journal (the
database in the server, nothing in the simulator) and only once the journal has committed it
applies it in memory and tells the listeners. A journal that fails leaves memory untouched, so
nothing is ever acknowledged or broadcast that is not stored.
"""
from __future__ import annotations

import heapq
import secrets
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from datetime import date
from itertools import chain
from dataclasses import dataclass
from typing import Protocol

from .clock import LocalTime, hhmm_minutes
from .model import (
    ACTIVE_AT_COUNTER, CALLED, DONE, NO_SHOW, SERVING, TRANSFERRED, WAITING,
    Branch, Change, Conflict, Counter, Event, Invalid, NotFound, Rating, Service, Ticket,
)
from .prediction import ServiceTimes, WaitRanges, duty_windows, estimate_wait_min
from .routing import ServiceQueue, pick_next, rank

MAX_REASONS = 10
MAX_REASON_CHARS = 100
MAX_COMMENT_CHARS = 1000


class Clock(Protocol):
    def now(self) -> float: ...


class Journal(Protocol):
    def commit(self, change: Change) -> None: ...


class NullJournal:
    """Keeps nothing: for the simulator and core tests."""

    def commit(self, change: Change) -> None:
        return None


@dataclass(frozen=True)
class EngineSettings:
    """The queue settings the engine needs (a slice of the config)."""

    timezone: str = "Asia/Ho_Chi_Minh"
    priority_boost_min: float = 20.0
    learn_min_samples: int = 5
    learn_window: int = 30
    recent_calls: int = 8
    enforce_hours: bool = False


class QueueEngine:
    """All branches' queues in memory, changed only through committed operations."""

    def __init__(
        self,
        branches: Iterable[Branch],
        services: Iterable[Service],
        counters: Iterable[Counter],
        clock: Clock,
        journal: Journal | None = None,
        settings: EngineSettings = EngineSettings(),
        tickets: Iterable[Ticket] = (),
        ratings: Iterable[Rating] = (),
        new_id: Callable[[], str] = lambda: secrets.token_urlsafe(12),
    ) -> None:
        self.clock = clock
        self.journal = journal or NullJournal()
        self.settings = settings
        self.local = LocalTime(settings.timezone)
        self.new_id = new_id
        self.lock = threading.RLock()
        self.listeners: list[Callable[[Change], None]] = []
        self.branches = {b.id: b for b in branches}
        self.services = {s.id: s for s in services}
        self.counters = {(c.branch, c.id): c for c in counters}
        self.times = ServiceTimes({s.id: s.mean_min for s in self.services.values()},
                                  settings.learn_min_samples, settings.learn_window)
        self.tickets: dict[str, Ticket] = {}
        self.ranges = WaitRanges()
        self._first_estimate: dict[str, float] = {}  # minutes shown when the ticket was issued
        self.ratings = {r.ticket: r for r in ratings}
        self._queues: dict[tuple[str, str], ServiceQueue] = {}
        self._seq: dict[tuple[str, str, str], int] = defaultdict(int)
        self._at_counter: dict[tuple[str, str], str] = {}
        self._recent: dict[str, deque] = defaultdict(lambda: deque(maxlen=settings.recent_calls))
        self._day = self.local.day(clock.now())
        tickets = sorted(tickets, key=lambda t: (t.created_at, t.number))
        for ticket in tickets:
            self._apply_ticket(ticket)
        for ticket in sorted((t for t in tickets if t.called_at is not None and t.counter), key=lambda t: t.called_at):
            # Newest first, as live calls are added: a restarted display shows the same list.
            self._recent[ticket.branch].appendleft(self._call_record(ticket, ticket.recalls > 0))

    # ---- reading ---------------------------------------------------------------------------

    def branch(self, branch_id: str) -> Branch:
        try:
            return self.branches[branch_id]
        except KeyError:
            raise NotFound(f"unknown branch {branch_id!r}", "unknown_branch") from None

    def counter(self, branch_id: str, counter_id: str) -> Counter:
        self.branch(branch_id)
        try:
            return self.counters[(branch_id, counter_id)]
        except KeyError:
            raise NotFound(f"unknown counter {counter_id!r} at {branch_id}", "unknown_counter") from None

    def ticket(self, ticket_id: str) -> Ticket:
        try:
            return self.tickets[ticket_id]
        except KeyError:
            raise NotFound("unknown ticket", "unknown_ticket") from None

    def service(self, service_id: str) -> Service:
        try:
            return self.services[service_id]
        except KeyError:
            raise NotFound(f"unknown service {service_id!r}", "unknown_service") from None

    def counters_of(self, branch_id: str) -> list[Counter]:
        return [c for (b, _), c in self.counters.items() if b == branch_id]

    def serving_at(self, branch_id: str, counter_id: str) -> Ticket | None:
        ticket_id = self._at_counter.get((branch_id, counter_id))
        return self.tickets[ticket_id] if ticket_id else None

    def waiting(self, branch_id: str, service_id: str) -> int:
        queue = self._queues.get((branch_id, service_id))
        return len(queue) if queue else 0

    def estimate(self, ticket: Ticket) -> tuple[int | None, float | None]:
        """(position in its service's queue, 1 = next; minutes until called) of a waiting ticket."""
        if ticket.status != WAITING:
            return None, None
        key = rank(ticket, self.settings.priority_boost_min * 60)
        queue = self._queue(ticket.branch, ticket.service)
        minutes = self._minutes_before(ticket.branch, ticket.service, key)
        if minutes is not None and ticket.id not in self._first_estimate and ticket.called_at is None:
            self._first_estimate[ticket.id] = minutes
        return queue.count_before(key) + 1, minutes

    def wait_range(self, branch_id: str, minutes: float | None) -> tuple[float, float] | None:
        """The 80% range around an estimate of `minutes` at the branch."""
        return None if minutes is None else self.ranges.range(branch_id, minutes)

    def estimate_new(self, branch_id: str, service_id: str, priority: bool = False,
                     extra_ahead: Iterable[str] = ()) -> float | None:
        """Minutes a ticket issued now would wait (behind `extra_ahead`: services of citizens on their way)."""
        now = self.clock.now()
        key = (now - (self.settings.priority_boost_min * 60 if priority else 0.0), now, "~")
        return self._minutes_before(branch_id, service_id, key, extra_ahead)

    def closes_at(self, branch_id: str, now: float) -> float:
        """Epoch seconds when the branch stops issuing tickets on now's local day."""
        day = date.fromisoformat(self.local.day(now))
        return self.local.epoch(day, self.branches[branch_id].close)

    def _minutes_before(self, branch_id: str, service_id: str, key: tuple,
                        extra_ahead: Iterable[str] = ()) -> float | None:
        now = self.clock.now()
        day = self.local.day(now)
        counters = self.counters_of(branch_id)
        ahead = heapq.merge(*([(k, s) for k in q.keys_before(key)]
                              for (b, s), q in self._queues.items() if b == branch_id))
        means = {s: self.times.mean(branch_id, s, day) for s in self.services}
        busy = {}
        for counter in counters:
            current = self.serving_at(branch_id, counter.id)
            if current is not None:
                since = current.started_at or current.called_at
                busy[counter.id] = (current.service, (now - since) / 60)
        minute = self.local.minutes_of_day(now)
        close = self.branches[branch_id].close
        windows = {c.id: duty_windows(c.shifts, minute, close) for c in counters}
        return estimate_wait_min(service_id, counters, chain(extra_ahead, (s for _, s in ahead)), busy, means,
                                 windows)

    # ---- operations ------------------------------------------------------------------------

    def issue(self, branch_id: str, service_id: str, priority: bool = False, lang: str = "vi",
              actor: str | None = None, arrived_at: float | None = None, origin: str | None = None) -> Ticket:
        """A new ticket at the back of its service's queue (by arrival time and priority)."""
        with self.lock:
            branch = self.branch(branch_id)
            service = self.service(service_id)
            if service_id not in branch.services:
                raise NotFound(f"{branch_id} does not offer {service_id!r}", "unknown_service")
            now = self.clock.now()
            if self.settings.enforce_hours and not self._within_hours(branch, now):
                raise Conflict(f"{branch_id} is closed now", "branch_closed")
            ticket = self._new_ticket(branch_id, service, priority, lang, now, arrived_at, origin)
            self._commit(Change(tickets=[ticket], events=[self._event(None, ticket, actor)]))
            return ticket

    def call_next(self, branch_id: str, counter_id: str, actor: str | None = None) -> Ticket | None:
        """Call the best-ranked waiting ticket among the counter's services, or None."""
        with self.lock:
            counter = self._free_open_counter(branch_id, counter_id)
            self._roll_day()
            queues = [self._queues[(branch_id, s)] for s in counter.services if (branch_id, s) in self._queues]
            ticket_id = pick_next(queues)
            if ticket_id is None:
                return None
            return self._call(self.tickets[ticket_id], counter, actor)

    def call_ticket(self, ticket_id: str, branch_id: str, counter_id: str, actor: str | None = None) -> Ticket:
        """Call one chosen waiting (or today's no-show) ticket to a counter."""
        with self.lock:
            ticket = self.ticket(ticket_id)
            counter = self._free_open_counter(branch_id, counter_id)
            if ticket.branch != branch_id:
                raise Conflict("the ticket belongs to another branch", "other_branch")
            self._require(ticket, (WAITING, NO_SHOW), "call")
            self._require_today(ticket)
            return self._call(ticket, counter, actor)

    def recall(self, ticket_id: str, actor: str | None = None) -> Ticket:
        with self.lock:
            ticket = self._require(self.ticket(ticket_id), (CALLED,), "recall")
            return self._move(ticket, ticket.replace(recalls=ticket.recalls + 1, called_at=self.clock.now()), actor)

    def start(self, ticket_id: str, actor: str | None = None) -> Ticket:
        with self.lock:
            ticket = self._require(self.ticket(ticket_id), (CALLED,), "start")
            return self._move(ticket, ticket.replace(status=SERVING, started_at=self.clock.now()), actor)

    def done(self, ticket_id: str, actor: str | None = None) -> Ticket:
        with self.lock:
            ticket = self._require(self.ticket(ticket_id), (CALLED, SERVING), "finish")
            return self._move(ticket, ticket.replace(status=DONE, ended_at=self.clock.now()), actor)

    def no_show(self, ticket_id: str, actor: str | None = None) -> Ticket:
        with self.lock:
            ticket = self._require(self.ticket(ticket_id), (CALLED,), "mark as no-show")
            return self._move(ticket, ticket.replace(status=NO_SHOW), actor)

    def requeue(self, ticket_id: str, actor: str | None = None) -> Ticket:
        """A no-show who turns up later the same day waits again in their original place."""
        with self.lock:
            ticket = self._require(self.ticket(ticket_id), (NO_SHOW,), "requeue")
            self._require_today(ticket)
            return self._move(ticket, ticket.replace(status=WAITING, counter=None, called_at=None), actor)

    def transfer(self, ticket_id: str, service_id: str, branch_id: str | None = None,
                 actor: str | None = None) -> Ticket:
        """Queue the citizen again for another service or branch, keeping the original arrival."""
        with self.lock:
            ticket = self._require(self.ticket(ticket_id), (WAITING, CALLED, SERVING), "transfer")
            target = self.branch(branch_id or ticket.branch)
            service = self.service(service_id)
            if service_id not in target.services:
                raise NotFound(f"{target.id} does not offer {service_id!r}", "unknown_service")
            if target.id == ticket.branch:
                moved = ticket.replace(service=service_id, status=WAITING, counter=None,
                                       called_at=None, started_at=None)
                return self._move(ticket, moved, actor)
            now = self.clock.now()
            new = self._new_ticket(target.id, service, ticket.priority, ticket.lang, now, ticket.issued_at, ticket.id)
            old = ticket.replace(status=TRANSFERRED, transferred_to=new.id, ended_at=now)
            self._commit(Change(tickets=[old, new],
                                events=[self._event(ticket, old, actor), self._event(None, new, actor)]))
            return new

    def note_not_printed(self, ticket_id: str, problem: str, actor: str | None = None) -> Ticket:
        """A kiosk could not print the ticket: it stays valid (shown on screen with its QR) and the
        journal says it was never printed, so that no number is a phantom."""
        with self.lock:
            ticket = self.ticket(ticket_id)
            note = f"not_printed:{problem}"
            self._commit(Change(events=[Event(ticket.id, ticket.branch, ticket.status, ticket.status,
                                              self.clock.now(), None, actor, note)]))
            return ticket

    def ticket_numbered(self, branch_id: str, number: str) -> Ticket:
        """Today's ticket with this number at the branch (what a citizen can type in)."""
        self.branch(branch_id)
        day = self.local.day(self.clock.now())
        for ticket in self.tickets.values():
            if ticket.branch == branch_id and ticket.day == day and ticket.number == number.upper():
                return ticket
        raise NotFound(f"no ticket {number!r} today at {branch_id}", "unknown_ticket")

    def rate(self, ticket_id: str, score: int, reasons: Iterable[str] = (), comment: str = "") -> Rating:
        """A citizen's rating of a done ticket; once per ticket."""
        with self.lock:
            ticket = self.ticket(ticket_id)
            rating = Rating(ticket.id, score, tuple(reasons), comment or "", self.clock.now())
            self._validate_rating(rating)
            if ticket.status != DONE:
                raise Conflict("a ticket is rated after it is done", "not_done")
            if ticket.id in self.ratings:
                raise Conflict("this ticket has been rated already", "already_rated")
            self._commit(Change(ratings=[rating]))
            return rating

    def update_counter(self, branch_id: str, counter_id: str, services: Iterable[str] | None = None,
                       open: bool | None = None, actor: str | None = None) -> Counter:
        """A manager's move: change which services a counter serves, or open or close it."""
        with self.lock:
            counter = self.counter(branch_id, counter_id)
            branch = self.branches[branch_id]
            changes = {}
            if services is not None:
                services = tuple(dict.fromkeys(services))
                for service_id in services:
                    self.service(service_id)
                    if service_id not in branch.services:
                        raise Conflict(f"{branch_id} does not offer {service_id!r}", "not_offered")
                changes["services"] = services
            if open is not None:
                changes["open"] = open
            updated = Counter(**{**counter.__dict__, **changes})
            self._commit(Change(counters=[updated]))
            return updated

    # ---- internals -------------------------------------------------------------------------

    def _new_ticket(self, branch_id, service, priority, lang, now, arrived_at, origin) -> Ticket:
        day = self.local.day(now)
        seq = self._seq[(branch_id, day, service.letter)] + 1
        return Ticket(id=self.new_id(), branch=branch_id, service=service.id,
                      number=f"{service.letter}{seq:03d}", day=day,
                      issued_at=arrived_at if arrived_at is not None else now,
                      priority=bool(priority), lang=lang, created_at=now, origin=origin)

    def _free_open_counter(self, branch_id: str, counter_id: str) -> Counter:
        counter = self.counter(branch_id, counter_id)
        if not counter.open:
            raise Conflict(f"counter {counter_id} is closed", "counter_closed")
        if (branch_id, counter_id) in self._at_counter:
            raise Conflict(f"counter {counter_id} still holds a ticket: finish it first", "counter_busy")
        return counter

    def _call(self, ticket: Ticket, counter: Counter, actor: str | None) -> Ticket:
        called = ticket.replace(status=CALLED, counter=counter.id, called_at=self.clock.now(),
                                started_at=None)
        self._move(ticket, called, actor)
        shown = self._first_estimate.pop(ticket.id, None)
        if shown is not None:  # how the estimate on the ticket turned out
            self.ranges.record(ticket.branch, shown, (called.called_at - ticket.created_at) / 60)
        return called

    def _move(self, old: Ticket, new: Ticket, actor: str | None) -> Ticket:
        self._commit(Change(tickets=[new], events=[self._event(old, new, actor)]))
        return new

    def _event(self, old: Ticket | None, new: Ticket, actor: str | None) -> Event:
        return Event(new.id, new.branch, old.status if old else None, new.status,
                     self.clock.now(), new.counter, actor)

    def _commit(self, change: Change) -> None:
        self._roll_day()
        self.journal.commit(change)
        for ticket in change.tickets:
            self._apply_ticket(ticket)
        for counter in change.counters:
            self.counters[(counter.branch, counter.id)] = counter
        for rating in change.ratings:
            self.ratings[rating.ticket] = rating
        for event in change.events:
            if event.to_status == CALLED:
                ticket = self.tickets[event.ticket]
                self._recent[ticket.branch].appendleft(self._call_record(ticket, event.from_status == CALLED))
        for listener in self.listeners:
            listener(change)

    def _apply_ticket(self, new: Ticket) -> None:
        """Put a ticket's new state in memory, keeping queues and counters in step."""
        old = self.tickets.get(new.id)
        if old is not None and old.status == WAITING and old.day == self._day:
            self._queue(old.branch, old.service).remove(old)
        if old is not None and old.status in ACTIVE_AT_COUNTER:
            self._at_counter.pop((old.branch, old.counter), None)
        self.tickets[new.id] = new
        if new.status == WAITING and new.day == self._day:
            self._queue(new.branch, new.service).add(new)
        if new.status in ACTIVE_AT_COUNTER:
            self._at_counter[(new.branch, new.counter)] = new.id
        if new.status == DONE and (old is None or old.status != DONE):
            began = new.started_at or new.called_at
            if began is not None and new.ended_at is not None:
                self.times.record(new.branch, new.service, new.day, (new.ended_at - began) / 60)
        if old is None:
            letter, seq = split_number(new.number)
            key = (new.branch, new.day, letter)
            self._seq[key] = max(self._seq[key], seq)

    def _queue(self, branch_id: str, service_id: str) -> ServiceQueue:
        key = (branch_id, service_id)
        if key not in self._queues:
            self._queues[key] = ServiceQueue(self.settings.priority_boost_min * 60)
        return self._queues[key]

    def _roll_day(self) -> None:
        """At the first call of a new local day, yesterday's leftovers leave the queues."""
        today = self.local.day(self.clock.now())
        if today == self._day:
            return
        self._day = today
        self._queues.clear()
        self._first_estimate.clear()
        for ticket in self.tickets.values():
            if ticket.status == WAITING and ticket.day == today:
                self._queue(ticket.branch, ticket.service).add(ticket)

    def _require(self, ticket: Ticket, allowed: tuple[str, ...], verb: str) -> Ticket:
        if ticket.status not in allowed:
            raise Conflict(f"cannot {verb} a ticket that is {ticket.status}", "bad_transition")
        return ticket

    def _require_today(self, ticket: Ticket) -> None:
        if ticket.day != self.local.day(self.clock.now()):
            raise Conflict("the ticket is from another day", "other_day")

    def _within_hours(self, branch: Branch, now: float) -> bool:
        minute = self.local.minutes_of_day(now)
        return hhmm_minutes(branch.open) <= minute < hhmm_minutes(branch.close)

    def _call_record(self, ticket: Ticket, recall: bool) -> dict:
        return {"ticket": ticket.id, "number": ticket.number, "counter": ticket.counter,
                "service": ticket.service, "at": self.local.iso(ticket.called_at), "recall": recall}

    @staticmethod
    def _validate_rating(rating: Rating) -> None:
        if isinstance(rating.score, bool) or not isinstance(rating.score, int) or not 1 <= rating.score <= 4:
            raise Invalid("score must be an integer from 1 to 4")
        if len(rating.reasons) > MAX_REASONS or not all(
                isinstance(r, str) and 0 < len(r) <= MAX_REASON_CHARS for r in rating.reasons):
            raise Invalid(f"reasons must be at most {MAX_REASONS} short strings")
        if not isinstance(rating.comment, str) or len(rating.comment) > MAX_COMMENT_CHARS:
            raise Invalid(f"comment must be a string of at most {MAX_COMMENT_CHARS} characters")

    # ---- views (the shapes of the published interface) -------------------------------------

    def ticket_view(self, ticket_id: str) -> dict:
        with self.lock:
            ticket = self.ticket(ticket_id)
            position, minutes = self.estimate(ticket)
            low_high = self.wait_range(ticket.branch, minutes)
            return {"id": ticket.id, "number": ticket.number, "branch": ticket.branch,
                    "service": ticket.service, "status": ticket.status, "position": position,
                    "estimated_wait_min": _round_min(minutes),
                    "estimated_wait_range_min": [_round_min(m) for m in low_high] if low_high else None,
                    "counter": ticket.counter,
                    "priority": ticket.priority, "issued_at": self.local.iso(ticket.issued_at),
                    "called_at": self.local.iso(ticket.called_at),
                    "transferred_to": ticket.transferred_to, "rated": ticket.id in self.ratings}

    def branch_state(self, branch_id: str) -> dict:
        with self.lock:
            branch = self.branch(branch_id)
            services = [{"id": s, "letter": self.services[s].letter, "waiting": self.waiting(branch_id, s),
                         "estimated_wait_min": _round_min(self.estimate_new(branch_id, s))}
                        for s in branch.services]
            counters = []
            for counter in self.counters_of(branch_id):
                current = self.serving_at(branch_id, counter.id)
                counters.append({"id": counter.id, "services": list(counter.services), "open": counter.open,
                                 "serving": _ticket_brief(current)})
            return {"branch": branch_id, "services": services, "counters": counters,
                    "recent_calls": list(self._recent[branch_id])}

    def called_payload(self, ticket: Ticket, recall: bool) -> dict:
        return {"branch": ticket.branch, **self._call_record(ticket, recall)}


def split_number(number: str) -> tuple[str, int]:
    """'B007' -> ('B', 7): the service letter(s) and the day's sequence."""
    letters = number.rstrip("0123456789")
    return letters, int(number[len(letters):])


def _ticket_brief(ticket: Ticket | None) -> dict | None:
    if ticket is None:
        return None
    return {"ticket": ticket.id, "number": ticket.number, "service": ticket.service, "status": ticket.status}


def _round_min(minutes: float | None) -> int | None:
    return None if minutes is None else int(round(minutes))

