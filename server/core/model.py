"""The things the queue is made of, as small immutable dataclasses, the errors of the core, and the
read interface through which the rest of the core sees the queues."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Protocol

WAITING, CALLED, SERVING, DONE, NO_SHOW, TRANSFERRED, EXPIRED = (
    "waiting", "called", "serving", "done", "no_show", "transferred", "expired")
ACTIVE_AT_COUNTER = (CALLED, SERVING)
# What a ticket may still be when its day ends: the day's close turns each into EXPIRED.
OPEN = (WAITING, CALLED, SERVING, NO_SHOW)
DAY_CLOSED = "day_closed"  # the note of the event that expires a ticket left over at midnight
# How a ticket was taken: at the branch's kiosk, or from a phone before the trip (motcua.core.remote).
# Or at the kiosk by the holder of an appointment, checked in within its grace (motcua.core.appointments).
WALK_IN, REMOTE, APPOINTMENT = "walk_in", "remote", "appointment"
CHANNELS = (WALK_IN, REMOTE, APPOINTMENT)
WINDOW_MISSED = "window_missed"  # the note of the event that expires a remote ticket not checked in in time
# Why an officer paused a counter; a paused counter is open but calls nobody and is dealt no tickets.
PAUSE_REASONS = ("break", "meeting", "other")
STAFF_ACTOR = "staff:"  # a staff account's actor is "staff:" and its username


def staff_actor(username: str) -> str:
    """The actor of a staff account ("lan" -> "staff:lan")."""
    return STAFF_ACTOR + username


def staff_name(actor: str | None) -> str | None:
    """The username of a staff account's actor ("staff:lan" -> "lan"); None for anyone else."""
    return actor[len(STAFF_ACTOR):] if actor and actor.startswith(STAFF_ACTOR) else None


@dataclass(frozen=True)
class Service:
    """A kind of transaction: ticket letter, configured mean service time, the kiosk's short description."""

    id: str
    name_vi: str
    name_en: str
    letter: str
    mean_min: float
    cv: float = 0.6
    description_vi: str = ""
    description_en: str = ""


@dataclass(frozen=True)
class Branch:
    """A service point: where it is, when it opens, what it offers.

    unit_code: what its dossiers' codes begin with (empty: its id); closed: shut by an admin, it issues
    no tickets and is offered to no one.
    """

    id: str
    name_vi: str
    name_en: str
    lat: float
    lon: float
    services: tuple[str, ...]
    open: str = "07:30"
    close: str = "17:00"
    shifts: tuple[tuple[str, str], ...] = ()
    address_vi: str = ""
    address_en: str = ""
    unit_code: str = ""
    closed: bool = False


@dataclass(frozen=True)
class Counter:
    """A desk of a branch: the services it may serve, whether it is open or paused (and why), its shifts.

    since: when it was last opened, closed, paused or resumed (None: not since it was loaded).
    holder: the actor of the staff account working it (None: free), since held_since (motcua.core.holders).
    """

    branch: str
    id: str
    services: tuple[str, ...]
    open: bool = True
    shifts: tuple[tuple[str, str], ...] = ()
    pause_reason: str | None = None
    since: float | None = None
    holder: str | None = None
    held_since: float | None = None

    @property
    def available(self) -> bool:
        """Whether it takes citizens now: open and not paused."""
        return self.open and self.pause_reason is None


