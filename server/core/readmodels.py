"""What the engine publishes to read: each a consistent snapshot taken under its hold, immutable
once returned, so that a reader (the web layer) never needs the engine's lock nor its dicts."""
from __future__ import annotations

from dataclasses import dataclass, field

from .model import Branch, Call, Counter, Event, Rating, Service, Ticket


@dataclass(frozen=True)
class TicketState:
    """A ticket with its place and wait: (position, 1 = next; minutes until called; their 80% range)."""

    ticket: Ticket
    position: int | None
    wait_min: float | None
    wait_range: tuple[float, float] | None
    rated: bool


@dataclass(frozen=True)
class ServiceLine:
    """A service's queue at a branch: how many wait, and the wait of a ticket taken now."""

    service: Service
    waiting: int
    estimate_min: float | None


@dataclass(frozen=True)
class CounterLine:
    """A counter, the ticket it holds (called or serving) and since when it has been idle (None: busy or unknown)."""

    counter: Counter
    ticket: Ticket | None
    idle_since: float | None


@dataclass(frozen=True)
class BranchSetup:
    """A branch with its counters and what each holds (the administrator's network)."""

    branch: Branch
    counters: list[CounterLine]


@dataclass(frozen=True)
class Network:
    """Every branch's setup and every service."""

    branches: list[BranchSetup]
    services: list[Service]


@dataclass(frozen=True)
class BranchState:
    """A branch now: its queues, its counters and its latest calls (newest first)."""

    branch: Branch
    services: list[ServiceLine]
    counters: list[CounterLine]
    recent_calls: list[Call]


@dataclass(frozen=True)
class KioskProblem:
    """A kiosk's problem (the event noted) and the number of the ticket it concerns."""

    event: Event
    number: str


@dataclass(frozen=True)
class StaffState:
    """What a branch's staff see at `at`: the public state, the waiting list in calling order then
    today's no-shows, and the kiosks' latest problems; `version` orders the states."""

    at: float
    version: int
    public: BranchState
    waiting: list[Ticket]
    kiosk_problems: list[KioskProblem]
    booked: list = field(default_factory=list)   # today's appointments here, by start (appointments.Appointment)


@dataclass(frozen=True)
class BranchDay:
    """A branch now and its tickets of a day, in the order they came (a row of the city view)."""

    state: BranchState
    tickets: list[Ticket]


@dataclass(frozen=True)
class CityRow:
    """A branch's row of the city view: its counters, queues and longest wait now, and its day so far
    (tickets, served, waits of those called against the target)."""

    branch: Branch
    counters: int
    counters_open: int
    serving: int
    waiting: int
    load: float | None
    longest_wait_min: float | None
    tickets: int
    served: int
    mean_wait_min: float | None
    within_target_pct: float | None


@dataclass(frozen=True)
class DayRecord:
    """A branch's tickets of a day, in the order they came, and their ratings."""

    tickets: list[Ticket]
    ratings: list[Rating]
