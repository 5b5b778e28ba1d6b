"""What a manager's dashboard shows of a day: waits, arrivals, no-shows and ratings by hour, and a
branch's load beside the others'. Pure: it reads tickets, event times and ratings it is handed.

The figures are those of the branch's reports (motcua.core.reports) for the day so far: a wait runs
from the ticket's issue at this branch (for a citizen sent from another branch, from when they were
expected or checked in) to its first call there, and counts in the hour of that call, the moment it
became known; a no-show is a ticket still `no_show` (one put back and served counts as served),
counted in the hour of the call they did not answer.
"""
from __future__ import annotations

import math
import statistics
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .model import DONE, NO_SHOW, WAITING, Rating, Ticket
from .stats import percentile

SCORES = (1, 2, 3, 4)
COMMENTS = 20   # the latest comments a day's figures carry: what a manager reads on one screen


@dataclass(frozen=True)
class Waits:
    """Waits of the tickets called so far: how many, their mean and 90th percentile, and the share
    within the target (percent); None where nobody was called."""

    called: int
    mean_min: float | None
    p90_min: float | None
    within_target_pct: float | None


def wait_min(ticket: Ticket) -> float | None:
    """Minutes from issue here (or from when a redirected citizen was expected) to first call; None if never called."""
    if ticket.first_called_at is None:
        return None
    since = ticket.created_at if ticket.due_at is None else max(ticket.created_at, ticket.due_at)
    return max(0.0, (ticket.first_called_at - since) / 60)


def waits(minutes: Sequence[float], target_min: float) -> Waits:
    if not minutes:
        return Waits(0, None, None, None)
    ordered = sorted(minutes)
    p90 = percentile(ordered, 0.9)
    within = sum(1 for m in ordered if m <= target_min)
    return Waits(len(ordered), round(statistics.fmean(ordered), 1), round(p90, 1),
                 round(100 * within / len(ordered), 1))


def hour_slots(open_min: float, close_min: float, minutes: Iterable[float]) -> range:
    """Local hours (0–23) from the opening hour to the closing one, widened to cover any minute given."""
    seen = list(minutes)
    first = min([open_min, *seen]) // 60
    last = max([close_min - 1, *seen]) // 60
    return range(int(first), int(last) + 1)


def day_figures(tickets: Sequence[Ticket], ratings: Iterable[Rating], minute_of: Callable[[float], float],
                open_min: float, close_min: float, target_min: float, comments: int = COMMENTS) -> dict:
    """A branch's day by local hour and in all: arrivals, waits against the target, no-shows, ratings.

    tickets: the branch's tickets of the day; ratings: any, those of other tickets are ignored;
    minute_of: epoch seconds to local minutes after midnight.
    """
    by_id = {t.id: t for t in tickets}
    called = [t for t in tickets if t.first_called_at is not None]
    absent = [t for t in tickets if t.status == NO_SHOW]
    slots = hour_slots(open_min, close_min,
                       [minute_of(t.created_at) for t in tickets] + [minute_of(t.first_called_at) for t in called]
                       + [minute_of(t.called_at) for t in absent])
    arrivals = Tally(int(minute_of(t.created_at) // 60) for t in tickets)
    no_shows = Tally(int(minute_of(t.called_at) // 60) for t in absent)
    waits_by_hour: dict[int, list[float]] = {h: [] for h in slots}
    for ticket in called:
        waits_by_hour[int(minute_of(ticket.first_called_at) // 60)].append(wait_min(ticket))
    hourly = [waits(waits_by_hour[h], target_min) for h in slots]
    rated = sorted((r for r in ratings if r.ticket in by_id), key=lambda r: r.at)
    whole = waits([wait_min(t) for t in called], target_min)
    return {
        "target_wait_min": target_min,
        "hours": [f"{h:02d}:00" for h in slots],
        "arrivals": [arrivals[h] for h in slots],
        "called": [w.called for w in hourly],
        "wait_mean_min": [w.mean_min for w in hourly],
        "wait_p90_min": [w.p90_min for w in hourly],
        "within_target_pct": [w.within_target_pct for w in hourly],
        "no_shows": [no_shows[h] for h in slots],
        "totals": {
            "tickets": len(tickets),
            "served": sum(1 for t in tickets if t.status == DONE),
            "waiting": sum(1 for t in tickets if t.status == WAITING),
            "no_shows": len(absent),
            "called": whole.called,
            "mean_wait_min": whole.mean_min,
            "p90_wait_min": whole.p90_min,
            "within_target_pct": whole.within_target_pct,
            "ratings": len(rated),
            "mean_rating": round(statistics.fmean(r.score for r in rated), 2) if rated else None,
        },
        "ratings": {
            "scores": [{"score": s, "count": sum(1 for r in rated if r.score == s)} for s in SCORES],
            "reasons": [{"reason": reason, "count": n}
                        for reason, n in sorted(Tally(x for r in rated for x in r.reasons).items(),
                                                key=lambda item: (-item[1], item[0]))],
            # Newest first: a manager reads what was just said.
            "comments": [{"number": by_id[r.ticket].number, "score": r.score, "comment": r.comment, "at": r.at}
                         for r in reversed(rated) if r.comment.strip()][:comments],
        },
    }


def branch_load(waiting: int, counters_open: int) -> float | None:
    """Citizens waiting per open counter; None when no counter is open."""
    return round(waiting / counters_open, 2) if counters_open else None


def city_figures(counters: Sequence, waiting: int, tickets: Sequence[Ticket], target_min: float) -> dict:
    """A branch's figures in the city view that only its changes move: its counters (CounterLine:
    open, holding a ticket), the citizens waiting, and its tickets of the day with their waits."""
    open_ = sum(1 for line in counters if line.counter.open)
    called = waits([m for m in map(wait_min, tickets) if m is not None], target_min)
    return {"counters": len(counters), "counters_open": open_,
            "serving": sum(1 for line in counters if line.ticket is not None),
            "waiting": waiting, "load": branch_load(waiting, open_),
            "tickets": len(tickets), "served": sum(1 for t in tickets if t.status == DONE),
            "mean_wait_min": called.mean_min, "within_target_pct": called.within_target_pct}


def longest(estimates: Iterable[float | None]) -> float | None:
    """The longest of the estimates that exist (a service nobody serves has none)."""
    known = [e for e in estimates if e is not None and math.isfinite(e)]
    return max(known) if known else None