@dataclass(frozen=True)
class Ticket:
    """One citizen's place in one queue; issued_at is the first arrival and survives transfers.

    due_at: when a citizen sent here from another branch is expected (or checked in): the ticket
    ranks by it and `next` does not call it before. A remote ticket (channel `remote`) is such a
    ticket that `next` does not call before its check-in (checked_in_at) either, and that leaves
    the queue at window_end if not checked in by then. estimate_min: the wait estimated when the
    ticket joined this queue. first_called_at: its first call, against which that estimate is
    judged.
    """

    id: str
    branch: str
    service: str
    number: str
    day: str
    issued_at: float
    priority: bool = False
    lang: str = "vi"
    status: str = WAITING
    created_at: float = 0.0
    counter: str | None = None
    called_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    recalls: int = 0
    origin: str | None = None
    transferred_to: str | None = None
    due_at: float | None = None
    estimate_min: float | None = None
    first_called_at: float | None = None
    rating_code: str | None = None      # printed on the ticket, shown on its phone page: rates it by number
    rating_code_misses: int = 0         # wrong codes tried with its number (RATING_CODE_TRIES lock that way)
    channel: str = WALK_IN              # walk_in or remote (motcua.core.remote)
    phone: str | None = None            # a remote ticket's phone (the only personal data it keeps)
    window_end: float | None = None     # a remote ticket leaves the queue if not checked in by then
    checked_in_at: float | None = None  # when a remote ticket's citizen checked in at the branch
    appointment: str | None = None      # the id of the appointment whose check-in gave the ticket
    travel_min: float | None = None     # a remote ticket: its citizen's trip, as the phone gave it (None: the longest)
    set_off_at: float | None = None     # a remote ticket: when its citizen was told to set off (motcua.core.remote)

    def replace(self, **changes) -> "Ticket":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Event:
    """One state change of a ticket (enough to measure every wait and service time afterwards), or of
    who holds a counter (its ticket None, motcua.core.holders)."""

    ticket: str | None
    branch: str
    from_status: str | None
    to_status: str
    at: float
    counter: str | None = None
    actor: str | None = None
    note: str | None = None   # what happened besides the status, e.g. "not_printed:paper_out"


@dataclass(frozen=True)
class Call:
    """A ticket called to a counter, as the branch's list of recent calls keeps it."""

    ticket: str
    branch: str
    number: str
    counter: str | None
    service: str
    at: float
    recall: bool
    channel: str = WALK_IN   # how the ticket was taken: the wall display marks a remote one


@dataclass(frozen=True)
class Rating:
    """A citizen's verdict on one served ticket: 4 very satisfied … 1 not satisfied."""

    ticket: str
    score: int
    reasons: tuple[str, ...]
    comment: str
    at: float


@dataclass
class Change:
    """Everything one operation writes; the journal commits it in one transaction."""

    tickets: list[Ticket] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    counters: list[Counter] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)
    # An administrator's changes of the network (motcua.core.administration).
    services: list[Service] = field(default_factory=list)
    branches: list[Branch] = field(default_factory=list)
    removed_counters: list[Counter] = field(default_factory=list)
    # Messages to citizens this change causes (outbox rows, motcua.notify.Notifier.message): committed with it.
    messages: list[dict] = field(default_factory=list)
    # Appointments booked, moved, cancelled, checked in or swept (motcua.core.appointments.Appointment).
    appointments: list = field(default_factory=list)


class DomainError(Exception):
    """A refusal of the core, with a stable machine-readable code."""

    code = "error"

    def __init__(self, message: str, code: str | None = None, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details  # what a program needs to act on the refusal, e.g. whose counter it is
        if code:
            self.code = code


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Invalid(DomainError):
    code = "invalid"


class WrongCode(DomainError):
    """A code that proves holding a ticket, wrong or no longer taken: refused as not the holder's (403)."""

    code = "wrong_rating_code"


class StorageUnavailable(DomainError):
    """The journal cannot write (disk full, read-only, I/O error): nothing was changed; try again later."""

    code = "storage_unavailable"


class QueueView(Protocol):
    """What balancing and staffing read of the queues (the engine provides it)."""

    def now(self) -> float: ...

    def local_minute(self) -> float:
        """Minutes after local midnight now."""

    def branch(self, branch_id: str) -> Branch: ...

    def branch_ids(self) -> list[str]: ...

    def counters_of(self, branch_id: str) -> list[Counter]: ...

    def waiting(self, branch_id: str, service_id: str) -> int: ...

    def mean_service_min(self, branch_id: str, service_id: str) -> float:
        """Today's mean service minutes at the branch: configured, then learned."""

    def closes_at(self, branch_id: str) -> float:
        """Epoch seconds when the branch stops taking citizens today (infinite if hours are not kept)."""

    def estimate_new(self, branch_id: str, service_id: str, priority: bool = False,
                     arriving_at: float | None = None) -> float | None:
        """Minutes from now until a citizen of the service, there from `arriving_at` (now), is called."""
