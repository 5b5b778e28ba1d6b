"""Appointments: a slot at a branch booked ahead from a phone, checked in at the kiosk, merged with walk-ins.

The rules, written down (README, "Decisions written down"):
- Slots. A branch's day is cut into slots of `slot_min` from its opening; a slot ends by its close.
  Only future slots are offered, up to `days_ahead` days ahead, on the rules' `weekdays` and never on
  a holiday (a citizen must not book a day the centre is shut).
- What a slot offers, per service. The counters that serve the service give the slot their minutes on
  duty (their shifts; none: the branch's hours), a counter serving several services sharing its time
  among them in proportion to their forecast work. With `pooled` (the server's [staffing]
  idle_takes_on: an idle counter takes on a service citizens wait for), the branch's counters are
  one pool, since any of them takes on the slot's work: each service gets its forecast work and
  backlog first, then what the pool has left, half by the services' work and half in equal parts (a
  service nobody is forecast for still gets a part); a pool short of the work shares it in
  proportion. Else only the services each counter is set up for now count. The staffing forecast
  (motcua.core.staffing) gives the walk-ins of the slot, and a fluid backlog carries forward whatever
  the walk-ins of earlier slots left unserved. The slot's room is what fits in `max_load` of its
  capacity once the forecast walk-ins and the backlog are served, never more than `max_share` of its
  capacity; it holds as many appointments (each the service's mean) as its room and the room left
  over by the slots just before it (while they had room) take, less those already booked. So a run
  of slots never gives appointments more than `max_share` of its capacity, and an appointment
  longer than one slot's share starts where the room adds up to it. The backlog is the walk-ins'
  alone: a booking never moves another slot's offer.
- The merge rule. An appointment's ticket ranks in its service's queue as if its holder had arrived
  at the slot's start (at the check-in, if later): walk-ins who arrived before the start go first,
  those after it go after. Checked in early (from `early_min` before the start), the holder waits
  until the start: the ticket is not called before it. Checked in after the start plus `grace_min`,
  the holder is a walk-in from the check-in (a ticket of channel walk_in; the appointment ends
  `late`). Not checked in by then, the appointment ends `no_show` (swept like remote windows).
- Fairness. Appointments take only the capacity the forecast leaves after walk-ins (and less than
  all of it), and rank from their start like anyone there then, so a walk-in never waits behind
  work that was not free capacity: walk-ins wait no longer than without appointments, as long as the
  forecast holds (the simulator measures it, README).
- A later slot at the peak (`later_slot`). A walk-in whose predicted wait at the kiosk is over the
  target is offered, instead of the queue, the first slot the branch offers that starts within
  `reach_min`: to come back then and be called at once rather than wait now. At the peak the first
  free slot is often after it, later than the queue would call them, so the offer is not limited
  to the predicted call: the citizen weighs a second trip against the wait, and most take the
  number. One who takes it books it as any phone would and comes back for it.
- One active (booked or checked-in) appointment per phone, service and day, in the whole network.
  The appointment keeps the phone and, if given, a salted digest of the citizen's ID number, so
  the kiosk can check its holder in by the number without the database holding it.
- A code is 6 characters from an alphabet without 0/O/1/I; cancelling or moving it takes its phone
  too, and a wrong phone is refused exactly as an unknown code.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import math
import re
import secrets
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType

from .model import APPOINTMENT, WALK_IN, Change, Conflict, Invalid, NotFound, Ticket
from .remote import mobile
from .staffing import HourlyRates

BOOKED, CHECKED_IN, LATE, CANCELLED, NO_SHOW = "booked", "checked_in", "late", "cancelled", "no_show"
ACTIVE = (BOOKED, CHECKED_IN)          # what holds a place in its slot and counts for its phone
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"   # no 0/O, 1/I: read aloud or typed without doubt
CODE_LENGTH = 6
# A citizen ID (căn cước công dân): 12 digits, the first three the province of birth (001-096).
_CITIZEN_ID = re.compile(r"(0\d{2})\d{9}")
_EPSILON = 1e-9
# Branch days whose allowances are remembered (day_allowances): a city's branches, each one day, fit; some
# 40 kB each at a branch of 40 services (measured), so at most about 16 MB.
REMEMBERED_DAYS = 400


@dataclass(frozen=True)
class AppointmentRules:
    """The [appointments] settings."""

    slot_min: float = 15.0
    max_share: float = 0.5     # most of a slot's capacity appointments may take
    max_load: float = 0.75     # appointments fill a slot's capacity up to this load, walk-ins and backlog first
    days_ahead: int = 14
    early_min: float = 15.0    # a holder may check in this long before the slot starts
    grace_min: float = 10.0    # and up to this long after it to be called as booked
    reminder_min: float = 60.0  # the holder's phone is reminded this long before the slot (0: never)
    later_reach_min: float = 240.0  # a kiosk offers a walk-in over the target a slot starting within this (0: none)
    pooled: bool = True        # a slot's capacity is all the branch's counters (they take on each other's services)
    weekdays: frozenset[int] = frozenset(range(5))   # the days slots are offered (date.weekday(): Monday 0)
    holidays: frozenset[date] = frozenset()          # ... never on these (the [dossiers] holidays, at a server)

    def open_on(self, day: date) -> bool:
        """Whether slots are offered on the day: one of the weekdays and not a holiday."""
        return day.weekday() in self.weekdays and day not in self.holidays


def parse_weekdays(text: str) -> frozenset[int]:
    """Day numbers separated by commas, Monday 1 to Sunday 7 (ISO), as date.weekday() gives them (Monday 0);
    Invalid naming the first that is not one."""
    days = set()
    for part in (p.strip() for p in text.split(",")):
        if part not in {str(n) for n in range(1, 8)}:
            raise Invalid(f"[appointments] weekdays: {part!r} is not a day number 1 (Monday) to 7 (Sunday)",
                          "bad_weekday")
        days.add(int(part) - 1)
    return frozenset(days)


def weekdays_text(days: frozenset[int]) -> str:
    """parse_weekdays's text of a set of date.weekday() numbers."""
    return ",".join(str(day + 1) for day in sorted(days))


