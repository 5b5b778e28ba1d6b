"""A branch's figures over a range of local days, per service, per counter and per officer.

What is counted, for a branch `b` and local days `from`..`to` (Asia/Ho_Chi_Minh, both included):

- The tickets are those issued at `b` on those days (a ticket's `day` is the local day it was
  issued at `b`): at a kiosk, by staff, or by a transfer or redirect from another branch (there a
  new ticket). A ticket moved to another branch counts at both: here as `transferred`, there as a
  ticket of its own. A transfer to another service within the branch keeps the ticket: it counts
  once, under the service it ended in.
- `served`: the tickets that reached `done`.
- `no_shows`: the tickets that ended as no-shows: still `no_show`, or expired from `no_show` by
  the day's close. A no-show put back and then served counts as served, not as a no-show.
- `expired`: the other tickets the day's close found still open (waiting, called or serving).
  Today's tickets still open count in `tickets` only, until they end.
- wait: from the moment the ticket was issued at `b` to its first call there. A citizen sent from
  another branch can be called only once expected (`due_at`, or when they checked in), so their
  wait counts from then; it is never below zero. A ticket never called has no wait; a transfer
  within the branch does not start a new one (the citizen's wait is to their first call).
  `mean_wait_min` and `p90_wait_min` (`statistics.quantiles`, inclusive, as motcua.core.stats)
  are over the tickets called; `within_target_pct` is the share of those whose wait was at most
  the target (the staffing setting `target_wait_min`, 15).
- service time: from the start of service (or, if never started, the last call) to `done`, for
  the tickets served; after a transfer within the branch, only the service that ended it.
- `ratings`, `mean_rating`: the citizens' ratings of the tickets (1-4), whenever given.
- By counter and by officer, a ticket counts where it was last called (the call that led to its
  end: served, no-show, transferred), with every figure above; the officer is the staff account
  that last acted on it there, from that call on (recall, start, done, no-show, transfer): for a
  ticket served, who marked it done, whoever held the counter when it was called. Tickets never
  called belong to no counter and no officer.
Means, percentiles and shares are None where there is nothing to measure.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from .model import ACTIVE_AT_COUNTER, CALLED, DONE, EXPIRED, NO_SHOW, TRANSFERRED, staff_name
from .stats import percentile

# The published columns, in order: the ten, then what else a manager asks about.
COLUMNS = ("tickets", "served", "no_shows", "mean_wait_min", "p90_wait_min", "within_target_pct",
           "mean_service_min", "ratings", "mean_rating", "expired", "transferred")
# Longest range one report covers: a year of a busy branch is read in a second or two.
MAX_DAYS = 366
DIGITS = 2


@dataclass(frozen=True)
class TicketFacts:
    """What one ticket adds to the figures of the groups it belongs to."""

    service: str
    counter: str | None
    officer: str | None
    served: bool
    no_show: bool
    expired: bool
    transferred: bool
    wait_min: float | None
    service_min: float | None
    score: int | None


class BadRange(ValueError):
    """A date range a report cannot cover; `code` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def day_range(start: str | None, end: str | None) -> tuple[str, str]:
    """Check two local dates written YYYY-MM-DD: in order and at most MAX_DAYS apart, both included."""
    days = []
    for text in (start, end):
        # fromisoformat alone takes "20260105" and week dates too: the interface promises one form.
        if not isinstance(text, str) or len(text) != 10 or text[4] != "-" or text[7] != "-":
            raise BadRange("bad_date")
        try:
            days.append(date.fromisoformat(text))
        except ValueError:
            raise BadRange("bad_date") from None
    first, last = days
    if last < first:
        raise BadRange("reversed_range")
    if (last - first).days + 1 > MAX_DAYS:
        raise BadRange("range_too_long")
    return first.isoformat(), last.isoformat()


