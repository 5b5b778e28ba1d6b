"""Remote tickets on a fake clock: a ticket on its way that waits for its check-in, with a window."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from motcua.core import scenario
from motcua.core.balancing import RedirectRules
from motcua.core.clock import FakeClock
from motcua.core.engine import QueueEngine
from motcua.core.journeys import Journeys
from motcua.core.model import CALLED, EXPIRED, REMOTE, WAITING, WALK_IN, WINDOW_MISSED, Conflict, Invalid
from motcua.core.prediction import CHECKED_IN, WALKED_IN, WaitRanges, estimate_kind
from motcua.core.remote import RemoteRules, mobile, set_off_in
from motcua.store import Store

from conftest import HOAN_KIEM

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=HANOI).timestamp()
RULES = RemoteRules(travel_min=20.0, grace_min=10.0)
PHONE = "0912345678"


@pytest.fixture
def clock():
    return FakeClock(MORNING)


def make_engine(clock, **kwargs) -> QueueEngine:
    data = scenario.load(HOAN_KIEM)
    return QueueEngine(scenario.branches(data), scenario.services(data), scenario.counters(data), clock, **kwargs)


@pytest.fixture
def engine(clock):
    return make_engine(clock)


def busy_business(engine, n: int = 3) -> None:
    """hk-01's one business counter busy and n business citizens waiting."""
    for _ in range(n + 1):
        engine.issue("hk-01", "business")
    engine.call_next("hk-01", "6")


@pytest.mark.parametrize("text", ["0912345678", "+84912345678", "84 912 345 678", "091.234.5678", "0312-345-678"])
def test_vietnamese_mobile_numbers_are_taken_in_their_national_form(text):
    assert mobile(text) == "0" + "".join(c for c in text if c.isdigit())[-9:]


@pytest.mark.parametrize("text", ["", "012345678", "0212345678", "09123456789", "091234567", "abc", None, 912345678,
                                  "+1 912345678"])
def test_anything_else_is_not_a_phone(text):
    with pytest.raises(Invalid) as refused:
        mobile(text)
    assert refused.value.code == "bad_phone"


def test_a_remote_ticket_counts_once_with_a_window_from_its_wait_and_travel(engine, clock):
    busy_business(engine)
    later = MORNING + 21 * 60
    before = engine.estimate_new("hk-01", "business", arriving_at=later)
    ticket = engine.issue_remote("hk-01", "business", "+84 912 345 678", "en", RULES)
    assert (ticket.channel, ticket.phone, ticket.lang, ticket.status) == (REMOTE, PHONE, "en", WAITING)
    assert ticket.due_at == MORNING + 20 * 60 and ticket.checked_in_at is None
    assert engine.waiting("hk-01", "business") == 4
    assert ticket.estimate_min == before > 20   # three before it and one served, at one counter
    assert ticket.window_end == MORNING + (ticket.estimate_min + 10) * 60
    # In the queue once: a citizen arriving after it is due waits one service longer.
    mean = engine.mean_service_min("hk-01", "business")
    assert engine.estimate_new("hk-01", "business", arriving_at=later) == pytest.approx(before + mean)
    assert engine.issue("hk-01", "business").channel == WALK_IN


def test_a_short_wait_still_leaves_the_trip_and_the_grace(engine):
    ticket = engine.issue_remote("hk-01", "civil", PHONE, rules=RULES)
    assert ticket.estimate_min == 20   # nobody before it: called as soon as it can be there
    assert ticket.window_end == MORNING + (20 + 10) * 60


@pytest.mark.parametrize(("wait", "travel", "window_left", "expected"), [
    (40.0, 10.0, 60.0, 25.0),    # the call 40 min away, a 10-min trip, 5 min early: set off in 25
    (14.0, 10.0, 60.0, 0.0),     # already nearer than the trip and the lead: now
    (80.0, 10.0, 50.0, 39.0),    # the call is later than the window: set off to arrive a minute before it ends
    (None, 10.0, 50.0, 0.0),     # no call predicted (nobody serves it now): now
])
def test_a_citizen_sets_off_when_the_call_is_the_trip_and_the_lead_away(wait, travel, window_left, expected):
    assert set_off_in(wait, travel, window_left, RemoteRules(lead_min=5.0)) == expected


