"""A kiosk's calls under /api/v1: issue a ticket, send its citizen to a better branch, check a sent
citizen in, say the printer failed, rate a ticket by its number and code (a kiosk of the branch, or its staff).
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from motcua.core.engine import RATING_CODE_TRIES
from . import schemas
from .bodies import json_body
from .guards import at_branch, at_numbered, at_ticket, caller, kiosk
from .openapi import operation
from .runtime import runtime
from .views import alternative_view, ticket_view

bp = Blueprint("kiosk", __name__, url_prefix="/api/v1")


def status_url(ticket_id: str) -> str:
    base = runtime().config.server.public_url or request.host_url
    return f"{base.rstrip('/')}/t/{ticket_id}"


@bp.post("/branches/<b>/tickets")
@operation("issue a ticket (kiosk of the branch, or staff)", schemas.Issued, status=201, body=schemas.NewTicket,
           caller=kiosk(at_branch), conflict=True)
def issue(b):
    body = json_body()
    issued = runtime().journeys.issue(b, body.service, body.priority, body.lang, actor=caller().actor)
    return jsonify(issued_answer(b, issued)), 201


def issued_answer(b: str, issued) -> dict:
    """A ticket just issued, as its kiosk shows and prints it: nothing personal."""
    engine = runtime().engine
    ticket = issued.ticket
    view = ticket_view(engine, ticket.id)
    offers = [alternative_view(a) for a in issued.alternatives]
    return {"id": ticket.id, "number": ticket.number, "rating_code": ticket.rating_code, "service": ticket.service,
            "branch": b,
            "issued_at": view["issued_at"], "position": view["position"],
            "estimated_wait_min": view["estimated_wait_min"],
            "estimated_wait_range_min": view["estimated_wait_range_min"], "status_url": status_url(ticket.id),
            "priority": ticket.priority, "lang": ticket.lang, "alternatives": offers}


@bp.post("/tickets/<ticket_id>/redirect")
@operation("a kiosk sends the citizen to a better branch offered: the ticket moves there (new number, same "
           "arrival time)", schemas.Redirected, status=201, body=schemas.Redirect,
           caller=kiosk(at_ticket), conflict=True)
def redirect_ticket(ticket_id):
    """A citizen at a kiosk takes the better branch offered: a new ticket there (a new number, the
    same issued_at), ranked by when they can be there and not called before (`due_at`)."""
    who = caller()
    rt = runtime()
    moved = rt.journeys.redirect(ticket_id, json_body().branch, actor=who.actor)
    view = ticket_view(rt.engine, moved.ticket.id)
    return jsonify({**view, "status_url": status_url(moved.ticket.id), "travel_min": round(moved.travel_min)}), 201


@bp.post("/tickets/<ticket_id>/check-in")
@operation("a kiosk of the branch a citizen was sent to checks them in: callable from now, even before due_at",
           schemas.Ticket, caller=kiosk(at_ticket), conflict=True)
def check_in(ticket_id):
    """A redirected citizen shows their ticket at a kiosk of the branch they were sent to: callable
    from now, even before the time they were expected."""
    rt = runtime()
    rt.journeys.check_in(ticket_id, actor=caller().actor)
    return jsonify(ticket_view(rt.engine, ticket_id))


@bp.post("/tickets/<ticket_id>/not-printed")
@operation("a kiosk's printer failed: the ticket stays valid; staff get a `kiosk` event", schemas.NotPrintedNoted,
           status=201, body=schemas.NotPrinted, caller=kiosk(at_ticket))
def not_printed(ticket_id):
    """The kiosk's printer failed: the ticket stays valid, the journal and the branch's staff hear of it."""
    problem = json_body().problem
    runtime().engine.note_not_printed(ticket_id, problem, actor=caller().actor)
    return jsonify({"ticket": ticket_id, "printed": False, "problem": problem}), 201


@bp.post("/branches/<b>/tickets/<number>/rating")
@operation("a kiosk rates today's ticket by the number the citizen types and the ticket's rating code (printed "
           "on it, shown on its phone page): the number is on the wall display for all to see, the code only its "
           "holder has. A wrong code is 403 `wrong_rating_code` and counts against the ticket; after "
           f"{RATING_CODE_TRIES} the code is refused for good (403 `rating_locked`) and the ticket is rated by its "
           "id only", schemas.RatedByNumber,
           status=201, body=schemas.NewRatingByNumber, caller=kiosk(at_numbered), conflict=True)
def rate_by_number(b, number):
    """A kiosk rates today's ticket by the number and the rating code the citizen types in."""
    engine = runtime().engine
    ticket = engine.ticket_numbered(b, number)
    body = json_body()
    rating = engine.rate_with_code(ticket.id, body.code, body.score, body.reasons, body.comment,
                                   actor=caller().actor)
    return jsonify({"ticket": rating.ticket, "number": ticket.number, "score": rating.score}), 201
