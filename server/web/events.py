"""Socket.IO: subscriptions by branch and by ticket, and the broadcaster of live events.

Rooms are `branch:{id}` (wall displays) and `ticket:{id}` (phones). Anyone may join a branch's
room, so what it hears names tickets by number only; a ticket's room also hears its id. The staff
room, `staff:{id}`, hears ids and citizens' names: it is the broadcaster's list of sockets and their
tokens, not a Socket.IO room, and every event for it goes through `Broadcaster.to_staff`, which checks
each member's session first.

`queue` pushes are coalesced: one branch room gets at most one every `queue_push_interval_s`,
always carrying the latest state, because each push costs the server about 45 µs per connected
display and a busy branch changes many times a second.

A call must never wait behind a queue push. Calls (and a kiosk's `kiosk` alert) go out from a
task of their own, woken by the commit, in commit order; a queue push to a big room goes out a
slice of sockets at a time and, before each slice, lets every call committed so far go first.
Both slice big rooms and let the hub turn between slices, because a commit waits for the writer
thread and comes back only when the hub does: an emit to 2,000 sockets in one piece (≈ 90 ms)
would hold back the next call's commit by that much.
"""
from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections import deque

import redis
from flask import current_app, request
from flask_socketio import SocketIO, emit, join_room, leave_room
from socketio import PubSubManager

from motcua.core.engine import NOT_PRINTED
from motcua.core.model import CALLED, DONE, EXPIRED, NO_SHOW, TRANSFERRED, Change, DomainError
from .guards import SESSION_COOKIE
from .views import branch_state, called_payload, kiosk_problem, own_called_payload, staff_state, ticket_view

socketio = SocketIO()
log = logging.getLogger("motcua")

FINAL = (DONE, NO_SHOW, TRANSFERRED, EXPIRED)
# Sockets per slice of a queue push: ≈ 4.5 ms of one core at 45 µs each, about the longest a
# request committing a call waits for the hub during a push.
CHUNK = 100
EXTENSION = "motcua.broadcaster"


STAFF_CHANNEL = "{channel}:staff"  # the writer's staff events, for the fan-out processes (motcua.fanout)
# The tickets phones on fan-out processes watch, a set per branch; a ticket leaves it when it ends.
WATCHED = "motcua:watched:{branch}"


class StaffRoom:
    """The staff rooms of one process: each branch's staff sockets and their tokens, every event checked
    against each member's session before it goes."""

    def __init__(self, io: SocketIO, accounts) -> None:
        self.io = io
        self.accounts = accounts  # checks the staff room's tokens again before each push
        self.staff: dict[str, dict[str, str]] = {}  # branch -> sid of a staff page -> its token
        self._lock = threading.Lock()  # socket handlers change the members from other threads

    def to_staff(self, name: str, payload: dict, branch: str) -> None:
        """An event to the branch's staff room, the only way one reaches it. Each member's token is checked
        first (one read, then the accounts' cache): one signed out, disabled, moved to another branch or
        expired since subscribing hears `error` session_ended instead, and leaves the room."""
        members = self._staff_members(branch)
        if not members:
            return
        principals = self.accounts.principals({token for _, token in members})
        kept = []
        for sid, token in members:
            who = principals[token]
            if who is not None and who.is_staff() and who.covers(branch):
                kept.append(sid)
            elif self._leave_staff_room(sid, branch):  # told once, whichever push found it first
                self.io.emit("error", {"error": {"code": "session_ended", "message": "the session has ended"}},
                             to=sid)
        if kept:
            self.io.emit(name, payload, to=kept)

    def join_staff(self, sid: str, branch: str, token: str) -> None:
        with self._lock:
            self.staff.setdefault(branch, {})[sid] = token

    def leave_staff(self, sid: str) -> None:
        with self._lock:
            for members in self.staff.values():
                members.pop(sid, None)

    def _leave_staff_room(self, sid: str, branch: str) -> bool:
        """Whether the socket was in the branch's staff room, which it has left."""
        with self._lock:
            return self.staff.get(branch, {}).pop(sid, None) is not None

    def staff_sockets(self) -> int:
        """Sockets in a staff room of this process."""
        with self._lock:
            return len({sid for members in self.staff.values() for sid in members})

    def tokens(self, branch: str) -> list[str]:
        """The tokens of the branch's staff room's members in this process."""
        return [token for _, token in self._staff_members(branch)]

    def _staff_members(self, branch: str) -> list[tuple[str, str]]:
        with self._lock:
            return list(self.staff.get(branch, {}).items())


