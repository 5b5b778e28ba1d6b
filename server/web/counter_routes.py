"""The counter console's calls under /api/v1 (officer of the branch): the branch as its staff see it, call
the next ticket or a chosen one, act on the ticket called (recall, start, done, no-show, requeue,
transfer), take and release a counter, pause and resume it, and where a citizen may be transferred
(other services here, other branches with their travel and wait).
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import Blueprint, jsonify
from pydantic import Field

from motcua.core.model import PAUSE_REASONS, Counter, staff_name
from . import schemas
from .advice import take_on_short
from .bodies import json_body
from .guards import at_branch, at_counter, at_ticket, caller, staff
from .openapi import operation
from .runtime import runtime
from .views import round_min, staff_state, ticket_view

bp = Blueprint("counter", __name__, url_prefix="/api/v1")
# Who calls: an officer of the branch (or above), of the counter's, the ticket's or the path's branch.
AT_COUNTER, OF_TICKET, OF_BRANCH = staff("officer", at_counter), staff("officer", at_ticket), staff("officer", at_branch)
# The rule of motcua.core.holders, as every counter action's description states it.
HOLDING = ("One staff account works a counter at a time: acting at a free counter takes it, and any other account's "
           "action there (call, recall, start, done, no-show, transfer of its ticket, pause, resume) is refused, "
           "409 `counter_taken` naming the holder, until that account takes the counter over with "
           "POST /branches/{b}/counters/{c}/take {\"take_over\": true}.")


# ---- shapes ----------------------------------------------------------------------------------

class Pause(schemas.Body):
    reason: Literal[PAUSE_REASONS]


class CounterPaused(schemas.Answer):
    id: str
    branch: str
    services: list[str]
    open: bool
    paused: bool
    pause_reason: Literal[PAUSE_REASONS] | None
    since: datetime | None = Field(description="when it was last opened, closed, paused or resumed")


class Take(schemas.Body):
    take_over: bool = Field(False, description="take the counter from the staff account holding it (said in the "
                                               "answer's `taken_from`); without it, another's counter is refused, "
                                               "409 `counter_taken` naming its holder in the error's details")


class CounterHeld(schemas.Answer):
    id: str
    branch: str
    holder: str | None = Field(description="the username of the staff account working the counter; null: free")
    held_since: datetime | None
    taken_from: str | None = Field(None, description="a take-over: whose the counter was; else null")


class Here(schemas.Answer):
    waiting: int
    estimated_wait_min: int | None


class Elsewhere(schemas.Answer):
    branch: str
    name: schemas.Names
    distance_km: float
    travel_min: int
    estimated_wait_min: int | None = Field(description="after arriving; null when no open counter there serves it")
    within_reach: bool = Field(description="inside the redirect limits of distance, travel time and opening hours")


class TransferService(schemas.Answer):
    id: str
    name: schemas.Names
    here: Here | None = Field(description="this branch's queue for it; null when the branch does not offer it")
    branches: list[Elsewhere] = Field(description="the other branches offering it, soonest served first")


class TransferOptions(schemas.Answer):
    branch: str
    services: list[TransferService]


# ---- routes ----------------------------------------------------------------------------------

def officer_at() -> tuple:
    """(the caller, the engine) of an officer's call, once its Caller let the officer in."""
    return caller(), runtime().engine


def counter_answer(engine, counter: Counter) -> dict:
    return {"id": counter.id, "branch": counter.branch, "services": list(counter.services), "open": counter.open,
            "paused": counter.pause_reason is not None, "pause_reason": counter.pause_reason,
            "since": engine.local.iso(counter.since)}


def held_answer(engine, counter: Counter, taken_from: str | None = None) -> dict:
    return {"id": counter.id, "branch": counter.branch, "holder": staff_name(counter.holder),
            "held_since": engine.local.iso(counter.held_since), "taken_from": staff_name(taken_from)}


@bp.post("/branches/<b>/counters/<c>/take")
@operation("work this counter from now (officer of the branch; a manager or admin too, under the same rule). "
           + HOLDING + " A take-over answers whose it was and is an event in the audit chain; the holder frees "
                       "the counter by releasing it or signing out, and every counter is free after the day's close "
                       "(a pause keeps it).", CounterHeld, body=Take, caller=AT_COUNTER, conflict=True)
def take_counter(b, c):
    who, engine = officer_at()
    counter, taken_from = engine.take(b, c, who.actor, take_over=json_body().take_over)
    return jsonify(held_answer(engine, counter, taken_from))


@bp.post("/branches/<b>/counters/<c>/release")
@operation("its holder lets the counter go: free for whoever acts there next (a free counter stays free; "
           "another's is refused, 409 `counter_taken`)", CounterHeld, caller=AT_COUNTER, conflict=True)
def release_counter(b, c):
    who, engine = officer_at()
    return jsonify(held_answer(engine, engine.release(b, c, who.actor)))


@bp.post("/branches/<b>/counters/<c>/pause")
@operation("pause a free open counter with a reason: it calls nobody and is dealt no tickets until resumed "
           "(officer of the branch; the counter stays its holder's). " + HOLDING, CounterPaused, body=Pause,
           caller=AT_COUNTER, conflict=True)
def pause_counter(b, c):
    who, engine = officer_at()
    counter = engine.pause(b, c, json_body().reason, actor=who.actor)
    return jsonify(counter_answer(engine, counter))