def test_the_time_to_set_off_is_made_again_as_the_queue_moves(engine, clock):
    busy_business(engine)
    ticket = engine.issue_remote("hk-01", "business", PHONE, rules=RULES)
    left = (ticket.window_end - clock.now()) / 60
    told = set_off_in(ticket.estimate_min, 5.0, left, RULES)
    assert told == pytest.approx(ticket.estimate_min - 5.0 - RULES.lead_min)
    # The one served takes far longer than predicted: asked again when told, the rule says to wait on.
    clock.advance(told * 60)
    _, wait = engine.estimate(engine.ticket(ticket.id))
    again = set_off_in(wait, 5.0, (ticket.window_end - clock.now()) / 60, RULES)
    assert wait > 5.0 + RULES.lead_min and again > 0


def test_it_is_never_called_before_its_check_in_and_ranks_by_it(engine, clock):
    ticket = engine.issue_remote("hk-01", "civil", PHONE, rules=RULES)
    assert engine.call_next("hk-01", "2") is None        # nobody else: still not called
    clock.advance(25 * 60)                                # due, but not here
    assert engine.call_next("hk-01", "2") is None
    walk_in = engine.issue("hk-01", "civil")
    clock.advance(60)
    arrived = engine.check_in(ticket.id, actor="kiosk")
    assert arrived.checked_in_at == clock.now() and arrived.due_at == ticket.due_at   # late: ranks as expected
    assert engine.call_next("hk-01", "1").id == ticket.id
    assert engine.call_next("hk-01", "2").id == walk_in.id


def test_an_early_check_in_ranks_by_the_check_in(engine, clock):
    ticket = engine.issue_remote("hk-01", "civil", PHONE, rules=RULES)
    clock.advance(5 * 60)
    walk_in = engine.issue("hk-01", "civil")
    clock.advance(60)
    arrived = engine.check_in(ticket.id)
    assert arrived.due_at == clock.now() == arrived.checked_in_at
    assert engine.call_next("hk-01", "2").id == walk_in.id
    assert engine.call_next("hk-01", "1").id == ticket.id


def test_a_ticket_not_checked_in_by_its_window_leaves_the_queue_at_the_next_operation(engine, clock):
    ticket = engine.issue_remote("hk-01", "civil", PHONE, rules=RULES)
    changes = []
    engine.listeners.append(changes.append)
    clock.set(ticket.window_end - 1)
    engine.issue("hk-01", "cert")
    assert engine.ticket(ticket.id).status == WAITING
    clock.set(ticket.window_end)
    engine.issue("hk-01", "cert")
    gone = engine.ticket(ticket.id)
    assert (gone.status, gone.ended_at) == (EXPIRED, ticket.window_end)
    assert engine.waiting("hk-01", "civil") == 0
    [event] = [e for c in changes for e in c.events if e.ticket == ticket.id]
    assert (event.from_status, event.to_status, event.note) == (WAITING, EXPIRED, WINDOW_MISSED)
    with pytest.raises(Conflict) as refused:
        engine.check_in(ticket.id)
    assert refused.value.code == WINDOW_MISSED
    # The phone is free for the service again.
    assert engine.issue_remote("hk-01", "civil", PHONE, rules=RULES).status == WAITING


def test_the_sweep_lets_windows_go_at_a_branch_nobody_touches(engine, clock):
    ticket = engine.issue_remote("hk-02", "civil", PHONE, rules=RULES)
    kept = engine.issue_remote("hk-02", "cert", PHONE, rules=RULES)
    engine.check_in(kept.id)
    clock.set(ticket.window_end + 1)
    assert engine.expire_windows() == 1
    assert engine.ticket(ticket.id).status == EXPIRED and engine.ticket(kept.id).status == WAITING
    assert engine.expire_windows() == 0


def test_a_checked_in_ticket_stays_past_its_window(engine, clock):
    ticket = engine.issue_remote("hk-01", "civil", PHONE, rules=RULES)
    engine.check_in(ticket.id)
    clock.set(ticket.window_end + 60)
    assert engine.expire_windows() == 0
    assert engine.call_next("hk-01", "2").id == ticket.id


