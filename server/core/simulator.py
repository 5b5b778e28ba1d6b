"""A city day on a virtual clock, through the same engine the server runs.

Citizens arrive at each branch and service as Poisson processes with the scenario's hourly
rates and take a ticket at once, as at a kiosk (`journeys`: under a balancing policy they may be
offered another branch, accept with the scenario's probability, are redirected there as the
kiosk would do it, travel, and check in on arriving when expected), and wait. Counters call the next
ticket whenever they are free and in shift; the engine picks which ticket. When several
counters of a branch are free, the one idle longest calls first (ties: the scenario's order).
Service times are drawn per citizen when the day is generated, so every policy sees the same
citizens with the same needs (common random numbers); offers are accepted or refused from a
separate random stream.

Re-skilling (`realloc` policies), the model written down: the simulated manager applies the staffing
advice at every branch every REALLOC_EVERY_MIN; between those looks, an officer whose Next finds
nobody for the counter's services while citizens wait for others takes on at once the service the
advice has that counter take on (QueueEngine.take_on_short, the server's `[staffing] idle_takes_on`),
looking up at the waiting room again at most every IDLE_ASK_EVERY_MIN while idle.

Remote tickets (`--remote-share F`), the model written down: each citizen draws, from a stream of
their own, whether they take a remote ticket (probability F; priority citizens never do: they are
served first at the door) and whether they would then never come (REMOTE_NEVER_COME). One who
does takes it at the minute they would otherwise have arrived (the day's demand keeps its shape),
from where their origin branch stands: under a balancing policy at the branch `nearby` ranks first
(travel plus wait), else at the origin. They set off when the server's rule tells them
(motcua.core.remote.set_off_in: the call predicted now is their trip, which their phone gave with the
ticket, plus the rule's lead_min away, at the latest so as to arrive inside the window), the server's
sweep telling their phone (QueueEngine.set_off) and looking again when the rule says, at most every
REMOTE_ASK_EVERY_MIN, and they check in on arriving; their wait runs from the check-in. One who never comes is left out of the figures; their ticket leaves the queue at its
window's end. A branch that cannot take a remote ticket then (no open counter serves it) sees the
citizen walk in.

Appointments (`--appointment-share F`), the model written down: each citizen draws, from a stream
of their own, whether they book ahead (probability F; priority citizens never do: they are served
first at the door); remote tickets are then drawn among the others so that `--remote-share` stays a
share of the whole day. Before the branch opens, the bookers book in a random order through the
same core as the server (motcua.core.appointments, its rules the server's defaults but that a slot counts
the branch's counters as one pool (`pooled`) only under a `realloc` policy, where counters take on each
other's services as the server's do under [staffing] idle_takes_on), at their origin branch, the
branch's walk-ins forecast as the scenario's rates times (1 − F) (the walk-ins that history shows
once appointments run). Each wants the slot their arrival falls in; if it is not offered, they take
the offered slot whose start is nearest (earlier on a tie) within APPOINTMENT_SHIFT_MIN, by default
any slot of the day: a citizen booking ahead has chosen not to come at the busy hour, and one who
would rather take another day changes nothing in the figures (that day's bookers take this day's
free slots in turn; `bench/city.py --appointment-shift-min` shows what the figures owe this). Finding none
at their branch, under a balancing policy they look in turn at the other branches the booking page
lists for the service near it (`nearby`, its order), as a citizen on `/h/` goes back to the list
and picks the next; one who finds nothing anywhere walks in as planned. A holder comes between
APPOINTMENT_SPREAD_MIN before and after the slot's start (never before the branch opens), checks in
at the kiosk and waits from the check-in; a share APPOINTMENT_LATE comes past the grace (up to
APPOINTMENT_LATE_MIN after it) and is a walk-in from the check-in; a share APPOINTMENT_NEVER never
comes and is left out of the figures.

A later slot at the kiosk (with `--appointment-share` above 0: the slot rules run), the model written
down: a walk-in (not priority) whose predicted wait at their origin is over the target is offered
the first slot the branch offers within the rules' later_reach_min (motcua.core.appointments.later_slot,
the server's rule), however far within it; they take it with
probability LATER_SLOT_ACCEPTANCE (a stream of their own), book it at the kiosk (Bookings.book_later), come back up
to APPOINTMENT_SPREAD_MIN after its start and check in; their wait runs from that check-in (the
channel `appointment`), as a booker's does. One who does not take it takes a ticket as before.
"""
from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from . import scenario as scenarios
from .balancing import RedirectRules
from .clock import FakeClock, LocalTime, hhmm_minutes
from .engine import EngineSettings, QueueEngine
from .appointments import AppointmentRules, Bookings
from .journeys import Journeys
from .model import APPOINTMENT, REMOTE, WAITING, WALK_IN, Conflict
from .prediction import duty_windows, on_duty_within
from .staffing import HourlyRates, StaffingRules, advise
from .stats import lognormal, percentile
from .text import csv_writer