@dataclass(frozen=True)
class Appointment:
    """One booked slot. start: epoch seconds; id_digest: "salt$sha256" of the ID number, or None."""

    id: str
    code: str
    branch: str
    service: str
    day: str
    start: float
    phone: str | None                  # None: booked at a kiosk (a later slot), told nothing, moved by nobody
    lang: str = "vi"
    status: str = BOOKED
    created_at: float = 0.0
    id_digest: str | None = None
    ticket: str | None = None          # the ticket its check-in gave
    checked_in_at: float | None = None
    ended_at: float | None = None      # cancelled, swept as a no-show
    reminded_at: float | None = None   # when its reminder was written to the outbox (a move reminds again)

    def replace(self, **changes) -> "Appointment":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Slot:
    start: float
    end: float
    free: int


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def citizen_id(text: object) -> str:
    """A Vietnamese citizen ID number (12 digits, a province code 001-096 first); else Invalid (bad_id_number)."""
    found = _CITIZEN_ID.fullmatch(text.strip()) if isinstance(text, str) else None
    if found is None or not 1 <= int(found.group(1)) <= 96:
        raise Invalid("id_number must be a citizen ID number: 12 digits", "bad_id_number")
    return found.group(0)


def id_digest(id_number: str) -> str:
    salt = secrets.token_hex(8)
    return f"{salt}${hashlib.sha256((salt + id_number).encode()).hexdigest()}"


def id_matches(digest: str | None, id_number: str) -> bool:
    if not digest:
        return False
    salt, hashed = digest.split("$", 1)
    return hmac.compare_digest(hashed, hashlib.sha256((salt + id_number).encode()).hexdigest())


