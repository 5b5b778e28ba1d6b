"""Who calls: the bearer token or a staff page's session cookie, the checks of role and branch, and the
Caller each route's @operation names, which both enforces them and declares them in the OpenAPI document."""
from __future__ import annotations

import functools
import hashlib
import hmac
import inspect
from dataclasses import dataclass
from typing import Any, Callable

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
    require_covers(who, branch)


def require_covers(who: Principal, branch: str) -> None:
    """403 other_branch unless the caller is of the branch (an admin is of every one)."""
    if not who.covers(branch):
        raise Forbidden(f"your account does not cover branch {branch}", "other_branch")


def require_kiosk_of(who: Principal, branch: str) -> None:
    if not (who.kind == "device" and who.role == "kiosk" and who.branch == branch) and not who.is_staff("officer"):
        raise Forbidden(f"only a kiosk of {branch} (or its staff) may do this")
    if who.kind == "staff":
        require_staff(who, branch)


def require_admin(who: Principal, _=None) -> None:
    if not who.is_staff("admin"):
        raise Forbidden("this call is for an admin")
    g.admin = who   # what the admin changes goes to the log (admin_routes)


# ---- one route's caller: enforced, and declared in the OpenAPI document -----------------------

STAFF = ("department", "officer", "manager", "admin")   # lowest to highest
ROLES = ("kiosk", "display", *STAFF)


@dataclass(frozen=True)
class Caller:
    """Who may call a route, given to its @operation: the route then checks it (401, then the place looked up,
    404, then 403) before its handler runs, and the document declares it (`security`, `x-caller`)."""

    roles: tuple[str, ...] = ROLES   # the roles let in: any other is refused (403), whatever admits says
    of: str | None = None            # whose place the caller must be of: "branch", "dossier", "department"
    place: Callable | None = None    # the place, from the path's arguments: looked up (404) before any 403
    admits: Callable[[Principal, Any], None] | None = None   # refuses (403, in its words) a role or place
    refused: str = "this call is not for your role"   # the words of a role not let in, where admits says none
    refused_code: str = "forbidden"
    # Instead of a token: the setting naming the client addresses let in, and its check (403 to any other).
    network: str | None = None
    in_network: Callable[[str | None], bool] | None = None
    optional: bool = False           # anyone may call; a token given is checked (401) all the same
    session: bool = False            # a staff page's session cookie, not a bearer token (401 no_session)

    @property
    def auth(self) -> str:
        """The document's word for its token: "none", "optional" or "required"."""
        return "none" if self.network else "optional" if self.optional else "required"

    @property
    def refusals(self) -> set[int]:
        """The statuses it may refuse with: 401 for a token given that does not hold, 403 for a caller not let in."""
        return {403} if self.network else {401} if self.optional else {401, 403}

    def declared(self) -> dict | None:
        """The document's `x-caller`: the roles let in, whose place, a session, or the addresses let in; None when
        anyone may call."""
        if self.network:
            return {"addresses": self.network}
        if self.optional:
            return None
        return {"roles": list(self.roles), **({"of": self.of} if self.of else {}),
                **({"session": True} if self.session else {})}

    def guard(self, view):
        """The view, called once its caller is let in (caller() and place() then tell the handler whom and what)."""
        # The place reads the path's arguments it names (a document's path also names its sha256).
        wanted = inspect.signature(self.place).parameters if self.place is not None else ()

        @functools.wraps(view)
        def guarded(**args):
            if self.network:
                if not self.in_network(request.remote_addr):
                    raise Forbidden(self.refused, self.refused_code)
                return view(**args)
            who = bearer(required=not self.optional)
            if self.session and not (who.kind == "staff" and request.cookies.get(SESSION_COOKIE)):
                raise Unauthorized("no staff session: sign in at /login", "no_session")
            found = self.place(**{k: args[k] for k in wanted}) if self.place is not None else None
            if who is not None and not self.optional:
                if self.admits is not None:
                    self.admits(who, found)
                if who.role not in self.roles:   # what the document declares holds, whatever admits let through
                    raise Forbidden(self.refused)
            g.caller, g.place = who, found
            return view(**args)
        return guarded


def caller() -> Principal | None:
    """Who calls this request, as its route's Caller let in (None: an optional token not given)."""
    return g.caller


def place():
    """What the route's Caller looked up from the path (a branch's id, a dossier), before letting the caller in."""
    return g.place


def ranks(least: str) -> tuple[str, ...]:
    """The staff roles from least up: officer -> officer, manager, admin."""
    return STAFF[STAFF.index(least):]


# ---- the places a route's path names ----------------------------------------------------------

def at_branch(b: str) -> str:
    runtime().engine.branch(b)
    return b


def at_counter(b: str, c: str) -> str:
    runtime().engine.counter(b, c)
    return b


def at_ticket(ticket_id: str) -> str:
    return runtime().engine.ticket(ticket_id).branch


def at_numbered(b: str, number: str) -> str:
    runtime().engine.ticket_numbered(b, number)
    return b


def at_service(s: str) -> None:
    runtime().engine.service(s)


# ---- the callers --------------------------------------------------------------------------------

ANY_TOKEN = Caller()
ANYONE_TOKEN_CHECKED = Caller(optional=True)
ADMIN = Caller(roles=("admin",), admits=require_admin)


def staff(least: str, at: Callable) -> Caller:
    """Staff of the place's branch from the least role up (an admin anywhere)."""
    return Caller(roles=ranks(least), of="branch", place=at, admits=lambda who, b: require_staff(who, b, least))


def kiosk(at: Callable) -> Caller:
    """A kiosk of the place's branch, or its staff from officers up (an admin anywhere)."""
    return Caller(roles=("kiosk", *ranks("officer")), of="branch", place=at, admits=require_kiosk_of)


def admin(at: Callable) -> Caller:
    """An admin, once the place the path names is found."""
    return Caller(roles=("admin",), place=at, admits=require_admin)