POLICIES = ("none", "balance", "realloc", "balance+realloc")
SIM_DAY = date(2026, 1, 5)  # a Monday: the weekday matters only to history-based advice
REALLOC_EVERY_MIN = 30.0
IDLE_ASK_EVERY_MIN = 10.0   # an idle officer, seeing citizens wait for other services, asks at most this often
TRACE_COLUMNS = ("citizen", "origin_branch", "branch", "service", "priority", "arrived_min", "travel_min",
                 "redirected", "predicted_wait_min", "counter", "started_min", "ended_min", "channel",
                 "checked_in_min")
REMOTE_ASK_EVERY_MIN = 0.5  # the server's sweep looks at a remote ticket at most this often ([remote] sweep_s)
REMOTE_NEVER_COME = 0.05   # the share of remote tickets whose citizen never comes
APPOINTMENT_SHIFT_MIN = 24 * 60.0   # how far from the slot they want a booking citizen takes another: any of the day
APPOINTMENT_SPREAD_MIN = 5.0    # holders come within this of their slot's start, before or after
APPOINTMENT_LATE = 0.05         # the share of holders who come past the grace
APPOINTMENT_LATE_MIN = 15.0     # ... up to this long past it
APPOINTMENT_NEVER = 0.05        # the share of holders who never come
LATER_SLOT_ACCEPTANCE = 0.3     # the share of walk-ins offered a later slot at the kiosk who take it


@dataclass
class Citizen:
    """One person's day: generated up front, filled in as the day runs."""

    id: int
    origin: str
    service: str
    priority: bool
    arrived_min: float
    service_min: float
    branch: str = ""
    travel_min: float = 0.0
    redirected: bool = False
    predicted_wait_min: float | None = None
    predicted_range: tuple[float, float] | None = None
    baseline_wait_min: float | None = None
    counter: str | None = None
    started_min: float | None = None
    ended_min: float | None = None
    channel: str = WALK_IN
    checked_in_min: float | None = None   # a remote ticket's citizen: when they checked in at the branch
    came: bool = True                     # False: took a remote ticket and never came

    @property
    def wait_min(self) -> float | None:
        """From arrival (of check-in, for a remote ticket) to the call."""
        if self.started_min is None:
            return None
        return self.started_min - (self.arrived_min if self.checked_in_min is None else self.checked_in_min)



def generate_citizens(data: dict, seed: int) -> list[Citizen]:
    """The day's arrivals: Poisson per one-hour slot from `open`, the last slot cut at `close`."""
    rng = random.Random(seed)  # nosec B311  # a seeded simulation, reproducible on purpose
    day_min = hhmm_minutes(data["close"]) - hhmm_minutes(data["open"])
    service_time = {s["id"]: s["service_min"] for s in data["services"]}
    share = data.get("priority_share", 0.0)
    drawn = []
    for stream in data["arrivals"]:
        for slot, per_hour in enumerate(stream["per_hour"]):
            start, end = slot * 60.0, min((slot + 1) * 60.0, day_min)
            t = start
            while per_hour > 0 and start < end:
                t += rng.expovariate(per_hour / 60)
                if t >= end:
                    break
                params = service_time[stream["service"]]
                drawn.append((t, stream["branch"], stream["service"], rng.random() < share,
                              lognormal(rng, params["mean"], params.get("cv", 0.6))))
    drawn.sort()
    return [Citizen(i, b, s, p, t, d, branch=b) for i, (t, b, s, p, d) in enumerate(drawn)]


