"""Who calls: the bearer token or a staff page's session cookie, and the checks of role and branch."""
from __future__ import annotations

import hashlib
import hmac

from flask import g, request

from motcua.accounts import Principal
from .errors import Forbidden, Unauthorized
from .runtime import runtime

SESSION_COOKIE = "motcua_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def bearer(required: bool = True) -> Principal | None:
    """Who calls: the Authorization header's token, or else a staff page's session cookie."""
    header = request.headers.get("Authorization", "")
    if not header:
        return session_principal(required)
    scheme, _, token = header.partition(" ")
    found = runtime().accounts.principal(token.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        raise Unauthorized("the token is unknown or has expired", "invalid_token")
    g.token = token.strip()  # logout ends this very token
    return found


def session_principal(required: bool) -> Principal | None:
    """The session cookie's principal. A browser sends the cookie by itself, so a change made
    with it must also carry the session's CSRF token, which only our own pages can read."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        if required:
            raise Unauthorized("this call needs Authorization: Bearer TOKEN or a staff session")
        return None
    found = runtime().accounts.principal(token)
    if found is None:
        if required:
            raise Unauthorized("the session has ended; sign in again", "session_ended")
        return None
    if request.method not in SAFE_METHODS and not hmac.compare_digest(
            request.headers.get(CSRF_HEADER, ""), csrf_token(token)):
        if required:
            raise Forbidden(f"a change made from a staff page needs its {CSRF_HEADER} header", "csrf")
        return None  # optional credentials that do not hold are no credentials: the call goes on as anyone's
    g.token = token
    return found


def csrf_token(session_token: str) -> str:
    """The session's CSRF token: derived from the session's own secret, so nothing more is stored."""
    return hmac.new(session_token.encode(), b"motcua csrf", hashlib.sha256).hexdigest()


def require_staff(who: Principal, branch: str, role: str = "officer") -> None:
    if not who.is_staff(role):
        raise Forbidden(f"this call is for a {role} or above")
    if not who.covers(branch):
        raise Forbidden(f"your account does not cover branch {branch}", "other_branch")
