"""The queue engine: issues, calls and moves tickets, one committed change at a time.

Every operation works out a `Change` from the current state, hands it to the journal (the
database in the server, nothing in the simulator) and only once the journal has committed it
applies it in memory and tells the listeners. A journal that fails leaves memory untouched, so
nothing is ever acknowledged or broadcast that is not stored. Reads change nothing: what the
engine learns (service times, how estimates turned out) comes from committed tickets, so a
restarted engine learns it again from the database.
"""
from __future__ import annotations

import dataclasses
import heapq
import hmac
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from . import dashboard, holders, notices
from .appointments import Appointment, EngineAppointments
from .branchbook import BranchBook
from .clock import LocalTime, hhmm_minutes
from .model import (
    ACTIVE_AT_COUNTER, APPOINTMENT, CALLED, DAY_CLOSED, DONE, EXPIRED, NO_SHOW, OPEN, PAUSE_REASONS, REMOTE, SERVING,
    TRANSFERRED, WAITING, WINDOW_MISSED,
    Branch, Call, Change, Conflict, Counter, Event, Invalid, NotFound, Rating, Service, Ticket, WrongCode,
)
from .prediction import WALKED_IN, Schedule, ServiceTimes, WaitRanges, certain_min, duty_windows, estimate_kind
from .readmodels import (
    BranchDay, BranchSetup, BranchState, CityRow, CounterLine, DayRecord, KioskProblem, Network, ServiceLine,
    StaffState, TicketState,
)
from .remote import RemoteRules, mobile, set_off_in, window_end
from .routing import ServiceQueue, awaiting_check_in, pick_next, rank
from .staffing import Advice, HourlyRates, Move, StaffingRules, advise, taking_on
from .text import check_text

MAX_REASONS = 10
MAX_REASON_CHARS = 100
MAX_COMMENT_CHARS = 1000
# A branch's schedule is worked out again after any change that is not a ticket joining at the
# back, and when older than this: counters left idle or overrunning their mean move the
# estimates without a change, by at most this much (they are shown in whole minutes).
SCHEDULE_MAX_AGE_S = 10.0
NOT_PRINTED = "not_printed:"   # the note of a kiosk's event for a ticket it could not print, then the problem
# A ticket's rating code: what rates it by its number (which the wall display shows to everyone).
# Four digits are easy to type; RATING_CODE_TRIES wrong ones lock that way, so a guesser's chance
# is 5 in 10,000 per ticket, and the holder still rates by the id (the QR code, the phone page).
RATING_CODE_DIGITS = 4
RATING_CODE_TRIES = 5
RATING_CODE_WRONG = "rating_code_wrong"   # the note of the event of a wrong code tried


def new_rating_code() -> str:
    return f"{secrets.randbelow(10 ** RATING_CODE_DIGITS):0{RATING_CODE_DIGITS}d}"


class Clock(Protocol):
    def now(self) -> float: ...


class Journal(Protocol):
    def commit(self, change: Change) -> None: ...


class NullJournal:
    """Keeps nothing: for the simulator and core tests."""

    def commit(self, change: Change) -> None:
        return None


class Archive(Protocol):
    """Where the tickets of days gone are read back from (the store): memory keeps today's only."""

    def ticket(self, ticket_id: str) -> Ticket | None: ...

    def rating(self, ticket_id: str) -> Rating | None: ...


class NullArchive:
    """Keeps nothing: an engine without a store forgets a day's tickets once the day has turned."""

    def ticket(self, ticket_id: str) -> Ticket | None:
        return None

    def rating(self, ticket_id: str) -> Rating | None:
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


