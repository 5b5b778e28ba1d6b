"""Remote tickets under /api/v1: the branches near a citizen, a ticket taken from a phone before the trip,
and its check-in at the branch (motcua.core.remote says the rule)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from . import schemas, throttle
from .bodies import json_body, query_args
from .errors import UnsupportedMediaType
from .guards import at_numbered, caller, kiosk
from .kiosk_routes import status_url
from .openapi import operation
from .remote_schemas import NearbyBranch, NearbyQuery, NewRemoteTicket, RemoteCheckIn, RemoteTicket
from .runtime import runtime
from .views import names, round_min, ticket_view

bp = Blueprint("remote", __name__, url_prefix="/api/v1")
REMOTE_LIMITS = "motcua.remote_limits"
LIMITED = ("Asked for without a token, it is limited per address, taken or refused (429 with Retry-After; [remote] "
           "tickets_per_minute_per_address, tickets_per_hour_per_address). ")


def remote_limits() -> str:
    settings = runtime().config.remote
    return (f"{settings.tickets_per_minute_per_address} per minute; "
            f"{settings.tickets_per_hour_per_address} per hour")


@bp.record_once
def _throttle_remote(state) -> None:
    """Give each app its own count of remote tickets asked for per address (as the dossier lookups)."""
    limiter = throttle.limiter(state.app, key_prefix="remote")
    state.app.extensions[REMOTE_LIMITS] = limiter.limit(remote_limits)


def json_only() -> None:
    """Anyone may call without a token: a JSON content type keeps another site's page from posting (as a rating)."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("send the body as application/json")


@bp.get("/branches/nearby")
@operation("the branches a citizen at lat, lon can reach within [balancing] max_km and max_travel_min that serve "
           "the service now, soonest called first (travel plus the predicted wait there on arriving, citizens on "
           "their way there counted)", NearbyBranch, many=True, query=NearbyQuery, errors=(404,))
def nearby():
    query = query_args()
    rt = runtime()
    found = rt.journeys.nearby(query.lat, query.lon, query.service)
    return jsonify([{"branch": a.branch, "name": names(rt.engine.branch(a.branch)),
                     "estimated_wait_min": round(a.estimated_wait_min), "travel_min": round(a.travel_min),
                     "distance_km": round(a.distance_km, 1), "total_min": round(a.total_min)} for a in found])


@bp.post("/branches/<b>/remote-tickets")
@operation("take a ticket from a phone before the trip (the body as application/json): it joins the queue at once, "
           "ranked by when the citizen is expected (now + [balancing] max_travel_min, or the check-in if earlier), "
           "and is called only once checked in at the branch (a kiosk, by its number; the phone at the door's QR "
           "code); not checked in by window_end (the predicted call or the longest trip, whichever is later, plus "
           "[remote] grace_min) it leaves the queue. One active remote ticket per phone and service: a second is "
           "409 remote_ticket_held with the first in details. The ticket keeps the phone and nothing else. " + LIMITED,
           RemoteTicket, status=201, body=NewRemoteTicket, conflict=True, errors=(404, 415, 429))
def issue_remote(b):
    with current_app.extensions[REMOTE_LIMITS]:
        rt = runtime()
        rt.engine.branch(b)
        json_only()
        body = json_body()
        ticket = rt.journeys.issue_remote(b, body.service, body.phone, body.lang)
        view = ticket_view(rt.engine, ticket.id)
        return jsonify({**{k: view[k] for k in ("id", "number", "branch", "service", "status", "issued_at", "due_at",
                                               "position", "rating_code")},
                        "window_end": rt.engine.local.iso(ticket.window_end),
                        "estimated_wait_min": round_min(ticket.estimate_min), "status_url": status_url(ticket.id),
                        "lang": ticket.lang}), 201


@bp.post("/branches/<b>/tickets/<number>/check-in")
@operation("a kiosk of the branch checks in today's ticket by the number the citizen types: a remote ticket is "
           "callable from now on (refused 409 window_missed once its window has ended), a redirected one from now "
           "even before due_at", schemas.Ticket, caller=kiosk(at_numbered), conflict=True)
def check_in_by_number(b, number):
    rt = runtime()
    ticket = rt.engine.ticket_numbered(b, number)
    rt.journeys.check_in(ticket.id, actor=caller().actor)
    return jsonify(ticket_view(rt.engine, ticket.id))


@bp.post("/branches/<b>/remote-tickets/check-in")
@operation("the phone at the branch door's QR code checks in the remote tickets the phone holds at this branch "
           "(the body as application/json): callable from now on. " + LIMITED, schemas.Ticket, many=True,
           body=RemoteCheckIn, conflict=True, errors=(404, 415, 429))
def check_in_by_phone(b):
    with current_app.extensions[REMOTE_LIMITS]:
        rt = runtime()
        rt.engine.branch(b)
        json_only()
        held = rt.journeys.check_in_phone(b, json_body().phone)
        return jsonify([ticket_view(rt.engine, t.id) for t in held])