class CityDay:
    """Runs one scenario day under one policy and keeps every citizen's record.

    The day runs on an engine of its own, or on `engine` (its clock a FakeClock) on `day`: days run
    one after another on one engine are a server's uptime.
    """

    def __init__(self, data: dict, policy: str = "none", seed: int | None = None,
                 settings: EngineSettings | None = None,
                 min_saving_min: float = RedirectRules.min_saving_min,
                 engine: QueueEngine | None = None, day: date = SIM_DAY, remote_share: float = 0.0,
                 appointment_share: float = 0.0, appointment_rules: AppointmentRules = AppointmentRules()) -> None:
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}")
        if remote_share + appointment_share > 1:
            raise ValueError("remote_share and appointment_share are shares of one day: at most 1 in all")
        self.data = data
        self.policy = policy
        self.seed = data.get("seed", 1) if seed is None else seed
        self.open_min = hhmm_minutes(data["open"])
        self.close_min = hhmm_minutes(data["close"]) - self.open_min
        tz = data.get("timezone", EngineSettings.timezone)
        self.local = LocalTime(tz)
        self.t0 = self.local.epoch(day, data["open"])
        # The queue is served out after the close, but not past midnight: the engine turns the day then and
        # forgets it, and whoever still waits was not served that day (a miss in the figures).
        self.midnight_min = (self.local.epoch(day + timedelta(days=1), "00:00") - self.t0) / 60
        if engine is not None:
            self.engine, self.clock = engine, engine.clock
            self.clock.set(self.t0)
        else:
            self.clock = FakeClock(self.t0)
            ids = itertools.count(1)
            # The day keeps opening hours: no ticket after close, no branch offered that closes first.
            self.engine = QueueEngine(scenarios.branches(data), scenarios.services(data), scenarios.counters(data),
                                      self.clock, settings=settings or EngineSettings(timezone=tz, enforce_hours=True),
                                      new_id=lambda: f"t{next(ids)}")
        redirect = data.get("redirect", {})
        self.rules = RedirectRules(**{k: redirect[k] for k in ("max_km", "max_travel_min", "speed_kmh",
                                                               "detour_factor") if k in redirect},
                                   min_saving_min=min_saving_min, max_offers=1 if "balance" in policy else 0)
        self.journeys = Journeys(self.engine, self.rules)
        self.acceptance = redirect.get("acceptance", 0.0)
        self.decide = random.Random(self.seed * 7919 + 1)  # nosec B311  # the simulated citizens' choices, seeded
        self.citizens = generate_citizens(data, self.seed)
        booking = random.Random(self.seed * 15485863 + 5)  # nosec B311  # who books ahead and how they come, seeded
        self.booking = booking
        self.later_slots = appointment_share > 0
        self.later = random.Random(self.seed * 32452843 + 7)  # nosec B311  # who takes a later slot, seeded
        self.bookers = [c for c in self.citizens if booking.random() < appointment_share and not c.priority]
        booked = {c.id for c in self.bookers}
        remote = random.Random(self.seed * 104729 + 3)  # nosec B311  # who takes a remote ticket, seeded
        self.remote = set()
        for citizen in self.citizens:
            # Drawn among those who do not book, as a share of the whole day.
            takes = remote.random() < remote_share / (1 - appointment_share) if appointment_share < 1 else False
            never = remote.random() < REMOTE_NEVER_COME
            if takes and not citizen.priority and citizen.id not in booked:
                self.remote.add(citizen.id)
                citizen.came = not never
        self.by_ticket: dict[str, Citizen] = {}
        self.idle_since = {key: 0.0 for key in self.engine.counters}
        self.busy: set[tuple[str, str]] = set()
        self.rates = {(a["branch"], a["service"]): a["per_hour"] for a in data["arrivals"]}
        self.home = {key: c.services for key, c in self.engine.counters.items()}
        self.asked_idle: dict[tuple[str, str], float] = {}
        self.moves: list[tuple[float, str, str, tuple[str, ...]]] = []  # (minute, branch, counter, services)
        self.staffing = StaffingRules(target_wait_min=data.get("target_wait_min", 15))
        self._events: list = []
        self._order = itertools.count()
        walk_ins = 1 - appointment_share
        slot_rules = dataclasses.replace(appointment_rules, pooled=appointment_rules.pooled and "realloc" in policy)
        self.bookings = Bookings(self.engine, slot_rules, lambda branch, _: HourlyRates(self.t0, {
            s: [r * walk_ins for r in self.rates.get((branch, s), ())] for s in self.engine.branches[branch].services}))

    # ---- the event loop --------------------------------------------------------------------

    def run(self) -> "CityDay":
        holders = self._book_ahead()
        for citizen in self.citizens:
            if citizen.id not in holders:   # a holder comes for the appointment (or never): never as a walk-in
                self._at(citizen.arrived_min, self._arrive, citizen)
        if "realloc" in self.policy:
            t = 0.0
            while t < self.close_min:
                self._at(t, self._reallocate, None)
                t += REALLOC_EVERY_MIN
        for branch, counter in self.engine.counters:
            for start in self._shift_starts(branch, counter):
                self._at(start, self._dispatch, branch)
        while self._events and self._events[0][0] < self.midnight_min:
            t, _, action, arg = heapq.heappop(self._events)
            self.clock.set(self.t0 + t * 60)
            action(t, arg)
        return self

    def at(self, minute: float, action) -> None:
        """Run action(minute) at that minute after open, the clock there (a benchmark's reading)."""
        self._at(minute, lambda t, _: action(t), None)

    def _at(self, t: float, action, arg) -> None:
        heapq.heappush(self._events, (t, next(self._order), action, arg))

    def _arrive(self, t: float, citizen: Citizen) -> None:
        """A ticket at the kiosk; the best branch offered taken or not, as the citizen decides."""
        if citizen.id in self.remote and self._take_remote(t, citizen):
            return
        if self.later_slots and not citizen.priority and self._take_later_slot(t, citizen):
            return
        issued = self.journeys.issue(citizen.origin, citizen.service, citizen.priority)
        ticket = issued.ticket
        if issued.alternatives and self.decide.random() < self.acceptance:
            moved = self.journeys.redirect(ticket.id, issued.alternatives[0].branch)
            ticket = moved.ticket
            citizen.branch, citizen.travel_min, citizen.redirected = ticket.branch, moved.travel_min, True
            self._at(t + moved.travel_min, self._reach, ticket.id)
        self.by_ticket[ticket.id] = citizen
        position, _ = self.engine.estimate(ticket)
        if ticket.estimate_min is not None:  # what the ticket in the citizen's hand says, travel included
            citizen.predicted_wait_min = ticket.estimate_min
            citizen.predicted_range = self.engine.ticket_range(ticket, ticket.estimate_min)
        citizen.baseline_wait_min = citizen.travel_min + self._baseline(ticket.branch, ticket.service, position)
        if not citizen.redirected:
            self._dispatch(t, ticket.branch)

    def _take_later_slot(self, t: float, citizen: Citizen) -> bool:
        """A walk-in offered a later slot at the kiosk (motcua.core.appointments.later_slot) takes it, or not,
        as the citizen decides (the model in the module's docstring); True if they took it."""
        target = self.data.get("target_wait_min", 15)
        slot = self.bookings.later(citizen.origin, citizen.service, target)
        if slot is None:
            return False
        takes, back = self.later.random() < LATER_SLOT_ACCEPTANCE, self.later.uniform(0, APPOINTMENT_SPREAD_MIN)
        if not takes:
            return False
        appointment = self.bookings.book_later(citizen.origin, citizen.service, slot.start, target)
        citizen.channel = APPOINTMENT
        self._at((slot.start - self.t0) / 60 + back, self._check_in_appointment, (citizen, appointment.code))
        return True

    def _take_remote(self, t: float, citizen: Citizen) -> bool:
        """A remote ticket taken before the trip (the model in the module's docstring); False if refused."""
        branch, travel = citizen.origin, 0.0
        if "balance" in self.policy:
            home = self.engine.branch(citizen.origin)
            best = self.journeys.nearby(home.lat, home.lon, citizen.service, limit=1)
            if best:
                branch, travel = best[0].branch, best[0].travel_min
        try:
            ticket = self.journeys.issue_remote(branch, citizen.service, f"09{citizen.id:08d}", travel_min=travel)
        except Conflict:
            citizen.came = True
            return False
        citizen.channel, citizen.branch, citizen.travel_min = REMOTE, branch, travel
        citizen.redirected = branch != citizen.origin
        self.by_ticket[ticket.id] = citizen
        if citizen.came:
            self._set_off(t, ticket.id)
        return True

    def _set_off(self, t: float, ticket_id: str) -> None:
        """The server's sweep looks at the ticket (Journeys.set_off, which tells its phone when the time has
        come): told, the citizen goes now; not yet, the sweep looks again when it says, at most every
        REMOTE_ASK_EVERY_MIN (the queue may have moved by then)."""
        later = self.journeys.set_off(ticket_id)
        if later is None:   # its window has ended: the citizen was never told
            return
        if later > 0:
            self._at(t + max(later, REMOTE_ASK_EVERY_MIN), self._set_off, ticket_id)
        else:
            self._at(t + self.by_ticket[ticket_id].travel_min, self._check_in, ticket_id)

    def _book_ahead(self) -> dict[int, str]:
        """The bookers book before the branch opens (the model in the module's docstring): the codes of
        those who hold an appointment, by citizen, whether they come or not; each comer's coming is put on
        the day."""
        self.clock.set(self.t0 - 60)
        order = list(self.bookers)
        self.booking.shuffle(order)
        day = date.fromisoformat(self.local.day(self.t0))
        codes = {}
        for citizen in order:
            wanted = self.t0 + citizen.arrived_min * 60
            late, never = self.booking.random() < APPOINTMENT_LATE, self.booking.random() < APPOINTMENT_NEVER
            spread = self.booking.uniform(-APPOINTMENT_SPREAD_MIN, APPOINTMENT_SPREAD_MIN)
            lateness = self.booking.uniform(0, APPOINTMENT_LATE_MIN)
            found = next(((branch, slot) for branch in self._booking_branches(citizen)
                          if (slot := _slot_near(self.bookings.slots(branch, citizen.service, day), wanted))), None)
            if found is None:
                continue
            branch, slot = found
            citizen.branch, citizen.redirected = branch, branch != citizen.origin
            appointment = self.bookings.book(branch, citizen.service, slot.start, f"08{citizen.id:08d}")
            start_min = (slot.start - self.t0) / 60
            codes[citizen.id] = appointment.code
            if never:
                citizen.came = False
                citizen.channel = APPOINTMENT
                continue
            comes = start_min + (self.bookings.rules.grace_min + lateness if late else spread)
            citizen.arrived_min = max(0.0, comes)
            self._at(citizen.arrived_min, self._check_in_appointment, (citizen, appointment.code))
        return codes

    def _booking_branches(self, citizen: Citizen) -> Iterator[str]:
        """Where a booker looks for a slot, in turn: their own branch, then (under a balancing policy) the
        others the booking page lists for the service near it, in the page's order (read only if needed)."""
        yield citizen.origin
        if "balance" in self.policy:
            home = self.engine.branch(citizen.origin)
            yield from (b.branch for b in self.journeys.nearby(home.lat, home.lon, citizen.service)
                        if b.branch != citizen.origin)

    def _check_in_appointment(self, t: float, arg) -> None:
        """A holder at the kiosk with the appointment's code: a ticket merged by the rule, or a walk-in's if late."""
        citizen, code = arg
        citizen.checked_in_min = t
        try:
            ticket = self.bookings.check_in(citizen.branch, code=code)
        except Conflict:   # past the close: turned away, a miss in the figures
            return
        citizen.channel = ticket.channel
        # What the kiosk shows on checking in: the wait from here (until the slot's start, for an early holder).
        citizen.predicted_wait_min = ticket.estimate_min
        citizen.predicted_range = self.engine.ticket_range(ticket, ticket.estimate_min)
        self.by_ticket[ticket.id] = citizen
        if ticket.due_at is not None and ticket.due_at > self.clock.now():   # early: called from the slot's start
            self._at((ticket.due_at - self.t0) / 60, lambda at, branch: self._dispatch(at, branch), ticket.branch)
        self._dispatch(t, ticket.branch)

    def _check_in(self, t: float, ticket_id: str) -> None:
        """A remote ticket's citizen gets there and checks in at the kiosk."""
        ticket = self.journeys.check_in(ticket_id)
        citizen = self.by_ticket[ticket_id]
        citizen.checked_in_min = t
        # What the kiosk shows on checking in, and the phone from then on: the wait from here.
        citizen.predicted_wait_min = ticket.estimate_min
        citizen.predicted_range = self.engine.ticket_range(ticket, ticket.estimate_min)
        self._dispatch(t, self.engine.ticket(ticket_id).branch)

    def _reach(self, t: float, ticket_id: str) -> None:
        """A redirected citizen gets there when expected and checks in at the kiosk."""
        if self.engine.ticket(ticket_id).status == WAITING:
            self.journeys.check_in(ticket_id)
        self._dispatch(t, self.engine.ticket(ticket_id).branch)

    def _baseline(self, branch: str, service: str, position: int) -> float:
        """The plain queue-length predictor: (people ahead + 1) × mean service time / counters."""
        counters = sum(1 for c in self.engine.counters_of(branch) if service in c.services)
        return position * self.engine.services[service].mean_min / max(counters, 1)

    def _dispatch(self, t: float, branch: str) -> None:
        """Every free counter in shift calls the next ticket, longest idle first."""
        free = [c for c in self.engine.counters_of(branch)
                if (branch, c.id) not in self.busy and self._may_start(c, t)]
        free.sort(key=lambda c: self.idle_since[(branch, c.id)])
        for counter in free:
            ticket = self.engine.call_next(branch, counter.id)
            if ticket is None and self._takes_on(t, branch, counter.id):
                ticket = self.engine.call_next(branch, counter.id)
            if ticket is None:
                continue
            self.engine.start(ticket.id)
            citizen = self.by_ticket[ticket.id]
            citizen.counter, citizen.started_min = counter.id, t
            citizen.ended_min = t + citizen.service_min
            self.busy.add((branch, counter.id))
            self._at(citizen.ended_min, self._finish, ticket.id)

    def _finish(self, t: float, ticket_id: str) -> None:
        ticket = self.engine.done(ticket_id)
        key = (ticket.branch, ticket.counter)
        self.busy.discard(key)
        self.idle_since[key] = t
        self._dispatch(t, ticket.branch)

    def _reallocate(self, t: float, _) -> None:
        """The simulated manager applies the staffing advice as given, at every branch."""
        for branch in self.engine.branches:
            for move in advise(self.engine, branch, self._forecast(branch), self.staffing, self._home(branch)).moves:
                self.engine.update_counter(branch, move.counter, services=move.to_services)
                self.moves.append((t, branch, move.counter, move.to_services))
            self._dispatch(t, branch)

    def _takes_on(self, t: float, branch: str, counter: str) -> bool:
        """Under a re-skilling policy, an officer whose Next found nobody, seeing citizens wait for other
        services, takes on the service the advice has their counter take on (QueueEngine.take_on_short, as
        the server does), asking again at most every IDLE_ASK_EVERY_MIN. Whether a move was made."""
        if "realloc" not in self.policy or t - self.asked_idle.get((branch, counter), -math.inf) < IDLE_ASK_EVERY_MIN:
            return False
        if not self.engine.waiting_beside(branch, counter):   # nobody to help: the officer waits on
            return False
        self.asked_idle[(branch, counter)] = t
        move = self.engine.take_on_short(branch, counter, self._forecast(branch), self.staffing, self._home(branch))
        if move is not None:
            self.moves.append((t, branch, move.counter, move.to_services))
        return move is not None

    def _forecast(self, branch: str) -> HourlyRates:
        """The arrivals the simulated staff plan for: the scenario's rates (a server's history of such days)."""
        return HourlyRates(self.t0, {s: self.rates.get((branch, s), ()) for s in self.engine.branches[branch].services})

    def _home(self, branch: str) -> dict[str, tuple[str, ...]]:
        return {c: services for (b, c), services in self.home.items() if b == branch}

    # ---- shifts ----------------------------------------------------------------------------

    def _shift_starts(self, branch: str, counter: str) -> list[float]:
        """Minutes from open when the counter comes on duty (no shifts: at open)."""
        shifts = self.engine.counters[(branch, counter)].shifts
        return [hhmm_minutes(start) - self.open_min for start, _ in shifts] or [0.0]

    def _may_start(self, counter, t: float) -> bool:
        """On duty now, by the rule the estimates use (after close, a last shift that runs to close
        serves the queue out)."""
        close = self.engine.branch(counter.branch).close
        return on_duty_within(duty_windows(counter.shifts, self.open_min + t, close), 0.0)

    # ---- reporting -------------------------------------------------------------------------

    def summary(self) -> dict:
        """The day's figures over the citizens who came, per origin branch, per channel, and of those who went to
        another branch than their own (`redirected_figures`); a group's `range_held_pct` is how often its waits
        fell within the 80% range they were shown."""
        came, target = [c for c in self.citizens if c.came], self.data.get("target_wait_min", 15)
        result = _figures(came, target)
        result["branches"] = {b["id"]: _figures([c for c in came if c.origin == b["id"]], target)
                              for b in self.data["branches"]}
        result["by_channel"] = {channel: _group([c for c in came if c.channel == channel], target)
                                for channel in (WALK_IN, REMOTE, APPOINTMENT)}
        result["redirected_figures"] = _group([c for c in came if c.redirected], target)
        return result

    def write_trace(self, path) -> None:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv_writer(handle)
            writer.writerow(TRACE_COLUMNS)
            for c in self.citizens:
                writer.writerow([c.id, c.origin, c.branch, c.service, int(c.priority), _r(c.arrived_min),
                                 _r(c.travel_min), int(c.redirected), _r(c.predicted_wait_min),
                                 c.counter or "", _r(c.started_min), _r(c.ended_min), c.channel,
                                 _r(c.checked_in_min)])