class Broadcaster(StaffRoom):
    """Turns committed changes into Socket.IO events, in commit order; all but calls off the request's path."""

    def __init__(self, io: SocketIO, engine, interval_s: float, chunk: int = CHUNK, accounts=None,
                 bus=None, channel: str = "", offers=None) -> None:
        super().__init__(io, accounts)
        self.offers = offers   # what a waiting ticket is offered on its phone page (Journeys.offer)
        self.staff_channel = STAFF_CHANNEL.format(channel=channel)  # the city's (throttle.queue_channel)
        self.engine = engine
        # A Redis client when fan-out processes hold sockets too (motcua.fanout): every staff event is
        # published on STAFF_CHANNEL, where each checks its own members' sessions before sending it, and
        # the tickets their phones watch are listed under WATCHED.
        self.bus = bus
        self.interval_s = interval_s
        self.chunk = chunk
        self.pending: deque = deque()  # (branches, (branch, ticket id) pairs) per committed change
        self.wake = threading.Event()
        self.dirty: set[str] = set()
        self.last_push: dict[str, float] = {}
        self.watched: dict[str, dict[str, set[str]]] = {}  # branch -> ticket id -> sids of its phones
        self.subscriptions: dict[str, set[tuple[str, str]]] = {}  # sid -> (branch, ticket id)
        self.offered: dict[str, str | None] = {}   # watched ticket id -> the branch its phones were last told it is offered
        # Per committed change, in commit order, when it was committed (monotonic) and its calls and
        # kiosk alerts: (event, the branch room's payload, the ticket room's payload or None).
        self.calls: deque = deque()
        self.call_wake = threading.Event()
        self._call_task = False  # whether run() has started the task that sends calls
        # /health's probes: how many were asked, and the last each task saw on its turn (sends, calls).
        self.probes_asked = 0
        self.probes_seen = [0, 0]
        self.lag_observers: list = []  # (event, seconds from its commit to its emit) of each call sent (/metrics)
        self._sending_calls = False
        engine.listeners.append(self.on_change)

    def on_change(self, change: Change) -> None:
        """Runs under the changed branches' locks and the commit lock, right after the commit, so it
        takes no other branch's lock: sends the calls, notes the rest."""
        calls = []
        for event in change.events:
            if event.note and event.note.startswith(NOT_PRINTED):
                number = self.engine.ticket(event.ticket).number
                calls.append(("kiosk", None, kiosk_problem(self.engine, event, number)))
            elif event.to_status == CALLED:
                ticket = self.engine.ticket(event.ticket)
                recall = event.from_status == CALLED
                calls.append(("called", called_payload(self.engine, ticket, recall),
                              own_called_payload(self.engine, ticket, recall)))
        if calls:
            self.calls.append((time.monotonic(), calls))
            self.call_wake.set()
        branches = {t.branch for t in change.tickets} | {c.branch for c in change.counters + change.removed_counters}
        branches |= {b.id for b in change.branches}
        if change.services:  # a service renamed or re-lettered: every branch offering it shows it
            changed = {s.id for s in change.services}
            branches |= {b.id for b in self.engine.all_branches() if changed & set(b.services)}
        self.pending.append((branches, [(t.branch, t.id) for t in change.tickets]))
        self.wake.set()

    # ---- subscriptions -----------------------------------------------------------------------

    def watch(self, branch: str, ticket_id: str, sid: str, view: dict | None = None) -> None:
        """A phone's socket follows the ticket; `view`, what it was answered with (so its offer is known)."""
        with self._lock:
            self.watched.setdefault(branch, {}).setdefault(ticket_id, set()).add(sid)
            self.subscriptions.setdefault(sid, set()).add((branch, ticket_id))
        if view is not None:
            self._told(ticket_id, view)

    def unwatch(self, branch: str, ticket_id: str, sid: str) -> None:
        with self._lock:
            self._unwatch(branch, ticket_id, sid)

    def forget(self, sid: str) -> None:
        """A socket left: its phones' subscriptions go with it."""
        with self._lock:
            for branch, ticket_id in list(self.subscriptions.get(sid, ())):
                self._unwatch(branch, ticket_id, sid)
            self.subscriptions.pop(sid, None)

    def _unwatch(self, branch: str, ticket_id: str, sid: str) -> None:
        self.subscriptions.get(sid, set()).discard((branch, ticket_id))
        sids = self.watched.get(branch, {}).get(ticket_id)
        if sids is not None:
            sids.discard(sid)
            if not sids:
                del self.watched[branch][ticket_id]

    def _drop(self, branch: str, ticket_id: str) -> None:
        self.offered.pop(ticket_id, None)
        with self._lock:
            for sid in self.watched.get(branch, {}).pop(ticket_id, ()):
                self.subscriptions.get(sid, set()).discard((branch, ticket_id))
        self._shared(lambda bus: bus.srem(WATCHED.format(branch=branch), ticket_id))

    def _watched(self, branch: str) -> list[str]:
        with self._lock:
            here = set(self.watched.get(branch, ()))
        elsewhere = self._shared(lambda bus: bus.smembers(WATCHED.format(branch=branch))) or ()
        return list(here | {ticket_id.decode() for ticket_id in elsewhere})

    def _is_watched(self, branch: str, ticket_id: str) -> bool:
        with self._lock:
            if ticket_id in self.watched.get(branch, ()):
                return True
        return bool(self._shared(lambda bus: bus.sismember(WATCHED.format(branch=branch), ticket_id)))

    def _shared(self, fn):
        """fn(the Redis shared with the fan-out processes), or None without one or while it is lost."""
        if self.bus is None:
            return None
        try:
            return fn(self.bus)
        except redis.RedisError:  # lost: phones here still hear their tickets; those on a fan-out resubscribe
            log.warning("cannot reach the Redis shared with the fan-out processes")
            return None

    # ---- sending -----------------------------------------------------------------------------

    def run(self) -> None:
        """The background task (started by serve()): send as changes come and pushes fall due."""
        self._call_task = True
        self.io.start_background_task(self._run_calls)
        self.io.start_background_task(self._close_days)
        while True:
            self.wake.wait(self._sleep_s())
            self.wake.clear()
            self.probes_seen[0] = self.probes_asked
            try:
                self.step()
            except Exception:  # one failed send must not end every display's live updates
                log.exception("broadcast failed")

    def _run_calls(self) -> None:
        """The task that sends calls: woken by each commit, nothing else ever runs ahead of it."""
        while True:
            self.call_wake.wait()
            self.call_wake.clear()
            self.probes_seen[1] = self.probes_asked
            try:
                self.send_calls()
            except Exception:  # the change is committed: one failed send must not stop the next
                log.exception("sending a call failed")

    def stuck(self, timeout_s: float) -> list[str] | None:
        """The tasks that did not turn within timeout_s when woken ("sends", "calls"); None when run() has not
        started them (the caller sends with drain())."""
        if not self._call_task:
            return None
        self.probes_asked += 1
        asked = self.probes_asked
        self.wake.set()
        self.call_wake.set()
        deadline = time.monotonic() + timeout_s
        while min(self.probes_seen) < asked and time.monotonic() < deadline:
            self.io.sleep(0.005)
        return [task for task, seen in zip(("sends", "calls"), self.probes_seen) if seen < asked]

    def _close_days(self) -> None:
        """The task that closes each day at local midnight, so that a branch nobody touches after
        midnight shows today's (empty) queue, and the journal says how yesterday's tickets ended."""
        while True:
            try:
                self.close_day()
            except Exception:  # the first operation of the day closes it instead (and says why it cannot)
                log.exception("closing the day failed")
            # Never less than a moment: a clock a hair before midnight must not spin the loop.
            self.io.sleep(max(self.engine.seconds_to_next_day(), 0.5))

    def close_day(self) -> None:
        """Close a day that has ended; every branch's displays hear today's state, even a quiet one's."""
        if self.engine.close_day():
            self.dirty |= set(self.engine.branch_ids())
            self.wake.set()

    def send_calls(self) -> None:
        """Every call committed so far, to its branch room (a slice at a time), its ticket room and the
        branch's staff; a kiosk's alert to the staff alone."""
        self._sending_calls = True
        try:
            while self.calls:
                committed, calls = self.calls.popleft()
                for name, public, own in calls:
                    if public is not None:
                        self._emit_sliced(name, public, f"branch:{public['branch']}")
                    if "ticket" in own:
                        self.io.emit(name, own, to=f"ticket:{own['ticket']}")
                    self.to_staff(name, own, own["branch"])
                    for observe in self.lag_observers:
                        observe(name, time.monotonic() - committed)
        finally:
            self._sending_calls = False

    def _yield_to_calls(self) -> None:
        """Before a slice of a queue push: every call committed so far goes first."""
        if not self._call_task:
            self.send_calls()
        while self.calls or self._sending_calls:
            self.io.sleep(0.001)

    def drain(self) -> None:
        """Send every pending change's events now, and every changed branch's state whatever the interval."""
        while self.calls or self.pending or self.dirty:
            self.send_calls()
            self.step(force=True)

    def step(self, force: bool = False) -> None:
        self._yield_to_calls()
        self._send_pending()
        now = time.monotonic()
        for branch in list(self.dirty):
            if force or now >= self._due(branch):
                self._push_queue(branch, now)

    def _send_pending(self) -> None:
        """Phones' updates of every change committed so far, in commit order."""
        while self.pending:
            branches, tickets = self.pending.popleft()
            for branch, ticket_id in tickets:
                if self._is_watched(branch, ticket_id):
                    self._emit_ticket(ticket_id)
            self.dirty |= branches

    def _push_queue(self, branch: str, now: float) -> None:
        self.dirty.discard(branch)
        self.last_push[branch] = now
        room = f"branch:{branch}"
        state = branch_state(self.engine, branch)
        self._yield_to_calls()
        self._emit_sliced("queue", state, room, between=self._between_slices)
        self._push_staff(branch)
        # Positions move whenever the queue does: phones watching a ticket hear it too.
        for ticket_id in self._watched(branch):
            self._emit_ticket(ticket_id)

    def _push_staff(self, branch: str) -> None:
        """The branch's staff state to its staff room."""
        if self._staff_members(branch) or self.bus is not None:
            self.to_staff("staff_queue", staff_state(self.engine, branch), branch)

    def to_staff(self, name: str, payload: dict, branch: str) -> None:
        """An event to the branch's staff room here and, with fan-out processes, to theirs through Redis."""
        event = json.dumps({"event": name, "payload": payload, "branch": branch})
        self._shared(lambda bus: bus.publish(self.staff_channel, event))
        super().to_staff(name, payload, branch)

    def backlog(self) -> dict[str, int]:
        """What is committed but not yet sent: calls, changes for phones, branches whose queue push is due."""
        return {"calls": len(self.calls), "changes": len(self.pending), "branches": len(self.dirty)}

    def _between_slices(self) -> None:
        self._send_pending()
        self._yield_to_calls()

    def _emit_sliced(self, name: str, payload: dict, room: str, between=None) -> None:
        """Emit to a room; to a big one a slice of sockets at a time, letting the hub turn between
        slices (the sockets write, a commit waiting on the writer thread comes back)."""
        members = self._members(room)
        if members is None:
            self.io.emit(name, payload, to=room)
            return
        for start in range(0, len(members), self.chunk):
            if start:
                self.io.sleep(0)
                if between is not None:
                    between()
            self.io.emit(name, payload, to=members[start:start + self.chunk])

    def _members(self, room: str) -> list[str] | None:
        """The room's sockets in this process, or None when it is small or shared through a message queue."""
        manager = self.io.server.manager
        if isinstance(manager, PubSubManager):  # other processes' sockets are not listed here
            return None
        members = [sid for sid, _ in manager.get_participants("/", room)]
        return members if len(members) > self.chunk else None

    def _emit_ticket(self, ticket_id: str) -> None:
        view = ticket_view(self.engine, ticket_id, self.offers)
        self.io.emit("ticket", view, to=f"ticket:{ticket_id}")
        if view["status"] in FINAL:
            self._drop(view["branch"], ticket_id)
        else:
            self._told(ticket_id, view)

    def _told(self, ticket_id: str, view: dict) -> None:
        self.offered[ticket_id] = (view.get("offer") or {}).get("branch")

    def refresh_offers(self) -> int:
        """Tell the phones of each watched ticket of an offer that arose (or went) at another branch: a change at
        the ticket's own branch tells them at once, a change elsewhere only here (the server's sweep, [remote]
        sweep_s). A ticket's view goes only where its offer differs from the one its phones were last told; a
        moment is given to the calls and sockets between tickets. How many views went."""
        if self.offers is None:
            return 0
        sent, seen = 0, set()
        for branch in self.engine.branch_ids():
            for ticket_id in self._watched(branch):
                seen.add(ticket_id)
                try:
                    offer = self.offers(ticket_id)
                except DomainError:   # gone since (a day closed): nobody to tell
                    continue
                if (offer.branch if offer else None) != self.offered.get(ticket_id):
                    self._emit_ticket(ticket_id)
                    sent += 1
                self.io.sleep(0)
        for ticket_id in set(self.offered) - seen:   # no phone follows it any more
            self.offered.pop(ticket_id, None)
        return sent

    def _due(self, branch: str) -> float:
        """When the branch's next queue push may go: at once if it never had one."""
        last = self.last_push.get(branch)
        return float("-inf") if last is None else last + self.interval_s

    def _sleep_s(self) -> float | None:
        if not self.dirty:
            return None
        return max(0.0, min(self._due(b) for b in self.dirty) - time.monotonic())


