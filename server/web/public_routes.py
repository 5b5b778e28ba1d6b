"""The public calls under /api/v1: this document, the branches and their live state, a ticket's status, rating it.

Anyone may call them, without a token.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from . import schemas
from .bodies import json_body
from .errors import UnsupportedMediaType
from .guards import ANYONE_TOKEN_CHECKED
from .openapi import operation, spec
from .runtime import runtime
from .views import alternative_view, branch_state as state_view, round_min, ticket_view

bp = Blueprint("public", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
@operation("this document", schemas.Document)
def openapi():
    return jsonify(spec(current_app))


@bp.get("/branches")
@operation("branches and the services they offer, each with the fields (lĩnh vực) of the procedures it takes, "
           "which a kiosk groups its services by; a branch closed by the administration is listed with closed "
           "true (its kiosk and wall display say so; no other branch offers it)", schemas.Branch, many=True)
def branches():
    rt = runtime()
    engine, catalogue = rt.engine, rt.catalogue.current

    def fields(service: str) -> list[dict]:
        return [{"id": f, "name": dict(zip(("vi", "en"), rt.catalogue.field(f)))} for f in catalogue.fields_of(service)]

    return jsonify([
        {"id": b.id, "name": {"vi": b.name_vi, "en": b.name_en}, "lat": b.lat, "lon": b.lon, "closed": b.closed,
         "services": [{"id": s.id, "name": {"vi": s.name_vi, "en": s.name_en}, "letter": s.letter,
                       "description": {"vi": s.description_vi, "en": s.description_en},
                       "fields": fields(s.id)}
                      for s in map(engine.service, b.services)]}
        for b in engine.all_branches()])


@bp.get("/branches/<b>/state")
@operation("live state of a branch", schemas.State)
def branch_state(b):
    return jsonify(state_view(runtime().engine, b))


@bp.get("/branches/<b>/services/<s>/availability")
@operation("before a ticket: the wait one would get for the service here, and when no open counter serves it "
           "here, the nearby branches that serve it now, best first", schemas.Availability)
def availability(b, s):
    found = runtime().journeys.availability(b, s)
    return jsonify({"branch": b, "service": s, "served": found.estimated_wait_min is not None,
                    "estimated_wait_min": round_min(found.estimated_wait_min),
                    "alternatives": [alternative_view(a) for a in found.elsewhere]})


@bp.get("/tickets/<ticket_id>")
@operation("a ticket's status (no personal data)", schemas.Ticket)
def ticket(ticket_id):
    rt = runtime()
    return jsonify(ticket_view(rt.engine, ticket_id, rt.journeys.offer))


@bp.post("/tickets/<ticket_id>/rating")
@operation("rate a done ticket once (the body as application/json)", schemas.Rated, status=201,
           body=schemas.NewRating, caller=ANYONE_TOKEN_CHECKED, conflict=True, errors=(415,))
def rate(ticket_id):
    engine = runtime().engine
    engine.ticket(ticket_id)
    # Anyone holding the id may rate, without a token: a JSON content type is what keeps another
    # site's page from posting a rating (a form or a "simple" fetch cannot send one unasked).
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("send the rating as application/json")
    body = json_body()
    rating = engine.rate(ticket_id, body.score, body.reasons, body.comment)
    return jsonify({"ticket": rating.ticket, "score": rating.score, "reasons": list(rating.reasons)}), 201