def _r(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _slot_near(offered: list, wanted: float):
    """The slot a booker takes of those offered: the one their time falls in, else the one whose start or end
    is nearest (earlier on a tie) within APPOINTMENT_SHIFT_MIN; None if there is none."""
    within = [s for s in offered if s.start <= wanted < s.end] or sorted(
        (s for s in offered if min(abs(s.start - wanted), abs(s.end - wanted)) <= APPOINTMENT_SHIFT_MIN * 60),
        key=lambda s: (min(abs(s.start - wanted), abs(s.end - wanted)), s.start))
    return within[0] if within else None


def _group(citizens: list[Citizen], target: float) -> dict:
    figures = _figures(citizens, target)
    return {**{k: figures[k] for k in ("citizens", "mean_wait_min", "within_target_pct")},
            "range_held_pct": range_held_pct(citizens)}


def _figures(citizens: list[Citizen], target: float) -> dict:
    served = [c for c in citizens if c.started_min is not None]
    waits = [c.wait_min for c in served]
    predicted = [c for c in served if c.predicted_wait_min is not None]
    return {
        "citizens": len(citizens),
        "served": len(served),
        "mean_wait_min": round(sum(waits) / len(waits), 3) if waits else 0.0,
        "p90_wait_min": round(percentile(waits, 0.9), 3) if waits else 0.0,
        "within_target_pct": round(100 * sum(w <= target for w in waits) / len(citizens), 3) if citizens else 0.0,
        "prediction_mae_min": _mae(predicted, "predicted_wait_min"),
        "baseline_mae_min": _mae([c for c in served if c.baseline_wait_min is not None], "baseline_wait_min"),
        "redirected": sum(c.redirected for c in citizens),
    }


def range_held_pct(citizens: list[Citizen]) -> float:
    """How often the wait that followed fell within the 80% range shown on the ticket."""
    shown = [c for c in citizens if c.predicted_range is not None and c.started_min is not None]
    held = sum(c.predicted_range[0] - 0.5 <= c.wait_min <= c.predicted_range[1] + 0.5 for c in shown)
    return round(100 * held / len(shown), 3) if shown else 0.0


def _mae(citizens: list[Citizen], attribute: str) -> float:
    if not citizens:
        return 0.0
    return round(sum(abs(getattr(c, attribute) - c.wait_min) for c in citizens) / len(citizens), 3)


def simulate(path, policy: str = "none", seed: int | None = None, trace=None, remote_share: float = 0.0,
             appointment_share: float = 0.0) -> dict:
    """`motcua simulate`: run a scenario file's day and return the summary."""
    day = CityDay(scenarios.load(path), policy, seed, remote_share=remote_share,
                  appointment_share=appointment_share).run()
    if trace:
        day.write_trace(trace)
    return day.summary()
