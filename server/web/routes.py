"""HTTP routes under /api/v1: parse, authorise, call the core, answer.

Refusals come in the published order: 401 without a valid token, 404 for an unknown branch,
counter or ticket, 403 for a role or branch that may not act, 400/413 for the body, 409 for the
state.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from ..accounts import Principal
from ..core.model import Conflict, DomainError, Invalid, NotFound
from .advice import recommendations
from .openapi import spec
from .views import branch_state as state_view, ticket_view

api = Blueprint("api", __name__, url_prefix="/api/v1")


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


STATUS_OF = {NotFound: 404, Conflict: 409, Invalid: 400, Unauthorized: 401, Forbidden: 403}


def runtime():
    return current_app.extensions["motcua"]


def error_response(status: int, code: str, message: str):
    return jsonify({"error": {"code": code, "message": message}}), status


@api.errorhandler(DomainError)
def domain_error(error: DomainError):
    return error_response(STATUS_OF.get(type(error), 400), error.code, error.message)


# ---- request helpers ---------------------------------------------------------------------

def bearer(required: bool = True) -> Principal | None:
    header = request.headers.get("Authorization", "")
    if not header:
        if required:
            raise Unauthorized("this call needs Authorization: Bearer TOKEN")
        return None
    scheme, _, token = header.partition(" ")
    found = runtime().accounts.principal(token.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        raise Unauthorized("the token is unknown or has expired", "invalid_token")
    return found


def require_staff(who: Principal, branch: str, role: str = "officer") -> None:
    if not who.is_staff(role):
        raise Forbidden(f"this call is for a {role} or above")
    if not who.covers(branch):
        raise Forbidden(f"your account does not cover branch {branch}", "other_branch")


def json_body() -> dict:
    """The request's JSON object; 413 past the size limit, 400 when it is not a JSON object."""
    request.get_data(cache=True)  # reads the body first so that an oversized one answers 413
    body = request.get_json(silent=True, force=True)
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object", "malformed_json")
    return body


def field(body: dict, name: str, kind: type | tuple, default=..., choices=None):
    if name not in body or (body[name] is None and default is not ...):
        if default is ...:
            raise Invalid(f"missing field {name!r}", "missing_field")
        return default
    value = body[name]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise Invalid(f"field {name!r} has the wrong type", "wrong_type")
    if choices is not None and value not in choices:
        raise Invalid(f"field {name!r} must be one of {', '.join(map(str, choices))}", "bad_value")
    return value


def string_list(body: dict, name: str, default=...) -> list[str]:
    values = field(body, name, list, default)
    if values is None:
        return values
    if not all(isinstance(v, str) for v in values):
        raise Invalid(f"field {name!r} must be a list of strings", "wrong_type")
    return values


def status_url(ticket_id: str) -> str:
    base = runtime().config.server_public_url or request.host_url
    return f"{base.rstrip('/')}/t/{ticket_id}"


# ---- public --------------------------------------------------------------------------------

@api.get("/health")
def health():
    return jsonify({"status": "ok"})


@api.get("/openapi.json")
def openapi():
    return jsonify(spec())


@api.post("/auth/login")
def login():
    body = json_body()
    result = runtime().accounts.login(field(body, "username", str), field(body, "password", str))
    if result is None:
        raise Unauthorized("wrong username or password", "bad_credentials")
    token, user = result
    return jsonify({"token": token, "role": user["role"], "branch": user["branch"]})


@api.get("/branches")
def branches():
    engine = runtime().engine
    return jsonify([
        {"id": b.id, "name": {"vi": b.name_vi, "en": b.name_en}, "lat": b.lat, "lon": b.lon,
         "services": [{"id": s, "name": {"vi": engine.services[s].name_vi, "en": engine.services[s].name_en},
                       "letter": engine.services[s].letter} for s in b.services]}
        for b in engine.branches.values()])


