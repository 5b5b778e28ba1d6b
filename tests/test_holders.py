"""Who holds a counter (motcua.core.holders): one officer per counter, take-overs explicit and in the
event chain, releases; the engine on a fake clock, the store keeping it, the report crediting the
officer who served, and the API routes."""
from __future__ import annotations

import pytest

from motcua import audit
from motcua.core import reports, scenario
from motcua.core.model import Conflict
from motcua.store import Store

from conftest import MORNING, PASSWORD
from test_counter_pause import DATA, make_engine
from test_openapi import fits

LAN, MINH = "staff:lan", "staff:minh"


@pytest.fixture
def engine(clock):
    """The engine on the fake clock of conftest (MORNING)."""
    return make_engine(clock)


def refusal(action) -> Conflict:
    with pytest.raises(Conflict) as refused:
        action()
    return refused.value


# ---- the engine --------------------------------------------------------------------------------

def test_acting_at_a_free_counter_takes_it_and_another_officer_is_refused_every_action(engine, clock):
    first, second = engine.issue("hk-01", "land"), engine.issue("hk-01", "land")
    assert engine.call_next("hk-01", "4", actor=LAN).id == first.id
    counter = engine.counter("hk-01", "4")
    assert (counter.holder, counter.held_since) == (LAN, MORNING)
    attempts = {
        "next": lambda: engine.call_next("hk-01", "4", actor=MINH),
        "pick": lambda: engine.call_ticket(second.id, "hk-01", "4", actor=MINH),
        "recall": lambda: engine.recall(first.id, actor=MINH),
        "start": lambda: engine.start(first.id, actor=MINH),
        "done": lambda: engine.done(first.id, actor=MINH),
        "no-show": lambda: engine.no_show(first.id, actor=MINH),
        "transfer": lambda: engine.transfer(first.id, "cert", actor=MINH),
        "transfer away": lambda: engine.transfer(first.id, "civil", "hk-02", actor=MINH),
        "pause": lambda: engine.pause("hk-01", "4", "break", actor=MINH),
        "resume": lambda: engine.resume("hk-01", "4", actor=MINH),
        "release": lambda: engine.release("hk-01", "4", actor=MINH),
        "take": lambda: engine.take("hk-01", "4", MINH),
    }
    for name, attempt in attempts.items():
        refused = refusal(attempt)
        assert refused.code == "counter_taken", name
        assert refused.details == {"branch": "hk-01", "counter": "4", "holder": "lan"}, name
    assert engine.ticket(first.id).status == "called" and engine.ticket(second.id).status == "waiting"
    # The holder goes on; the rule binds no one else's counter, and a caller with no actor (the simulator).
    assert engine.done(first.id, actor=LAN).status == "done"
    assert engine.call_next("hk-01", "5", actor=MINH).id == second.id
    assert engine.done(second.id).status == "done"


def test_a_take_over_is_explicit_says_whose_it_was_and_hands_the_ticket_on(engine, clock):
    ticket = engine.issue("hk-01", "land")
    engine.call_next("hk-01", "4", actor=LAN)
    clock.advance(60)
    counter, previous = engine.take("hk-01", "4", MINH, take_over=True)
    assert (counter.holder, counter.held_since, previous) == (MINH, MORNING + 60, LAN)
    assert refusal(lambda: engine.done(ticket.id, actor=LAN)).details["holder"] == "minh"
    assert engine.done(ticket.id, actor=MINH).status == "done"
    # Taking one's own counter, or a free one, changes nothing and was nobody's.
    assert engine.take("hk-01", "4", MINH) == (counter, None)
    assert engine.take("hk-01", "6", LAN)[1] is None and engine.counter("hk-01", "6").holder == LAN


def test_nobody_waiting_still_takes_the_counter_and_release_frees_it(engine):
    assert engine.call_next("hk-01", "4", actor=LAN) is None
    assert engine.counter("hk-01", "4").holder == LAN
    assert refusal(lambda: engine.call_next("hk-01", "4", actor=MINH)).code == "counter_taken"
    freed = engine.release("hk-01", "4", LAN)
    assert (freed.holder, freed.held_since) == (None, None)
    assert engine.call_next("hk-01", "4", actor=MINH) is None and engine.counter("hk-01", "4").holder == MINH


def test_a_pause_keeps_the_counter_a_sign_out_and_the_day_s_close_free_it(engine, clock):
    engine.pause("hk-01", "4", "break", actor=LAN)
    engine.take("hk-01", "5", LAN)
    assert engine.counter("hk-01", "4").holder == LAN
    assert refusal(lambda: engine.resume("hk-01", "4", actor=MINH)).code == "counter_taken"
    assert {c.id for c in engine.release_held_by(LAN)} == {"4", "5"}
    assert engine.counter("hk-01", "4").holder is None and engine.counter("hk-01", "4").pause_reason == "break"
    engine.resume("hk-01", "4", actor=MINH)
    clock.advance(20 * 3600)  # the next morning
    assert engine.close_day()
    assert all(c.holder is None for c in engine.counters.values())