def test_one_active_remote_ticket_per_phone_and_service_in_the_network(engine, clock):
    first = engine.issue_remote("hk-01", "civil", PHONE, rules=RULES)
    for branch in ("hk-01", "hk-02"):
        with pytest.raises(Conflict) as refused:
            engine.issue_remote(branch, "civil", "+84912345678", rules=RULES)
        assert refused.value.code == "remote_ticket_held"
        assert refused.value.details == {"ticket": first.id, "branch": "hk-01", "number": first.number}
    assert engine.issue_remote("hk-01", "cert", PHONE, rules=RULES).status == WAITING   # another service
    assert engine.issue_remote("hk-01", "civil", "0987654321", rules=RULES).status == WAITING
    engine.check_in(first.id)
    called = engine.call_next("hk-01", "2")
    assert called.id == first.id
    with pytest.raises(Conflict):
        engine.issue_remote("hk-01", "civil", PHONE, rules=RULES)   # called is still active
    engine.done(first.id)
    assert engine.issue_remote("hk-02", "civil", PHONE, rules=RULES).branch == "hk-02"


def test_a_service_nobody_serves_today_is_refused(engine):
    engine.update_counter("hk-01", "6", open=False)
    with pytest.raises(Conflict) as refused:
        engine.issue_remote("hk-01", "business", PHONE, rules=RULES)
    assert refused.value.code == "not_served"
    assert engine.waiting("hk-01", "business") == 0


def test_a_bad_phone_is_refused_before_anything(engine):
    with pytest.raises(Invalid):
        engine.issue_remote("hk-01", "civil", "12345", rules=RULES)
    assert engine.waiting("hk-01", "civil") == 0


def test_the_day_close_ends_remote_tickets_and_frees_their_phones(engine, clock):
    engine.issue_remote("hk-01", "civil", PHONE, rules=RULES)
    clock.set(datetime(2026, 11, 25, 8, 0, tzinfo=HANOI).timestamp())
    assert engine.issue_remote("hk-01", "civil", PHONE, rules=RULES).number == "A001"


def test_a_restarted_engine_keeps_channels_windows_and_phones(tmp_path, clock):
    store = Store(tmp_path / "remote.db")
    data = scenario.load(HOAN_KIEM)
    store.load_network(scenario.services(data), scenario.branches(data), scenario.counters(data))
    engine = make_engine(clock, journal=store, tickets=store.tickets("2026-11-24"))
    ticket = engine.issue_remote("hk-01", "civil", PHONE, rules=RULES)
    again = make_engine(clock, journal=store, tickets=store.tickets("2026-11-24"))
    assert again.ticket(ticket.id) == ticket
    with pytest.raises(Conflict):
        again.issue_remote("hk-01", "civil", PHONE, rules=RULES)
    assert again.call_next("hk-01", "2") is None
    clock.set(ticket.window_end)
    assert again.expire_windows() == 1
    store.close()


def test_nearby_ranks_reachable_branches_by_travel_plus_wait(engine):
    journeys = Journeys(engine, RedirectRules(max_km=5.0, max_travel_min=30.0))
    home = engine.branch("hk-01")
    first = journeys.nearby(home.lat, home.lon, "civil")
    assert first[0].branch == "hk-01" and first[0].travel_min == 0
    assert [a.total_min for a in first] == sorted(a.total_min for a in first)
    assert all(a.distance_km <= 5.0 and a.travel_min <= 30.0 for a in first)
    for _ in range(30):
        engine.issue("hk-01", "civil")
    again = journeys.nearby(home.lat, home.lon, "civil")
    assert again[0].branch != "hk-01"
    assert {a.branch for a in again} == {a.branch for a in first}
    assert journeys.nearby(home.lat + 1, home.lon, "civil") == []   # 110 km away: nothing within reach
    assert [a.branch for a in journeys.nearby(home.lat, home.lon, "civil")] == [
        a.branch for a in Journeys(engine, RedirectRules(max_km=50.0)).nearby(home.lat, home.lon, "civil")
        if a.distance_km <= 5.0]


def test_journeys_take_remote_tickets_with_the_longest_trip_offered(engine):
    journeys = Journeys(engine, RedirectRules(max_travel_min=25.0), grace_min=5.0)
    ticket = journeys.issue_remote("hk-01", "civil", PHONE)
    assert ticket.due_at == MORNING + 25 * 60 and ticket.window_end == MORNING + 30 * 60


