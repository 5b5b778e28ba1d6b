"""Appointments on a fake clock: the slots a branch offers, booking, cancelling, moving, the check-in
merged with walk-ins, no-shows, and a restart."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pytest

from motcua.core import scenario
from motcua.core.appointments import (
    BOOKED, CANCELLED, CHECKED_IN, CODE_ALPHABET, LATE, NO_SHOW, AppointmentRules, Bookings, Slot, allowances,
    citizen_id, day_allowances, later_slot,
)
from motcua.core.model import APPOINTMENT, WALK_IN, Conflict, Invalid, NotFound
from motcua.core.staffing import HourlyRates
from motcua.store import Store

from conftest import HOAN_KIEM
from test_remote import HANOI, busy_business, clock, engine, make_engine  # noqa: F401  # the same hoan-kiem engine at 09:00

TOMORROW = date(2026, 11, 25)
# Counters counted as set up (not pooled): the tests below reason about hk-01's own civil and business counters.
RULES = AppointmentRules(slot_min=15, max_share=0.5, max_load=0.85, days_ahead=7, early_min=15, grace_min=10,
                         pooled=False)
PHONE = "0912345678"
MEANS = {s["id"]: s["service_min"]["mean"] for s in scenario.load(HOAN_KIEM)["services"]}
ID_NUMBER = "001090012345"


def at(day: date, hhmm: str) -> float:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=HANOI).timestamp()


def forecast(branch_id: str, day: date) -> HourlyRates:
    """The scenario's hourly arrivals at the branch, from its opening: the walk-ins expected."""
    data = scenario.load(HOAN_KIEM)
    return HourlyRates(at(day, data["open"]), {a["service"]: a["per_hour"] for a in data["arrivals"]
                                               if a["branch"] == branch_id})


@pytest.fixture
def bookings(engine):
    return Bookings(engine, RULES, forecast)


def test_a_slot_offers_what_the_forecast_leaves_never_more_than_the_share(bookings):
    slots = bookings.slots("hk-01", "civil", TOMORROW)
    free = {datetime.fromtimestamp(s.start, HANOI).strftime("%H:%M"): s.free for s in slots}
    # hk-01's civil counters (2 and half of 1) give a slot of 15 min some 22 counter-minutes.
    assert free and all(n >= 1 for n in free.values())
    # Never more than max_share of the two counters over the day, nor in a slot by more than one
    # appointment carried from the room the slots before left.
    assert sum(free.values()) * 9 <= 0.5 * 2 * 15 * len(free)
    assert all(n * 9 <= 0.5 * 2 * 15 + 9 for n in free.values())
    # The quiet hour after lunch offers more than the morning peak, which carries a backlog.
    assert free.get("12:30", 0) > free.get("10:00", 0)
    assert all((s.end - s.start) == 15 * 60 for s in slots)
    assert min(s.start for s in slots) >= at(TOMORROW, "07:30") and max(s.end for s in slots) <= at(TOMORROW, "17:00")


def test_pooled_counters_give_the_services_they_take_on_the_room_their_own_counters_lack(engine):
    """hk-03: civil shares counter 1 with cert, land counter 3 with build; cert and business have counters of
    their own that the forecast leaves half idle. With the counters pooled (idle ones take on what citizens
    wait for), the slots follow the work: the crowded services offer more, those with idle counters less."""
    def offered(pooled: bool) -> dict[str, int]:
        bookings = Bookings(engine, dataclasses.replace(RULES, pooled=pooled), forecast)
        return {s: sum(slot.free for slot in bookings.slots("hk-03", s, TOMORROW)) for s in MEANS}

    own, pooled = offered(False), offered(True)
    assert own["build"] == 0 < pooled["build"]
    assert all(pooled[s] > own[s] for s in ("civil", "land", "build"))
    assert all(pooled[s] < own[s] for s in ("cert", "business"))
    # Never more than max_share of the branch's 4 counters over the day (07:30-17:00), minutes by each mean.
    assert sum(pooled[s] * MEANS[s] for s in MEANS) <= 0.5 * 4 * 9.5 * 60
    # A branch whose counters are all crowded has no room either way.
    assert sum(slot.free for slot in Bookings(engine, RULES, forecast).slots("hk-02", "civil", TOMORROW)) == 0
    assert Bookings(engine, dataclasses.replace(RULES, pooled=True), forecast).slots("hk-02", "civil", TOMORROW) == []


