"""`motcua simulate`: the published contract, on the scenarios shipped with the project."""
from __future__ import annotations

import csv
import dataclasses
import json
import subprocess
import sys
import time

import pytest

from motcua.core import scenario
from motcua.core.balancing import distance_km
from motcua.core import simulator
from motcua.core.model import APPOINTMENT
from motcua.core.simulator import TRACE_COLUMNS, CityDay, range_held_pct

from conftest import HOAN_KIEM

KEYS = {"citizens", "served", "mean_wait_min", "p90_wait_min", "within_target_pct", "prediction_mae_min",
        "baseline_mae_min", "redirected"}


def test_cli_prints_the_summary_as_its_last_line_and_writes_the_trace(tmp_path):
    trace = tmp_path / "trace.csv"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "motcua.cli", "simulate", str(HOAN_KIEM), "--policy", "balance",
                           "--seed", "3", "--trace", str(trace)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 10
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(summary) == KEYS | {"branches", "by_channel", "redirected_figures"}
    assert set(summary["branches"]) == {"hk-01", "hk-02", "hk-03", "hn-hq"}
    for figures in summary["branches"].values():
        assert set(figures) == KEYS
    assert sum(b["citizens"] for b in summary["branches"].values()) == summary["citizens"]
    rows = list(csv.DictReader(trace.open(encoding="utf-8")))
    assert tuple(rows[0]) == TRACE_COLUMNS and len(rows) == summary["citizens"]
    assert sum(int(r["redirected"]) for r in rows) == summary["redirected"] > 0


def test_a_day_is_deterministic_and_fast():
    data = scenario.load(HOAN_KIEM)
    started = time.monotonic()
    first = CityDay(data, "balance", seed=11).run().summary()
    assert time.monotonic() - started < 2.0
    assert CityDay(data, "balance", seed=11).run().summary() == first
    assert CityDay(data, "balance", seed=12).run().summary() != first


def test_rules_of_the_day_hold_for_every_citizen():
    data = scenario.load(HOAN_KIEM)
    day = CityDay(data, "balance", seed=5).run()
    branches = {b["id"]: b for b in data["branches"]}
    close = (17 * 60) - (7 * 60 + 30)
    counters = {(b["id"], c["id"]): set(c["services"]) for b in data["branches"] for c in b["counters"]}
    hq_shifts = [(0, 240), (330, 570)]  # hn-hq: 07:30-11:30 and 13:00-17:00, in minutes from open
    for citizen in day.citizens:
        assert 0 <= citizen.arrived_min < close
        assert citizen.started_min is not None and citizen.started_min >= citizen.arrived_min + citizen.travel_min
        assert citizen.service in counters[(citizen.branch, citizen.counter)]
        if citizen.branch == "hn-hq":
            assert any(a <= citizen.started_min < b for a, b in hq_shifts) or citizen.started_min >= close
        if citizen.redirected:
            assert not citizen.priority
            home, there = branches[citizen.origin], branches[citizen.branch]
            km = distance_km(home["lat"], home["lon"], there["lat"], there["lon"])
            assert km <= 5 and citizen.travel_min == pytest.approx(km * 1.3 / 18 * 60)
    # A counter serves one citizen at a time.
    by_counter = {}
    for citizen in sorted(day.citizens, key=lambda c: c.started_min):
        key = (citizen.branch, citizen.counter)
        assert citizen.started_min >= by_counter.get(key, 0) - 1e-9
        by_counter[key] = citizen.ended_min


def test_a_redirected_citizen_goes_the_way_a_kiosk_sends_them():
    day = CityDay(scenario.load(HOAN_KIEM), "balance", seed=5).run()
    served = {id(citizen): ticket_id for ticket_id, citizen in day.by_ticket.items()}
    redirected = [c for c in day.citizens if c.redirected]
    assert redirected
    for citizen in redirected:
        ticket = day.engine.ticket(served[id(citizen)])
        origin = day.engine.ticket(ticket.origin)  # the ticket taken at the kiosk where they arrived
        assert (origin.branch, origin.status, origin.transferred_to) == (citizen.origin, "transferred", ticket.id)
        assert (ticket.branch, ticket.issued_at) == (citizen.branch, origin.issued_at)
        assert ticket.due_at == pytest.approx(day.t0 + (citizen.arrived_min + citizen.travel_min) * 60)
        # What the citizen was told at the kiosk, the trip included.
        assert citizen.predicted_wait_min == ticket.estimate_min >= citizen.travel_min - 1e-6