@api.get("/branches/<b>/state")
def branch_state(b):
    return jsonify(state_view(runtime().engine, b))


@api.get("/tickets/<ticket_id>")
def ticket(ticket_id):
    return jsonify(ticket_view(runtime().engine, ticket_id))


# ---- kiosks -------------------------------------------------------------------------------

@api.post("/branches/<b>/tickets")
def issue(b):
    who = bearer()
    engine = runtime().engine
    engine.branch(b)
    if who.kind == "device" and not (who.role == "kiosk" and who.branch == b):
        raise Forbidden(f"only a kiosk of {b} issues tickets there")
    if who.kind == "staff":
        require_staff(who, b)
    body = json_body()
    service = field(body, "service", str)
    priority = field(body, "priority", bool, False)
    lang = field(body, "lang", str, "vi", choices=("vi", "en"))
    issued = runtime().journeys.issue(b, service, priority, lang, actor=who.actor)
    ticket = issued.ticket
    view = ticket_view(engine, ticket.id)
    offers = [{"branch": a.branch, "estimated_wait_min": round(a.estimated_wait_min),
               "travel_min": round(a.travel_min), "distance_km": round(a.distance_km, 1)}
              for a in issued.alternatives]
    answer = {"id": ticket.id, "number": ticket.number, "service": ticket.service, "branch": b,
              "issued_at": view["issued_at"], "position": view["position"],
              "estimated_wait_min": view["estimated_wait_min"],
              "estimated_wait_range_min": view["estimated_wait_range_min"], "status_url": status_url(ticket.id),
              "priority": ticket.priority, "lang": ticket.lang, "alternatives": offers}
    return jsonify(answer), 201


def require_kiosk_of(who, branch: str) -> None:
    if not (who.kind == "device" and who.role == "kiosk" and who.branch == branch) and not who.is_staff("officer"):
        raise Forbidden(f"only a kiosk of {branch} (or its staff) may do this")
    if who.kind == "staff":
        require_staff(who, branch)


@api.post("/tickets/<ticket_id>/redirect")
def redirect_ticket(ticket_id):
    """A citizen at a kiosk takes the better branch offered: a new ticket there (a new number, the
    same issued_at), ranked by when they can be there and not called before (`due_at`)."""
    who = bearer()
    rt = runtime()
    ticket = rt.engine.ticket(ticket_id)
    require_kiosk_of(who, ticket.branch)
    moved = rt.journeys.redirect(ticket_id, field(json_body(), "branch", str), actor=who.actor)
    view = ticket_view(rt.engine, moved.ticket.id)
    return jsonify({**view, "status_url": status_url(moved.ticket.id), "travel_min": round(moved.travel_min)}), 201


@api.post("/tickets/<ticket_id>/check-in")
def check_in(ticket_id):
    """A redirected citizen shows their ticket at a kiosk of the branch they were sent to: callable
    from now, even before the time they were expected."""
    who = bearer()
    rt = runtime()
    ticket = rt.engine.ticket(ticket_id)
    require_kiosk_of(who, ticket.branch)
    rt.journeys.check_in(ticket_id, actor=who.actor)
    return jsonify(ticket_view(rt.engine, ticket_id))


@api.post("/tickets/<ticket_id>/not-printed")
def not_printed(ticket_id):
    """The kiosk's printer failed: the ticket stays valid, the journal and the branch's staff hear of it."""
    who = bearer()
    engine = runtime().engine
    ticket = engine.ticket(ticket_id)
    require_kiosk_of(who, ticket.branch)
    problem = field(json_body(), "problem", str)
    if not problem.replace("_", "").isalnum() or len(problem) > 40:
        raise Invalid("problem must be a short code such as paper_out", "bad_field")
    engine.note_not_printed(ticket_id, problem, actor=who.actor)
    return jsonify({"ticket": ticket_id, "printed": False, "problem": problem}), 201


