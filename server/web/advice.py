"""The staffing advice as the manager's screen reads it: needs per service, moves in words."""
from __future__ import annotations

from datetime import date, timedelta

from motcua.config import build
from motcua.core.staffing import Advice, HourlyRates, Move, StaffingRules, forecast_rates
from motcua.core.clock import hhmm_minutes
from motcua.i18n import LANGUAGES, text


def staffing_rules(config) -> StaffingRules:
    return build(StaffingRules, config.staffing)


def walk_in_forecast(rt, branch_id: str, day: date) -> HourlyRates:
    """The walk-ins expected at a branch on a day, per hour from its opening, as the staffing forecast has
    them from past same weekdays (and today's pace, for today): what appointments' slots are left from."""
    engine, rules = rt.engine, staffing_rules(rt.config)
    now = engine.now()
    today = date.fromisoformat(engine.local.day(now))
    since = (day - timedelta(weeks=rules.history_weeks)).isoformat()
    arrivals = [(date.fromisoformat(d), service, engine.local.minutes_of_day(at))
                for d, service, at in rt.store.arrivals(branch_id, since, walk_ins=True)]
    branch = engine.branch(branch_id)
    open_min, close_min = hhmm_minutes(branch.open), hhmm_minutes(branch.close)
    now_min = engine.local.minutes_of_day(now) if day == today else open_min
    return forecast_rates(arrivals, day, now_min, open_min, close_min, engine.local.epoch(day, branch.open),
                          rules.history_weeks)


def recommendations(rt, branch_id: str) -> dict:
    """Advice for the coming hours at a branch, from today's arrivals and past same weekdays."""
    rules = staffing_rules(rt.config)
    advice = rt.engine.advice(branch_id, _arrivals_forecast(rt, branch_id, rules), rules, _home(rt, branch_id))
    return _view(rt.engine, advice, rules)


def take_on_short(rt, branch_id: str, counter_id: str, actor: str) -> Move | None:
    """An officer's Next found nobody: the counter takes on what the same advice has it take on, if the
    settings let it (QueueEngine.take_on_short). The move made, or None."""
    rules = staffing_rules(rt.config)
    if not rules.idle_takes_on or not rt.engine.waiting_beside(branch_id, counter_id):
        return None   # nobody to help: the forecast is not read
    return rt.engine.take_on_short(branch_id, counter_id, _arrivals_forecast(rt, branch_id, rules), rules,
                                   _home(rt, branch_id), actor=actor)


def _arrivals_forecast(rt, branch_id: str, rules: StaffingRules) -> HourlyRates:
    """Today's arrivals at a branch by hour, from today's pace and past same weekdays."""
    engine = rt.engine
    now = engine.now()
    today = date.fromisoformat(engine.local.day(now))
    since = (today - timedelta(weeks=rules.history_weeks)).isoformat()
    arrivals = [(date.fromisoformat(day), service, engine.local.minutes_of_day(at))
                for day, service, at in rt.store.arrivals(branch_id, since)]
    branch = engine.branch(branch_id)
    open_min, close_min = hhmm_minutes(branch.open), hhmm_minutes(branch.close)
    return forecast_rates(arrivals, today, engine.local.minutes_of_day(now), open_min, close_min,
                          engine.local.epoch(today, branch.open), rules.history_weeks)


def _home(rt, branch_id: str) -> dict[str, tuple[str, ...]]:
    return {c: services for (b, c), services in rt.home.items() if b == branch_id}


def _view(engine, advice: Advice, rules: StaffingRules) -> dict:
    return {
        "branch": advice.branch,
        "at": engine.local.iso(advice.at),
        "target_wait_min": rules.target_wait_min,
        "service_level": rules.service_level,
        "horizon_min": rules.horizon_min,
        "services": [{"service": n.service, "name": _names(engine, [n.service]),
                      "forecast_per_hour": n.arrivals_per_hour, "mean_service_min": n.mean_service_min,
                      "waiting": n.waiting, "load": n.load, "needed": n.needed, "have": n.have,
                      "shortfall": round(max(0.0, n.shortfall), 2), "short": n.short} for n in advice.needs],
        "moves": [_move_view(engine, advice.branch, m) for m in advice.moves],
    }


def _move_view(engine, branch_id: str, move: Move) -> dict:
    at = engine.local.iso(move.at)[11:16]
    taking_on = move.reason in move.to_services
    reason_key = "staffing.take_on" if taking_on else "staffing.hand_back"
    return {
        "counter": move.counter,
        "from_services": list(move.from_services),
        "to_services": list(move.to_services),
        "from": at,
        "text": {lang: text(lang, "staffing.move", counter=move.counter,
                            to=_joined(engine, lang, move.to_services), time=at,
                            **{"from": _joined(engine, lang, move.from_services)}) for lang in LANGUAGES},
        "reason": {lang: text(lang, reason_key, service=_joined(engine, lang, [move.reason])) for lang in LANGUAGES},
        "apply": {"method": "POST", "path": f"/api/v1/branches/{branch_id}/counters/{move.counter}",
                  "body": {"services": list(move.to_services)}},
    }


def _names(engine, services) -> dict[str, str]:
    return {lang: _joined(engine, lang, services) for lang in LANGUAGES}


def _joined(engine, lang: str, services) -> str:
    names = (getattr(engine.service(s), f"name_{lang}") for s in services)
    return text(lang, "list.separator").join(names)