def ticket_facts(tickets: Iterable[dict], events: Iterable[dict], ratings: Iterable[dict]) -> list[TicketFacts]:
    """Each ticket's facts, from its row, its events (in order; calls, expiries and what was done at a
    counter are enough) and its rating."""
    last_call: dict[str, dict] = {}
    officer: dict[str, str | None] = {}
    expired_from: dict[str, str | None] = {}
    for event in events:
        if event["to_status"] == CALLED:
            last_call[event["ticket"]] = event
            officer[event["ticket"]] = staff_name(event["actor"])
        elif event["from_status"] in ACTIVE_AT_COUNTER and staff_name(event["actor"]):
            officer[event["ticket"]] = staff_name(event["actor"])  # who served (or let go) the citizen called
        if event["to_status"] == EXPIRED:
            expired_from[event["ticket"]] = event["from_status"]
    scores = {r["ticket"]: r["score"] for r in ratings}
    facts = []
    for t in tickets:
        call = last_call.get(t["id"], {})
        status = t["status"]
        no_show = status == NO_SHOW or (status == EXPIRED and expired_from.get(t["id"]) == NO_SHOW)
        facts.append(TicketFacts(
            service=t["service"], counter=call.get("counter"),
            officer=officer.get(t["id"]) if call else None,
            served=status == DONE, no_show=no_show, expired=status == EXPIRED and not no_show,
            transferred=status == TRANSFERRED, wait_min=_wait_min(t),
            service_min=_service_min(t) if status == DONE else None, score=scores.get(t["id"])))
    return facts


def figures(facts: list[TicketFacts], target_min: float) -> dict:
    """The COLUMNS of one group of tickets."""
    waits = [f.wait_min for f in facts if f.wait_min is not None]
    services = [f.service_min for f in facts if f.service_min is not None]
    scores = [f.score for f in facts if f.score is not None]
    return {
        "tickets": len(facts),
        "served": sum(f.served for f in facts),
        "no_shows": sum(f.no_show for f in facts),
        "mean_wait_min": _round(statistics.fmean(waits)) if waits else None,
        "p90_wait_min": _round(percentile(waits, 0.9)) if waits else None,
        "within_target_pct": _round(100 * sum(w <= target_min for w in waits) / len(waits)) if waits else None,
        "mean_service_min": _round(statistics.fmean(services)) if services else None,
        "ratings": len(scores),
        "mean_rating": _round(statistics.fmean(scores)) if scores else None,
        "expired": sum(f.expired for f in facts),
        "transferred": sum(f.transferred for f in facts),
    }


def branch_report(facts: list[TicketFacts], services: Iterable[str], target_min: float) -> dict:
    """Figures per service (each of `services`, then any other met), per counter, per officer, and in all."""
    by = {"service": defaultdict(list), "counter": defaultdict(list), "officer": defaultdict(list)}
    for service in services:
        by["service"][service]  # a service with no ticket still gets its row of zeros
    for f in facts:
        by["service"][f.service].append(f)
        if f.counter is not None:
            by["counter"][f.counter].append(f)
        if f.officer is not None:
            by["officer"][f.officer].append(f)

    def rows(kind: str, order) -> list[dict]:
        return [{kind: key, **figures(group, target_min)} for key, group in order(by[kind].items())]

    return {
        "services": rows("service", list),
        "counters": rows("counter", lambda items: sorted(items, key=lambda kv: _natural(kv[0]))),
        "officers": rows("officer", sorted),
        "total": figures(facts, target_min),
    }


def _wait_min(t: dict) -> float | None:
    if t["first_called_at"] is None:
        return None
    since = t["created_at"] if t["due_at"] is None else max(t["created_at"], t["due_at"])
    return max(0.0, t["first_called_at"] - since) / 60


def _service_min(t: dict) -> float | None:
    began = t["started_at"] or t["called_at"]
    return None if began is None or t["ended_at"] is None else (t["ended_at"] - began) / 60


def _round(value: float) -> float:
    return round(value, DIGITS)


def _natural(key: str) -> tuple:
    """Counters "2" before "10": numbers by their value, then any other name."""
    return (0, int(key), "") if key.isdigit() else (1, 0, key)