def test_a_pool_leaves_a_service_nobody_is_forecast_for_a_part_of_what_it_has_left():
    """Business forecast at half the pool, civil at none (a new server's first hour, say): civil's bookers
    still find slots, and the appointments of both stay within max_load of what the pool has left."""
    starts = [k * 900.0 for k in range(8)]
    counters = [(("civil",), [(0.0, 7200.0)]), (("business",), [(0.0, 7200.0)])]
    means = {"civil": 9.0, "business": 15.0}
    rates = HourlyRates(0.0, {"business": [4.0, 4.0]})     # 4 an hour of 15 minutes: one counter's time
    pooled = allowances(starts, 15, counters, means, rates, dataclasses.replace(RULES, pooled=True))
    civil, business = (sum(pooled[(s, t)] for t in starts) for s in means)
    assert civil > 0 and business > 0
    # Two hours of two counters: business's walk-ins take 120 minutes; what appointments get stays within
    # max_load of the rest (0.85 * 240 - 120 minutes).
    assert civil * 9 + business * 15 <= 0.85 * 240 - 120


def test_only_future_slots_within_days_ahead(bookings, clock):
    today = bookings.slots("hk-01", "civil", date(2026, 11, 24))
    assert today and min(s.start for s in today) > clock.now()
    assert bookings.slots("hk-01", "civil", date(2026, 11, 23)) == []
    assert bookings.slots("hk-01", "civil", date(2026, 12, 2)) == []
    assert bookings.slots("hk-01", "civil", date(2026, 12, 1))
    with pytest.raises(NotFound):
        bookings.slots("hk-01", "nothing", TOMORROW)


def test_a_service_longer_than_a_slots_share_starts_where_the_room_adds_up_to_it():
    counters = [(("s",), [(0.0, 3600.0)])]
    allowed = allowances([0.0, 900.0, 1800.0, 2700.0], 15, counters, {"s": 20.0}, HourlyRates(0.0, {}), RULES)
    assert [allowed[("s", t)] for t in (0.0, 900.0, 1800.0, 2700.0)] == [0, 0, 1, 0]   # 7.5 minutes a slot


def test_walk_in_capacity_comes_first_and_a_backlog_carries_forward():
    starts = [0.0, 900.0, 1800.0]
    counters = [(("s",), [(0.0, 2700.0)])]
    busy = HourlyRates(0.0, {"s": [3.0 * 4]})    # 3 citizens of 5 min each 15 min: all the counter's time
    assert allowances(starts, 15, counters, {"s": 5.0}, busy, RULES) == {("s", 0.0): 0, ("s", 900.0): 0,
                                                                                ("s", 1800.0): 0}
    quiet = HourlyRates(0.0, {"s": [4.0]})       # 1 citizen of 5 min each 15 min
    assert allowances(starts, 15, counters, {"s": 5.0}, quiet, RULES)[("s", 0.0)] == 1   # min(.85*15-5, 7.5)/5
    idle = HourlyRates(0.0, {})
    assert allowances(starts, 15, counters, {"s": 5.0}, idle, RULES)[("s", 0.0)] == 1    # 7.5 / 5: the share
    surge = HourlyRates(0.0, {"s": [8.0 * 4]})   # twice the counter's time: the next slots serve it out
    assert allowances([0.0, 900.0, 1800.0, 2700.0], 15, [(("s",), [(0.0, 3600.0)])], {"s": 5.0},
                      HourlyRates(0.0, {"s": [24.0, 0.0]}), RULES)[("s", 900.0)] == 0
    assert allowances(starts, 15, counters, {"s": 5.0}, surge, RULES)[("s", 1800.0)] == 0


