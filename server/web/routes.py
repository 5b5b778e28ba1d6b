"""HTTP routes under /api/v1: parse, authorise, call the core, answer."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from motcua.accounts import Principal
from motcua.core.engine import RATING_CODE_TRIES
from motcua.core.model import staff_name
from . import schemas, throttle
from .advice import recommendations
from .bodies import json_body
from .errors import Forbidden, Unauthorized, UnsupportedMediaType
from .guards import bearer, require_staff
from .openapi import operation, spec
from .runtime import runtime
from .views import branch_state as state_view, round_min, ticket_view

api = Blueprint("api", __name__, url_prefix="/api/v1")
LOGIN_LIMITS = "motcua.login_limits"


def status_url(ticket_id: str) -> str:
    base = runtime().config.server.public_url or request.host_url
    return f"{base.rstrip('/')}/t/{ticket_id}"


# ---- public --------------------------------------------------------------------------------

@api.get("/openapi.json")
@operation("this document", schemas.Document)
def openapi():
    return jsonify(spec(current_app))


@api.post("/auth/login")
@operation("staff login; tries count against one limit per address, wrong passwords against one per "
           "account, both shared with POST /auth/session (429)", schemas.LoggedIn, body=schemas.Login, errors=(401, 403, 429))
def login():
    token, user = authenticate(json_body())
    return jsonify({"token": token, "role": user["role"], "branch": user["branch"], "department": user["department"]})


def authenticate(body: schemas.Login) -> tuple[str, dict]:
    """A new token for the right password, under the login limits (both login routes share them)."""
    per_address, per_account = current_app.extensions[LOGIN_LIMITS]
    g.login_username = body.username
    with per_address:
        with per_account:  # a line of its own: Flask-Limiter tells the two apart by the line they are on
            result = runtime().accounts.login(body.username, body.password)
            if result is None:
                raise Unauthorized("wrong username or password", "bad_credentials")
    return result


@api.record_once
def _throttle_logins(state) -> None:
    """Give each app its own login limits: in memory, one process's counts, never another test app's;
    on Redis when one is configured, every process's together."""
    limiter = throttle.limiter(state.app)
    # Shared scopes: one count per address and one per account, whichever route signs in (a limit of
    # Flask-Limiter's own is counted per route).
    state.app.extensions[LOGIN_LIMITS] = (
        limiter.shared_limit(lambda: f"{runtime().config.auth.login_per_minute_per_address} per minute",
                             scope="login-address"),
        # Only wrong passwords count; once too many, the right one waits for the window as well. The
        # prefix keeps an empty username a key (Flask-Limiter skips, and logs, an empty one).
        limiter.shared_limit(lambda: f"{runtime().config.auth.login_failures_per_account} per "
                                     f"{runtime().config.auth.login_lockout_s} seconds", scope="login-account",
                             key_func=lambda: "user:" + g.login_username,
                             deduct_when=lambda answer: answer.status_code == 401))


@api.post("/auth/logout")
@operation("end the staff token given; the counters its account holds are free from now", schemas.LoggedOut,
           auth="required")
def logout():
    who = bearer()
    if who.kind != "staff":
        raise Forbidden("a device token is ended by revoking the device (motcua device revoke)")
    end_session(who)
    return jsonify({"status": "logged_out"})


@api.get("/auth/me")
@operation("who the token stands for: a kiosk or display checks with it, at start and every few minutes, that "
           "its token still holds (a revoked device answers 401 invalid_token)", schemas.Me, auth="required")
def whoami():
    who = bearer()
    return jsonify({"kind": who.kind, "role": who.role, "branch": who.branch})


def end_session(who: Principal) -> None:
    """End the call's staff token; the counters its account holds are free from now (motcua.core.holders)."""
    runtime().accounts.logout(g.token)
    runtime().engine.release_held_by(who.actor)


@api.get("/branches")
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


@api.get("/branches/<b>/state")
@operation("live state of a branch", schemas.State)
def branch_state(b):
    return jsonify(state_view(runtime().engine, b))


@api.get("/branches/<b>/services/<s>/availability")
@operation("before a ticket: the wait one would get for the service here, and when no open counter serves it "
           "here, the nearby branches that serve it now, best first", schemas.Availability)
def availability(b, s):
    found = runtime().journeys.availability(b, s)
    return jsonify({"branch": b, "service": s, "served": found.estimated_wait_min is not None,
                    "estimated_wait_min": round_min(found.estimated_wait_min),
                    "alternatives": [alternative_view(a) for a in found.elsewhere]})