class QueueEngine(EngineAppointments):
    """All branches' queues in memory, changed only through committed operations.

    Each branch keeps its state in a book of its own (motcua.core.branchbook) behind its own lock:
    an operation or a read at one branch holds that branch's lock only, so branches never wait for
    one another. What spans branches takes the locks it needs in one order, branch ids sorted (a
    transfer to another branch holds both; the day's turn and the administrator's network changes
    hold them all), so no two threads can wait for each other; commits go to the journal one at a
    time, under a lock taken last.

    Memory holds today's tickets and those still open, never the archive: the day's turn lets the
    days gone go, and the reads that look past today ask the archive (the store). What reads a
    branch's day reads it through its book, so no read costs more as the server's uptime grows.

    Readers outside the core use its methods only, never its locks nor its dicts: what must be seen
    at one moment comes as a read model (motcua.core.readmodels) taken under the branch's hold.
    """

    def __init__(
        self,
        branches: Iterable[Branch],
        services: Iterable[Service],
        counters: Iterable[Counter],
        clock: Clock,
        journal: Journal | None = None,
        archive: Archive | None = None,
        settings: EngineSettings = EngineSettings(),
        tickets: Iterable[Ticket] = (),
        ratings: Iterable[Rating] = (),
        appointments: Iterable[Appointment] = (),
        new_id: Callable[[], str] = lambda: secrets.token_urlsafe(12),
        new_code: Callable[[], str] = new_rating_code,
    ) -> None:
        self.clock = clock
        self.journal = journal or NullJournal()
        self.archive = archive or NullArchive()
        self.settings = settings
        # Published, and read without the hold: the network's local time, fixed for the engine's life.
        self.local = LocalTime(settings.timezone)
        self.new_id = new_id
        self.new_code = new_code
        # Taken last, by each commit only: the journal takes one change at a time, in the order memory applies them.
        self._commit_lock = threading.RLock()
        self._held = threading.local()   # the books this thread holds: branch id -> depth
        self.listeners: list[Callable[[Change], None]] = []
        # Tells phones their turn is near, in the call's change (motcua.core.notices); None: nobody is told.
        self.near_turn: notices.NearTurn | None = None
        # The outbox row telling a remote ticket's phone to set off (motcua.notify.Notifier.set_off); None: not told.
        self.set_off_message: Callable[[Ticket], dict] | None = None
        # Raised by every committed change: a page that hears states out of order keeps the newest. It
        # starts at the clock's milliseconds, so a restarted server's states still count as newer
        # (unless the last process averaged over a thousand changes a second).
        self.version = int(clock.now() * 1000)
        self.branches: dict[str, Branch] = {}
        self._books: dict[str, BranchBook] = {}
        for branch in branches:
            self._add_branch(branch)
        self.services = {s.id: s for s in services}
        self.counters: dict[tuple[str, str], Counter] = {}
        for counter in counters:
            self._put_counter(counter)
        self.times = ServiceTimes({s.id: s.mean_min for s in self.services.values()},
                                  settings.learn_min_samples, settings.learn_window)
        self.tickets: dict[str, Ticket] = {}
        # (phone, service) -> its active remote tickets, network-wide; checked and taken under _remote_lock. One
        # taken per phone and service, but an officer may send another of the phone's on to that service.
        self._remote: dict[tuple[str, str], set[str]] = {}
        self._remote_lock = threading.Lock()   # taken after the branch's, before the commit lock
        self.ranges = WaitRanges()
        self.ratings: dict[str, Rating] = {}
        self._boost_s = settings.priority_boost_min * 60
        tickets = sorted(tickets, key=lambda t: (t.created_at, t.number))
        # The oldest day still open: until close_day() (or the first operation) closes it, memory
        # is what the journal holds, yesterday's counters and queues included.
        today = self.local.day(clock.now())
        self._day = min((t.day for t in tickets if t.status in OPEN and t.day < today), default=today)
        self._day_span = self._span(self._day)
        for ticket in tickets:
            if self._kept(ticket):
                self._apply_ticket(ticket)
        for rating in ratings:
            if rating.ticket in self.tickets:
                self._put_rating(rating)
        self._init_appointments(appointments)
        self._learn_again(tickets)
        self._freed_at_again(tickets)
        self._stamp(self._books.values())
        for book in self._books.values():   # every branch publishes its outlook from the start
            if book.id in self.branches:
                self._schedule(book)

    # ---- holding ---------------------------------------------------------------------------

    def hold(self, *branch_ids: str) -> Hold:
        """Hold these branches' books (unknown branch: NotFound), their locks taken in id order.

        A thread that holds some books already may take more only after them in that order: taking
        an earlier one could wait for a thread that waits for this one, so it is refused
        (RuntimeError, a bug in the caller) rather than left to hang.
        """
        return Hold(self, branch_ids)

    def hold_all(self) -> Hold:
        """Every branch's book, as the day's turn and a change of the network need them."""
        return Hold(self, tuple(self._books))

    def operating(self, *branch_ids: str) -> Hold:
        """An operation's hold on its branches: a day that has ended is closed first (holding every
        branch, before this thread holds any), then the branches are held."""
        return Hold(self, branch_ids, operation=True)

    def _holding(self) -> dict[str, int]:
        held = getattr(self._held, "books", None)
        if held is None:
            held = self._held.books = {}
        return held

    def _book(self, branch_id: str) -> BranchBook:
        try:
            return self._books[branch_id]
        except KeyError:
            raise NotFound(f"unknown branch {branch_id!r}", "unknown_branch") from None

    def _branch_of(self, ticket_id: str) -> str:
        """The branch of a ticket (which never changes: a transfer elsewhere makes a new ticket), read unheld."""
        return self.ticket(ticket_id).branch

    # ---- reading ---------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.now()

    def local_minute(self) -> float:
        return self.local.minutes_of_day(self.clock.now())

    def branch(self, branch_id: str) -> Branch:
        try:
            return self.branches[branch_id]
        except KeyError:
            raise NotFound(f"unknown branch {branch_id!r}", "unknown_branch") from None

    def branch_ids(self) -> list[str]:
        return list(self.branches)

    def counter(self, branch_id: str, counter_id: str) -> Counter:
        book = self._book(branch_id)
        try:
            return book.counters[counter_id]
        except KeyError:
            raise NotFound(f"unknown counter {counter_id!r} at {branch_id}", "unknown_counter") from None

    def ticket(self, ticket_id: str) -> Ticket:
        """A ticket of today or still open from memory, one of a day gone from the archive."""
        ticket = self.tickets.get(ticket_id) or self.archive.ticket(ticket_id)
        if ticket is None:
            raise NotFound("unknown ticket", "unknown_ticket")
        return ticket

    def rated(self, ticket_id: str) -> bool:
        """Whether the ticket has been rated (one of a day gone: as the archive says)."""
        if ticket_id in self.ratings:
            return True
        return ticket_id not in self.tickets and self.archive.rating(ticket_id) is not None

    def tickets_of(self, branch_id: str, day: str) -> list[Ticket]:
        """The branch's tickets of a day in memory (today's: all of them), in the order they came."""
        with self.hold(branch_id):
            book = self._books[branch_id]
            return [self.tickets[ticket_id] for ticket_id in book.of_day.get(day, ())]

    def service(self, service_id: str) -> Service:
        try:
            return self.services[service_id]
        except KeyError:
            raise NotFound(f"unknown service {service_id!r}", "unknown_service") from None

    def counters_of(self, branch_id: str) -> list[Counter]:
        book = self._books.get(branch_id)
        return list(book.counters.values()) if book is not None else []

    def serving_at(self, branch_id: str, counter_id: str) -> Ticket | None:
        ticket_id = self._book(branch_id).at_counter.get(counter_id)
        return self.tickets[ticket_id] if ticket_id else None

    def idle_since(self, branch_id: str, counter_id: str) -> float | None:
        """Since when an available counter that holds no ticket has been without one (None: unknown)."""
        counter = self.counter(branch_id, counter_id)
        book = self._books[branch_id]
        if not counter.available or counter_id in book.at_counter:
            return None
        known = [t for t in (book.freed_at.get(counter_id), counter.since) if t is not None]
        return max(known, default=None)

    def waiting(self, branch_id: str, service_id: str) -> int:
        queue = self._book(branch_id).queues.get(service_id)
        return len(queue) if queue else 0

    def waiting_list(self, branch_id: str) -> list[Ticket]:
        """The branch's waiting tickets in calling order across its services (as the estimates deal
        them): a counter's own list is this one, filtered to its services."""
        with self.hold(branch_id):
            book = self._books[branch_id]
            queues = [self._queue(book, service).entries(service) for service in self.branch(branch_id).services]
            return [self.tickets[ticket_id] for _, ticket_id, _, _ in heapq.merge(*queues)]

    def kiosk_problems(self, branch_id: str) -> list[Event]:
        """The branch's latest kiosk problems this process has heard of (a printer that failed), oldest first."""
        book = self._books.get(branch_id)
        return list(book.kiosk_problems) if book is not None else []

    def no_shows(self, branch_id: str) -> list[Ticket]:
        """Today's no-shows at the branch, which an officer may put back in their place."""
        with self.hold(branch_id):
            return [t for t in self.tickets_of(branch_id, self._day) if t.status == NO_SHOW]

    def mean_service_min(self, branch_id: str, service_id: str) -> float:
        with self.hold(branch_id):
            return self.times.mean(branch_id, service_id, self.local.day(self.clock.now()))

    def recent_calls(self, branch_id: str) -> list[Call]:
        """The branch's latest calls, newest first."""
        book = self._books.get(branch_id)
        return list(book.recent) if book is not None else []

    def estimate(self, ticket: Ticket) -> tuple[int | None, float | None]:
        """(position in its service's queue, 1 = next; minutes until called) of a waiting ticket."""
        with self.hold(ticket.branch):
            book = self._books[ticket.branch]
            queue = book.queues.get(ticket.service)
            if ticket.status != WAITING or ticket.day != self._day or queue is None:
                return None, None
            position = queue.count_before(rank(ticket, self._boost_s)) + 1
            return position, self._schedule(book).wait_of(ticket.id, self.clock.now())

    def wait_range(self, branch_id: str, minutes: float | None, kind: str = WALKED_IN,
                   certain_min: float = 0.0) -> tuple[float, float] | None:
        """The 80% range around an estimate of `minutes` at the branch, of a kind (prediction.estimate_kind),
        `certain_min` of it sure to be waited (prediction.certain_min)."""
        if minutes is None:
            return None
        with self.hold(branch_id):
            return self.ranges.range(branch_id, minutes, kind, certain_min)

    def ticket_range(self, ticket: Ticket, minutes: float | None) -> tuple[float, float] | None:
        """The 80% range around a ticket's wait of `minutes` from now, read as its kind is calibrated."""
        return self.wait_range(ticket.branch, minutes, estimate_kind(ticket), certain_min(ticket, self.clock.now()))

    def estimate_new(self, branch_id: str, service_id: str, priority: bool = False,
                     arriving_at: float | None = None) -> float | None:
        """Minutes from now until a ticket taken now, by a citizen there from `arriving_at` (now
        if None), would be called; None when no open counter serves the service today."""
        return self._wait_before(branch_id, service_id, self._new_key(priority, arriving_at), arriving_at)

    def published_estimate(self, branch_id: str, service_id: str, priority: bool = False,
                           arriving_at: float | None = None) -> float | None:
        """estimate_new() as the branch last published it, read without waiting for its lock: a
        neighbour's offer reads this. The same figure while the branch's outlook is current; when it
        is not, worked out again if the branch's lock is free, else the last one published."""
        key = self._new_key(priority, arriving_at)
        return self._published_wait(self._book(branch_id), service_id, key, arriving_at, block=False)

    def published(self) -> PublishedView:
        """The engine as a branch's offers read it: other branches' waits as they published them."""
        return PublishedView(self)

    def closes_at(self, branch_id: str) -> float:
        """Epoch seconds when the branch stops taking citizens today; never if hours are not kept
        (the live server's default: it issues and calls at any hour)."""
        if not self.settings.enforce_hours:
            return math.inf
        now = self.clock.now()
        day = date.fromisoformat(self.local.day(now))
        return self.local.epoch(day, self.branch(branch_id).close)

    # ---- read models: each a consistent snapshot, taken under the branch's hold -------------

    def ticket_state(self, ticket_id: str) -> TicketState:
        """A ticket (of today, or of a day gone from the archive) with its place, wait and whether rated."""
        ticket = self.ticket(ticket_id)
        with self.hold(ticket.branch):
            ticket = self.tickets.get(ticket_id) or ticket   # as it is now (one of a day gone: as read)
            position, minutes = self.estimate(ticket)
            return TicketState(ticket, position, minutes, self.ticket_range(ticket, minutes), self.rated(ticket.id))

    def branch_state(self, branch_id: str) -> BranchState:
        """The branch now: each service's queue and wait, each counter and what it holds, the latest calls."""
        with self.hold(branch_id):
            branch = self.branch(branch_id)
            services = [ServiceLine(self.services[s], self.waiting(branch_id, s), self.estimate_new(branch_id, s))
                        for s in branch.services]
            return BranchState(branch, services, self._counter_lines(branch_id), self.recent_calls(branch_id))

    def staff_state(self, branch_id: str) -> StaffState:
        """What the branch's staff see now: the public state, the waiting list, the kiosks' problems."""
        with self.hold(branch_id):
            now = self.clock.now()
            public = self.branch_state(branch_id)
            waiting = self.waiting_list(branch_id) + self.no_shows(branch_id)
            problems = [KioskProblem(e, self.ticket(e.ticket).number) for e in self.kiosk_problems(branch_id)]
            return StaffState(now, self.version, public, waiting, problems, self._booked_today(branch_id))

    def branch_setup(self, branch_id: str) -> BranchSetup:
        """The branch with its counters and what each holds."""
        with self.hold(branch_id):
            return BranchSetup(self.branch(branch_id), self._counter_lines(branch_id))

    def network(self) -> Network:
        """Every branch's setup and every service, as one moment saw them."""
        with self.hold_all():
            return Network([self.branch_setup(b) for b in self.branches], list(self.services.values()))

    def all_branches(self) -> list[Branch]:
        return list(self.branches.values())

    def all_services(self) -> list[Service]:
        return list(self.services.values())

    def service_ids(self) -> list[str]:
        return list(self.services)

    def all_counters(self) -> list[Counter]:
        return list(self.counters.values())

    def day_record(self, branch_id: str, day: str) -> DayRecord:
        """The branch's tickets of a day in memory and their ratings."""
        with self.hold(branch_id):
            tickets = self.tickets_of(branch_id, day)
            ids = {t.id for t in tickets}
            return DayRecord(tickets, [r for r in self._books[branch_id].ratings.values() if r.ticket in ids])

    def city(self, day: str) -> list[BranchDay]:
        """Every branch's state now and its tickets of the day, side by side (each branch read under
        its own hold, one after another: the whole recomputation, which city_rows() avoids)."""
        return [BranchDay(self.branch_state(b), self.tickets_of(b, day)) for b in list(self.branches)]

    def city_rows(self, target_min: float) -> list[CityRow]:
        """Every branch's row of the city view today. A row's day figures are kept with the branch's
        version and worked out again only once it has changed, each branch under its own hold and
        never two at once; its longest wait is read from what the branch published."""
        now = self.clock.now()
        day = self.local.day(now)
        block = not self._holding()
        rows = []
        for branch in list(self.branches.values()):
            book = self._books[branch.id]
            figures = self._city_figures(book, day, target_min)
            key = self._new_key(False, None)
            longest = dashboard.longest(self._published_wait(book, s, key, None, block) for s in branch.services)
            rows.append(CityRow(branch=branch, longest_wait_min=longest, **figures))
            # Let others in between two branches: under gevent (serve) a sleep of 0 is a turn of the
            # hub, so a city of 350 branches read every few seconds no longer holds every request
            # back for the whole read (issue p99 70 -> 27 ms at 350 branches); in threads, a GIL switch.
            time.sleep(0)
        return rows

    def _city_figures(self, book: BranchBook, day: str, target_min: float) -> dict:
        """The branch's city figures that only its changes move, kept until its version moves."""
        kept = book.city
        if kept is not None and kept[0] == (book.version, day, target_min):
            return kept[1]
        with self.hold(book.id):   # what the figures are of, taken at one moment; summed once let go
            key = (book.version, day, target_min)
            lines = self._counter_lines(book.id)
            waiting = sum(self.waiting(book.id, s) for s in self.branches[book.id].services)
            tickets = self.tickets_of(book.id, day)
        figures = dashboard.city_figures(lines, waiting, tickets, target_min)
        book.city = (key, figures)
        return figures

    def advice(self, branch_id: str, rates: HourlyRates, rules: StaffingRules,
               home: Mapping[str, Sequence[str]] | None = None) -> Advice:
        """The staffing advice for the branch now (motcua.core.staffing), every figure read at one moment."""
        with self.hold(branch_id):
            return advise(self, branch_id, rates, rules, home)

    def waiting_beside(self, branch_id: str, counter_id: str) -> bool:
        """Whether anyone waits at the branch for a service the counter does not serve."""
        services = self.counter(branch_id, counter_id).services
        return any(self.waiting(branch_id, s) for s in self.branches[branch_id].services if s not in services)

    def take_on_short(self, branch_id: str, counter_id: str, rates: HourlyRates, rules: StaffingRules,
                      home: Mapping[str, Sequence[str]] | None = None, actor: str | None = None) -> Move | None:
        """A free open counter whose Next found nobody, while citizens wait for services it does not serve,
        takes on at once what the staffing advice has it take on (motcua.core.staffing.taking_on), rather
        than idle until the manager's next look (rules.idle_takes_on off: never). Returns the move made, or None."""
        with self.operating(branch_id):
            counter = self.counter(branch_id, counter_id)
            if not rules.idle_takes_on or not counter.available or self.serving_at(branch_id, counter_id) is not None:
                return None
            if not self.waiting_beside(branch_id, counter_id):
                return None
            move = taking_on(advise(self, branch_id, rates, rules, home), counter_id)
            if move is not None:
                self.move_counters(branch_id, [(counter_id, move.from_services, move.to_services)], actor=actor)
            return move

    def _counter_lines(self, branch_id: str) -> list[CounterLine]:
        return [CounterLine(c, self.serving_at(branch_id, c.id), self.idle_since(branch_id, c.id))
                for c in self.counters_of(branch_id)]

    # ---- operations ------------------------------------------------------------------------

    def issue(self, branch_id: str, service_id: str, priority: bool = False, lang: str = "vi",
              actor: str | None = None) -> Ticket:
        """A new ticket at the back of its service's queue (by arrival time and priority)."""
        with self.operating(branch_id):
            service, now = self._issuing(branch_id, service_id)
            ticket = self._new_ticket(branch_id, service, priority, lang, now)
            self._commit(Change(tickets=[ticket], events=[self._event(None, ticket, actor)]))
            return ticket

    def issue_remote(self, branch_id: str, service_id: str, phone: str, lang: str = "vi",
                     rules: RemoteRules = RemoteRules(), actor: str | None = None,
                     travel_min: float | None = None) -> Ticket:
        """A remote ticket (motcua.core.remote): in the queue at once as a ticket on its way, expected
        after `rules.travel_min`, called only once checked in, gone at its window's end if not. A
        phone holding an active remote ticket for the service is refused (remote_ticket_held) with it.
        travel_min: the citizen's trip as the phone knows it (when to set off; None: the longest offered)."""
        phone = mobile(phone)
        if travel_min is not None and not 0 <= travel_min <= rules.travel_min:
            raise Invalid(f"travel_min must be between 0 and {rules.travel_min:g}", "bad_travel")
        with self.operating(branch_id):
            service, now = self._issuing(branch_id, service_id)
            with self._remote_lock:
                held = min((self.tickets[t] for t in self._remote.get((phone, service_id), ())),
                           key=lambda t: t.created_at, default=None)
                if held is not None:
                    raise Conflict("this phone already holds a remote ticket for the service", "remote_ticket_held",
                                   {"ticket": held.id, "branch": held.branch, "number": held.number})
                ticket = self._new_ticket(branch_id, service, False, lang, now, due_at=now + rules.travel_min * 60)
                if ticket.estimate_min is None:
                    raise Conflict(f"no open counter serves {service_id!r} at {branch_id} today", "not_served")
                ticket = ticket.replace(channel=REMOTE, phone=phone, travel_min=travel_min,
                                        window_end=window_end(now, ticket.estimate_min, rules))
                self._commit(Change(tickets=[ticket], events=[self._event(None, ticket, actor)]))
                return ticket

    def _issuing(self, branch_id: str, service_id: str) -> tuple[Service, float]:
        """The service a new ticket of the branch is for, and now: refused if the branch does not offer it
        or is closed. Windows ended are let go first (the branch is held)."""
        branch = self.branch(branch_id)
        service = self.service(service_id)
        if service_id not in branch.services:
            raise NotFound(f"{branch_id} does not offer {service_id!r}", "unknown_service")
        now = self.clock.now()
        if branch.closed:
            raise Conflict(f"{branch_id} is closed by the administration", "branch_closed")
        if self.settings.enforce_hours and not self._within_hours(branch, now):
            raise Conflict(f"{branch_id} is closed now", "branch_closed")
        self._expire_windows(self._books[branch_id])
        return service, now

    def expire_windows(self) -> int:
        """Let every remote ticket not checked in by its window's end leave the queue (the server's
        sweep; each branch's operations do it for the branch too): how many left."""
        gone = 0
        for branch_id in self.branch_ids():
            with self.operating(branch_id):
                gone += self._expire_windows(self._books[branch_id])
        return gone

    def set_off(self, ticket_id: str, rules: RemoteRules = RemoteRules()) -> float | None:
        """Minutes until a remote ticket's citizen should set off (motcua.core.remote.set_off_in), the call
        predicted now: at 0 they are told, once (set_off_at, and the phone's message in the same change).
        None for a ticket that waits for no citizen on the way (checked in, called, gone, or not remote)."""
        branch_id = self._branch_of(ticket_id)
        with self.operating(branch_id):
            book = self._books[branch_id]
            self._expire_windows(book)
            return self._set_off(book, self.ticket(ticket_id), rules)

    def tell_set_off(self, rules: RemoteRules = RemoteRules()) -> int:
        """Tell every remote ticket's citizen whose time has come to set off (the server's sweep): how many."""
        told = 0
        for branch_id in self.branch_ids():
            with self.operating(branch_id):
                book = self._books[branch_id]
                self._expire_windows(book)
                for ticket in [self.tickets[t] for t in list(book.windows)]:
                    if ticket.set_off_at is None and self._set_off(book, ticket, rules) == 0:
                        told += 1
        return told

    def _set_off(self, book: BranchBook, ticket: Ticket, rules: RemoteRules) -> float | None:
        """set_off() at the branch, held."""
        if ticket.id not in book.windows:
            return None
        if ticket.set_off_at is not None:
            return 0.0
        now = self.clock.now()
        wait = self._schedule(book).wait_of(ticket.id, now)
        travel = rules.travel_min if ticket.travel_min is None else ticket.travel_min
        minutes = set_off_in(wait, travel, (ticket.window_end - now) / 60, rules)
        if minutes > 0:
            return minutes
        told = ticket.replace(set_off_at=now)
        message = self.set_off_message
        self._commit(Change(tickets=[told], messages=[message(told)] if message is not None and told.phone else [],
                            events=[Event(told.id, told.branch, WAITING, WAITING, now, None, None, "set_off")]))
        return 0.0

    def call_next(self, branch_id: str, counter_id: str, actor: str | None = None) -> Ticket | None:
        """Call the best-ranked ticket callable now among the counter's services, or None (a free
        counter is the actor's all the same)."""
        with self.operating(branch_id):
            counter, claim = self._free_open_counter(branch_id, counter_id, actor)
            book = self._books[branch_id]
            self._expire_windows(book)
            queues = [book.queues[s] for s in counter.services if s in book.queues]
            ticket_id = pick_next(queues, self.clock.now())
            if ticket_id is None:
                if claim.events:
                    self._commit(claim)
                return None
            return self._call(self.tickets[ticket_id], counter, actor, claim)

    def call_ticket(self, ticket_id: str, branch_id: str, counter_id: str, actor: str | None = None) -> Ticket:
        """Call one chosen waiting (or today's no-show) ticket to a counter, even one not yet due:
        the officer sees who is there."""
        self.ticket(ticket_id)
        with self.operating(branch_id):
            ticket = self.ticket(ticket_id)
            counter, claim = self._free_open_counter(branch_id, counter_id, actor)
            if ticket.branch != branch_id:
                raise Conflict("the ticket belongs to another branch", "other_branch")
            self._require(ticket, (WAITING, NO_SHOW), "call")
            self._require_today(ticket)
            return self._call(ticket, counter, actor, claim)

    def recall(self, ticket_id: str, actor: str | None = None) -> Ticket:
        with self.operating(self._branch_of(ticket_id)):
            ticket = self._require(self.ticket(ticket_id), (CALLED,), "recall")
            return self._move(ticket, ticket.replace(recalls=ticket.recalls + 1, called_at=self.clock.now()), actor,
                              self._claim_its_counter(ticket, actor))

    def start(self, ticket_id: str, actor: str | None = None) -> Ticket:
        with self.operating(self._branch_of(ticket_id)):
            ticket = self._require(self.ticket(ticket_id), (CALLED,), "start")
            return self._move(ticket, ticket.replace(status=SERVING, started_at=self.clock.now()), actor,
                              self._claim_its_counter(ticket, actor))

    def done(self, ticket_id: str, actor: str | None = None) -> Ticket:
        with self.operating(self._branch_of(ticket_id)):
            ticket = self._require(self.ticket(ticket_id), (CALLED, SERVING), "finish")
            return self._move(ticket, ticket.replace(status=DONE, ended_at=self.clock.now()), actor,
                              self._claim_its_counter(ticket, actor))

    def no_show(self, ticket_id: str, actor: str | None = None) -> Ticket:
        with self.operating(self._branch_of(ticket_id)):
            ticket = self._require(self.ticket(ticket_id), (CALLED,), "mark as no-show")
            return self._move(ticket, ticket.replace(status=NO_SHOW), actor, self._claim_its_counter(ticket, actor))

    def requeue(self, ticket_id: str, actor: str | None = None) -> Ticket:
        """A no-show who turns up later the same day waits again in their original place."""
        with self.operating(self._branch_of(ticket_id)):
            ticket = self._require(self.ticket(ticket_id), (NO_SHOW,), "requeue")
            self._require_today(ticket)
            return self._move(ticket, ticket.replace(status=WAITING, counter=None, called_at=None), actor)

    def transfer(self, ticket_id: str, service_id: str, branch_id: str | None = None,
                 actor: str | None = None, due_at: float | None = None, rules: RemoteRules = RemoteRules()) -> Ticket:
        """Queue the citizen again for another service or branch, keeping the original arrival; at
        another branch, `due_at` is when the citizen is expected there (a redirect), and a remote
        ticket stays one (_moved_remote, under `rules`). Both branches are held, in id order."""
        home = self._branch_of(ticket_id)
        with self.operating(*[b for b in (home, branch_id) if b is not None and b in self._books]):
            ticket = self._require(self.ticket(ticket_id), (WAITING, CALLED, SERVING), "transfer")
            target = self.branch(branch_id or ticket.branch)
            service = self.service(service_id)
            if service_id not in target.services:
                raise NotFound(f"{target.id} does not offer {service_id!r}", "unknown_service")
            if target.closed and target.id != ticket.branch:
                raise Conflict(f"{target.id} is closed by the administration", "branch_closed")
            claim = self._claim_its_counter(ticket, actor)
            if target.id == ticket.branch:
                moved = ticket.replace(service=service_id, status=WAITING, counter=None,
                                       called_at=None, started_at=None)
                return self._move(ticket, moved, actor, claim)
            now = self.clock.now()
            new = self._new_ticket(target.id, service, ticket.priority, ticket.lang, now, ticket.issued_at,
                                   ticket.id, due_at)
            new = self._moved_remote(ticket, new, now, rules)
            old = ticket.replace(status=TRANSFERRED, transferred_to=new.id, ended_at=now)
            self._commit(Change(tickets=[old, new], counters=claim.counters, messages=claim.messages, events=[
                *claim.events, self._event(ticket, old, actor), self._event(None, new, actor)]))
            return new

    @staticmethod
    def _moved_remote(old: Ticket, new: Ticket, now: float, rules: RemoteRules) -> Ticket:
        """The ticket a remote one moves on to at another branch: still remote, with its phone. Checked in
        (its citizen was at the branch), it is a citizen on the way, called once due as anyone sent on; not
        yet, it still waits for its check-in, in a window worked out there as when it was taken."""
        if old.channel != REMOTE:
            return new
        moved = new.replace(channel=REMOTE, phone=old.phone, checked_in_at=old.checked_in_at)
        if old.checked_in_at is None:
            moved = moved.replace(window_end=window_end(now, new.estimate_min or 0.0, rules))
        return moved

    def check_in(self, ticket_id: str, actor: str | None = None) -> Ticket:
        """A citizen on their way shows up: from now they rank and may be called as arrived. Already
        due (or never on the way): nothing changes, except that a remote ticket is callable from its
        check-in on; one whose window has ended is refused (window_missed)."""
        branch_id = self._branch_of(ticket_id)
        with self.operating(branch_id):
            self._expire_windows(self._books[branch_id])
            ticket = self.ticket(ticket_id)
            if ticket.channel == REMOTE and ticket.status == EXPIRED and ticket.checked_in_at is None:
                raise Conflict("the ticket's arrival window has ended", WINDOW_MISSED)
            self._require(ticket, (WAITING,), "check in")
            now = self.clock.now()
            if ticket.channel == APPOINTMENT:   # checked in already: it waits for its slot (motcua.core.appointments)
                return ticket
            if awaiting_check_in(ticket):
                arrived = ticket.replace(checked_in_at=now, due_at=min(ticket.due_at, now))
                # Its estimate is made again here: the wait it shows from now on, and learns from once called.
                arrived = arrived.replace(estimate_min=self._wait_before(
                    arrived.branch, arrived.service, rank(arrived, self._boost_s), arrived.due_at))
            elif ticket.due_at is None or ticket.due_at <= now:
                return ticket
            else:
                arrived = ticket.replace(due_at=now)
            self._commit(Change(tickets=[arrived], events=[
                Event(ticket.id, ticket.branch, WAITING, WAITING, now, None, actor, "checked_in")]))
            return arrived

    def check_in_phone(self, branch_id: str, phone: str, actor: str | None = None) -> list[Ticket]:
        """Check in every remote ticket the phone holds at the branch, not checked in yet (none: NotFound)."""
        phone = mobile(phone)
        with self.operating(branch_id):
            self._expire_windows(self._books[branch_id])
            held = [self.tickets[t] for (p, _), ids in list(self._remote.items()) if p == phone for t in ids]
            held.sort(key=lambda t: t.created_at)
            waiting = [t for t in held if t.branch == branch_id and awaiting_check_in(t)]
            if not waiting:
                raise NotFound(f"this phone holds no remote ticket to check in at {branch_id}", "unknown_ticket")
            return [self.check_in(t.id, actor) for t in waiting]

    def note_not_printed(self, ticket_id: str, problem: str, actor: str | None = None) -> Ticket:
        """A kiosk could not print the ticket: it stays valid (shown on screen with its QR) and the
        journal says it was never printed, so that no number is a phantom."""
        with self.operating(self._branch_of(ticket_id)):
            ticket = self.ticket(ticket_id)
            note = f"{NOT_PRINTED}{problem}"
            self._commit(Change(events=[Event(ticket.id, ticket.branch, ticket.status, ticket.status,
                                              self.clock.now(), None, actor, note)]))
            return ticket

    def ticket_numbered(self, branch_id: str, number: str) -> Ticket:
        """Today's ticket with this number at the branch (what a citizen can type in)."""
        book = self._book(branch_id)
        day = self.local.day(self.clock.now())
        ticket_id = book.numbered.get((day, number.upper()))
        if ticket_id is not None:
            return self.tickets[ticket_id]
        raise NotFound(f"no ticket {number!r} today at {branch_id}", "unknown_ticket")

    def rate(self, ticket_id: str, score: int, reasons: Iterable[str] = (), comment: str = "") -> Rating:
        """A citizen's rating of a done ticket; once per ticket."""
        with self.operating(self._branch_of(ticket_id)):
            ticket = self.ticket(ticket_id)
            rating = Rating(ticket.id, score, tuple(reasons), comment or "", self.clock.now())
            self._validate_rating(rating)
            if ticket.status != DONE:
                raise Conflict("a ticket is rated after it is done", "not_done")
            if self.rated(ticket.id):
                raise Conflict("this ticket has been rated already", "already_rated")
            self._commit(Change(ratings=[rating]))
            return rating

    def rate_with_code(self, ticket_id: str, code: str, score: int, reasons: Iterable[str] = (),
                       comment: str = "", actor: str | None = None) -> Rating:
        """A rating by the ticket's number, proved by its rating code. A wrong code is an event and
        counts against the ticket; after RATING_CODE_TRIES the code is refused for good (`rating_locked`),
        right or wrong, and only the id rates it."""
        with self.operating(self._branch_of(ticket_id)):
            ticket = self.ticket(ticket_id)
            locked = ticket.rating_code_misses >= RATING_CODE_TRIES
            if not locked and hmac.compare_digest((ticket.rating_code or "").encode(), code.encode()):
                return self.rate(ticket_id, score, reasons, comment)
            if not locked:
                misses = ticket.rating_code_misses + 1
                self._commit(Change(tickets=[ticket.replace(rating_code_misses=misses)], events=[
                    Event(ticket.id, ticket.branch, ticket.status, ticket.status, self.clock.now(), None, actor,
                          RATING_CODE_WRONG)]))
                if misses < RATING_CODE_TRIES:
                    raise WrongCode(f"the rating code is not this ticket's ({RATING_CODE_TRIES - misses} tries left)")
            raise WrongCode("too many wrong codes: rate this ticket from its QR code", "rating_locked")

    def update_counter(self, branch_id: str, counter_id: str, services: Iterable[str] | None = None,
                       open: bool | None = None, actor: str | None = None) -> Counter:
        """A manager's move: change which services a counter serves, or open or close it."""
        with self.operating(branch_id):
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
            if open is not None and open != counter.open:
                # Closing ends a pause: a counter opened again starts working.
                changes.update(open=open, pause_reason=None, since=self.clock.now())
            return self._change_counter(counter, **changes)

    def pause(self, branch_id: str, counter_id: str, reason: str, actor: str | None = None) -> Counter:
        """An officer steps away (break, meeting, other): the counter calls nobody and is dealt no
        tickets in the estimates until resumed. Only a free, open, working counter pauses."""
        with self.operating(branch_id):
            if reason not in PAUSE_REASONS:
                raise Invalid(f"reason must be one of {', '.join(PAUSE_REASONS)}", "bad_value")
            counter, claim = self._free_open_counter(branch_id, counter_id, actor)
            return self._change_counter(counter, claim.events, pause_reason=reason, since=self.clock.now())

    def resume(self, branch_id: str, counter_id: str, actor: str | None = None, by_manager: bool = False) -> Counter:
        """A paused counter takes citizens again: its holder's move, or a manager's (from the dashboard),
        which leaves the counter whoever's it was."""
        with self.operating(branch_id):
            counter = self.counter(branch_id, counter_id)
            counter, claim = (counter, Change()) if by_manager else self._claim(counter, actor)
            if counter.pause_reason is None:
                raise Conflict(f"counter {counter_id} is not paused", "not_paused")
            return self._change_counter(counter, claim.events, pause_reason=None, since=self.clock.now())

    def take(self, branch_id: str, counter_id: str, actor: str, take_over: bool = False) -> tuple[Counter, str | None]:
        """`actor` holds the counter from now: a free one, their own, or another's taken over
        (motcua.core.holders). Returns the counter and whose it was when taken over (else None)."""
        with self.operating(branch_id):
            counter = self.counter(branch_id, counter_id)
            held, events = holders.take(counter, actor, self.clock.now(), take_over)
            if events:
                self._commit(Change(counters=[held], events=events))
            return held, counter.holder if counter.holder != actor else None

    def release(self, branch_id: str, counter_id: str, actor: str) -> Counter:
        """The holder lets the counter go (already free: nothing changes)."""
        with self.operating(branch_id):
            free, events = holders.release(self.counter(branch_id, counter_id), actor, self.clock.now())
            if events:
                self._commit(Change(counters=[free], events=events))
            return free

    def release_held_by(self, actor: str, why: str = holders.SIGNED_OUT) -> list[Counter]:
        """Every counter `actor` holds, let go in one commit (a sign-out); the counters freed."""
        branches = {c.branch for c in list(self.counters.values()) if c.holder == actor}
        with self.operating(*branches):
            freed, events = [], []
            for branch_id in sorted(branches):
                for counter in self.counters_of(branch_id):
                    if counter.holder == actor:
                        free, released = holders.release(counter, actor, self.clock.now(), why)
                        freed.append(free)
                        events += released
            if freed:
                self._commit(Change(counters=freed, events=events))
            return freed

    def move_counters(self, branch_id: str, moves: Iterable[tuple[str, Sequence[str], Sequence[str]]],
                      actor: str | None = None) -> tuple[list[Counter], list[Counter]]:
        """Several counters change services at once, in one commit: (counter, services it serves now,
        services it is to serve). All or none: a counter that no longer serves what the move started
        from refuses the lot. Returns the counters before and after."""
        with self.operating(branch_id):
            branch = self.branch(branch_id)
            before, after = [], []
            for counter_id, expected, services in moves:
                counter = self.counter(branch_id, counter_id)
                if any(c.id == counter_id for c in before):
                    raise Invalid(f"counter {counter_id} is moved twice", "duplicate_counter")
                if tuple(counter.services) != tuple(expected):
                    raise Conflict(f"counter {counter_id} serves other services now", "counters_changed")
                services = tuple(dict.fromkeys(services))
                if not services:
                    raise Invalid(f"counter {counter_id} must serve at least one service", "no_services")
                for service_id in services:
                    self.service(service_id)
                    if service_id not in branch.services:
                        raise Conflict(f"{branch_id} does not offer {service_id!r}", "not_offered")
                before.append(counter)
                after.append(Counter(**{**counter.__dict__, "services": services}))
            if after:
                self._commit(Change(counters=after))
            return before, after

    def close_day(self) -> bool:
        """Close every past day still open (run at local midnight, at start, and by the first
        operation after midnight): each leftover ticket ends `expired` with a `day_closed` event, the
        counters it held are free, and the queues and recent calls are today's. False if none had ended."""
        with self.hold_all():
            return self._roll_day()

    def seconds_to_next_day(self) -> float:
        """Seconds from now until the next local midnight."""
        now = self.clock.now()
        tomorrow = date.fromisoformat(self.local.day(now)) + timedelta(days=1)
        return self.local.epoch(tomorrow, "00:00") - now

    def change_network(self, build: Callable[[], Change]) -> Change:
        """An administrator's change of the network, worked out by build() and committed like any operation."""
        # build() runs holding every branch: it checks the very state the change is applied to.
        with self.operating(*list(self._books)):
            change = build()
            self._commit(change)
            return change

    def _expire_windows(self, book: BranchBook) -> int:
        """The branch's remote tickets whose window has ended unchecked leave the queue (the branch is held)."""
        now = self.clock.now()
        ended = [self.tickets[t] for t, end in book.windows.items() if end <= now]
        if ended:
            gone = [t.replace(status=EXPIRED, ended_at=now) for t in ended]
            self._commit(Change(tickets=gone, events=[
                Event(t.id, t.branch, WAITING, EXPIRED, now, None, None, WINDOW_MISSED) for t in ended]))
        return len(ended)

    # ---- estimates -------------------------------------------------------------------------

    def _new_key(self, priority: bool, arriving_at: float | None) -> tuple:
        """The rank of a ticket taken now, by a citizen there from `arriving_at` (now if None)."""
        arrived = self.clock.now() if arriving_at is None else arriving_at
        return (arrived - (self._boost_s if priority else 0.0), arrived, "~")  # "~": after any number

    def _schedule(self, book: BranchBook) -> Schedule:
        """The branch's schedule of every waiting ticket: kept, or dealt again (and published) when stale."""
        now = self.clock.now()
        schedule = book.schedule
        if schedule is None or not 0 <= now - schedule.at <= SCHEDULE_MAX_AGE_S:
            schedule = book.schedule = self._deal(book, now)
            book.publish()
        return schedule

    def _deal(self, book: BranchBook, now: float, before: tuple | None = None) -> Schedule:
        """A fresh schedule of the branch's waiting tickets (only those ranking before `before`)."""
        branch_id = book.id
        branch = self.branches[branch_id]
        counters = list(book.counters.values())
        day = self.local.day(now)
        means = {s: self.times.mean(branch_id, s, day) for s in self.services}
        busy = {}
        for counter in counters:
            current = self.serving_at(branch_id, counter.id)
            if current is not None:
                since = current.started_at or current.called_at
                busy[counter.id] = (current.service, (now - since) / 60)
        minute = self.local.minutes_of_day(now)
        windows = {c.id: duty_windows(c.shifts, minute, branch.close) for c in counters}
        schedule = Schedule(now, counters, busy, means, windows)
        queues = [queue.entries(service) for service, queue in book.queues.items()]
        for key, ticket_id, due, service in heapq.merge(*queues):
            if before is not None and key >= before:
                break
            schedule.deal(ticket_id, key, service, now, due)
        return schedule

    def _wait_before(self, branch_id: str, service_id: str, key: tuple, due_at: float | None) -> float | None:
        """Minutes from now until a ticket of `key`, not yet in the queue, would be called. A thread
        that holds other branches reads this one as it published it (it may not wait for its lock)."""
        book = self._book(branch_id)
        held = self._holding()
        if held and branch_id not in held:
            return self._published_wait(book, service_id, key, due_at, block=False)
        with self.hold(branch_id):
            return self._wait_held(book, service_id, key, due_at)

    def _wait_held(self, book: BranchBook, service_id: str, key: tuple, due_at: float | None) -> float | None:
        now = self.clock.now()
        schedule = self._schedule(book)
        if schedule.last_key is not None and key <= schedule.last_key:
            schedule = self._deal(book, now, before=key)  # it would not join at the back
        return schedule.wait(service_id, now, due_at)

    def _published_wait(self, book: BranchBook, service_id: str, key: tuple, due_at: float | None,
                        block: bool) -> float | None:
        """The wait from the branch's published outlook when it is current; else worked out under the
        branch's lock if it is free (or `block`: the caller holds no other), else the last published."""
        now = self.clock.now()
        outlook = book.outlook   # read before the version: a newer version only makes it stale
        if outlook is not None and outlook.current(book.version, now, SCHEDULE_MAX_AGE_S) and (
                outlook.schedule.last_key is None or key > outlook.schedule.last_key):
            return outlook.schedule.wait(service_id, now, due_at)
        if book.lock.acquire(blocking=block):
            try:
                return self._wait_held(book, service_id, key, due_at)
            finally:
                book.lock.release()
        if outlook is None:
            return None
        return outlook.schedule.wait(service_id, now, due_at)   # busy: as it last published

    # ---- internals -------------------------------------------------------------------------

    def _new_ticket(self, branch_id, service, priority, lang, now, arrived_at=None, origin=None,
                    due_at=None) -> Ticket:
        """The next numbered ticket, with the wait it is issued with."""
        day = self.local.day(now)
        seq = self._books[branch_id].seq[(day, service.letter)] + 1
        # A ticket moved on from another keeps its code and its wrong tries: the citizen holds that code.
        before = self.tickets.get(origin) if origin else None
        ticket = Ticket(id=self.new_id(), branch=branch_id, service=service.id,
                        number=f"{service.letter}{seq:03d}", day=day,
                        issued_at=arrived_at if arrived_at is not None else now,
                        priority=bool(priority), lang=lang, created_at=now, origin=origin, due_at=due_at,
                        rating_code=before.rating_code if before else self.new_code(),
                        rating_code_misses=before.rating_code_misses if before else 0)
        return ticket.replace(estimate_min=self._wait_before(branch_id, service.id, rank(ticket, self._boost_s),
                                                             due_at))

    def _change_counter(self, counter: Counter, events: list[Event] = (), **changes) -> Counter:
        updated = dataclasses.replace(counter, **changes)
        self._commit(Change(counters=[updated], events=list(events)))
        return updated

    def _claim(self, counter: Counter, actor: str | None) -> tuple[Counter, Change]:
        """The counter as the actor may act at it, and what acting there takes with it: nothing when
        it is theirs already, the counter taken when free; another's is refused (motcua.core.holders)."""
        held, events = holders.claim(counter, actor, self.clock.now())
        return held, Change(counters=[held] if events else [], events=events)

    def _claim_its_counter(self, ticket: Ticket, actor: str | None) -> Change:
        """What acting on a ticket at its counter takes with it (nothing for a ticket at no counter)."""
        counter = self.counters.get((ticket.branch, ticket.counter)) if ticket.status in ACTIVE_AT_COUNTER else None
        return self._claim(counter, actor)[1] if counter is not None else Change()

    def _free_open_counter(self, branch_id: str, counter_id: str, actor: str | None) -> tuple[Counter, Change]:
        """A counter the actor may call to now (open, working, holding no ticket), and its claim."""
        counter, claim = self._claim(self.counter(branch_id, counter_id), actor)
        if not counter.open:
            raise Conflict(f"counter {counter_id} is closed", "counter_closed")
        if counter.pause_reason is not None:
            raise Conflict(f"counter {counter_id} is paused: resume it first", "counter_paused")
        if counter_id in self._books[branch_id].at_counter:
            raise Conflict(f"counter {counter_id} still holds a ticket: finish it first", "counter_busy")
        return counter, claim

    def _call(self, ticket: Ticket, counter: Counter, actor: str | None, claim: Change) -> Ticket:
        now = self.clock.now()
        first = ticket.first_called_at if ticket.first_called_at is not None else now
        called = ticket.replace(status=CALLED, counter=counter.id, called_at=now, started_at=None,
                                first_called_at=first)
        claim.messages.extend(self._near_turn(ticket))
        return self._move(ticket, called, actor, claim)

    def _near_turn(self, called: Ticket) -> list[dict]:
        """The message telling a phone its turn is near that calling `called` (still waiting) causes
        (motcua.core.notices); none without [notify] near_ahead."""
        near = self.near_turn
        queue = self._books[called.branch].queues.get(called.service)
        if near is None or queue is None or called.status != WAITING or called.day != self._day:
            return []
        index = notices.told_at(queue.count_before(rank(called, self._boost_s)), near.ahead)
        told = self.tickets.get(queue.at(index)) if index is not None else None
        return [near.message(told, near.ahead)] if told is not None and told.phone else []

    def _move(self, old: Ticket, new: Ticket, actor: str | None, claim: Change | None = None) -> Ticket:
        """A ticket's change, with what acting at its counter took (committed first, in the same transaction)."""
        claim = claim or Change()
        self._commit(Change(tickets=[new], counters=claim.counters, messages=claim.messages,
                            events=[*claim.events, self._event(old, new, actor)]))
        return new

    def _event(self, old: Ticket | None, new: Ticket, actor: str | None) -> Event:
        return Event(new.id, new.branch, old.status if old else None, new.status,
                     self.clock.now(), new.counter, actor)

    def _commit(self, change: Change) -> None:
        """Journal the change, then apply it to memory and tell the listeners. The caller holds the
        books of every branch it touches (all of them for a change of the network); the commit lock,
        taken last, keeps the journal's order memory's. A listener runs inside both: it must take no
        other branch's lock."""
        with self._commit_lock:
            self.journal.commit(change)
            self.version += 1
            now = self.clock.now()
            network = bool(change.services or change.branches or change.removed_counters)
            for branch in change.branches:
                self._add_branch(branch)
            touched = (self._books.values() if network else
                       {self._books[b] for b in self._branches_of(change)})
            self._stamp(touched)
            for ticket in change.tickets:
                old = self.tickets.get(ticket.id)
                if old is None and not self._kept(ticket):
                    continue  # a day gone's ticket (a wrong rating code tried on it): the store has it, memory need not
                if old is not None and old.status in ACTIVE_AT_COUNTER and not (
                        ticket.status in ACTIVE_AT_COUNTER and ticket.counter == old.counter):
                    self._books[old.branch].freed_at[old.counter] = now
                self._learn(self.tickets.get(ticket.id), ticket)
                self._apply_ticket(ticket)
            for counter in change.counters:
                self._put_counter(counter)
                self._books[counter.branch].schedule = None
            if network:
                self._apply_network(change)
            for rating in change.ratings:
                if rating.ticket in self.tickets:  # a day gone's rating is the archive's
                    self._put_rating(rating)
            for appointment in change.appointments:
                self._apply_appointment(appointment)
            for event in change.events:
                if event.to_status == CALLED:
                    self._note_call(self.tickets[event.ticket], event.from_status == CALLED)
                if event.note and event.note.startswith(NOT_PRINTED):
                    self._books[event.branch].kiosk_problems.append(event)
            for listener in self.listeners:
                listener(change)

    def _branches_of(self, change: Change) -> set[str]:
        branches = {t.branch for t in change.tickets} | {c.branch for c in change.counters}
        branches |= {e.branch for e in change.events}
        branches |= {self.tickets[r.ticket].branch for r in change.ratings if r.ticket in self.tickets}
        return branches

    def _stamp(self, books: Iterable[BranchBook]) -> None:
        """The books changed at the engine's version: what they published is stale from now."""
        for book in books:
            book.version = self.version

    def _add_branch(self, branch: Branch) -> None:
        self.branches[branch.id] = branch
        if branch.id not in self._books:
            self._books[branch.id] = BranchBook(branch.id, self.settings.recent_calls)

    def _put_counter(self, counter: Counter) -> None:
        self.counters[(counter.branch, counter.id)] = counter
        self._books[counter.branch].counters[counter.id] = counter

    def _put_rating(self, rating: Rating) -> None:
        self.ratings[rating.ticket] = rating
        self._books[self.tickets[rating.ticket].branch].ratings[rating.ticket] = rating

    def _apply_network(self, change: Change) -> None:
        """Put committed services and removed counters in memory (branches are in already); every
        estimate is dealt again."""
        for service in change.services:
            self.services[service.id] = service
            self.times.configured[service.id] = service.mean_min
        for counter in change.removed_counters:
            self.counters.pop((counter.branch, counter.id), None)
            self._books[counter.branch].counters.pop(counter.id, None)
        # A service's mean or a branch's offer moves the waits of every branch it touches: cheaper
        # to deal them all again than to work out which.
        for book in self._books.values():
            book.schedule = None

    def _apply_ticket(self, new: Ticket) -> None:
        """Put a ticket's new state in memory, keeping queues, counters and schedules in step."""
        book = self._books.get(new.branch)
        if book is None:   # a ticket of a branch the network no longer has: kept all the same
            book = self._books[new.branch] = BranchBook(new.branch, self.settings.recent_calls)
        old = self.tickets.get(new.id)
        if old is not None and old.status == WAITING and old.day == self._day:
            self._queue(book, old.service).remove(old)
        if old is not None and old.status in ACTIVE_AT_COUNTER:
            book.at_counter.pop(old.counter, None)
        self.tickets[new.id] = new
        if old is None:
            book.of_day[new.day][new.id] = None
            book.numbered[(new.day, new.number)] = new.id
        if new.status == WAITING and new.day == self._day:
            self._queue(book, new.service).add(new)
        if new.status in ACTIVE_AT_COUNTER:
            book.at_counter[new.counter] = new.id
        self._keep_remote(book, old, new)
        self._keep_schedule(book, old, new)
        if old is None:
            letter, seq = split_number(new.number)
            key = (new.day, letter)
            book.seq[key] = max(book.seq[key], seq)

    def _keep_remote(self, book: BranchBook, old: Ticket | None, new: Ticket) -> None:
        """Keep the phones' active remote tickets and the branch's open windows in step with a ticket."""
        if new.channel != REMOTE:
            return
        if old is not None and (old.phone, old.service) != (new.phone, new.service):
            self._let_go(old)
        if new.status in (WAITING, CALLED, SERVING) and new.day == self._day:
            self._remote.setdefault((new.phone, new.service), set()).add(new.id)
        else:
            self._let_go(new)
        if new.status == WAITING and new.day == self._day and awaiting_check_in(new):
            book.windows[new.id] = new.window_end
        else:
            book.windows.pop(new.id, None)

    def _let_go(self, ticket: Ticket) -> None:
        """ticket no longer among its phone's active remote tickets for its service."""
        key = (ticket.phone, ticket.service)
        held = self._remote.get(key)
        if held is not None:
            held.discard(ticket.id)
            if not held:
                del self._remote[key]

    def _keep_schedule(self, book: BranchBook, old: Ticket | None, new: Ticket) -> None:
        """A new ticket ranking after every other at its branch is dealt onto the branch's schedule
        (published again); any other change of a ticket makes the branch's schedule stale."""
        schedule = book.schedule
        key = rank(new, self._boost_s)
        if (old is None and new.status == WAITING and new.day == self._day and schedule is not None
                and (schedule.last_key is None or key > schedule.last_key)):
            schedule.deal(new.id, key, new.service, self.clock.now(), new.due_at)
            book.publish()
            return
        book.schedule = None

    def _learn(self, old: Ticket | None, new: Ticket) -> None:
        """What a committed change teaches: a service time when a ticket is done, an estimate's
        error when a ticket is called for the first time."""
        if new.status == DONE and (old is None or old.status != DONE):
            self._learn_service_time(new)
        if new.first_called_at is not None and (old is None or old.first_called_at is None):
            self._learn_error(new)

    def _learn_again(self, tickets: list[Ticket]) -> None:
        """What the loaded tickets taught, in the order it was learned (restarts forget nothing)."""
        for ticket in sorted((t for t in tickets if t.status == DONE and t.ended_at is not None),
                             key=lambda t: t.ended_at):
            self._learn_service_time(ticket)
        for ticket in sorted((t for t in tickets if t.first_called_at is not None), key=lambda t: t.first_called_at):
            self._learn_error(ticket)
        called = (t for t in tickets if t.called_at is not None and t.counter and self.local.day(t.called_at) >= self._day)
        for ticket in sorted(called, key=lambda t: t.called_at):
            # Oldest first, as live calls are added: a restarted display shows the same list.
            self._note_call(ticket, ticket.recalls > 0)

    def _freed_at_again(self, tickets: list[Ticket]) -> None:
        """When each counter last let a ticket go, as far as the loaded tickets tell (a no-show keeps
        only its call's time)."""
        for ticket in tickets:
            if ticket.counter and ticket.status not in ACTIVE_AT_COUNTER and ticket.branch in self._books:
                at = ticket.ended_at or ticket.called_at
                freed = self._books[ticket.branch].freed_at
                if at is not None and at > freed.get(ticket.counter, -math.inf):
                    freed[ticket.counter] = at

    def _learn_service_time(self, ticket: Ticket) -> None:
        began = ticket.started_at or ticket.called_at
        if began is not None and ticket.ended_at is not None:
            self.times.record(ticket.branch, ticket.service, ticket.day, (ticket.ended_at - began) / 60)

    def _learn_error(self, ticket: Ticket) -> None:
        if ticket.estimate_min is not None:
            since = ticket.checked_in_at if ticket.checked_in_at is not None else ticket.created_at
            self.ranges.record(ticket.branch, ticket.estimate_min, (ticket.first_called_at - since) / 60,
                               estimate_kind(ticket), certain_min(ticket, since))

    def _note_call(self, ticket: Ticket, recall: bool) -> None:
        self._books[ticket.branch].recent.appendleft(Call(ticket.id, ticket.branch, ticket.number, ticket.counter,
                                                          ticket.service, ticket.called_at, recall, ticket.channel))

    def _queue(self, book: BranchBook, service_id: str) -> ServiceQueue:
        queue = book.queues.get(service_id)
        if queue is None:
            queue = book.queues[service_id] = ServiceQueue(self._boost_s)
        return queue

    def _day_turned(self) -> bool:
        """Whether now is outside the open day (asked twice by every operation: two comparisons)."""
        start, end = self._day_span
        return not start <= self.clock.now() < end

    def _span(self, day: str) -> tuple[float, float]:
        """Epoch seconds from the local midnight that starts the day to the one that ends it."""
        first = date.fromisoformat(day)
        return self.local.epoch(first, "00:00"), self.local.epoch(first + timedelta(days=1), "00:00")

    def _roll_day(self) -> bool:
        """The day's turn, holding every branch."""
        now = self.clock.now()
        today = self.local.day(now)
        if today == self._day:
            return False
        # Committed first, under the old day: applying it takes the tickets out of the queues and
        # off the counters they held. If the journal fails, nothing changes and the next try closes.
        leftovers = [t for t in self.tickets.values() if t.status in OPEN and t.day < today]
        closed = [t.replace(status=EXPIRED, ended_at=now) for t in leftovers]
        # Nobody's break lasts overnight, nor anybody's hold on a counter: a counter paused yesterday
        # starts the day working, and free for whoever signs in at it.
        resumed, freed = [], []
        for counter in self.counters.values():
            if counter.pause_reason is not None:
                counter = dataclasses.replace(counter, pause_reason=None, since=now)
            counter, released = holders.release(counter, None, now, DAY_CLOSED)
            if counter != self.counters[(counter.branch, counter.id)]:
                resumed.append(counter)
                freed += released
        if closed or resumed:
            self._commit(Change(tickets=closed, counters=resumed, events=[
                *(Event(t.id, t.branch, t.status, EXPIRED, now, t.counter, None, DAY_CLOSED) for t in leftovers),
                *freed]))
        self._day = today
        self._day_span = self._span(today)
        self._forget_days_gone()
        for book in self._books.values():
            book.queues.clear()
            book.schedule = None
            book.recent = deque((c for c in book.recent if self.local.day(c.at) == today), maxlen=book.recent.maxlen)
        for ticket in self.tickets.values():
            if ticket.status == WAITING and ticket.day == today:
                self._queue(self._books[ticket.branch], ticket.service).add(ticket)
        with self._commit_lock:
            self.version += 1
            self._stamp(self._books.values())
        return True

    def _kept(self, ticket: Ticket) -> bool:
        """Whether memory holds the ticket: one of the open day or after, or one still open."""
        return ticket.day >= self._day or ticket.status in OPEN

    def _forget_days_gone(self) -> None:
        """Let the finished tickets of the days before the open one go, with what is kept per day: the
        store has them, and memory stays today's size however long the server runs."""
        gone = [t for t in self.tickets.values() if not self._kept(t)]
        for ticket in gone:
            book = self._books[ticket.branch]
            del self.tickets[ticket.id]
            self.ratings.pop(ticket.id, None)
            book.ratings.pop(ticket.id, None)
            book.numbered.pop((ticket.day, ticket.number), None)
        for book in self._books.values():
            for day in [day for day in book.of_day if day < self._day]:
                kept = {ticket_id: None for ticket_id in book.of_day[day] if ticket_id in self.tickets}
                if kept:
                    book.of_day[day] = kept
                else:
                    del book.of_day[day]
            for key in [key for key in book.seq if key[0] < self._day]:
                del book.seq[key]
        self.times.forget_before(self._day)
        self._forget_appointments(self._day)

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

    @staticmethod
    def _validate_rating(rating: Rating) -> None:
        if isinstance(rating.score, bool) or not isinstance(rating.score, int) or not 1 <= rating.score <= 4:
            raise Invalid("score must be an integer from 1 to 4")
        if len(rating.reasons) > MAX_REASONS or not all(
                isinstance(r, str) and 0 < len(r) <= MAX_REASON_CHARS for r in rating.reasons):
            raise Invalid(f"reasons must be at most {MAX_REASONS} short strings")
        if not isinstance(rating.comment, str) or len(rating.comment) > MAX_COMMENT_CHARS:
            raise Invalid(f"comment must be a string of at most {MAX_COMMENT_CHARS} characters")
        check_text(rating.comment, "a comment", "bad_comment", lines=True)


