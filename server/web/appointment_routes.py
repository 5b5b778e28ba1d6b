"""Appointments under /api/v1: the slots a branch offers, booking, cancelling and moving from a phone, and the
check-in at the branch's kiosk (motcua.core.appointments says the rules)."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, jsonify

from motcua.core.appointments import Appointment
from . import schemas, throttle
from .appointment_schemas import (
    Appointment as AppointmentAnswer, AppointmentCheckIn, HolderPhone, LaterSlotOffer, LaterSlotQuery,
    MoveAppointment, NewAppointment, Slot, SlotsQuery, TakeLaterSlot,
)
from .bodies import json_body, query_args
from .guards import at_branch, caller, kiosk
from .advice import staffing_rules
from .openapi import operation
from .remote_routes import json_only
from .runtime import runtime
from .views import round_min, ticket_view

bp = Blueprint("appointments", __name__, url_prefix="/api/v1")
APPOINTMENT_LIMITS = "motcua.appointment_limits"
LIMITED = ("Without a token, it is limited per address, done or refused (429 with Retry-After; [appointments] "
           "requests_per_minute_per_address, requests_per_hour_per_address). ")
NO_ORACLE = "A wrong phone is refused exactly as an unknown code (404 unknown_appointment). "


def appointment_limits() -> str:
    settings = runtime().config.appointments
    return f"{settings.requests_per_minute_per_address} per minute; {settings.requests_per_hour_per_address} per hour"


@bp.record_once
def _throttle_appointments(state) -> None:
    """Give each app its own count of appointment requests per address (as remote tickets)."""
    limiter = throttle.limiter(state.app, key_prefix="appointments")
    # One count for every call of the blueprint: guessing codes by cancelling costs as much as booking.
    state.app.extensions[APPOINTMENT_LIMITS] = limiter.shared_limit(appointment_limits, scope="appointments")


def epoch(moment: datetime) -> float:
    """A start as sent: with its offset, or in the network's local time without one."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=runtime().engine.local.tz)
    return moment.timestamp()


def appointment_view(appointment: Appointment) -> dict:
    rt = runtime()
    rules, local = rt.bookings.rules, rt.engine.local
    return {"code": appointment.code, "branch": appointment.branch, "service": appointment.service,
            "start": local.iso(appointment.start), "end": local.iso(appointment.start + rules.slot_min * 60),
            "status": appointment.status, "lang": appointment.lang,
            "check_in_from": local.iso(appointment.start - rules.early_min * 60),
            "called_as_booked_until": local.iso(appointment.start + rules.grace_min * 60)}


@bp.get("/branches/<b>/slots")
@operation("the slots of a day the branch offers for the service, each with the appointments it still takes: "
           "future slots of [appointments] slot_min within days_ahead, on its weekdays and never on a [dossiers] "
           "holiday (none on other days), each taking what its counters' capacity (all the branch's counters "
           "while [staffing] idle_takes_on has idle ones take on others' services) leaves after the forecast "
           "walk-ins and earlier slots' backlog, up to max_load of it and never more than max_share of it over a "
           "run of slots (README, Appointments)", Slot, many=True, query=SlotsQuery)
def slots(b):
    rt = runtime()
    rt.engine.branch(b)
    query = query_args()
    local = rt.engine.local
    return jsonify([{"start": local.iso(s.start), "end": local.iso(s.end), "free": s.free}
                    for s in rt.bookings.slots(b, query.service, query.date)])


@bp.post("/appointments")
@operation("book an offered slot from a phone (the body as application/json): 201 with the appointment's code. A slot "
           "not offered (full, past, not a slot) is 409 slot_full; one active appointment per phone, service and day "
           "(409 appointment_held). The holder checks in at the branch's kiosk from early_min before the start; "
           "checked in by start + grace_min, the ticket ranks as if they had arrived at the start (or at the "
           "check-in, if later) and is not called before the start; later, the holder is a walk-in from the "
           "check-in. " + LIMITED, AppointmentAnswer, status=201, body=NewAppointment, conflict=True,
           errors=(404, 415, 429))