def test_the_server_sweeps_windows_on_its_own(engine, clock):
    from motcua.server_main import sweep_windows

    told = []
    engine.set_off_message = lambda ticket: told.append(ticket.id) or {}
    ticket = engine.issue_remote("hk-02", "civil", PHONE, rules=RULES)
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock.advance(seconds)
        if len(slept) == 3:
            raise StopIteration

    with pytest.raises(StopIteration):
        sweep_windows(Journeys(engine, RedirectRules()), 20 * 60, sleep)
    assert slept == [1200, 1200, 1200]
    assert engine.ticket(ticket.id).status == EXPIRED   # swept at the third turn, 40 minutes on
    assert told == [ticket.id]   # called as soon as there: told to set off at the first turn, once


def test_its_estimate_is_made_again_at_check_in_and_the_range_learns_the_wait_from_there(engine, clock):
    learned = []

    class Recording(WaitRanges):
        def record(self, branch, estimate_min, actual_min, kind=WALKED_IN, certain_min=0.0):
            learned.append((estimate_min, actual_min, kind))
            assert certain_min == 0.0    # only an appointment waits for certain (prediction.certain_min)
            super().record(branch, estimate_min, actual_min, kind, certain_min)
    engine.ranges = Recording()
    engine.issue("hk-01", "business")
    engine.issue("hk-01", "business")
    serving = engine.call_next("hk-01", "6")               # hk-01's one business counter: one served, one waits
    ticket = engine.issue_remote("hk-01", "business", PHONE, rules=RULES)
    assert ticket.estimate_min >= 20                         # from the taking: the trip at least
    clock.advance(5 * 60)
    assert estimate_kind(engine.ticket(ticket.id)) == WALKED_IN   # not there yet: what its page shows, as before
    arrived = engine.check_in(ticket.id)
    assert arrived.estimate_min == engine.ticket_state(ticket.id).wait_min < ticket.estimate_min   # from now
    assert estimate_kind(arrived) == CHECKED_IN and estimate_kind(serving) == WALKED_IN
    for _ in range(2):                                       # the one served, then the one before it
        clock.advance(4 * 60)
        engine.done(serving.id)
        learned.clear()
        serving = engine.call_next("hk-01", "6")
    assert serving.id == ticket.id
    # Learned apart from walk-ins' (prediction.estimate_kind): a citizen told to set off errs otherwise.
    assert learned == [(arrived.estimate_min, (clock.now() - arrived.checked_in_at) / 60, CHECKED_IN)]


# ---- a remote ticket moved on -----------------------------------------------------------------

def test_a_remote_ticket_transferred_to_another_branch_keeps_its_phone_and_channel(engine, clock):
    journeys = Journeys(engine, RedirectRules(max_km=50.0, max_travel_min=60.0), grace_min=10.0)
    ticket = journeys.issue_remote("hk-01", "civil", PHONE, "en")
    engine.check_in(ticket.id)
    engine.call_next("hk-01", "2")
    moved = journeys.transfer(ticket.id, "civil", "hk-02", actor="staff:off1")
    assert (moved.branch, moved.channel, moved.phone, moved.lang) == ("hk-02", REMOTE, PHONE, "en")
    # The citizen was at the branch: on the way now, called once due as any citizen sent on (no second check-in).
    assert moved.checked_in_at == engine.ticket(ticket.id).checked_in_at is not None
    assert moved.due_at > clock.now()
    with pytest.raises(Conflict) as refused:   # the phone's active remote ticket for the service is the new one
        engine.issue_remote("hk-01", "civil", PHONE, rules=RULES)
    assert refused.value.details["ticket"] == moved.id
    clock.set(moved.due_at)
    assert engine.call_next("hk-02", "2").id == moved.id


def test_a_remote_ticket_transferred_to_a_service_its_phone_already_holds_loses_neither(engine, clock):
    # The phone holds land and civil; the civil one, served, is sent on to land by its officer: two land
    # tickets on one phone now, both held, the first still checked in by the phone and still refusing a third.
    land = engine.issue_remote("hk-01", "land", PHONE, rules=RULES)
    civil = engine.issue_remote("hk-01", "civil", PHONE, rules=RULES)
    engine.check_in(civil.id)
    assert engine.call_next("hk-01", "2").id == civil.id
    moved = engine.transfer(civil.id, "land", actor="staff:off1")
    assert (moved.service, moved.channel, moved.phone) == ("land", REMOTE, PHONE)
    assert engine.call_next("hk-01", "4").id == moved.id   # checked in already; the first land ticket is not
    engine.done(moved.id)
    with pytest.raises(Conflict) as refused:
        engine.issue_remote("hk-01", "land", PHONE, rules=RULES)
    assert refused.value.details["ticket"] == land.id
    assert [t.id for t in engine.check_in_phone("hk-01", PHONE)] == [land.id]