def test_takes_take_overs_and_releases_are_events_of_the_chain_and_the_store_keeps_the_holder(tmp_path, clock):
    store = Store(tmp_path / "m.db")
    store.load_network(scenario.services(DATA), scenario.branches(DATA), scenario.counters(DATA))
    engine = make_engine(clock, store)
    ticket = engine.issue("hk-01", "land")
    engine.call_next("hk-01", "4", actor=LAN)
    clock.advance(30)
    engine.take("hk-01", "4", MINH, take_over=True)
    engine.done(ticket.id, actor=MINH)
    engine.release("hk-01", "4", MINH)
    engine.take("hk-01", "2", LAN)
    rows = store.query("select ticket, branch, from_status, to_status, counter, actor, note from events "
                       "where ticket is null order by id")
    assert rows == [
        {"ticket": None, "branch": "hk-01", "from_status": "free", "to_status": "held", "counter": "4",
         "actor": LAN, "note": None},
        {"ticket": None, "branch": "hk-01", "from_status": "held", "to_status": "held", "counter": "4",
         "actor": MINH, "note": "taken_from:staff:lan"},
        {"ticket": None, "branch": "hk-01", "from_status": "held", "to_status": "free", "counter": "4",
         "actor": MINH, "note": "released"},
        {"ticket": None, "branch": "hk-01", "from_status": "free", "to_status": "held", "counter": "2",
         "actor": LAN, "note": None}]
    # The take and the call it came with are one commit, the take first.
    ids = [r["to_status"] for r in store.query("select to_status from events order by id")]
    assert ids[1:3] == ["held", "called"]
    assert store.read(lambda db: audit.verify(db.conn)).broken is None
    restarted = make_engine(clock, store, store.tickets("2000-01-01"))
    assert restarted.counter("hk-01", "2").holder == LAN and restarted.counter("hk-01", "2").held_since == MORNING + 30
    assert refusal(lambda: restarted.call_next("hk-01", "2", actor=MINH)).code == "counter_taken"
    store.close()


# ---- the report credits the officer who served ------------------------------------------------

def test_the_report_credits_the_officer_who_finished_the_ticket_not_its_caller():
    tickets = [{"id": "t1", "service": "civil", "status": "done", "created_at": 0.0, "due_at": None,
                "first_called_at": 60.0, "called_at": 60.0, "started_at": 90.0, "ended_at": 600.0}]
    events = [{"ticket": "t1", "from_status": "waiting", "to_status": "called", "counter": "4", "actor": LAN},
              {"ticket": "t1", "from_status": "called", "to_status": "serving", "counter": "4", "actor": LAN},
              {"ticket": "t1", "from_status": "serving", "to_status": "done", "counter": "4", "actor": MINH}]
    [facts] = reports.ticket_facts(tickets, events, [])
    assert (facts.counter, facts.officer) == ("4", "minh")
    # Finished with no staff account (the simulator): the caller keeps it.
    [facts] = reports.ticket_facts(tickets, [*events[:2], {**events[2], "actor": None}], [])
    assert facts.officer == "lan"


def test_a_manager_resumes_a_paused_counter_from_the_dashboard_without_taking_it(engine):
    engine.pause("hk-01", "4", "break", actor=LAN)
    assert engine.resume("hk-01", "4", actor="staff:boss", by_manager=True).holder == LAN
    assert refusal(lambda: engine.call_next("hk-01", "4", actor="staff:boss")).code == "counter_taken"


# ---- the API -----------------------------------------------------------------------------------

@pytest.fixture
def second(api):
    """A second officer of hk-01 ("off3"), signed in: the token by that name."""
    added = api.post("/admin/users", "admin", {"username": "off3", "password": PASSWORD, "role": "officer",
                                               "branch": "hk-01"})
    assert added.status_code == 201, added.text
    login = api.post("/auth/login", None, {"username": "off3", "password": PASSWORD})
    api.tokens["off3"] = login.json["token"]
    return "off3"


def held_by(api, counter_id: str) -> str | None:
    state = api.get("/branches/hk-01/staff-state", "mgr1").json
    return next(c["holder"] for c in state["counters"] if c["id"] == counter_id)


def counter_events(app) -> list[dict]:
    return app.extensions["motcua"].store.query(
        "select from_status, to_status, counter, actor, note from events where ticket is null and dossier is null "
        "order by id")


