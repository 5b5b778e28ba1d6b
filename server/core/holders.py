"""Who holds each counter: one staff account at a time works a counter.

The rule, applied by the engine to every action at a counter (call next, call a chosen ticket,
recall, start, done, no-show, transfer of the ticket it holds, pause, resume):

- an account acting at a free counter takes it, in the same commit as its action;
- an action by any other account at a held counter is refused (409 `counter_taken`, naming the
  holder) until that account takes the counter over, which is explicit (`take_over`) and says
  whose it was;
- the holder lets it go by releasing it or by signing out, and every counter is free after the
  day's close; a pause keeps it (a break does not give the desk away).

Each take, take-over and release is an event of the counter (its ticket None) in the hash-chained
events table. An action with no actor (the simulator's) is bound by nothing.
"""
from __future__ import annotations

import dataclasses

from .model import DAY_CLOSED, Conflict, Counter, Event, staff_name

HELD, FREE = "held", "free"          # a counter event's from_status and to_status
TAKEN_FROM = "taken_from:"           # a take-over's note, then the actor it was taken from
RELEASED, SIGNED_OUT = "released", "signed_out"   # why a counter was let go (or DAY_CLOSED)


def claim(counter: Counter, actor: str | None, now: float) -> tuple[Counter, list[Event]]:
    """The counter as `actor` may act at it: already theirs (no change), free (theirs from now, with
    the event saying so), or another's (refused)."""
    if actor is None or counter.holder == actor:
        return counter, []
    if counter.holder is not None:
        raise taken(counter)
    return take(counter, actor, now)


def take(counter: Counter, actor: str, now: float, take_over: bool = False) -> tuple[Counter, list[Event]]:
    """The counter held by `actor` from now; another's only when taking it over."""
    if counter.holder == actor:
        return counter, []
    if counter.holder is not None and not take_over:
        raise taken(counter)
    held = dataclasses.replace(counter, holder=actor, held_since=now)
    note = f"{TAKEN_FROM}{counter.holder}" if counter.holder is not None else None
    return held, [Event(None, counter.branch, HELD if counter.holder else FREE, HELD, now, counter.id, actor, note)]


def release(counter: Counter, actor: str | None, now: float, why: str = RELEASED) -> tuple[Counter, list[Event]]:
    """The counter free from now (by its holder, or by the day's close with no actor); already free: no change."""
    if counter.holder is None:
        return counter, []
    if actor is not None and counter.holder != actor:
        raise taken(counter)
    free = dataclasses.replace(counter, holder=None, held_since=None)
    return free, [Event(None, counter.branch, HELD, FREE, now, counter.id, actor, why)]


def taken(counter: Counter) -> Conflict:
    """The refusal of an action at a counter another account holds, naming it."""
    holder = staff_name(counter.holder) or counter.holder
    return Conflict(f"counter {counter.id} is held by {holder}: take it over to work it", "counter_taken",
                    details={"branch": counter.branch, "counter": counter.id, "holder": holder})
