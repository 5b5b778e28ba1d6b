"""Staff accounts, login tokens and device tokens: who may act where."""
from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from motcua.core.model import Conflict, DomainError, Invalid, NotFound
from motcua.core.text import check_text
from motcua.store import Store, native_thread, under_gevent

ROLES = ("officer", "manager", "admin", "department")
DEVICE_KINDS = ("kiosk", "display")
# What each role may do, on top of the roles below it. A department's staff stand outside the
# branches' ladder: they work on their department's dossiers and on nothing of a branch.
STAFF_RANK = {"department": 0, "officer": 1, "manager": 2, "admin": 3}
COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt"


class AccountDisabled(DomainError):
    """The right password of a disabled account."""

    code = "account_disabled"


@dataclass(frozen=True)
class Principal:
    """Whoever a bearer token stands for: a staff member or a device."""

    kind: str  # "staff" or "device"
    name: str
    role: str  # officer | manager | admin | kiosk | display
    branch: str | None
    department: str | None = None  # the competent department a department user works for

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.name}"

    def is_staff(self, at_least: str = "officer") -> bool:
        return self.kind == "staff" and STAFF_RANK[self.role] >= STAFF_RANK[at_least]

    def covers(self, branch: str) -> bool:
        return self.role == "admin" or self.branch == branch


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Users, tokens and devices, kept in the server's database; token look-ups are cached."""

    def __init__(self, store: Store, clock, token_ttl_hours: float, departments=None) -> None:
        self.store = store
        # The department codes a department user may belong to (None: not checked).
        self.departments = departments
        self.clock = clock
        self.ttl_s = token_ttl_hours * 3600
        # digest -> (principal, expires at, revocation generation it was looked up under)
        self._cache: dict[str, tuple[Principal, float, int]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    # ---- staff ---------------------------------------------------------------------------

    def add_user(self, username: str, password: str, role: str, branch: str | None, replace: bool = True,
                 department: str | None = None) -> None:
        """Add a user, or replace one (unless not replace): a replaced user's tokens end with the old rights."""
        if role not in ROLES:
            raise Invalid(f"role must be one of {', '.join(ROLES)}", "bad_role")
        if role == "department":
            self._require_department(department)
            branch = None
        elif role != "admin" and not branch:
            raise Invalid(f"an {role} belongs to one branch: give --branch", "branch_needed")
        _check_username(username)
        _check_password(password)
        self._require_branch(branch)
        row = {"username": username, "password_hash": _hashing(generate_password_hash, password), "role": role,
               "branch": None if role == "admin" else branch,
               "department": department if role == "department" else None}

        def write(db) -> None:
            if not replace and list(db.query("select 1 from users where username = ?", [username])):
                raise Conflict(f"there is a user {username!r} already", "user_exists")
            db["users"].upsert(row, pk="username")
            _end_tokens(db, username)
        self.store.write(write)

    def users(self) -> list[dict]:
        """Every staff account: username, role, branch, disabled."""
        rows = self.store.query("select username, role, branch, department, disabled from users order by username")
        return [{**row, "disabled": bool(row["disabled"])} for row in rows]

    def update_user(self, username: str, role: str | None = None, branch: str | None = None,
                    disabled: bool | None = None, department: str | None = None) -> dict:
        """Change a user's role, branch, department or whether it is disabled; its tokens end (the old rights go
        with them)."""
        self._require_branch(branch)
        if department is not None and (not department or self.departments is not None
                                       and department not in self.departments):
            raise NotFound(f"unknown department {department!r}", "unknown_department")

        def write(db) -> dict:
            rows = list(db.query("select username, role, branch, department, disabled from users where username = ?",
                                 [username]))
            if not rows:
                raise NotFound(f"no user {username!r}", "unknown_user")
            user = {**rows[0], "disabled": bool(rows[0]["disabled"])}
            if role is not None:
                if role not in ROLES:
                    raise Invalid(f"role must be one of {', '.join(ROLES)}", "bad_role")
                user["role"] = role
            if branch is not None:
                user["branch"] = branch
            if disabled is not None:
                user["disabled"] = bool(disabled)
            if department is not None:
                user["department"] = department
            if user["role"] in ("admin", "department"):
                user["branch"] = None
            if user["role"] == "department":
                if not user["department"]:  # the state decides, as for a branch: 409
                    raise Conflict("a department user belongs to one department: give a department",
                                   "department_needed")
            # The state decides (an admin made officer has no branch yet): 409.
            elif user["role"] != "admin" and not user["branch"]:
                raise Conflict(f"an {user['role']} belongs to one branch: give a branch", "branch_needed")
            if rows[0]["role"] == "admin" and not rows[0]["disabled"] and (user["role"] != "admin" or user["disabled"]):
                _keep_an_admin(db, username)
            if user["role"] != "department":
                user["department"] = None
            db["users"].update(username, {**user, "disabled": int(user["disabled"])})
            _end_tokens(db, username)
            return user
        return self.store.write(write)

    def remove_user(self, username: str) -> None:
        """Remove a user and end its tokens."""
        def write(db) -> None:
            if list(db.query("select 1 from users where username = ? and role = 'admin' and not disabled", [username])):
                _keep_an_admin(db, username)
            if not db.execute("delete from users where username = ?", [username]).rowcount:
                raise NotFound(f"no user {username!r}", "unknown_user")
            _end_tokens(db, username)
        self.store.write(write)

    def set_password(self, username: str, password: str) -> None:
        """Give a user a new password and end its tokens."""
        _check_password(password)
        digest = _hashing(generate_password_hash, password)  # before the write: scrypt would hold the writer

        def write(db) -> None:
            if not db.execute("update users set password_hash = ? where username = ?",
                              [digest, username]).rowcount:
                raise NotFound(f"no user {username!r}", "unknown_user")
            _end_tokens(db, username)
        self.store.write(write)

    def login(self, username: str, password: str) -> tuple[str, dict] | None:
        rows = self.store.query("select * from users where username = ?", [username])
        if not _hashing(_password_matches, rows[0]["password_hash"] if rows else None, password):
            return None
        if rows[0]["disabled"]:
            # Told apart from a wrong password only to whoever knows the right one.
            raise AccountDisabled(f"the account {username!r} is disabled: ask an administrator")
        token = "stf_" + secrets.token_urlsafe(24)
        expires = self.clock.now() + self.ttl_s
        row = {"token_hash": _hash_token(token), "username": username, "expires_at": expires}
        self.store.write(lambda db: db["tokens"].insert(row))
        return token, rows[0]

    def expires_at(self, token: str) -> float | None:
        """When a live staff token ends (None for an unknown one): a session's cookie ends with it."""
        rows = self.store.query("select expires_at from tokens where token_hash = ?", [_hash_token(token)])
        return rows[0]["expires_at"] if rows else None

    def logout(self, token: str) -> bool:
        """End one staff token; False when it was not a live one."""
        def write(db) -> bool:
            ended = db.execute("delete from tokens where token_hash = ?", [_hash_token(token)]).rowcount > 0
            if ended:
                _revoked(db)
            return ended
        return self.store.write(write)

    # ---- devices -------------------------------------------------------------------------

    def add_device(self, kind: str, branch: str) -> str:
        """Register a device; returns its token, which is stored only as a hash."""
        return self.register_device(kind, branch)[1]

    def register_device(self, kind: str, branch: str) -> tuple[dict, str]:
        """Register a device; returns it (id, kind, branch, created_at) and its token."""
        if kind not in DEVICE_KINDS:
            raise Invalid(f"kind must be one of {', '.join(DEVICE_KINDS)}", "bad_kind")
        self._require_branch(branch)
        token = "dev_" + secrets.token_urlsafe(24)
        row = {"id": secrets.token_hex(4), "kind": kind, "branch": branch, "token_hash": _hash_token(token),
               "created_at": self.clock.now()}
        self.store.write(lambda db: db["devices"].insert(row))
        return {k: v for k, v in row.items() if k != "token_hash"}, token

    def devices(self) -> list[dict]:
        """Every registered device: id, kind, branch, created_at."""
        return self.store.query("select id, kind, branch, created_at from devices order by created_at, id")

    def revoke_device(self, device_id: str) -> dict:
        """Forget a device: its token stops at once. The device as it was (id, kind, branch)."""
        def write(db) -> dict:
            found = list(db.query("select id, kind, branch from devices where id = ?", [device_id]))
            if not found:
                raise NotFound(f"no device {device_id!r}", "unknown_device")
            db.execute("delete from devices where id = ?", [device_id])
            _revoked(db)
            return found[0]
        return self.store.write(write)

    # ---- tokens --------------------------------------------------------------------------

    def principal(self, token: str) -> Principal | None:
        """The principal a bearer token stands for, or None when unknown, expired or revoked."""
        return self.principals([token])[token]

    def principals(self, tokens: Iterable[str]) -> dict[str, Principal | None]:
        """principal() of each token, under one read of the revocation generation: a room of thousands of
        sockets is checked before a push with one query and, tokens unchanged, cache look-ups alone."""
        now = self.clock.now()
        # Read before the look-ups, so an entry is never filed under a generation newer than its row.
        generation = self.store.query("select generation from revocations where id = 1")[0]["generation"]
        digests = {token: _hash_token(token) for token in tokens}
        with self._lock:
            if generation != self._generation:
                self._cache.clear()
                self._generation = generation
            cached = {token: self._cache.get(digest) for token, digest in digests.items()}
        found: dict[str, Principal | None] = {}
        for token, entry in cached.items():
            if entry and entry[2] == generation and entry[1] > now:
                found[token] = entry[0]
                continue
            looked_up = self._lookup(digests[token], now)
            if looked_up:
                with self._lock:
                    self._cache[digests[token]] = (*looked_up, generation)
            found[token] = looked_up[0] if looked_up else None
        return found

    def _lookup(self, digest: str, now: float) -> tuple[Principal, float] | None:
        rows = self.store.query(
            "select u.username, u.role, u.branch, u.department, t.expires_at from tokens t join users u "
            "on u.username = t.username where t.token_hash = ? and t.expires_at > ? and not u.disabled",
            [digest, now])
        if rows:
            row = rows[0]
            return (Principal("staff", row["username"], row["role"], row["branch"], row["department"]),
                    row["expires_at"])
        rows = self.store.query("select * from devices where token_hash = ?", [digest])
        if rows:
            row = rows[0]
            return Principal("device", row["id"], row["kind"], row["branch"]), float("inf")
        return None

    def _require_department(self, department: str | None) -> None:
        if not department:
            raise Invalid("a department user belongs to one department: give --department", "department_needed")
        if self.departments is not None and department not in self.departments:
            raise NotFound(f"unknown department {department!r}", "unknown_department")

    def _require_branch(self, branch: str | None) -> None:
        if branch and not self.store.query("select 1 from branches where id = ?", [branch]):
            raise NotFound(f"unknown branch {branch!r}", "unknown_branch")


def _hashing(fn, *args):
    """fn(*args) off the gevent hub when serving: scrypt takes ≈ 100 ms there, and releases the GIL."""
    if under_gevent():
        return _hashing_thread().apply(fn, args)
    return fn(*args)


@cache
def _hashing_thread():
    # One thread, not the hub's pool of ten: a flood of guesses then takes one core at most, and
    # the hub keeps the other for everyone else (the queue of guesses is a throttle in itself).
    return native_thread()


def _password_matches(stored: str | None, password: str) -> bool:
    """password against the stored hash; with none (an unknown user), against a dummy, as slowly."""
    # The unknown user costs one hash too, so the time taken does not tell which usernames exist.
    return check_password_hash(stored or _dummy_hash(), password) and stored is not None


@cache
def _dummy_hash() -> str:
    """A hash of no one's password, made like every stored one."""
    return generate_password_hash(secrets.token_urlsafe(16))


def _check_username(username: str) -> None:
    if not username.strip():
        raise Invalid("a username is needed, not only spaces", "bad_username")
    check_text(username, "a username", "bad_username")


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise Invalid("a password of at least 8 characters is needed", "weak_password")
    if not password.strip():
        raise Invalid("a password of only spaces is guessed at once: choose another", "weak_password")
    if len(set(password)) == 1 or password.strip().casefold() in _common_passwords():
        raise Invalid("that password is among the first ones guessed: choose another", "weak_password")


@cache
def _common_passwords() -> frozenset[str]:
    """The bundled list, case folded."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def _keep_an_admin(db, username: str) -> None:
    """Refuse to take away the last enabled admin: nobody could administer the server any more."""
    others = list(db.query("select 1 from users where role = 'admin' and not disabled and username != ?", [username]))
    if not others:
        raise Conflict("this is the last enabled admin: make another first", "last_admin")


def _end_tokens(db, username: str) -> None:
    db.execute("delete from tokens where username = ?", [username])
    _revoked(db)


def _revoked(db) -> None:
    """Raise the revocation counter, in the caller's transaction: every cache drops what it holds."""
    db.execute("update revocations set generation = generation + 1 where id = 1")