def test_a_remote_ticket_redirected_before_its_check_in_waits_for_its_check_in_there(engine, clock):
    journeys = Journeys(engine, RedirectRules(max_km=50.0, max_travel_min=60.0), grace_min=10.0)
    ticket = journeys.issue_remote("hk-01", "civil", PHONE)
    moved = journeys.redirect(ticket.id, "hk-02").ticket
    assert (moved.channel, moved.phone, moved.checked_in_at) == (REMOTE, PHONE, None)
    # Its window is worked out at the branch it moved to, as when it was taken (motcua.core.remote).
    assert moved.window_end == clock.now() + (max(moved.estimate_min, 60.0) + 10.0) * 60
    clock.set(moved.due_at + 60)
    assert engine.call_next("hk-02", "2") is None   # due, but not there yet
    engine.check_in(moved.id)
    assert engine.call_next("hk-02", "2").id == moved.id


def test_a_walk_in_moved_on_stays_a_walk_in(engine):
    journeys = Journeys(engine, RedirectRules(max_km=50.0, max_travel_min=60.0))
    moved = journeys.redirect(engine.issue("hk-01", "civil").id, "hk-02").ticket
    assert (moved.channel, moved.phone, moved.window_end, moved.checked_in_at) == (WALK_IN, None, None, None)


def test_the_citizen_is_told_to_set_off_once_when_the_call_is_their_trip_plus_the_lead_away(engine, clock):
    busy_business(engine, 6)   # seven before it at one counter: a wait well beyond a 10-minute trip
    told = []
    engine.set_off_message = lambda ticket: told.append(ticket.id) or {"kind": "set_off", "ticket": ticket.id}
    rules = RemoteRules(travel_min=20.0, grace_min=10.0, lead_min=5.0)
    ticket = engine.issue_remote("hk-01", "business", PHONE, rules=rules, travel_min=10.0)
    assert ticket.travel_min == 10.0 and ticket.set_off_at is None
    first = engine.set_off(ticket.id, rules)
    _, wait = engine.estimate(engine.ticket(ticket.id))
    assert first == pytest.approx(wait - 10 - 5) and first > 1
    assert told == [] and engine.ticket(ticket.id).set_off_at is None
    minutes, served = first, 0
    while minutes > 0 and served < 7:   # the queue moves: the business counter serves one after another
        clock.advance(min(minutes, engine.mean_service_min("hk-01", "business")) * 60)
        engine.done(next(t.id for t in engine.tickets.values() if t.counter == "6" and t.status == CALLED))
        engine.call_next("hk-01", "6")
        served += 1
        minutes = engine.set_off(ticket.id, rules)
        assert told == ([ticket.id] if minutes == 0 else [])
    assert minutes == 0 and served < 7
    assert told == [ticket.id] and engine.ticket(ticket.id).set_off_at == clock.now()
    clock.advance(60)
    assert engine.set_off(ticket.id, rules) == 0 and engine.tell_set_off(rules) == 0
    assert told == [ticket.id]   # once per ticket
    engine.check_in(ticket.id)
    assert engine.set_off(ticket.id, rules) is None   # there already: nothing to tell


def test_the_servers_sweep_tells_each_remote_ticket_whose_time_has_come(engine, clock):
    told = []
    engine.set_off_message = lambda ticket: told.append(ticket.number) or {}
    near = engine.issue_remote("hk-01", "civil", PHONE, rules=RULES, travel_min=15.0)   # called as soon as there
    busy_business(engine, 6)
    far = engine.issue_remote("hk-01", "business", "0987654321", rules=RULES, travel_min=5.0)
    assert engine.tell_set_off(RULES) == 1 and told == [near.number]
    assert engine.ticket(far.id).set_off_at is None


def test_a_trip_longer_than_any_offered_is_refused(engine):
    with pytest.raises(Invalid) as refused:
        engine.issue_remote("hk-01", "civil", PHONE, rules=RULES, travel_min=21.0)
    assert refused.value.code == "bad_travel"
