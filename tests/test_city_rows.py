"""The city view from each branch's published row: the same figures as the whole recomputation over
every branch's state and tickets, worked out again only for the branches that changed."""
from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from motcua.core import dashboard, scenario
from motcua.core.model import DONE
from motcua.core.simulator import CityDay

from conftest import ROOT

HA_NOI = ROOT / "server" / "data" / "scenarios" / "ha-noi.json"
TARGET = 15.0


def recomputed(engine, target: float) -> list[dict]:
    """The city view as it was worked out before rows were kept: every branch's state and all its
    tickets of the day, read afresh."""
    day = engine.local.day(engine.now())
    rows = []
    for branch_id in engine.branch_ids():
        state, tickets = engine.branch_state(branch_id), engine.tickets_of(branch_id, day)
        open_ = [line for line in state.counters if line.counter.open]
        waiting = sum(line.waiting for line in state.services)
        waits = dashboard.waits([m for m in map(dashboard.wait_min, tickets) if m is not None], target)
        rows.append({
            "branch": state.branch, "counters": len(state.counters), "counters_open": len(open_),
            "serving": sum(1 for line in state.counters if line.ticket is not None),
            "waiting": waiting, "load": dashboard.branch_load(waiting, len(open_)),
            "longest_wait_min": dashboard.longest(line.estimate_min for line in state.services),
            "tickets": len(tickets), "served": sum(1 for t in tickets if t.status == DONE),
            "mean_wait_min": waits.mean_min, "within_target_pct": waits.within_target_pct,
        })
    return rows


def published(engine, target: float) -> list[dict]:
    return [dataclasses.asdict(row) | {"branch": row.branch} for row in engine.city_rows(target)]


@pytest.fixture
def counted(monkeypatch):
    """How many branches' day figures the city view has worked out."""
    calls = []
    real = dashboard.city_figures

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(dashboard, "city_figures", counting)
    return calls


def test_the_city_rows_are_the_whole_recomputation_through_a_busy_day(counted):
    day = CityDay(scenario.load(HA_NOI), "balance+realloc")
    engine = day.engine
    branches = len(engine.branch_ids())
    seen = []

    def compare(minute):
        counted.clear()
        rows = published(engine, TARGET)
        assert rows == recomputed(engine, TARGET), minute
        assert len(counted) <= branches
        seen.append((minute, sum(r["tickets"] for r in rows), sum(r["waiting"] for r in rows)))
        # Read again with nothing changed: nothing is worked out again, and the figures hold.
        counted.clear()
        assert published(engine, TARGET) == rows
        assert counted == []

    for minute in range(30, 571, 45):
        day.at(minute + 0.5, compare)
    day.run()
    assert len(seen) == 13
    assert max(tickets for _, tickets, _ in seen) > 1000 and max(waiting for _, _, waiting in seen) > 50


def test_after_a_change_at_one_branch_only_its_row_is_worked_out_again(counted):
    day = CityDay(scenario.load(HA_NOI), "none")
    engine = day.engine
    checked = []

    def change_one(minute):
        published(engine, TARGET)
        branch = engine.branch_ids()[3]
        counted.clear()
        ticket = engine.issue(branch, engine.branch(branch).services[0])
        rows = published(engine, TARGET)
        assert len(counted) == 1
        assert rows == recomputed(engine, TARGET)
        assert next(r for r in rows if r["branch"].id == branch)["tickets"] == len(
            engine.tickets_of(branch, ticket.day))
        # Another target is another figure: every row again.
        counted.clear()
        assert published(engine, 20.0) == recomputed(engine, 20.0)
        assert len(counted) == len(engine.branch_ids())
        checked.append(minute)
        raise Enough   # the simulated citizens know nothing of the ticket taken here

    day.at(300.5, change_one)   # midday: a city's tickets of the morning in memory
    with pytest.raises(Enough):
        day.run()
    assert checked == [300.5]


class Enough(Exception):
    pass


# Its own process: gevent's monkey-patching comes first, as in `motcua serve`.
UNDER_GEVENT = """
from gevent import monkey; monkey.patch_all()
import sys
import gevent
from motcua.core import dashboard, scenario
from motcua.core.simulator import CityDay

day = CityDay(scenario.load(sys.argv[1]), "none")
engine = day.engine
worked = []
real = dashboard.city_figures
dashboard.city_figures = lambda *a, **k: worked.append(1) or real(*a, **k)
ran_after = []
gevent.spawn(lambda: ran_after.append(len(worked)))
engine.city_rows(15.0)
print(len(engine.branch_ids()), ran_after)
"""


def test_a_city_view_lets_other_requests_in_between_its_branches(tmp_path):
    """Under gevent a request waiting while the city is read runs after the first branch, not after all of them."""
    done = subprocess.run([sys.executable, "-c", UNDER_GEVENT, str(HA_NOI)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    branches, ran_after = done.stdout.split(maxsplit=1)
    assert int(branches) == 8
    assert ran_after.strip() == "[1]"
