"""The published shapes of tickets, branch states and calls (API.md), read from the engine.

A ticket's id is what lets its holder watch and rate it, so the public views (a branch's state and
what its room hears) carry ticket numbers, never ids; only a ticket's own view and its own
subscribers, and staff, get the id.
"""
from __future__ import annotations

from collections.abc import Callable

from motcua.core.balancing import Alternative
from motcua.core.engine import NOT_PRINTED, QueueEngine
from motcua.core.model import WAITING, Call, Event, Ticket, staff_name
from motcua.core.readmodels import BranchState, CounterLine


def ticket_view(engine: QueueEngine, ticket_id: str, offers: Callable[[str], Alternative | None] | None = None) -> dict:
    """`GET /tickets/{id}`: a ticket's state, place and estimated wait; no personal data. With `offers`
    (Journeys.offer: its phone page's GET and pushes), the branch a waiting ticket is offered now."""
    state = engine.ticket_state(ticket_id)
    ticket = state.ticket
    offer = offers(ticket_id) if offers is not None and ticket.status == WAITING else None
    return {"id": ticket.id, "number": ticket.number, "branch": ticket.branch,
            "service": ticket.service, "status": ticket.status, "position": state.position,
            "estimated_wait_min": round_min(state.wait_min),
            "estimated_wait_range_min": [round_min(m) for m in state.wait_range] if state.wait_range else None,
            "counter": ticket.counter,
            "priority": ticket.priority, "issued_at": engine.local.iso(ticket.issued_at),
            "called_at": engine.local.iso(ticket.called_at), "due_at": engine.local.iso(ticket.due_at),
            "transferred_to": ticket.transferred_to, "rated": state.rated,
            "rating_code": ticket.rating_code, "channel": ticket.channel,
            "window_end": engine.local.iso(ticket.window_end), "checked_in_at": engine.local.iso(ticket.checked_in_at),
            "set_off_at": engine.local.iso(ticket.set_off_at),
            "offer": None if offer is None else {**alternative_view(offer),
                                                 "saving_min": round(state.wait_min - offer.called_in_min)}}


def branch_state(engine: QueueEngine, branch_id: str) -> dict:
    """`GET /branches/{b}/state` and the `queue` event: queues, counters, recent calls."""
    return public_state(engine, engine.branch_state(branch_id))


def public_state(engine: QueueEngine, state: BranchState) -> dict:
    services = [{"id": line.service.id, "letter": line.service.letter, "name": names(line.service),
                 "waiting": line.waiting, "estimated_wait_min": round_min(line.estimate_min)}
                for line in state.services]
    counters = [{"id": line.counter.id, "services": list(line.counter.services), "open": line.counter.open,
                 "serving": ticket_brief(line.ticket)}
                for line in state.counters]
    branch = state.branch
    return {"branch": branch.id, "name": names(branch), "closed": branch.closed, "services": services,
            "counters": counters, "recent_calls": [call_record(engine, call) for call in state.recent_calls]}


def staff_state(engine: QueueEngine, branch_id: str) -> dict:
    """What the branch's staff see (`GET /branches/{b}/staff-state`, the staff room's `staff_queue`):
    the public state's queues, the counters with the ids of their tickets, the waiting list."""
    state = engine.staff_state(branch_id)
    now = state.at
    public = public_state(engine, state.public)
    return {"branch": branch_id, "at": engine.local.iso(now), "version": state.version,
            "services": public["services"],
            "counters": [staff_counter(engine, line, now) for line in state.public.counters],
            "waiting": [staff_ticket(engine, t, now) for t in state.waiting], "recent_calls": public["recent_calls"],
            "kiosk_problems": [kiosk_problem(engine, p.event, p.number) for p in state.kiosk_problems],
            "booked": [booked_view(engine, a) for a in state.booked]}


def booked_view(engine: QueueEngine, appointment) -> dict:
    """Today's appointment as the branch's staff see it: when, for what, whether its holder came and with which
    ticket; not its code, phone or ID (those prove holding it)."""
    ticket = engine.ticket(appointment.ticket) if appointment.ticket else None
    return {"start": engine.local.iso(appointment.start), "service": appointment.service,
            "status": appointment.status, "ticket": ticket.number if ticket else None,
            "checked_in_at": engine.local.iso(appointment.checked_in_at)}


