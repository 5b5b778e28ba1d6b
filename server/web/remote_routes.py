"""Remote tickets under /api/v1: the branches near a citizen, a ticket taken from a phone before the trip,
and its check-in at the branch (motcua.core.remote says the rule)."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, current_app, jsonify, request

from motcua.hardware.qr import qr_matrix

from . import schemas, throttle
from .bodies import json_body, query_args
from .errors import UnsupportedMediaType
from .guards import at_branch, at_numbered, caller, kiosk, staff
from .kiosk_routes import status_url
from .openapi import operation
from .remote_schemas import DoorCode, NearbyBranch, NearbyQuery, NewRemoteTicket, RemoteCheckIn, RemoteTicket, TakeOffer
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
           "409 remote_ticket_held with the first in details. The ticket keeps the phone and nothing else. Its phone is "
           "told to set off once (the outbox; set_off_at on its page) when the predicted call is the citizen's trip "
           "(travel_min, else the longest) plus [remote] lead_min away. " + LIMITED,
           RemoteTicket, status=201, body=NewRemoteTicket, conflict=True, errors=(404, 415, 429))
def issue_remote(b):
    with current_app.extensions[REMOTE_LIMITS]:
        rt = runtime()
        rt.engine.branch(b)
        json_only()
        body = json_body()
        ticket = rt.journeys.issue_remote(b, body.service, body.phone, body.lang, travel_min=body.travel_min)
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
           "(the body as application/json): callable from now on. The body carries the door's code of today, as the "
           "QR code at the door gives it (GET /branches/{b}/door): wrong or missing, 403 wrong_door_code, so that "
           "only a phone at the door checks in. " + LIMITED, schemas.Ticket, many=True,
           body=RemoteCheckIn, conflict=True, errors=(403, 404, 415, 429))
def check_in_by_phone(b):
    with current_app.extensions[REMOTE_LIMITS]:
        rt = runtime()
        rt.engine.branch(b)
        json_only()
        body = json_body()
        held = rt.journeys.check_in_phone(b, body.phone, body.code)
        return jsonify([ticket_view(rt.engine, t.id) for t in held])


@bp.post("/tickets/<ticket_id>/move")
@operation("the ticket's holder takes the branch its page is offered (`offer`; the body as application/json, with the "
           "ticket's rating_code, 403 wrong_rating_code otherwise): redirected there as from a kiosk, a new number "
           "ranked by the citizen's arrival there (a remote ticket not checked in: not before it was expected here) "
           "and not called before it. 409 offer_gone when that branch is not offered now", schemas.Redirected,
           status=201, body=TakeOffer, conflict=True, errors=(403, 404, 415))
def take_offer(ticket_id):
    rt = runtime()
    rt.engine.ticket(ticket_id)
    json_only()
    body = json_body()
    moved = rt.journeys.take_offer(ticket_id, body.branch, body.code)
    view = ticket_view(rt.engine, moved.ticket.id, rt.journeys.offer)
    return jsonify({**view, "status_url": status_url(moved.ticket.id), "travel_min": round(moved.travel_min)}), 201


@bp.get("/branches/<b>/door")
@operation("the QR code to show at the branch's door today (its managers): the URL of the phone's check-in page with "
           "the door's code of the day, which a photo of it taken today no longer carries tomorrow "
           "(motcua.core.remote)", DoorCode, caller=staff("manager", at_branch))
def door(b):
    rt = runtime()
    base = rt.config.server.public_url or request.host_url
    url = f"{base.rstrip('/')}/door/{quote(b, safe='')}?code={rt.journeys.door_code(b)}"
    return jsonify({"branch": b, "day": rt.engine.local.day(rt.engine.now()), "url": url, "qr_svg": qr_svg(url)})


def qr_svg(data: str) -> str:
    """data's QR code as an SVG image, one square per dark module, a quiet zone of four."""
    matrix = qr_matrix(data, border=4)
    size = len(matrix)
    dark = "".join(f"M{x} {y}h1v1h-1z" for y, row in enumerate(matrix) for x, on in enumerate(row) if on)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
            f'<rect width="{size}" height="{size}" fill="#fff"/><path d="{dark}" fill="#000"/></svg>')
