"""Signing in and out under /api/v1/auth: a token for a program, a session for a staff page, who a token is.

Staff sessions for the pages: the login token in an HttpOnly, SameSite=Strict cookie.

The cookie holds the same token `POST /auth/login` answers, so a session ends when the token does
(its expiry, logout, a changed password, a removed user). Pages never see the token; they read the
session's CSRF token from `GET /auth/session` and send it with every change (guards.bearer checks
it). Signing in takes JSON only: a cross-site form cannot send that, so nobody can be signed in to
somebody else's account from another site.
"""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from motcua.accounts import Principal
from . import schemas, throttle
from .bodies import json_body
from .errors import Unauthorized, UnsupportedMediaType
from .guards import ANY_TOKEN, SESSION_COOKIE, STAFF, Caller, caller, csrf_token
from .openapi import operation
from .runtime import runtime

bp = Blueprint("auth", __name__, url_prefix="/api/v1")
LOGIN_LIMITS = "motcua.login_limits"
# A staff token, ended by signing out; a device's ends only when it is revoked.
STAFF_TOKEN = Caller(roles=STAFF, refused="a device token is ended by revoking the device (motcua device revoke)")


@bp.post("/auth/login")
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


@bp.record_once
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


@bp.post("/auth/logout")
@operation("end the staff token given; the counters its account holds are free from now", schemas.LoggedOut,
           caller=STAFF_TOKEN)
def logout():
    end_session(caller())
    return jsonify({"status": "logged_out"})


@bp.get("/auth/me")
@operation("who the token stands for: a kiosk or display checks with it, at start and every few minutes, that "
           "its token still holds (a revoked device answers 401 invalid_token)", schemas.Me, caller=ANY_TOKEN)
def whoami():
    who = caller()
    return jsonify({"kind": who.kind, "role": who.role, "branch": who.branch})


def end_session(who: Principal) -> None:
    """End the call's staff token; the counters its account holds are free from now (motcua.core.holders)."""
    runtime().accounts.logout(g.token)
    runtime().engine.release_held_by(who.actor)




@bp.post("/auth/session")
@operation("sign a staff page in: the session goes in an HttpOnly cookie; the login limits are those of "
           "POST /auth/login, shared", schemas.Session, body=schemas.Login,
           errors=(401, 403, 415, 429))
def sign_in():
    if not request.is_json:
        raise UnsupportedMediaType("sign in with an application/json body")
    token, _ = authenticate(json_body())
    expires = runtime().accounts.expires_at(token)
    answer = jsonify(_session(token))
    answer.set_cookie(SESSION_COOKIE, token, max_age=max(0, int(expires - runtime().engine.now())), path="/",
                      httponly=True, samesite="Strict", secure=_over_https())
    return answer


@bp.get("/auth/session")
@operation("the page's session: who, and the CSRF token its changes carry", schemas.Session,
           caller=Caller(roles=STAFF, session=True))
def current_session():
    return jsonify(_session(g.token))


@bp.delete("/auth/session")
@operation("sign the page out: the session's token ends, the cookie goes and the counters its account holds are "
           "free from now", schemas.LoggedOut, caller=STAFF_TOKEN)
def sign_out():
    end_session(caller())
    answer = jsonify({"status": "logged_out"})
    answer.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Strict", secure=_over_https())
    return answer


def _session(token: str) -> dict:
    who = runtime().accounts.principal(token)
    engine = runtime().engine
    return {"username": who.name, "role": who.role, "branch": who.branch, "department": who.department,
            "csrf": csrf_token(token),
            "expires_at": engine.local.iso(runtime().accounts.expires_at(token))}


def _over_https() -> bool:
    return request.is_secure or (runtime().config.server.public_url or "").startswith("https://")