def broadcaster() -> Broadcaster:
    return current_app.extensions[EXTENSION]


# ---- socket handlers, registered once on the module's socketio ---------------------------------

SUBSCRIBE_USAGE = "subscribe with {'branch': id} or {'ticket': id}"
STAFF_USAGE = "subscribe_staff with {'branch': id}"


def one_object(usage: str):
    """A client event carries exactly one object: none, null, another type or one argument too many is
    answered `malformed`, as any refusal, never with a traceback."""
    def wrap(handler):
        @functools.wraps(handler)
        def checked(*args):
            if len(args) != 1 or not isinstance(args[0], dict):
                return _refuse(DomainError(usage, "malformed"))
            return handler(args[0])
        return checked
    return wrap


@socketio.on("subscribe")
@one_object(SUBSCRIBE_USAGE)
def subscribe(data: dict):
    """Join a branch's or a ticket's room; answered with its current state at once."""
    engine = current_app.extensions["motcua"].engine
    try:
        kind, key = _subject(data)
        state = branch_state(engine, key) if kind == "branch" else ticket_view(engine, key, broadcaster().offers)
    except DomainError as error:
        return _refuse(error)
    join_room(f"{kind}:{key}")
    if kind == "ticket":
        broadcaster().watch(state["branch"], key, request.sid, state)
    # To the one socket, here: through a message queue it would go to every fan-out process too.
    emit("ticket" if kind == "ticket" else "queue", state, ignore_queue=True)
    return {"ok": True}