def slot_starts(open_at: float, close_at: float, slot_min: float) -> list[float]:
    """The starts of a day's slots from open_at (epoch seconds), each ending by close_at."""
    step = slot_min * 60
    count = int((close_at - open_at + _EPSILON) // step)
    return [open_at + k * step for k in range(count)]


Spans = Sequence[tuple[float, float]]


def allowances(starts: Sequence[float], slot_min: float, counters: Sequence[tuple[Sequence[str], Spans]],
               means: Mapping[str, float], rates: HourlyRates, rules: AppointmentRules) -> dict[tuple[str, float], int]:
    """Appointments each service may hold in each slot, those booked included (the rule in the docstring).

    counters: each counter's services and its spans on duty (epoch seconds); means: each offered
    service's mean minutes. A slot's room is in minutes and an appointment takes a service's mean:
    the room left over by one slot's whole appointments passes to the next while the room lasts
    (a service longer than half a slot's share would otherwise never fit).
    """
    backlog: dict[str, float] = defaultdict(float)
    credit: dict[str, float] = defaultdict(float)
    allowed = {}
    able = defaultdict(int)
    for services, _ in counters:
        for service in services:
            able[service] += 1
    for start in starts:
        end = start + slot_min * 60
        work = {s: rates.mean_per_min(s, start, end) * slot_min * m for s, m in means.items()}
        demand = {s: work[s] + backlog[s] for s in means}
        capacity = (_pooled(counters, start, end, demand) if rules.pooled
                    else _as_set_up(counters, start, end, demand, able))
        for service, mean in means.items():
            room = min(rules.max_load * capacity[service] - work[service] - backlog[service],
                       rules.max_share * capacity[service])
            room = credit[service] + room if room > 0 else 0.0
            allowed[(service, start)] = math.floor(room / mean + _EPSILON)
            credit[service] = room - allowed[(service, start)] * mean
            # The walk-ins' backlog only: appointments fit in the room, so a booking moves no other slot.
            backlog[service] = max(0.0, backlog[service] + work[service] - capacity[service])
    return allowed


def _duty(spans: Spans, start: float, end: float) -> float:
    """Minutes of [start, end) a counter is on duty."""
    return sum(max(0.0, min(b, end) - max(a, start)) for a, b in spans) / 60


def _as_set_up(counters, start: float, end: float, demand: Mapping[str, float],
               able: Mapping[str, int]) -> dict[str, float]:
    """Each service's minutes of a slot from the counters that serve it, a counter's time shared by its
    services' demand (their forecast work and backlog)."""
    capacity: dict[str, float] = defaultdict(float)
    for services, spans in counters:
        weights = {s: (demand[s] + _EPSILON) / able[s] for s in services if s in demand}
        total = sum(weights.values())
        for service, weight in weights.items():
            capacity[service] += _duty(spans, start, end) * weight / total
    return capacity


def _pooled(counters, start: float, end: float, demand: Mapping[str, float]) -> dict[str, float]:
    """Each service's minutes of a slot from all the branch's counters as one pool: its demand first, then
    what the pool has left, half of it by the services' demand and half in equal parts (a service nobody is
    forecast for still gets a part); a pool short of the demand shares it in proportion, every service as
    short as the branch."""
    duty = sum(_duty(spans, start, end) for _, spans in counters)
    total = sum(demand.values())
    if total >= duty:
        return {s: duty * d / total if total else 0.0 for s, d in demand.items()}
    spare, parts = duty - total, len(demand)
    return {s: d + spare * ((d / total if total else 1 / parts) + 1 / parts) / 2 for s, d in demand.items()}


def day_allowances(starts: Sequence[float], slot_min: float, counters: Sequence[tuple[Sequence[str], Spans]],
                   means: Mapping[str, float], rates: HourlyRates, rules: AppointmentRules) -> Mapping[str, tuple[int, ...]]:
    """allowances() by service, one count per start, remembered for the latest days asked: a booking page
    and a city's bookers before the opening ask a branch's day again and again with nothing changed but
    the bookings, which the allowances leave out. Any input changed (counters, means, the forecast) is
    another day asked."""
    return _remembered(tuple(starts), slot_min, tuple((tuple(s), tuple(spans)) for s, spans in counters),
                       tuple(means.items()), rates.start, tuple((s, tuple(r)) for s, r in rates.per_hour.items()), rules)


@functools.lru_cache(maxsize=REMEMBERED_DAYS)
def _remembered(starts, slot_min, counters, means, rates_start, per_hour, rules) -> Mapping[str, tuple[int, ...]]:
    allowed = allowances(starts, slot_min, counters, dict(means), HourlyRates(rates_start, dict(per_hour)), rules)
    return MappingProxyType({service: tuple(allowed[(service, start)] for start in starts) for service, _ in means})


# How the server or the simulator forecasts a branch's walk-ins on a day: HourlyRates from its opening.
Forecast = Callable[[str, date], HourlyRates]


class EngineAppointments:
    """The engine's appointments (mixed into motcua.core.engine.QueueEngine): booked, moved, cancelled,
    checked in and swept under the branch's hold, each change committed like any other."""

    def _init_appointments(self, appointments) -> None:
        self.appointments: dict[str, Appointment] = {}      # id -> appointment (days from yesterday on)
        self._codes: dict[str, str] = {}                    # code -> id
        self._at_branch: dict[str, dict[str, None]] = defaultdict(dict)   # branch -> its appointments' ids
        self._holders: dict[tuple[str, str, str], str] = {}  # (phone, service, day) -> active appointment's id
        self._appointment_lock = threading.Lock()           # taken after the branch's, before the commit lock
        for appointment in appointments:
            self._apply_appointment(appointment)

    def _apply_appointment(self, new: Appointment) -> None:
        old = self.appointments.get(new.id)
        self.appointments[new.id] = new
        self._codes[new.code] = new.id
        self._at_branch[new.branch][new.id] = None
        key = (new.phone, new.service, new.day)
        if new.phone is None:   # booked at a kiosk: one per phone does not apply
            return
        if new.status in ACTIVE:
            self._holders[key] = new.id
        elif self._holders.get(key) == new.id:
            del self._holders[key]
        if old is not None and old.day != new.day and self._holders.get((old.phone, old.service, old.day)) == old.id:
            del self._holders[(old.phone, old.service, old.day)]

    def _forget_appointments(self, before_day: str) -> None:
        """Let the appointments of days before `before_day` go (the store keeps them)."""
        for appointment in [a for a in self.appointments.values() if a.day < before_day]:
            del self.appointments[appointment.id]
            self._codes.pop(appointment.code, None)
            self._at_branch[appointment.branch].pop(appointment.id, None)
            key = (appointment.phone, appointment.service, appointment.day)
            if self._holders.get(key) == appointment.id:
                del self._holders[key]

    def _booked_today(self, branch_id: str) -> list[Appointment]:
        """Today's appointments at the branch that were not cancelled, by start (the branch is held)."""
        return sorted((a for a in self._of_branch(branch_id) if a.day == self._day and a.status != CANCELLED),
                      key=lambda a: (a.start, a.code))

    def _of_branch(self, branch_id: str) -> list[Appointment]:
        """The branch's appointments in memory (the branch is held)."""
        return [self.appointments[a] for a in self._at_branch.get(branch_id, ())]

    # ---- reading ---------------------------------------------------------------------------

    def appointment(self, code: str) -> Appointment:
        """The appointment of a code (any case); unknown: NotFound (unknown_appointment)."""
        found = self.appointments.get(self._codes.get(code.strip().upper(), "")) if isinstance(code, str) else None
        if found is None:
            raise NotFound("no appointment with this code and phone", "unknown_appointment")
        return found

    def slots(self, branch_id: str, service_id: str, day: date, rates: HourlyRates,
              rules: AppointmentRules) -> list[Slot]:
        """The slots of a day the branch offers for the service, with the appointments each still takes."""
        with self.hold(branch_id):
            branch = self.branch(branch_id)
            self.service(service_id)
            if service_id not in branch.services:
                raise NotFound(f"{branch_id} does not offer {service_id!r}", "unknown_service")
            now = self.clock.now()
            today = date.fromisoformat(self.local.day(now))
            if branch.closed or not today <= day <= today + timedelta(days=rules.days_ahead) or not rules.open_on(day):
                return []
            open_at, close_at = self.local.epoch(day, branch.open), self.local.epoch(day, branch.close)
            starts = slot_starts(open_at, close_at, rules.slot_min)
            counters = [(c.services, [(max(open_at, self.local.epoch(day, a)), min(close_at, self.local.epoch(day, b)))
                                      for a, b in c.shifts] or [(open_at, close_at)])
                        for c in self.counters_of(branch_id)]
            means = {s: self.times.mean(branch_id, s, day.isoformat()) for s in branch.services}
            booked = self._booked(branch_id, day.isoformat())
            allowed = day_allowances(starts, rules.slot_min, counters, means, rates, rules)[service_id]
            offered = [Slot(start, start + rules.slot_min * 60, allowed[k] - booked.get((service_id, start), 0))
                       for k, start in enumerate(starts) if start > now]
            return [slot for slot in offered if slot.free > 0]

    def _booked(self, branch_id: str, day: str) -> dict[tuple[str, float], int]:
        counts: dict[tuple[str, float], int] = defaultdict(int)
        for appointment in self._of_branch(branch_id):
            if appointment.day == day and appointment.status in ACTIVE:
                counts[(appointment.service, appointment.start)] += 1
        return counts

    # ---- operations ------------------------------------------------------------------------

    def book(self, branch_id: str, service_id: str, start: float, phone: str | None, id_number: str | None,
             lang: str, rates: HourlyRates, rules: AppointmentRules, actor: str | None = None) -> Appointment:
        """An appointment in an offered slot (else 409 slot_full); a phone with one for the service that
        day is refused (appointment_held). phone None: booked at the kiosk (a later slot, Bookings.book_later)."""
        phone = mobile(phone) if phone is not None else None
        digest = id_digest(citizen_id(id_number)) if id_number is not None else None
        with self.operating(branch_id):
            day = self._offered(branch_id, service_id, start, rates, rules)
            with self._appointment_lock:
                if (phone, service_id, day) in self._holders:
                    raise Conflict("this phone already has an appointment for the service that day", "appointment_held")
                code = new_code()
                while code in self._codes:
                    code = new_code()
                appointment = Appointment(self.new_id(), code, branch_id, service_id, day, start, phone, lang,
                                          created_at=self.clock.now(), id_digest=digest)
                self._commit(Change(appointments=[appointment]))
                return appointment

    def cancel_appointment(self, code: str, phone: str, actor: str | None = None) -> Appointment:
        """The holder cancels a booked appointment (the code and its phone, else unknown_appointment)."""
        appointment = self._held_by(code, phone)
        with self.operating(appointment.branch):
            appointment = self._booked_one(self._held_by(code, phone))
            cancelled = appointment.replace(status=CANCELLED, ended_at=self.clock.now())
            self._commit(Change(appointments=[cancelled]))
            return cancelled

    def move_appointment(self, code: str, phone: str, start: float, rates: HourlyRates, rules: AppointmentRules,
                         actor: str | None = None) -> Appointment:
        """The holder moves a booked appointment to another offered slot of its branch and service."""
        appointment = self._held_by(code, phone)
        with self.operating(appointment.branch):
            appointment = self._booked_one(self._held_by(code, phone))
            if start == appointment.start:
                return appointment
            with self._appointment_lock:
                # Its own place is free while it moves: a slot it leaves counts it no more.
                self._apply_appointment(appointment.replace(status=CANCELLED))
                try:
                    day = self._offered(appointment.branch, appointment.service, start, rates, rules)
                    held = self._holders.get((appointment.phone, appointment.service, day))
                    if held is not None:
                        raise Conflict("this phone already has an appointment for the service that day",
                                       "appointment_held")
                finally:
                    self._apply_appointment(appointment)
                moved = appointment.replace(start=start, day=day, reminded_at=None)
                self._commit(Change(appointments=[moved]))
                return moved

    def check_in_appointment(self, branch_id: str, rules: AppointmentRules, code: str | None = None,
                             id_number: str | None = None, actor: str | None = None) -> Ticket:
        """The holder at the branch's kiosk, by code or ID number: a ticket merged by the rule (docstring)."""
        with self.operating(branch_id):
            now = self.clock.now()
            appointment = self._to_check_in(branch_id, now, rules, code, id_number)
            if now < appointment.start - rules.early_min * 60:
                raise Conflict("it is too early to check in for this appointment", "too_early",
                               {"check_in_from": appointment.start - rules.early_min * 60})
            service, now = self._issuing(branch_id, appointment.service)
            on_time = now <= appointment.start + rules.grace_min * 60
            due = max(appointment.start, now) if on_time else None
            ticket = self._new_ticket(branch_id, service, False, appointment.lang, now, due_at=due)
            ticket = ticket.replace(channel=APPOINTMENT if on_time else WALK_IN, appointment=appointment.id,
                                    checked_in_at=now if on_time else None)
            arrived = appointment.replace(status=CHECKED_IN if on_time else LATE, ticket=ticket.id, checked_in_at=now)
            self._commit(Change(tickets=[ticket], events=[self._event(None, ticket, actor)], appointments=[arrived]))
            return ticket

    def expire_appointments(self, rules: AppointmentRules) -> int:
        """Booked appointments not checked in by their start plus the grace end no_show: how many."""
        now = self.clock.now()
        ended = 0
        for branch_id in self.branch_ids():
            with self.operating(branch_id):
                gone = [a.replace(status=NO_SHOW, ended_at=now) for a in self._of_branch(branch_id)
                        if a.status == BOOKED and a.start + rules.grace_min * 60 < now]
                if gone:
                    self._commit(Change(appointments=gone))
                ended += len(gone)
        return ended

    def remind_appointments(self, rules: AppointmentRules, message: Callable[[Appointment], dict]) -> int:
        """Booked appointments whose slot starts within reminder_min, not reminded yet, get their reminder:
        the message (an outbox row, motcua.notify) committed with the appointment marked reminded, so it is
        written once and sent once. How many were reminded."""
        if rules.reminder_min <= 0:
            return 0
        now = self.clock.now()
        reminded = 0
        for branch_id in self.branch_ids():
            with self.operating(branch_id):
                due = [a for a in self._of_branch(branch_id) if a.status == BOOKED and a.reminded_at is None
                       and a.phone is not None and a.start - rules.reminder_min * 60 <= now < a.start]
                if due:
                    self._commit(Change(appointments=[a.replace(reminded_at=now) for a in due],
                                        messages=[message(a) for a in due]))
                reminded += len(due)
        return reminded

    # ---- internals -------------------------------------------------------------------------

    def _offered(self, branch_id: str, service_id: str, start: float, rates: HourlyRates,
                 rules: AppointmentRules) -> str:
        """The day of a slot the branch offers now for the service (the branch is held); else slot_full."""
        day = date.fromisoformat(self.local.day(start))
        if not any(slot.start == start for slot in self.slots(branch_id, service_id, day, rates, rules)):
            raise Conflict("this slot is not offered: full, past or not a slot of the branch", "slot_full")
        return day.isoformat()

    def _held_by(self, code: str, phone: str) -> Appointment:
        """The appointment of the code if the phone is its holder's; else the same refusal as an unknown code."""
        appointment = self.appointment(code)
        try:
            same = mobile(phone) == appointment.phone
        except Invalid:
            same = False
        if not same:
            raise NotFound("no appointment with this code and phone", "unknown_appointment")
        return appointment

    @staticmethod
    def _booked_one(appointment: Appointment) -> Appointment:
        if appointment.status != BOOKED:
            raise Conflict(f"the appointment is {appointment.status}", "appointment_" + appointment.status)
        return appointment

    def _to_check_in(self, branch_id: str, now: float, rules: AppointmentRules, code: str | None,
                     id_number: str | None) -> Appointment:
        """Today's appointment at the branch the code or ID number names, still to check in (a no-show
        after the grace may check in as a walk-in); none: unknown_appointment."""
        today = self.local.day(now)
        if code is not None:
            found = [self.appointment(code)]
        else:
            number = citizen_id(id_number)
            found = sorted((a for a in self._of_branch(branch_id) if a.day == today
                            and a.status in (BOOKED, NO_SHOW) and id_matches(a.id_digest, number)),
                           key=lambda a: (a.status != BOOKED, abs(a.start - now)))
        found = [a for a in found if a.branch == branch_id and a.day == today and a.status in (BOOKED, NO_SHOW)]
        if not found:
            raise NotFound("no appointment to check in here today", "unknown_appointment")
        return found[0]


def later_slot(wait_min: float | None, target_min: float, offered: Callable[[], Sequence[Slot]], now: float,
               reach_min: float) -> Slot | None:
    """The slot a kiosk offers a walk-in predicted to wait `wait_min` (None: no later slot): the first of
    `offered()` (by start) that starts within reach_min of now, when the wait is over target_min."""
    if wait_min is None or wait_min <= target_min:
        return None
    return next((slot for slot in offered() if slot.start - now <= reach_min * 60), None)


class Bookings:
    """Appointments as the routes and the simulator ask for them: the engine's, under one set of
    rules, with each branch's walk-ins forecast by `forecast`."""

    def __init__(self, engine, rules: AppointmentRules, forecast: Forecast,
                 reminder: Callable[[Appointment], dict] | None = None) -> None:
        self.engine = engine
        self.rules = rules
        self.forecast = forecast
        self.reminder = reminder   # an appointment's reminder as an outbox row (None: no reminders)

    def slots(self, branch_id: str, service_id: str, day: date) -> list[Slot]:
        self.engine.branch(branch_id)
        return self.engine.slots(branch_id, service_id, day, self.forecast(branch_id, day), self.rules)

    def later(self, branch_id: str, service_id: str, target_min: float) -> Slot | None:
        """The later slot today a kiosk offers a walk-in taking a ticket now (later_slot, within the rules'
        later_reach_min), or None."""
        self.engine.branch(branch_id)
        self.engine.service(service_id)
        now = self.engine.clock.now()
        day = date.fromisoformat(self.engine.local.day(now))
        return later_slot(self.engine.estimate_new(branch_id, service_id), target_min,
                          lambda: self.slots(branch_id, service_id, day), now, self.rules.later_reach_min)

    def book_later(self, branch_id: str, service_id: str, start: float, target_min: float, lang: str = "vi",
                   actor: str | None = None) -> Appointment:
        """The walk-in at the kiosk takes the later slot it was offered (starting at `start`): booked without a
        phone, its code printed; 409 slot_full when that slot is no longer the one offered now."""
        slot = self.later(branch_id, service_id, target_min)
        if slot is None or slot.start != start:
            raise Conflict("this slot is no longer offered: take a ticket", "slot_full")
        return self.book(branch_id, service_id, start, None, None, lang, actor)

    def book(self, branch_id: str, service_id: str, start: float, phone: str | None, id_number: str | None = None,
             lang: str = "vi", actor: str | None = None) -> Appointment:
        self.engine.branch(branch_id)
        rates = self.forecast(branch_id, date.fromisoformat(self.engine.local.day(start)))
        return self.engine.book(branch_id, service_id, start, phone, id_number, lang, rates, self.rules, actor)

    def cancel(self, code: str, phone: str, actor: str | None = None) -> Appointment:
        return self.engine.cancel_appointment(code, phone, actor)

    def move(self, code: str, phone: str, start: float, actor: str | None = None) -> Appointment:
        branch_id = self.engine.appointment(code).branch
        rates = self.forecast(branch_id, date.fromisoformat(self.engine.local.day(start)))
        return self.engine.move_appointment(code, phone, start, rates, self.rules, actor)

    def check_in(self, branch_id: str, code: str | None = None, id_number: str | None = None,
                 actor: str | None = None) -> Ticket:
        return self.engine.check_in_appointment(branch_id, self.rules, code, id_number, actor)

    def expire(self) -> int:
        return self.engine.expire_appointments(self.rules)

    def remind(self) -> int:
        return 0 if self.reminder is None else self.engine.remind_appointments(self.rules, self.reminder)