@bp.post("/branches/<b>/counters/<c>/resume")
@operation("a paused counter takes citizens again (officer of the branch). " + HOLDING + " A manager or admin "
           "resumes any paused counter of the branch without taking it: it stays its holder's.", CounterPaused,
           caller=AT_COUNTER, conflict=True)
def resume_counter(b, c):
    who, engine = officer_at()
    counter = engine.resume(b, c, actor=who.actor, by_manager=who.is_staff("manager"))
    return jsonify(counter_answer(engine, counter))


@bp.get("/branches/<b>/transfer-options")
@operation("every service a citizen of the branch may be transferred to: its queue here and the other branches "
           "offering it, with travel and wait (officer of the branch)", TransferOptions, caller=OF_BRANCH)
def transfer_options(b):
    rt = runtime()
    engine = rt.engine
    services = []
    for option in rt.journeys.transfer_options(b):
        here = option.here and {"waiting": option.here.waiting,
                                "estimated_wait_min": round_min(option.here.estimate_min)}
        others = [{"branch": d.branch, "name": names(engine.branch(d.branch)),
                   "distance_km": round(d.distance_km, 1), "travel_min": round(d.travel_min),
                   "estimated_wait_min": round_min(d.estimated_wait_min), "within_reach": d.within_reach}
                  for d in option.elsewhere]
        services.append({"id": option.service.id, "name": names(option.service), "here": here, "branches": others})
    return jsonify({"branch": b, "services": services})


@bp.post("/branches/<b>/counters/<c>/next")
@operation("call the next ticket to a counter (officer of the branch). When nobody waits for the counter's services "
           "while citizens wait for others, the counter first takes on the service the staffing advice has it take "
           "on (`took_on`; [staffing] idle_takes_on), as a manager applying the advice would. " + HOLDING,
           schemas.Called, caller=AT_COUNTER,
           conflict=True)
def call_next(b, c):
    who, engine = officer_at()
    ticket = engine.call_next(b, c, actor=who.actor)
    move = None
    if ticket is None and (move := take_on_short(runtime(), b, c, who.actor)) is not None:
        ticket = engine.call_next(b, c, actor=who.actor)
    took_on = None if move is None else [s for s in move.to_services if s not in move.from_services]
    return jsonify({"ticket": ticket_view(engine, ticket.id) if ticket else None, "took_on": took_on})


@bp.post("/branches/<b>/counters/<c>/call")
@operation("call a chosen waiting or no-show ticket (officer of the branch). " + HOLDING, schemas.CalledChosen,
           body=schemas.CallTicket, caller=AT_COUNTER, conflict=True)
def call_specific(b, c):
    who, engine = officer_at()
    ticket_id = json_body().ticket
    ticket = engine.call_ticket(ticket_id, b, c, actor=who.actor)
    return jsonify({"ticket": ticket_view(engine, ticket.id)})


@bp.get("/branches/<b>/counters/<c>")
@operation("a counter and the ticket it holds, with its id (officer of the branch)", schemas.CounterDetail,
           caller=AT_COUNTER)
def counter_detail(b, c):
    engine = runtime().engine
    counter = engine.counter(b, c)
    held = engine.serving_at(b, c)
    return jsonify({"id": counter.id, "branch": b, "services": list(counter.services), "open": counter.open,
                    "holder": staff_name(counter.holder), "ticket": ticket_view(engine, held.id) if held else None})


def _ticket_action(ticket_id: str, action: str):
    who, engine = officer_at()
    getattr(engine, action)(ticket_id, actor=who.actor)
    return jsonify(ticket_view(engine, ticket_id))


# Officer actions on one ticket: the path's last part, the engine's method, what it does.
TICKET_ACTIONS = {"recall": ("recall", "call again"), "start": ("start", "start serving"),
                  "done": ("done", "finish"), "no-show": ("no_show", "mark as not showing up"),
                  "requeue": ("requeue", "put a no-show back in the queue the same day")}
for _path, (_action, _summary) in TICKET_ACTIONS.items():
    bp.add_url_rule(f"/tickets/<ticket_id>/{_path}", endpoint=_action, methods=["POST"],
                     view_func=operation(f"{_summary} (officer of the ticket's branch)" + (". " + HOLDING if _action != "requeue" else ""),
                                         schemas.Ticket,
                                         caller=OF_TICKET, conflict=True)(
                         lambda ticket_id, action=_action: _ticket_action(ticket_id, action)))


@bp.post("/tickets/<ticket_id>/transfer")
@operation("queue again for another service or branch, keeping the arrival time (officer of the ticket's branch). "
           + HOLDING, schemas.Ticket,
           body=schemas.Transfer, caller=OF_TICKET, conflict=True)
def transfer(ticket_id):
    who, engine = officer_at()
    body = json_body()
    moved = runtime().journeys.transfer(ticket_id, body.service, body.branch, actor=who.actor)
    return jsonify(ticket_view(engine, moved.id))


@bp.get("/branches/<b>/staff-state")
@operation("the branch as its staff see it: counters with their tickets' ids, the waiting list",
           schemas.StaffState, caller=OF_BRANCH)
def branch_staff_state(b):
    return jsonify(staff_state(runtime().engine, b))


def names(thing) -> dict:
    return {"vi": thing.name_vi, "en": thing.name_en}