@api.post("/branches/<b>/tickets/<number>/rating")
def rate_by_number(b, number):
    """A kiosk rates today's ticket by the number the citizen types in."""
    who = bearer()
    engine = runtime().engine
    ticket = engine.ticket_numbered(b, number)
    require_kiosk_of(who, b)
    body = json_body()
    rating = engine.rate(ticket.id, field(body, "score", int), string_list(body, "reasons", []),
                         field(body, "comment", str, ""))
    return jsonify({"ticket": rating.ticket, "number": ticket.number, "score": rating.score}), 201


@api.post("/tickets/<ticket_id>/rating")
def rate(ticket_id):
    bearer(required=False)
    engine = runtime().engine
    engine.ticket(ticket_id)
    body = json_body()
    score = field(body, "score", int)
    reasons = string_list(body, "reasons", [])
    comment = field(body, "comment", str, "")
    rating = engine.rate(ticket_id, score, reasons, comment)
    return jsonify({"ticket": rating.ticket, "score": rating.score, "reasons": list(rating.reasons)}), 201


# ---- counters -----------------------------------------------------------------------------

@api.post("/branches/<b>/counters/<c>/next")
def call_next(b, c):
    who = bearer()
    engine = runtime().engine
    engine.counter(b, c)
    require_staff(who, b)
    ticket = engine.call_next(b, c, actor=who.actor)
    return jsonify({"ticket": ticket_view(engine, ticket.id) if ticket else None})


@api.post("/branches/<b>/counters/<c>/call")
def call_specific(b, c):
    who = bearer()
    engine = runtime().engine
    engine.counter(b, c)
    require_staff(who, b)
    ticket_id = field(json_body(), "ticket", str)
    ticket = engine.call_ticket(ticket_id, b, c, actor=who.actor)
    return jsonify({"ticket": ticket_view(engine, ticket.id)})


@api.post("/branches/<b>/counters/<c>")
def update_counter(b, c):
    who = bearer()
    engine = runtime().engine
    engine.counter(b, c)
    require_staff(who, b, "manager")
    body = json_body()
    services = string_list(body, "services", None)
    is_open = field(body, "open", bool, None)
    if services is None and is_open is None:
        raise Invalid("give 'services', 'open' or both", "missing_field")
    counter = engine.update_counter(b, c, services, is_open, actor=who.actor)
    serving = engine.serving_at(b, c)
    return jsonify({"id": counter.id, "branch": b, "services": list(counter.services), "open": counter.open,
                    "serving": serving.id if serving else None})


@api.get("/branches/<b>/recommendations")
def staffing_recommendations(b):
    who = bearer()
    runtime().engine.branch(b)
    require_staff(who, b, "manager")
    return jsonify(recommendations(runtime(), b))


def _ticket_action(ticket_id: str, action: str):
    who = bearer()
    engine = runtime().engine
    ticket = engine.ticket(ticket_id)
    require_staff(who, ticket.branch)
    getattr(engine, action)(ticket_id, actor=who.actor)
    return jsonify(ticket_view(engine, ticket_id))


# Officer actions on one ticket: the path's last part and the engine's method.
TICKET_ACTIONS = {"recall": "recall", "start": "start", "done": "done", "no-show": "no_show", "requeue": "requeue"}
for _path, _action in TICKET_ACTIONS.items():
    api.add_url_rule(f"/tickets/<ticket_id>/{_path}", endpoint=_action, methods=["POST"],
                     view_func=lambda ticket_id, action=_action: _ticket_action(ticket_id, action))


@api.post("/tickets/<ticket_id>/transfer")
def transfer(ticket_id):
    who = bearer()
    engine = runtime().engine
    ticket = engine.ticket(ticket_id)
    require_staff(who, ticket.branch)
    body = json_body()
    service = field(body, "service", str)
    branch = field(body, "branch", str, None)
    moved = engine.transfer(ticket_id, service, branch, actor=who.actor)
    return jsonify(ticket_view(engine, moved.id))