def test_a_days_allowances_are_remembered_until_anything_they_come_from_changes():
    starts = [0.0, 900.0, 1800.0, 2700.0]
    counters = [(("s", "t"), [(0.0, 3600.0)]), (("t",), [(0.0, 1800.0)])]
    means = {"s": 5.0, "t": 8.0}
    rates = HourlyRates(0.0, {"s": [4.0], "t": [2.0]})
    first = day_allowances(starts, 15, counters, means, rates, RULES)
    worked_out = allowances(starts, 15, counters, means, rates, RULES)
    assert {s: list(counts) for s, counts in first.items()} == {
        s: [worked_out[(s, t)] for t in starts] for s in means}
    # Asked again with equal inputs (new objects, as every request makes them): the day remembered, not redone.
    again = day_allowances(list(starts), 15, [(("s", "t"), [(0.0, 3600.0)]), (("t",), [(0.0, 1800.0)])], dict(means),
                           HourlyRates(0.0, {"s": [4.0], "t": [2.0]}), RULES)
    assert again is first
    with pytest.raises(TypeError):
        first["s"] = (0, 0, 0, 0)   # shared by every caller: nobody may change it
    # Any input changed is another day: the forecast, a counter's hours, a mean, the rules.
    busier = day_allowances(starts, 15, counters, means, HourlyRates(0.0, {"s": [12.0], "t": [2.0]}), RULES)
    assert busier is not first and busier["s"] != first["s"]
    assert busier["s"] == tuple(allowances(starts, 15, counters, means, HourlyRates(0.0, {"s": [12.0], "t": [2.0]}),
                                           RULES)[("s", t)] for t in starts)
    shorter = day_allowances(starts, 15, [(("s", "t"), [(0.0, 1800.0)]), (("t",), [(0.0, 1800.0)])], means, rates, RULES)
    assert shorter["s"][3] == 0 and first["s"][3] > 0
    assert day_allowances(starts, 15, counters, {"s": 5.0, "t": 9.0}, rates, RULES) is not first
    assert day_allowances(starts, 15, counters, means, rates, AppointmentRules(max_share=0.1)) is not first


def test_booking_takes_a_place_and_a_full_slot_is_refused(bookings):
    slot = min(bookings.slots("hk-01", "civil", TOMORROW), key=lambda s: s.free)
    booked = [bookings.book("hk-01", "civil", slot.start, f"09{n:08d}") for n in range(slot.free)]
    assert all(len(a.code) == 6 and set(a.code) <= set(CODE_ALPHABET) and a.status == BOOKED for a in booked)
    assert len({a.code for a in booked}) == len(booked)
    assert slot.start not in [s.start for s in bookings.slots("hk-01", "civil", TOMORROW)]
    with pytest.raises(Conflict) as refused:
        bookings.book("hk-01", "civil", slot.start, "0987654321")
    assert refused.value.code == "slot_full"
    with pytest.raises(Conflict) as off_grid:
        bookings.book("hk-01", "civil", slot.start + 60, "0987654321")
    assert off_grid.value.code == "slot_full"


def test_one_appointment_per_phone_service_and_day(bookings):
    first, second = bookings.slots("hk-01", "civil", TOMORROW)[:2]
    bookings.book("hk-01", "civil", first.start, PHONE)
    with pytest.raises(Conflict) as refused:
        bookings.book("hk-02", "civil", first.start, "+84 912 345 678") if bookings.slots(
            "hk-02", "civil", TOMORROW) else bookings.book("hk-01", "civil", second.start, PHONE)
    assert refused.value.code == "appointment_held"
    assert bookings.book("hk-01", "cert", first.start, PHONE).status == BOOKED
    other_day = bookings.slots("hk-01", "civil", date(2026, 11, 26))[0]
    assert bookings.book("hk-01", "civil", other_day.start, PHONE).status == BOOKED


@pytest.mark.parametrize("text", ["", "00109001234", "0010900123456", "00109001234x", "099090012345", None, 1090012345])
def test_an_id_number_is_a_citizen_id(text):
    with pytest.raises(Invalid) as refused:
        citizen_id(text)
    assert refused.value.code == "bad_id_number"


def test_the_id_number_is_kept_only_as_a_salted_digest(bookings):
    slot = bookings.slots("hk-01", "civil", TOMORROW)[0]
    appointment = bookings.book("hk-01", "civil", slot.start, PHONE, ID_NUMBER)
    assert ID_NUMBER not in repr(appointment) and appointment.id_digest
    with pytest.raises(Invalid):
        bookings.book("hk-01", "cert", slot.start, PHONE, "12345")