def book_appointment():
    with current_app.extensions[APPOINTMENT_LIMITS]:
        rt = runtime()
        json_only()
        body = json_body()
        booked = rt.bookings.book(body.branch, body.service, epoch(body.start), body.phone, body.id_number, body.lang)
        return jsonify(appointment_view(booked)), 201


@bp.post("/appointments/<code>/cancel")
@operation("the holder cancels a booked appointment with its phone (the body as application/json); one no longer "
           "booked is 409 appointment_<its status>. " + NO_ORACLE + LIMITED, AppointmentAnswer, body=HolderPhone,
           conflict=True, errors=(404, 415, 429))
def cancel_appointment(code):
    with current_app.extensions[APPOINTMENT_LIMITS]:
        json_only()
        return jsonify(appointment_view(runtime().bookings.cancel(code, json_body().phone)))


@bp.post("/appointments/<code>/move")
@operation("the holder moves a booked appointment to another offered slot of its branch and service, keeping its "
           "code (the body as application/json); a slot not offered is 409 slot_full. " + NO_ORACLE + LIMITED,
           AppointmentAnswer, body=MoveAppointment, conflict=True, errors=(404, 415, 429))
def move_appointment(code):
    with current_app.extensions[APPOINTMENT_LIMITS]:
        json_only()
        body = json_body()
        return jsonify(appointment_view(runtime().bookings.move(code, body.phone, epoch(body.start))))


@bp.post("/branches/<b>/appointments/check-in")
@operation("a kiosk of the branch checks in today's appointment by its code or the ID number given when booking: "
           "201 with its ticket, of channel appointment, ranked from the slot's start (or the check-in, if later) "
           "and not called before the start; past start + grace_min, a walk-in's ticket ranked from now. Before "
           "start - early_min it is 409 too_early; no such appointment to check in here today is 404 "
           "unknown_appointment", schemas.Ticket, status=201, body=AppointmentCheckIn, caller=kiosk(at_branch),
           conflict=True)
def check_in_appointment(b):
    body = json_body()
    ticket = runtime().bookings.check_in(b, body.code, body.id_number, actor=caller().actor)
    return jsonify(ticket_view(runtime().engine, ticket.id)), 201


LATER = ("A walk-in whose predicted wait is over [staffing] target_wait_min is offered the first slot of today the "
         "branch offers that starts within [appointments] later_reach_min, to come back then and be called as "
         "booked instead of waiting now (README, Appointments). ")


@bp.get("/branches/<b>/later-slot")
@operation("a kiosk of the branch asks, before issuing a ticket, whether to offer the walk-in a later slot instead of "
           "the queue. " + LATER, LaterSlotOffer, query=LaterSlotQuery, caller=kiosk(at_branch))
def later_slot(b):
    rt = runtime()
    rt.engine.branch(b)
    service = query_args().service
    slot = rt.bookings.later(b, service, staffing_rules(rt.config).target_wait_min)
    local = rt.engine.local
    return jsonify({"slot": None if slot is None else {"start": local.iso(slot.start), "end": local.iso(slot.end),
                                                       "free": slot.free},
                    "estimated_wait_min": round_min(rt.engine.estimate_new(b, service))})


@bp.post("/branches/<b>/later-slot")
@operation("the walk-in at the kiosk takes the later slot offered (the body as application/json): 201 with the "
           "appointment, booked without a phone, whose code the kiosk prints; the holder checks in with it as any "
           "holder. A slot that is no longer the one offered now is 409 slot_full. " + LATER, AppointmentAnswer,
           status=201, body=TakeLaterSlot, caller=kiosk(at_branch), conflict=True)
def take_later_slot(b):
    rt = runtime()
    rt.engine.branch(b)
    body = json_body()
    booked = rt.bookings.book_later(b, body.service, epoch(body.start), staffing_rules(rt.config).target_wait_min,
                                    body.lang, actor=caller().actor)
    return jsonify(appointment_view(booked)), 201
