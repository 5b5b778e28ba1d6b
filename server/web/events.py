"""Socket.IO: subscriptions by branch and by ticket, and the broadcaster of live events.

Rooms are `branch:{id}` (wall displays) and `ticket:{id}` (phones). A `called` event goes out as
soon as the call is committed. `queue` pushes are coalesced: one branch room gets at most one
every `queue_push_interval_s`, always carrying the latest state, because each push costs the
server about 45 µs per connected display and a busy branch changes many times a second.
"""
from __future__ import annotations

import queue
import time

from flask_socketio import SocketIO, emit, join_room, leave_room

from ..core.model import CALLED, DONE, NO_SHOW, TRANSFERRED, Change, DomainError
from .views import branch_state, called_payload, ticket_view

socketio = SocketIO()

FINAL = (DONE, NO_SHOW, TRANSFERRED)


class Broadcaster:
    """Turns committed changes into Socket.IO events, in commit order, off the request's path."""

    def __init__(self, io: SocketIO, engine, interval_s: float) -> None:
        self.io = io
        self.engine = engine
        self.interval_s = interval_s
        self.pending: queue.Queue = queue.Queue()
        self.dirty: set[str] = set()
        self.last_push: dict[str, float] = {}
        self.watched: dict[str, set[str]] = {}  # branch -> ticket ids with a phone subscribed
        engine.listeners.append(self.on_change)

    def on_change(self, change: Change) -> None:
        """Runs inside the engine's lock, right after the commit: only notes what to send."""
        calls = []
        for event in change.events:
            if event.note and event.note.startswith("not_printed:"):
                ticket = self.engine.tickets[event.ticket]
                calls.append(("kiosk", {"branch": ticket.branch, "ticket": ticket.id, "number": ticket.number,
                                        "problem": event.note.split(":", 1)[1],
                                        "at": self.engine.local.iso(event.at)}))
            elif event.to_status == CALLED:
                ticket = self.engine.tickets[event.ticket]
                calls.append(("called", called_payload(self.engine, ticket, recall=event.from_status == CALLED)))
        branches = {t.branch for t in change.tickets} | {c.branch for c in change.counters}
        self.pending.put((calls, branches, [t.id for t in change.tickets]))

    def watch(self, branch: str, ticket_id: str) -> None:
        self.watched.setdefault(branch, set()).add(ticket_id)

    def run(self) -> None:
        while True:
            try:
                calls, branches, tickets = self.pending.get(timeout=self._sleep_s())
            except queue.Empty:
                calls, branches, tickets = [], set(), []
            for name, payload in calls:
                self.io.emit(name, payload, to=f"branch:{payload['branch']}")
                if name == "called":
                    self.io.emit(name, payload, to=f"ticket:{payload['ticket']}")
            for ticket_id in tickets:
                if ticket_id in self.watched.get(self.engine.tickets[ticket_id].branch, ()):
                    self._emit_ticket(ticket_id)
            self.dirty |= branches
            self._flush_due()

    def _sleep_s(self) -> float | None:
        if not self.dirty:
            return None
        now = time.monotonic()
        return max(0.0, min(self.last_push.get(b, 0.0) + self.interval_s - now for b in self.dirty))

    def _flush_due(self) -> None:
        now = time.monotonic()
        for branch in list(self.dirty):
            if now - self.last_push.get(branch, 0.0) >= self.interval_s:
                self.dirty.discard(branch)
                self.last_push[branch] = now
                self.io.emit("queue", branch_state(self.engine, branch), to=f"branch:{branch}")
                # Positions move whenever the queue does: phones watching a ticket hear it too.
                for ticket_id in list(self.watched.get(branch, ())):
                    self._emit_ticket(ticket_id)

    def _emit_ticket(self, ticket_id: str) -> None:
        view = ticket_view(self.engine, ticket_id)
        self.io.emit("ticket", view, to=f"ticket:{ticket_id}")
        if view["status"] in FINAL:
            self.watched.get(view["branch"], set()).discard(ticket_id)


def register(io: SocketIO, engine, broadcaster: Broadcaster) -> None:
    """Socket handlers: subscribe/unsubscribe, each answered with the current state."""

    @io.on("subscribe")
    def subscribe(data):
        try:
            room, event, state = _resolve(engine, data)
        except DomainError as error:
            emit("error", {"error": {"code": error.code, "message": error.message}})
            return {"ok": False, "error": error.code}
        join_room(room)
        if event == "ticket":
            broadcaster.watch(state["branch"], state["id"])
        emit(event, state)
        return {"ok": True}

    @io.on("unsubscribe")
    def unsubscribe(data):
        try:
            room, _, _ = _resolve(engine, data)
        except DomainError:
            return {"ok": False}
        leave_room(room)
        return {"ok": True}


def _resolve(engine, data) -> tuple[str, str, dict]:
    """(room, event name, current state) for a subscription request."""
    if not isinstance(data, dict):
        raise DomainError("subscribe with {'branch': id} or {'ticket': id}", "malformed")
    if isinstance(data.get("branch"), str):
        return f"branch:{data['branch']}", "queue", branch_state(engine, data["branch"])
    if isinstance(data.get("ticket"), str):
        return f"ticket:{data['ticket']}", "ticket", ticket_view(engine, data["ticket"])
    raise DomainError("subscribe with {'branch': id} or {'ticket': id}", "malformed")