def test_cancel_and_move_need_the_phone_and_a_wrong_one_is_an_unknown_code(bookings):
    first, second = bookings.slots("hk-01", "civil", TOMORROW)[:2]
    appointment = bookings.book("hk-01", "civil", first.start, PHONE)
    for wrong in ("0987654321", "not a phone"):
        with pytest.raises(NotFound) as refused:
            bookings.cancel(appointment.code, wrong)
        with pytest.raises(NotFound) as unknown:
            bookings.cancel("ZZZZZZ", PHONE)
        assert (refused.value.code, refused.value.message) == (unknown.value.code, unknown.value.message)
    moved = bookings.move(appointment.code.lower(), PHONE, second.start)
    assert (moved.code, moved.start) == (appointment.code, second.start)
    after = {s.start: s.free for s in bookings.slots("hk-01", "civil", TOMORROW)}
    assert after[first.start] == first.free and after.get(second.start, 0) == second.free - 1
    with pytest.raises(Conflict) as full:
        bookings.move(appointment.code, PHONE, first.start + 60)
    assert full.value.code == "slot_full"
    cancelled = bookings.cancel(appointment.code, PHONE)
    assert cancelled.status == CANCELLED
    assert {s.start: s.free for s in bookings.slots("hk-01", "civil", TOMORROW)}[second.start] == second.free
    with pytest.raises(Conflict) as again:
        bookings.cancel(appointment.code, PHONE)
    assert again.value.code == "appointment_cancelled"
    assert bookings.book("hk-01", "civil", first.start, PHONE).status == BOOKED


def booked_today(bookings, clock, hhmm: str, service: str = "civil", **kwargs):
    start = at(date(2026, 11, 24), hhmm)
    return bookings.book("hk-01", service, start, PHONE, **kwargs), start


def test_an_early_holder_waits_for_the_slot_and_ranks_from_its_start(bookings, engine, clock):
    appointment, start = booked_today(bookings, clock, "12:30")
    clock.set(start - 16 * 60)
    with pytest.raises(Conflict) as early:
        bookings.check_in("hk-01", code=appointment.code)
    assert early.value.code == "too_early"
    clock.set(start - 10 * 60)
    ticket = bookings.check_in("hk-01", code=appointment.code)
    assert (ticket.channel, ticket.due_at, ticket.appointment) == (APPOINTMENT, start, appointment.id)
    assert engine.appointment(appointment.code).status == CHECKED_IN
    assert engine.check_in(ticket.id).due_at == start     # a kiosk's check-in by number moves it no earlier
    state = engine.ticket_state(ticket.id)                # the 10 minutes until the slot are sure: never in doubt
    assert state.wait_min >= 10 and state.wait_range[0] == pytest.approx(10.0)
    before = engine.issue("hk-01", "civil")
    assert engine.call_next("hk-01", "2").id == before.id   # walk-ins there before the slot go first
    engine.done(before.id)
    assert engine.call_next("hk-01", "2") is None           # the holder is not called before the slot
    clock.set(start + 60)
    after = engine.issue("hk-01", "civil")
    assert engine.call_next("hk-01", "2").id == ticket.id   # ... and before those who came after its start
    assert engine.waiting_list("hk-01")[0].id == after.id
    with pytest.raises(NotFound):
        bookings.check_in("hk-01", code=appointment.code)   # once


def test_a_holder_checks_in_by_id_number_at_their_branch_only(bookings, engine, clock):
    appointment, start = booked_today(bookings, clock, "12:30", id_number=ID_NUMBER)
    clock.set(start + 5 * 60)
    with pytest.raises(NotFound):
        bookings.check_in("hk-02", id_number=ID_NUMBER)
    with pytest.raises(NotFound):
        bookings.check_in("hk-01", id_number="001090099999")
    ticket = bookings.check_in("hk-01", id_number=ID_NUMBER)
    assert (ticket.channel, ticket.due_at) == (APPOINTMENT, start + 5 * 60)   # ranked from a check-in after start


def test_a_late_holder_is_a_walk_in_and_one_who_never_comes_a_no_show(bookings, engine, clock):
    late, start = booked_today(bookings, clock, "12:30")
    never, _ = booked_today(bookings, clock, "12:30", service="cert")
    clock.set(start + 10 * 60 + 1)
    assert bookings.expire() == 2
    assert engine.appointment(never.code).status == NO_SHOW
    ticket = bookings.check_in("hk-01", code=late.code)
    assert (ticket.channel, ticket.due_at, ticket.issued_at) == (WALK_IN, None, clock.now())
    assert engine.appointment(late.code).status == LATE
    assert bookings.expire() == 0