def test_a_second_officer_is_refused_409_naming_whose_counter_it_is(api, second):
    doc = api.get("/openapi.json").json
    ticket = api.issue("land")
    assert api.post("/branches/hk-01/counters/4/next", "off1").json["ticket"]["id"] == ticket["id"]
    assert held_by(api, "4") == "off1"
    for path, body in [("/branches/hk-01/counters/4/next", None), (f"/tickets/{ticket['id']}/done", None),
                       (f"/tickets/{ticket['id']}/recall", None), (f"/tickets/{ticket['id']}/start", None),
                       (f"/tickets/{ticket['id']}/no-show", None),
                       (f"/tickets/{ticket['id']}/transfer", {"service": "cert"}),
                       ("/branches/hk-01/counters/4/pause", {"reason": "break"}),
                       ("/branches/hk-01/counters/4/take", {})]:
        refused = api.post(path, second, body)
        assert refused.status_code == 409, (path, refused.text)
        assert refused.json["error"]["code"] == "counter_taken"
        assert refused.json["error"]["details"] == {"branch": "hk-01", "counter": "4", "holder": "off1"}
        fits(doc, "post", path.replace(ticket["id"], "{ticket_id}").replace("hk-01", "{b}").replace("/4/", "/{c}/"),
             refused)
    assert api.get(f"/tickets/{ticket['id']}").json["status"] == "called"
    detail = api.get("/branches/hk-01/counters/4", second).json
    assert detail["holder"] == "off1" and detail["ticket"]["id"] == ticket["id"]
    # The other counters are anybody's; the holder carries on.
    assert api.post("/branches/hk-01/counters/5/next", second).status_code == 200
    assert api.post(f"/tickets/{ticket['id']}/done", "off1").json["status"] == "done"


def test_a_take_over_is_explicit_answers_whose_it_was_and_is_an_event(api, second, app):
    doc = api.get("/openapi.json").json
    ticket = api.issue("land")
    api.post("/branches/hk-01/counters/4/next", "off1")
    taken = api.post("/branches/hk-01/counters/4/take", second, {"take_over": True})
    assert taken.status_code == 200, taken.text
    assert fits(doc, "post", "/branches/{b}/counters/{c}/take", taken) == {
        "id": "4", "branch": "hk-01", "holder": "off3", "held_since": "2026-11-24T08:00:00+07:00",
        "taken_from": "off1"}
    assert held_by(api, "4") == "off3"
    assert api.post(f"/tickets/{ticket['id']}/done", "off1").json["error"]["details"]["holder"] == "off3"
    assert api.post(f"/tickets/{ticket['id']}/done", second).json["status"] == "done"
    assert counter_events(app) == [
        {"from_status": "free", "to_status": "held", "counter": "4", "actor": "staff:off1", "note": None},
        {"from_status": "held", "to_status": "held", "counter": "4", "actor": "staff:off3",
         "note": "taken_from:staff:off1"}]
    again = api.post("/branches/hk-01/counters/4/take", second, {})
    assert again.status_code == 200 and again.json["taken_from"] is None
    assert api.post("/branches/hk-01/counters/4/take", second, {"take_over": "yes"}).status_code == 400


def test_release_and_sign_out_free_the_counters_an_account_holds(api, second, app):
    api.post("/branches/hk-01/counters/4/next", "off1")
    api.post("/branches/hk-01/counters/5/pause", "off1", {"reason": "break"})
    assert api.post("/branches/hk-01/counters/4/release", second).json["error"]["code"] == "counter_taken"
    released = api.post("/branches/hk-01/counters/4/release", "off1")
    assert released.status_code == 200 and released.json["holder"] is None
    api.post("/branches/hk-01/counters/4/next", "off1")
    assert (held_by(api, "4"), held_by(api, "5")) == ("off1", "off1")
    assert api.post("/auth/logout", "off1").status_code == 200
    assert (held_by(api, "4"), held_by(api, "5")) == (None, None)
    assert api.post("/branches/hk-01/counters/5/resume", second).status_code == 200
    assert held_by(api, "5") == "off3"
    assert [e["note"] for e in counter_events(app) if e["to_status"] == "free"] == ["released", "signed_out",
                                                                                   "signed_out"]
    # An admin moving an account elsewhere frees its counters too.
    api.post("/branches/hk-01/counters/4/next", second)
    assert api.request("PATCH", "/admin/users/off3", "admin", {"branch": "hk-02"}).status_code == 200
    assert (held_by(api, "4"), held_by(api, "5")) == (None, None)


def test_a_manager_works_a_counter_under_the_same_rule_and_resumes_any_from_the_dashboard(api):
    api.post("/branches/hk-01/counters/4/pause", "off1", {"reason": "meeting"})
    assert api.post("/branches/hk-01/counters/4/resume", "mgr1").status_code == 200
    assert held_by(api, "4") == "off1"
    assert api.post("/branches/hk-01/counters/4/next", "mgr1").json["error"]["code"] == "counter_taken"
    assert api.post("/branches/hk-01/counters/5/next", "admin").status_code == 200 and held_by(api, "5") == "admin"


def test_the_report_credits_the_officer_who_served_after_a_take_over(api, second):
    ticket = api.issue("land")
    api.post("/branches/hk-01/counters/4/next", "off1")
    api.post(f"/tickets/{ticket['id']}/start", "off1")
    api.post("/branches/hk-01/counters/4/take", second, {"take_over": True})
    assert api.post(f"/tickets/{ticket['id']}/done", second).status_code == 200
    report = api.get("/branches/hk-01/report.json?from=2026-11-24&to=2026-11-24", "mgr1").json
    assert [(o["officer"], o["served"]) for o in report["officers"]] == [("off3", 1)]
    assert [(c["counter"], c["served"]) for c in report["counters"]] == [("4", 1)]