def staff_counter(engine: QueueEngine, line: CounterLine, now: float) -> dict:
    """A counter as staff see it: what it is doing (serving, called, idle, paused, closed), since when idle,
    who works it."""
    counter, ticket, idle_since = line.counter, line.ticket, line.idle_since
    if not counter.open:
        status = "closed"
    elif counter.pause_reason is not None:
        status = "paused"
    else:
        status = ticket.status if ticket else "idle"
    return {"id": counter.id, "services": list(counter.services), "open": counter.open,
            "paused": counter.pause_reason is not None, "pause_reason": counter.pause_reason, "status": status,
            "since": engine.local.iso(counter.since), "holder": staff_name(counter.holder),
            "held_since": engine.local.iso(counter.held_since), "ticket": staff_ticket(engine, ticket, now),
            "idle_since": engine.local.iso(idle_since),
            "idle_min": None if idle_since is None else round((now - idle_since) / 60, 1)}


def kiosk_problem(engine: QueueEngine, event: Event, number: str) -> dict:
    """A kiosk's problem about ticket `number`, as the staff room's `kiosk` event carries it."""
    return {"branch": event.branch, "number": number,
            "problem": event.note.removeprefix(NOT_PRINTED), "at": engine.local.iso(event.at)}


def revoked_kiosk(engine: QueueEngine, device: dict) -> dict:
    """A kiosk whose token an admin revoked, as the staff room's `kiosk` event carries it: out of service."""
    return {"branch": device["branch"], "kiosk": device["id"], "number": None, "problem": "revoked",
            "at": engine.local.iso(engine.now())}


def staff_ticket(engine: QueueEngine, ticket: Ticket | None, now: float) -> dict | None:
    """A ticket as staff see it: with its id, and how long its citizen has waited since arriving."""
    if ticket is None:
        return None
    return {"id": ticket.id, "number": ticket.number, "service": ticket.service, "status": ticket.status,
            "priority": ticket.priority, "counter": ticket.counter,
            "issued_at": engine.local.iso(ticket.issued_at), "called_at": engine.local.iso(ticket.called_at),
            "started_at": engine.local.iso(ticket.started_at), "due_at": engine.local.iso(ticket.due_at),
            "waited_min": round((now - ticket.issued_at) / 60, 1), "channel": ticket.channel,
            "checked_in_at": engine.local.iso(ticket.checked_in_at), "window_end": engine.local.iso(ticket.window_end)}


def called_payload(engine: QueueEngine, ticket: Ticket, recall: bool) -> dict:
    """The branch room's `called` event of a ticket just called (or called again): no id."""
    call = Call(ticket.id, ticket.branch, ticket.number, ticket.counter, ticket.service, ticket.called_at, recall,
                ticket.channel)
    return {"branch": ticket.branch, **call_record(engine, call)}


def own_called_payload(engine: QueueEngine, ticket: Ticket, recall: bool) -> dict:
    """The same `called` event as the ticket's own subscribers get it: with its id."""
    return {**called_payload(engine, ticket, recall), "ticket": ticket.id}


def call_record(engine: QueueEngine, call: Call) -> dict:
    return {"number": call.number, "counter": call.counter, "service": call.service,
            "at": engine.local.iso(call.at), "recall": call.recall, "channel": call.channel}


def names(thing) -> dict:
    """A branch's or service's name in each language, as {"vi", "en"}."""
    return {"vi": thing.name_vi, "en": thing.name_en}


def ticket_brief(ticket: Ticket | None) -> dict | None:
    if ticket is None:
        return None
    return {"number": ticket.number, "service": ticket.service, "status": ticket.status}


def round_min(minutes: float | None) -> int | None:
    return None if minutes is None else int(round(minutes))


def alternative_view(a) -> dict:
    """A better branch offered: where, its wait after arriving, the way there."""
    return {"branch": a.branch, "estimated_wait_min": round(a.estimated_wait_min), "travel_min": round(a.travel_min),
            "distance_km": round(a.distance_km, 1)}