class Hold:
    """The books of some branches held by this thread, for a `with` block (QueueEngine.hold): each
    branch's lock taken once, in id order; an operation's hold closes a day that has ended first."""

    __slots__ = ("_engine", "_books", "_operation")

    def __init__(self, engine: QueueEngine, branch_ids: Sequence[str], operation: bool = False) -> None:
        self._engine = engine
        self._operation = operation
        if len(branch_ids) == 1:
            self._books = [engine._book(branch_ids[0])]
        else:
            self._books = [engine._book(b) for b in sorted(set(branch_ids))]

    def __enter__(self) -> None:
        engine = self._engine
        held = engine._holding()
        nested = bool(held)
        while True:
            if self._operation and not nested and engine._day_turned():
                with engine.hold_all():
                    engine._roll_day()
            new = [book for book in self._books if book.id not in held]
            if new and held and new[0].id < max(held):
                raise RuntimeError(f"branch {new[0].id!r} is locked after {max(held)!r}: take both at once")
            for book in new:
                book.lock.acquire()
                held[book.id] = 0
            for book in self._books:
                held[book.id] += 1
            if not self._operation or nested or not engine._day_turned():
                return
            self._release(held)   # the day ended meanwhile: closed first, then held again

    def __exit__(self, *exc) -> None:
        self._release(self._engine._holding())

    def _release(self, held: dict[str, int]) -> None:
        for book in reversed(self._books):
            held[book.id] -= 1
            if not held[book.id]:
                del held[book.id]
                book.lock.release()


class PublishedView:
    """The engine as a branch's offers read it (motcua.core.balancing, motcua.core.transfers): all it
    has, but other branches' waits as they published them, so an offer never waits for a neighbour."""

    def __init__(self, engine: QueueEngine) -> None:
        self._engine = engine
        # What balancing asks for most, bound once (the rest through __getattr__).
        self.now, self.branch, self.branch_ids, self.closes_at = engine.now, engine.branch, engine.branch_ids, \
            engine.closes_at

    def __getattr__(self, name: str):
        return getattr(self._engine, name)

    def estimate_new(self, branch_id: str, service_id: str, priority: bool = False,
                     arriving_at: float | None = None) -> float | None:
        return self._engine.published_estimate(branch_id, service_id, priority, arriving_at)


def split_number(number: str) -> tuple[str, int]:
    """'B007' -> ('B', 7): the service letter(s) and the day's sequence."""
    letters = number.rstrip("0123456789")
    return letters, int(number[len(letters):])