def alternative_view(a) -> dict:
    return {"branch": a.branch, "estimated_wait_min": round(a.estimated_wait_min), "travel_min": round(a.travel_min),
            "distance_km": round(a.distance_km, 1)}


@api.get("/tickets/<ticket_id>")
@operation("a ticket's status (no personal data)", schemas.Ticket)
def ticket(ticket_id):
    return jsonify(ticket_view(runtime().engine, ticket_id))


# ---- kiosks -------------------------------------------------------------------------------

@api.post("/branches/<b>/tickets")
@operation("issue a ticket (kiosk of the branch, or staff)", schemas.Issued, status=201, body=schemas.NewTicket,
           auth="required", conflict=True)
def issue(b):
    who = bearer()
    engine = runtime().engine
    engine.branch(b)
    if who.kind == "device" and not (who.role == "kiosk" and who.branch == b):
        raise Forbidden(f"only a kiosk of {b} issues tickets there")
    if who.kind == "staff":
        require_staff(who, b)
    body = json_body()
    issued = runtime().journeys.issue(b, body.service, body.priority, body.lang, actor=who.actor)
    ticket = issued.ticket
    view = ticket_view(engine, ticket.id)
    offers = [alternative_view(a) for a in issued.alternatives]
    answer = {"id": ticket.id, "number": ticket.number, "rating_code": ticket.rating_code, "service": ticket.service,
              "branch": b,
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
@operation("a kiosk sends the citizen to a better branch offered: the ticket moves there (new number, same "
           "arrival time)", schemas.Redirected, status=201, body=schemas.Redirect, auth="required", conflict=True)
def redirect_ticket(ticket_id):
    """A citizen at a kiosk takes the better branch offered: a new ticket there (a new number, the
    same issued_at), ranked by when they can be there and not called before (`due_at`)."""
    who = bearer()
    rt = runtime()
    ticket = rt.engine.ticket(ticket_id)
    require_kiosk_of(who, ticket.branch)
    moved = rt.journeys.redirect(ticket_id, json_body().branch, actor=who.actor)
    view = ticket_view(rt.engine, moved.ticket.id)
    return jsonify({**view, "status_url": status_url(moved.ticket.id), "travel_min": round(moved.travel_min)}), 201


@api.post("/tickets/<ticket_id>/check-in")
@operation("a kiosk of the branch a citizen was sent to checks them in: callable from now, even before due_at",
           schemas.Ticket, auth="required", conflict=True)
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
@operation("a kiosk's printer failed: the ticket stays valid; staff get a `kiosk` event", schemas.NotPrintedNoted,
           status=201, body=schemas.NotPrinted, auth="required")
def not_printed(ticket_id):
    """The kiosk's printer failed: the ticket stays valid, the journal and the branch's staff hear of it."""
    who = bearer()
    engine = runtime().engine
    ticket = engine.ticket(ticket_id)
    require_kiosk_of(who, ticket.branch)
    problem = json_body().problem
    engine.note_not_printed(ticket_id, problem, actor=who.actor)
    return jsonify({"ticket": ticket_id, "printed": False, "problem": problem}), 201


@api.post("/branches/<b>/tickets/<number>/rating")
@operation("a kiosk rates today's ticket by the number the citizen types and the ticket's rating code (printed "
           "on it, shown on its phone page): the number is on the wall display for all to see, the code only its "
           "holder has. A wrong code is 403 `wrong_rating_code` and counts against the ticket; after "
           f"{RATING_CODE_TRIES} the code is refused for good (403 `rating_locked`) and the ticket is rated by its "
           "id only", schemas.RatedByNumber,
           status=201, body=schemas.NewRatingByNumber, auth="required", conflict=True)
def rate_by_number(b, number):
    """A kiosk rates today's ticket by the number and the rating code the citizen types in."""
    who = bearer()
    engine = runtime().engine
    ticket = engine.ticket_numbered(b, number)
    require_kiosk_of(who, b)
    body = json_body()
    rating = engine.rate_with_code(ticket.id, body.code, body.score, body.reasons, body.comment, actor=who.actor)
    return jsonify({"ticket": rating.ticket, "number": ticket.number, "score": rating.score}), 201


@api.post("/tickets/<ticket_id>/rating")
@operation("rate a done ticket once (the body as application/json)", schemas.Rated, status=201,
           body=schemas.NewRating, auth="optional", conflict=True, errors=(415,))
def rate(ticket_id):
    bearer(required=False)
    engine = runtime().engine
    engine.ticket(ticket_id)
    # Anyone holding the id may rate, without a token: a JSON content type is what keeps another
    # site's page from posting a rating (a form or a "simple" fetch cannot send one unasked).
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("send the rating as application/json")
    body = json_body()
    rating = engine.rate(ticket_id, body.score, body.reasons, body.comment)
    return jsonify({"ticket": rating.ticket, "score": rating.score, "reasons": list(rating.reasons)}), 201


# ---- counters -----------------------------------------------------------------------------

# The rule of motcua.core.holders, as every counter action's description states it.
HOLDING = ("One staff account works a counter at a time: acting at a free counter takes it, and any other account's "
           "action there (call, recall, start, done, no-show, transfer of its ticket, pause, resume) is refused, "
           "409 `counter_taken` naming the holder, until that account takes the counter over with "
           "POST /branches/{b}/counters/{c}/take {\"take_over\": true}.")


@api.post("/branches/<b>/counters/<c>/next")
@operation("call the next ticket to a counter (officer of the branch). " + HOLDING, schemas.Called, auth="required",
           conflict=True)
def call_next(b, c):
    who = bearer()
    engine = runtime().engine
    engine.counter(b, c)
    require_staff(who, b)
    ticket = engine.call_next(b, c, actor=who.actor)
    return jsonify({"ticket": ticket_view(engine, ticket.id) if ticket else None})


@api.post("/branches/<b>/counters/<c>/call")
@operation("call a chosen waiting or no-show ticket (officer of the branch). " + HOLDING, schemas.CalledChosen,
           body=schemas.CallTicket, auth="required", conflict=True)
def call_specific(b, c):
    who = bearer()
    engine = runtime().engine
    engine.counter(b, c)
    require_staff(who, b)
    ticket_id = json_body().ticket
    ticket = engine.call_ticket(ticket_id, b, c, actor=who.actor)
    return jsonify({"ticket": ticket_view(engine, ticket.id)})


@api.get("/branches/<b>/counters/<c>")
@operation("a counter and the ticket it holds, with its id (officer of the branch)", schemas.CounterDetail,
           auth="required")
def counter_detail(b, c):
    who = bearer()
    engine = runtime().engine
    counter = engine.counter(b, c)
    require_staff(who, b)
    held = engine.serving_at(b, c)
    return jsonify({"id": counter.id, "branch": b, "services": list(counter.services), "open": counter.open,
                    "holder": staff_name(counter.holder), "ticket": ticket_view(engine, held.id) if held else None})


@api.post("/branches/<b>/counters/<c>")
@operation("change a counter's services or open it / close it (manager)", schemas.CounterChanged,
           body=schemas.CounterChange, auth="required", conflict=True)
def update_counter(b, c):
    who = bearer()
    engine = runtime().engine
    engine.counter(b, c)
    require_staff(who, b, "manager")
    body = json_body()
    counter = engine.update_counter(b, c, body.services, body.open, actor=who.actor)
    serving = engine.serving_at(b, c)
    return jsonify({"id": counter.id, "branch": b, "services": list(counter.services), "open": counter.open,
                    "serving": serving.id if serving else None})


@api.get("/branches/<b>/recommendations")
@operation("counters each service needs to meet the wait target over the coming hours, and the moves that get "
           "there (manager)", schemas.Recommendations, auth="required")
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


# Officer actions on one ticket: the path's last part, the engine's method, what it does.
TICKET_ACTIONS = {"recall": ("recall", "call again"), "start": ("start", "start serving"),
                  "done": ("done", "finish"), "no-show": ("no_show", "mark as not showing up"),
                  "requeue": ("requeue", "put a no-show back in the queue the same day")}
for _path, (_action, _summary) in TICKET_ACTIONS.items():
    api.add_url_rule(f"/tickets/<ticket_id>/{_path}", endpoint=_action, methods=["POST"],
                     view_func=operation(f"{_summary} (officer of the ticket's branch)" + (". " + HOLDING if _action != "requeue" else ""),
                                         schemas.Ticket,
                                         auth="required", conflict=True)(
                         lambda ticket_id, action=_action: _ticket_action(ticket_id, action)))


@api.post("/tickets/<ticket_id>/transfer")
@operation("queue again for another service or branch, keeping the arrival time (officer of the ticket's branch). "
           + HOLDING, schemas.Ticket,
           body=schemas.Transfer, auth="required", conflict=True)
def transfer(ticket_id):
    who = bearer()
    engine = runtime().engine
    ticket = engine.ticket(ticket_id)
    require_staff(who, ticket.branch)
    body = json_body()
    moved = runtime().journeys.transfer(ticket_id, body.service, body.branch, actor=who.actor)
    return jsonify(ticket_view(engine, moved.id))