@socketio.on("unsubscribe")
@one_object(SUBSCRIBE_USAGE)
def unsubscribe(data: dict):
    try:
        kind, key = leave_subject(data)
    except DomainError as error:
        return _refuse(error)
    if kind == "ticket":
        try:
            ticket = current_app.extensions["motcua"].engine.ticket(key)
        except DomainError:  # no such ticket: nothing was watched
            return {"ok": True}
        broadcaster().unwatch(ticket.branch, key, request.sid)
    return {"ok": True}


@socketio.on("subscribe_staff")
@one_object(STAFF_USAGE)
def subscribe_staff(data: dict):
    """Join a branch's staff room: a staff page's session cookie (sent with the handshake), or
    `{"token": T}` in the payload for other programs, must name an officer or above of the branch."""
    runtime = current_app.extensions["motcua"]
    try:
        branch = data.get("branch")
        if not isinstance(branch, str):
            raise DomainError(STAFF_USAGE, "malformed")
        runtime.engine.branch(branch)
        token = staff_token(data)
        check_staff(runtime.accounts, token, branch)
        state = staff_state(runtime.engine, branch)
    except DomainError as error:
        return _refuse(error)
    broadcaster().join_staff(request.sid, branch, token)
    emit("staff_queue", state, ignore_queue=True)
    return {"ok": True}


