"""Staff sessions for the pages: the login token in an HttpOnly, SameSite=Strict cookie.

The cookie holds the same token `POST /auth/login` answers, so a session ends when the token does
(its expiry, logout, a changed password, a removed user). Pages never see the token; they read the
session's CSRF token from `GET /auth/session` and send it with every change (guards.bearer checks
it). Signing in takes JSON only: a cross-site form cannot send that, so nobody can be signed in to
somebody else's account from another site.
"""
from __future__ import annotations

from flask import g, jsonify, request

from . import schemas
from .openapi import operation
from .bodies import json_body
from .errors import Forbidden, Unauthorized, UnsupportedMediaType
from .guards import SESSION_COOKIE, bearer, csrf_token
from .runtime import runtime
from .routes import api, authenticate, end_session


@api.post("/auth/session")
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


@api.get("/auth/session")
@operation("the page's session: who, and the CSRF token its changes carry", schemas.Session, auth="required")
def current_session():
    who = bearer()
    if who.kind != "staff" or not request.cookies.get(SESSION_COOKIE):
        raise Unauthorized("no staff session: sign in at /login", "no_session")
    return jsonify(_session(g.token))


@api.delete("/auth/session")
@operation("sign the page out: the session's token ends, the cookie goes and the counters its account holds are "
           "free from now", schemas.LoggedOut, auth="required")
def sign_out():
    who = bearer()
    if who.kind != "staff":
        raise Forbidden("a device token is ended by revoking the device (motcua device revoke)")
    end_session(who)
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
