"""Telling a waiting citizen by phone that their turn is near.

The rule, written down (README, "Decisions written down"): people ahead of a ticket are the tickets
before it in its service's queue, in calling order (what its phone page shows: position − 1, citizens on
their way counted). When a call at the branch leaves a ticket with a phone (a remote ticket) exactly
`ahead` people ahead of it, one more than before the call, the citizen is told once: the message is
written in that call's transaction (the outbox, motcua.notify), under one key per ticket, so a ticket
pushed back and reaching `ahead` again is not told twice. Only calls tell: a ticket that joins with
`ahead` or fewer before it sees so on its page, and is not told.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .model import Ticket


@dataclass(frozen=True)
class NearTurn:
    """When and how a ticket's phone is told its turn is near."""

    ahead: int                                # [notify] near_ahead: told with this many people ahead
    message: Callable[[Ticket, int], dict]    # the outbox row telling the ticket (motcua.notify.Notifier.near_turn)


def told_at(called_index: int, ahead: int) -> int | None:
    """Where in its queue (0 = first) the ticket to tell stands before a call takes the ticket at called_index:
    the one behind it that is left with exactly `ahead` before it; None when the call moves no one there."""
    return ahead + 1 if called_index <= ahead else None