def test_appointments_survive_a_restart(tmp_path, clock):
    store = Store(tmp_path / "appointments.db")
    data = scenario.load(HOAN_KIEM)
    store.load_network(scenario.services(data), scenario.branches(data), scenario.counters(data))
    engine = make_engine(clock, journal=store)
    bookings = Bookings(engine, RULES, forecast)
    slot = bookings.slots("hk-01", "civil", TOMORROW)[0]
    appointment = bookings.book("hk-01", "civil", slot.start, PHONE, ID_NUMBER)
    today, start = booked_today(bookings, clock, "12:30", service="cert")
    clock.set(start)
    ticket = bookings.check_in("hk-01", code=today.code)
    again = make_engine(clock, journal=store, tickets=store.tickets("2026-11-24"),
                        appointments=store.appointments("2026-11-24"))
    assert again.appointment(appointment.code) == appointment
    assert again.ticket(ticket.id).appointment == today.id and again.ticket(ticket.id).channel == APPOINTMENT
    assert {s.start: s.free for s in Bookings(again, RULES, forecast).slots("hk-01", "civil", TOMORROW)}.get(
        slot.start, 0) == slot.free - 1
    with pytest.raises(Conflict):
        Bookings(again, RULES, forecast).book("hk-01", "civil", slot.start, PHONE)
    store.close()


def test_the_days_turn_lets_the_days_gone_go(bookings, engine, clock):
    appointment, start = booked_today(bookings, clock, "12:30")
    tomorrow = bookings.book("hk-01", "civil", bookings.slots("hk-01", "civil", TOMORROW)[0].start, PHONE)
    clock.set(at(TOMORROW, "07:00"))
    assert engine.close_day()
    with pytest.raises(NotFound):
        engine.appointment(appointment.code)
    assert engine.appointment(tomorrow.code) == tomorrow
    assert bookings.book("hk-01", "cert", bookings.slots("hk-01", "cert", TOMORROW)[0].start, PHONE).status == BOOKED


def test_a_walk_in_over_the_target_is_offered_the_first_slot_within_reach():
    slots = [Slot(1000 + 30 * 60, 1000 + 45 * 60, 1), Slot(1000 + 45 * 60, 1000 + 60 * 60, 2)]

    def offered():
        return slots

    assert later_slot(50.0, 15.0, offered, 1000, 120.0) == slots[0]
    assert later_slot(50.0, 15.0, offered, 1000, 40.0) == slots[0]
    assert later_slot(50.0, 15.0, offered, 1000, 20.0) is None      # nothing starts within reach
    # ... even one after the queue would call them: a second trip to be called at once, the citizen's to weigh.
    assert later_slot(20.0, 15.0, offered, 1000, 120.0) == slots[0]

    def never():
        raise AssertionError("slots are not worked out for a wait within the target")

    assert later_slot(15.0, 15.0, never, 1000, 120.0) is None
    assert later_slot(None, 15.0, never, 1000, 120.0) is None        # nobody serves it now: no offer either


def test_the_later_slot_is_one_the_branch_offers_today_and_only_at_a_long_wait(bookings, engine, clock):
    assert bookings.later("hk-01", "business", 15.0) is None  # nobody waiting
    busy_business(engine, 6)
    slot = bookings.later("hk-01", "business", 15.0)
    assert engine.estimate_new("hk-01", "business") > 15
    today = bookings.slots("hk-01", "business", date(2026, 11, 24))
    assert slot == today[0] and clock.now() < slot.start <= clock.now() + 120 * 60
    assert slot.start <= clock.now() + engine.estimate_new("hk-01", "business") * 60
    booked = bookings.book("hk-01", "business", slot.start, PHONE)   # taken as any phone books
    assert booked.start == slot.start


def test_the_walk_in_takes_the_later_slot_at_the_kiosk_without_a_phone(bookings, engine, clock):
    busy_business(engine, 6)
    slot = bookings.later("hk-01", "business", 15.0)
    first = bookings.book_later("hk-01", "business", slot.start, 15.0, "en", actor="kiosk1")
    assert (first.phone, first.start, first.lang, first.status) == (None, slot.start, "en", "booked")
    assert engine.appointment(first.code) == first
    clock.advance((slot.start - clock.now()) - 60)
    assert bookings.remind() == 0    # told nothing: no phone
    ticket = bookings.check_in("hk-01", code=first.code)
    assert ticket.channel == "appointment" and ticket.appointment == first.id


def test_a_later_slot_no_longer_offered_is_refused(bookings, engine):
    busy_business(engine, 6)
    slot = bookings.later("hk-01", "business", 15.0)
    with pytest.raises(Conflict) as refused:
        bookings.book_later("hk-01", "business", slot.start + 15 * 60, 15.0)
    assert refused.value.code == "slot_full"
    with pytest.raises(Conflict):
        bookings.book_later("hk-01", "civil", slot.start, 15.0)     # civil waits nobody: no offer