def test_balancing_cuts_the_mean_wait_and_our_prediction_beats_the_baseline():
    data = scenario.load(HOAN_KIEM)
    none = CityDay(data, "none", seed=2).run().summary()
    balance = CityDay(data, "balance", seed=2).run().summary()
    assert balance["mean_wait_min"] < 0.7 * none["mean_wait_min"]
    assert none["prediction_mae_min"] < 0.9 * none["baseline_mae_min"]
    assert balance["prediction_mae_min"] < 0.9 * balance["baseline_mae_min"]


def test_unknown_policy_is_refused():
    done = subprocess.run([sys.executable, "-m", "motcua.cli", "simulate", str(HOAN_KIEM), "--policy", "magic"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_reallocation_moves_counters_and_every_citizen_meets_a_counter_that_serves_them():
    data = scenario.load(HOAN_KIEM)
    day = CityDay(data, "balance+realloc", seed=4).run()
    assert day.moves, "a hot day needs counters moved"
    services_at = {(b["id"], c["id"]): [(0.0, set(c["services"]))] for b in data["branches"] for c in b["counters"]}
    taken_on = 0
    for minute, branch, counter, services in day.moves:
        # The simulated manager acts every 30 minutes; in between, an idle counter only takes a service on.
        if minute % simulator.REALLOC_EVERY_MIN:
            taken_on += 1
            assert set(services) - services_at[(branch, counter)][-1][1], (minute, branch, counter, services)
        services_at[(branch, counter)].append((minute, set(services)))
    assert taken_on
    for citizen in day.citizens:
        history = services_at[(citizen.branch, citizen.counter)]
        current = [s for minute, s in history if minute <= citizen.started_min][-1]
        assert citizen.service in current


def test_an_idle_officer_taking_on_a_short_service_calls_more_citizens_within_the_target():
    """[staffing] idle_takes_on, the server's rule, in the simulated day: off, only the manager's looks every
    30 minutes move counters, and fewer citizens are called within 15 minutes."""
    data = scenario.load(HOAN_KIEM)
    on, off = [], []
    for seed in (1, 2, 3):
        on.append(CityDay(data, "balance+realloc", seed=seed).run())
        manager_only = CityDay(data, "balance+realloc", seed=seed)
        manager_only.staffing = dataclasses.replace(manager_only.staffing, idle_takes_on=False)
        off.append(manager_only.run())
    assert all(minute % simulator.REALLOC_EVERY_MIN == 0 for day in off for minute, *_ in day.moves)
    within = [sum(day.summary()["within_target_pct"] for day in days) / 3 for days in (on, off)]
    assert within[0] > within[1] + 2, within


def test_balance_and_realloc_together_beat_either_alone():
    data = scenario.load(HOAN_KIEM)
    days = {policy: CityDay(data, policy, seed=6).run().summary() for policy in
            ("none", "balance", "realloc", "balance+realloc")}
    both = days["balance+realloc"]
    assert both["within_target_pct"] > max(days["balance"]["within_target_pct"], days["realloc"]["within_target_pct"])
    assert days["realloc"]["within_target_pct"] > days["none"]["within_target_pct"]
    assert both["prediction_mae_min"] < 0.9 * both["baseline_mae_min"]
    assert both["redirected"] < days["balance"]["redirected"]  # flexible counters leave less to send away


def test_cli_runs_the_realloc_policies():
    for policy in ("realloc", "balance+realloc"):
        done = subprocess.run([sys.executable, "-m", "motcua.cli", "simulate", str(HOAN_KIEM), "--policy", policy],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        assert set(summary) == KEYS | {"branches", "by_channel", "redirected_figures"} and summary["served"] == summary["citizens"]


def test_the_real_size_city_runs_a_day_and_balancing_helps():
    data = scenario.load(scenario.bundled("ha-noi"))
    alone, helped = (CityDay(data, policy, seed=3).run().summary() for policy in ("none", "balance+realloc"))
    assert alone["served"] == alone["citizens"] > 2000 and helped["served"] == helped["citizens"]
    assert len(alone["branches"]) == len(data["branches"])
    assert helped["mean_wait_min"] < alone["mean_wait_min"]


def test_remote_tickets_are_taken_before_the_trip_and_waited_for_from_check_in(tmp_path):
    data = scenario.load(HOAN_KIEM)
    day = CityDay(data, "balance", seed=5, remote_share=0.3).run()
    remote = [c for c in day.citizens if c.channel == "remote"]
    came = [c for c in remote if c.came]
    assert 0.2 < len(remote) / len(day.citizens) < 0.4 and not any(c.priority for c in remote)
    assert 0 < len(remote) - len(came) < 0.15 * len(remote)     # a few never come
    for citizen in came:
        assert citizen.checked_in_min >= citizen.arrived_min + citizen.travel_min - 1e-9
        assert citizen.started_min >= citizen.checked_in_min - 1e-9
        assert citizen.wait_min == pytest.approx(citizen.started_min - citizen.checked_in_min)
    for citizen in remote:
        if not citizen.came:
            assert citizen.started_min is None and citizen.checked_in_min is None
    summary = day.summary()
    assert summary["citizens"] == len(day.citizens) - (len(remote) - len(came))
    channels = summary["by_channel"]
    assert channels["remote"]["citizens"] == len(came)
    assert channels["walk_in"]["citizens"] + channels["remote"]["citizens"] == summary["citizens"]
    waits = [c.wait_min for c in came]
    assert channels["remote"]["mean_wait_min"] == pytest.approx(sum(waits) / len(waits), abs=1e-3)
    assert channels["remote"]["range_held_pct"] == range_held_pct(came) > 0
    moved = [c for c in day.citizens if c.came and c.redirected]
    assert summary["redirected_figures"]["citizens"] == len(moved) > 0
    assert summary["redirected_figures"]["range_held_pct"] == range_held_pct(moved)
    assert CityDay(data, "balance", seed=5, remote_share=0.3).run().summary() == summary
    assert CityDay(data, "balance", seed=5).run().summary()["by_channel"]["remote"]["citizens"] == 0
    trace = tmp_path / "trace.csv"
    day.write_trace(trace)
    rows = list(csv.DictReader(trace.open(encoding="utf-8")))
    assert sum(r["channel"] == "remote" for r in rows) == len(remote)
    assert sum(r["checked_in_min"] != "" for r in rows) == len(came)


def test_remote_citizens_set_off_when_told_and_are_called_soon_after_checking_in():
    # The set-off rule (motcua.core.remote.set_off_in) against setting off at the call predicted when the
    # ticket was taken: on these days 89% of remote citizens were called within 15 minutes of checking in.
    data = scenario.load(HOAN_KIEM)
    came = []
    for seed in (1, 2, 3):
        day = CityDay(data, "balance+realloc", seed=seed, appointment_share=0.3, remote_share=0.2).run()
        for citizen in (c for c in day.citizens if c.channel == "remote" and c.came):
            ticket = next(t for t, c in day.by_ticket.items() if c is citizen)
            told = day.engine.ticket(ticket)
            assert citizen.checked_in_min <= (told.window_end - day.t0) / 60   # inside its window
            # The server told the phone (QueueEngine.set_off) with the trip it gave, and the citizen went then.
            assert told.travel_min == citizen.travel_min and told.set_off_at is not None
            assert citizen.checked_in_min == pytest.approx((told.set_off_at - day.t0) / 60 + citizen.travel_min)
            came.append(citizen)
    assert sum(c.wait_min <= 15 for c in came) / len(came) > 0.94


def test_walk_ins_offered_a_later_slot_at_the_peak_take_some_at_the_kiosk(monkeypatch):
    # What the offer does to the figure is measured, not held here: with the server's set-off (seeds 1-6 on
    # hoan-kiem, 89.6% with it, 90.1% without) it is within a day's noise (README, "Simulating a city day").
    data = scenario.load(HOAN_KIEM)
    shares = dict(appointment_share=0.3, remote_share=0.2)
    day = CityDay(data, "balance+realloc", seed=4, **shares).run()
    later = [c for c in day.citizens if c.channel == APPOINTMENT and c not in day.bookers]
    assert later and all(not c.priority and c.checked_in_min > c.arrived_min for c in later)
    assert all(c.started_min >= c.checked_in_min - 1e-9 for c in later)
    # Booked at the kiosk, without a phone (a taker back past the grace waits as a walk-in: not in `later`).
    kiosk_booked = [a for a in day.engine.appointments.values() if a.phone is None]
    assert len(kiosk_booked) >= len(later)
    monkeypatch.setattr(simulator, "LATER_SLOT_ACCEPTANCE", 0.0)
    declined = CityDay(data, "balance+realloc", seed=4, **shares).run()
    assert not [c for c in declined.citizens if c.channel == APPOINTMENT and c not in declined.bookers]
    today = CityDay(data, "balance+realloc", seed=4).run()
    assert not any(c.channel == APPOINTMENT for c in today.citizens)


@pytest.mark.parametrize("share", ["1.5", "-0.1", "lots"])
def test_the_cli_refuses_a_share_that_is_not_a_fraction(share):
    done = subprocess.run([sys.executable, "-m", "motcua.cli", "simulate", str(HOAN_KIEM), "--remote-share", share],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "fraction" in done.stderr


def test_appointments_are_booked_ahead_through_the_core_and_waited_for_from_check_in(tmp_path):
    data = scenario.load(HOAN_KIEM)
    day = CityDay(data, "balance+realloc", seed=5, appointment_share=0.3, remote_share=0.2).run()
    booked = list(day.engine.appointments.values())
    holders = [c for c in day.citizens if c.channel == "appointment"]
    came = [c for c in holders if c.came]
    assert not any(c.priority for c in holders) and 0 < len(holders) - len(came) < 0.15 * len(holders)
    # One who never comes for the appointment does not walk in instead: no ticket of theirs loads a queue.
    never = {c.id for c in holders if not c.came}
    assert never and not any(c.id in never for c in day.by_ticket.values())
    assert 0.1 < len(booked) / len(day.citizens) < 0.3 and len(day.bookers) / len(day.citizens) > 0.25
    for citizen in came:
        assert citizen.started_min >= citizen.checked_in_min - 1e-9
        assert citizen.wait_min == pytest.approx(citizen.started_min - citizen.checked_in_min)
    # Every slot's bookings fit what the core offered: booked through the same rule as the server's.
    starts = {a.start for a in booked}
    assert all((a.start - day.t0) % (15 * 60) == 0 for a in booked) and len(starts) > 5
    summary = day.summary()
    channels = summary["by_channel"]
    assert channels["appointment"]["citizens"] == len(came)
    assert sum(channels[c]["citizens"] for c in ("walk_in", "remote", "appointment")) == summary["citizens"]
    assert CityDay(data, "balance+realloc", seed=5, appointment_share=0.3, remote_share=0.2).run().summary() == summary
    trace = tmp_path / "trace.csv"
    day.write_trace(trace)
    rows = list(csv.DictReader(trace.open(encoding="utf-8")))
    assert sum(r["channel"] == "appointment" for r in rows) == len(holders)
    with pytest.raises(ValueError):
        CityDay(data, "none", seed=5, appointment_share=0.9, remote_share=0.2)


def test_bookers_who_find_no_slot_at_their_branch_book_at_one_the_booking_page_lists_near_it():
    data = scenario.load(HOAN_KIEM)
    shares = dict(appointment_share=0.3, remote_share=0.2)
    day = CityDay(data, "balance+realloc", seed=3, **shares).run()
    holders = {c.id: c for c in day.bookers if c.channel == APPOINTMENT and c.came}
    elsewhere = [c for c in holders.values() if c.branch != c.origin]
    assert elsewhere and all(c.redirected for c in elsewhere)
    # ... one within the reach the booking page lists (max_km / max_travel_min of the origin).
    where = {b["id"]: (b["lat"], b["lon"]) for b in data["branches"]}
    assert all(distance_km(*where[c.origin], *where[c.branch]) <= data["redirect"]["max_km"] for c in elsewhere)
    # Booked, checked in and called at the branch they booked, their wait from that check-in.
    by_phone = {a.phone: a for a in day.engine.appointments.values() if a.phone}
    for citizen in elsewhere:
        assert by_phone[f"08{citizen.id:08d}"].branch == citizen.branch
        ticket = next(t for t, c in day.by_ticket.items() if c is citizen)
        assert day.engine.ticket(ticket).branch == citizen.branch and citizen.started_min is not None
    # Without a balancing policy nobody is listed another branch: each books at home or walks in.
    alone = CityDay(data, "realloc", seed=3, **shares).run()
    assert all(c.branch == c.origin for c in alone.bookers)
    assert len(alone.engine.appointments) < len(day.engine.appointments)


def test_slots_count_every_counter_of_a_branch_only_where_counters_take_on_others_services():
    data = scenario.load(HOAN_KIEM)
    shares = dict(appointment_share=0.3, remote_share=0.2)
    assert CityDay(data, "balance+realloc", seed=3, **shares).bookings.rules.pooled
    assert CityDay(data, "realloc", seed=3, **shares).bookings.rules.pooled
    # Without re-skilling a counter serves only what it was set up for, and the slots say so.
    assert not CityDay(data, "balance", seed=3, **shares).bookings.rules.pooled
    assert not CityDay(data, "none", seed=3, **shares).bookings.rules.pooled
    # A rule the caller turned off stays off.
    rules = simulator.AppointmentRules(pooled=False)
    assert not CityDay(data, "balance+realloc", seed=3, appointment_rules=rules, **shares).bookings.rules.pooled


def test_the_cli_books_appointments_and_refuses_shares_over_one():
    done = subprocess.run([sys.executable, "-m", "motcua.cli", "simulate", str(HOAN_KIEM), "--appointment-share",
                           "0.3", "--remote-share", "0.2", "--seed", "2"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["by_channel"]["appointment"]["citizens"] > 0
    over = subprocess.run([sys.executable, "-m", "motcua.cli", "simulate", str(HOAN_KIEM), "--appointment-share",
                           "0.8", "--remote-share", "0.3"], capture_output=True, text=True, timeout=60)
    assert over.returncode == 2 and "at most 1" in over.stderr


def test_walk_ins_wait_no_longer_with_appointments_than_without():
    """The merge rule's fairness, measured: appointments take only what the walk-ins' forecast leaves."""
    data = scenario.load(HOAN_KIEM)
    today, shaped = [], []
    for seed in (1, 2, 3):
        today.append(CityDay(data, "balance+realloc", seed=seed).run().summary()["by_channel"]["walk_in"])
        shaped.append(CityDay(data, "balance+realloc", seed=seed, appointment_share=0.3).run()
                      .summary()["by_channel"]["walk_in"])
    assert sum(s["within_target_pct"] for s in shaped) >= sum(t["within_target_pct"] for t in today)
    assert sum(s["mean_wait_min"] for s in shaped) <= sum(t["mean_wait_min"] for t in today)


def test_the_cli_names_what_is_wrong_with_a_city_it_cannot_simulate(tmp_path):
    data = scenario.load(HOAN_KIEM)
    del data["branches"][1]["lat"]
    broken = tmp_path / "city.json"
    broken.write_text(json.dumps(data), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "motcua.cli", "simulate", str(broken), "--appointment-share", "0.3"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == f"motcua: scenario {broken}: branch 'hk-02' needs lat and lon in degrees"


def test_a_day_too_busy_to_serve_out_ends_at_midnight_with_the_rest_unserved():
    """A city the project has never met may be far over its capacity: the queue is served out after the
    close until midnight, when the engine turns the day; those still waiting are misses, not a crash."""
    data = {"format": "motcua-scenario/1", "open": "07:30", "close": "17:00", "target_wait_min": 15,
            "services": [{"id": "land", "name": "Đất đai", "service_min": {"dist": "lognormal", "mean": 40, "cv": 0.5}}],
            "branches": [{"id": "x1", "name": "Xã Một", "lat": 21.0, "lon": 105.8,
                          "counters": [{"id": "1", "services": ["land"]}]}],
            "arrivals": [{"branch": "x1", "service": "land", "per_hour": [6] * 10}]}
    for shares in ({}, {"appointment_share": 0.3, "remote_share": 0.2}):
        day = CityDay(data, "balance+realloc", seed=1, **shares).run()
        summary = day.summary()
        assert 0 < summary["served"] < summary["citizens"]          # 1 counter, 60 arrive, ~14 served to midnight
        assert max(c.started_min for c in day.citizens if c.started_min is not None) < day.midnight_min
        assert summary["within_target_pct"] < 100 * summary["served"] / summary["citizens"]
