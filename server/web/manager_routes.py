"""The manager's calls under /api/v1: change a counter, the staffing advice and applying (and undoing) it,
today's figures of a branch, the city side by side."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from flask import Blueprint, jsonify
from pydantic import Field

from motcua.core import dashboard
from motcua.core.clock import hhmm_minutes
from motcua.core.model import Counter
from . import schemas
from .advice import recommendations, staffing_rules
from .openapi import operation
from .bodies import json_body
from .guards import ADMIN, at_branch, at_counter, caller, staff
from .runtime import runtime
from .views import round_min

bp = Blueprint("manager", __name__, url_prefix="/api/v1")
MANAGER_OF_BRANCH = staff("manager", at_branch)

ServiceIds = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]


# ---- schemas ---------------------------------------------------------------------------------

class MoveOrder(schemas.Body):
    counter: str
    from_services: list[str] = Field(description="what the counter serves now; another value refuses the lot (409)")
    to_services: ServiceIds = Field(description="what it is to serve")


class ApplyAdvice(schemas.Body):
    moves: list[MoveOrder] | None = Field(
        default=None, max_length=100,
        description="the moves to make, as the advice listed them (or, to undo, from `after` back to `before`); "
                    "left out: the advice's moves as of now")


class CounterServices(schemas.Answer):
    id: str
    services: list[str]
    open: bool


class MoveMade(schemas.Answer):
    counter: str
    from_services: list[str]
    to_services: list[str]


class Applied(schemas.Answer):
    branch: str
    moves: list[MoveMade]
    before: list[CounterServices] = Field(description="the moved counters as they were: undo moves them back")
    after: list[CounterServices]


class ScoreCount(schemas.Answer):
    score: int = Field(ge=1, le=4)
    count: int


class ReasonCount(schemas.Answer):
    reason: str
    count: int


class Comment(schemas.Answer):
    number: str
    score: int = Field(ge=1, le=4)
    comment: str
    at: datetime


class RatingsToday(schemas.Answer):
    scores: list[ScoreCount]
    reasons: list[ReasonCount] = Field(description="most given first")
    comments: list[Comment] = Field(description="newest first, the latest 20 with words")


class TodayTotals(schemas.Answer):
    tickets: int
    served: int
    waiting: int
    no_shows: int
    called: int
    mean_wait_min: float | None
    p90_wait_min: float | None
    within_target_pct: float | None
    ratings: int
    mean_rating: float | None


class Today(schemas.Answer):
    """A branch's day so far by local hour: each list has one value per entry of `hours`."""

    branch: str
    day: str
    target_wait_min: float
    hours: list[str] = Field(description="HH:00, local")
    arrivals: list[int] = Field(description="tickets that joined the branch's queues in the hour")
    called: list[int] = Field(description="citizens first called in the hour")
    wait_mean_min: list[float | None] = Field(description="mean wait, issue to first call (as the reports count it), "
                                              "of those first called in the hour")
    wait_p90_min: list[float | None]
    within_target_pct: list[float | None]
    no_shows: list[int] = Field(description="tickets still no-show, by the hour of the call they missed")
    totals: TodayTotals
    ratings: RatingsToday


class CityBranch(schemas.Answer):
    branch: str
    name: schemas.Names
    counters: int
    counters_open: int
    serving: int = Field(description="counters holding a ticket now")
    waiting: int
    load: float | None = Field(description="citizens waiting per open counter")
    longest_wait_min: int | None = Field(description="the longest estimated wait of a ticket taken now, over services")
    tickets: int = Field(description="today")
    served: int
    mean_wait_min: float | None
    within_target_pct: float | None


class City(schemas.Answer):
    at: datetime
    target_wait_min: float
    branches: list[CityBranch]


# ---- routes ----------------------------------------------------------------------------------

@bp.post("/branches/<b>/counters/<c>")
@operation("change a counter's services or open it / close it (manager)", schemas.CounterChanged,
           body=schemas.CounterChange, caller=staff("manager", at_counter), conflict=True)
def update_counter(b, c):
    who = caller()
    engine = runtime().engine
    body = json_body()
    counter = engine.update_counter(b, c, body.services, body.open, actor=who.actor)
    serving = engine.serving_at(b, c)
    return jsonify({"id": counter.id, "branch": b, "services": list(counter.services), "open": counter.open,
                    "serving": serving.id if serving else None})


@bp.get("/branches/<b>/recommendations")
@operation("counters each service needs to meet the wait target over the coming hours, and the moves that get "
           "there (manager)", schemas.Recommendations, caller=MANAGER_OF_BRANCH)
def staffing_recommendations(b):
    return jsonify(recommendations(runtime(), b))


@bp.post("/branches/<b>/recommendations/apply")
@operation("make the staffing advice's moves at once, all or none (manager); the answer's before and after "
           "let the page undo them", Applied, body=ApplyAdvice, caller=MANAGER_OF_BRANCH,
           conflict=True)
def apply_recommendations(b):
    who = caller()
    rt = runtime()
    body = json_body()
    if body.moves is None:
        moves = [(m["counter"], m["from_services"], m["to_services"]) for m in recommendations(rt, b)["moves"]]
    else:
        moves = [(m.counter, m.from_services, m.to_services) for m in body.moves]
    before, after = rt.engine.move_counters(b, moves, actor=who.actor)
    return jsonify({"branch": b,
                    "moves": [{"counter": old.id, "from_services": list(old.services),
                               "to_services": list(new.services)} for old, new in zip(before, after)],
                    "before": [_counter(c) for c in before], "after": [_counter(c) for c in after]})


@bp.get("/branches/<b>/today")
@operation("today's figures of a branch by hour: waits, arrivals, share within target, no-shows, ratings "
           "(manager)", Today, caller=MANAGER_OF_BRANCH)
def today(b):
    rt = runtime()
    engine = rt.engine
    branch = engine.branch(b)
    day = engine.local.day(engine.now())
    record = engine.day_record(b, day)
    figures = dashboard.day_figures(record.tickets, record.ratings, engine.local.minutes_of_day,
                                    hhmm_minutes(branch.open), hhmm_minutes(branch.close),
                                    staffing_rules(rt.config).target_wait_min)
    for comment in figures["ratings"]["comments"]:
        comment["at"] = engine.local.iso(comment["at"])
    return jsonify({"branch": b, "day": day, **figures})


@bp.get("/city")
@operation("every branch side by side: load, waits, share within target today (admin)", City, caller=ADMIN)
def city():
    rt = runtime()
    engine = rt.engine
    target = staffing_rules(rt.config).target_wait_min
    now = engine.now()
    rows = [{"branch": row.branch.id, "name": {"vi": row.branch.name_vi, "en": row.branch.name_en},
             "counters": row.counters, "counters_open": row.counters_open, "serving": row.serving,
             "waiting": row.waiting, "load": row.load, "longest_wait_min": round_min(row.longest_wait_min),
             "tickets": row.tickets, "served": row.served,
             "mean_wait_min": row.mean_wait_min, "within_target_pct": row.within_target_pct}
            for row in engine.city_rows(target)]
    return jsonify({"at": engine.local.iso(now), "target_wait_min": target, "branches": rows})


def _counter(counter: Counter) -> dict:
    return {"id": counter.id, "services": list(counter.services), "open": counter.open}