def staff_token(data: dict) -> str | None:
    """The token a staff subscription brings: `{"token": T}`, else the page's session cookie."""
    return data.get("token") if isinstance(data.get("token"), str) else request.cookies.get(SESSION_COOKIE)


def check_staff(accounts, token: str | None, branch: str) -> None:
    """Raise DomainError unless token is a session or token of an officer or above covering branch."""
    who = accounts.principal(token) if token else None
    if who is None:
        raise DomainError("sign in first: the staff room needs a session or a token", "unauthorized")
    if not (who.is_staff() and who.covers(branch)):
        raise DomainError(f"your account does not cover branch {branch}", "forbidden")


def refusal(error: DomainError) -> dict:
    """The `error` event's payload for a refused client event."""
    return {"error": {"code": error.code, "message": error.message}}


def _refuse(error: DomainError) -> dict:
    """A refused client event: the `error` event to the socket, and the acknowledgement saying why."""
    emit("error", refusal(error))
    return {"ok": False, "error": error.code}


@socketio.on("disconnect")
def disconnect(reason=None):
    broadcaster().forget(request.sid)
    broadcaster().leave_staff(request.sid)


def leave_subject(data) -> tuple[str, str]:
    """Leave the room an unsubscribe names; its ("branch", id) or ("ticket", id)."""
    kind, key = _subject(data)
    leave_room(f"{kind}:{key}")
    return kind, key


def _subject(data) -> tuple[str, str]:
    """("branch", id) or ("ticket", id) from a subscription request."""
    if isinstance(data, dict):
        for kind in ("branch", "ticket"):
            if isinstance(data.get(kind), str):
                return kind, data[kind]
    raise DomainError(SUBSCRIBE_USAGE, "malformed")
