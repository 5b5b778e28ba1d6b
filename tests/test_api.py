"""The published HTTP interface on Flask's test client (tests/conftest.py's `api`): shapes, roles,
refusals in order. Each test has an app and a database of its own; the real server process is
tested in test_durability.py and the end-to-end tests."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Api
from motcua.config import load_config
from motcua.web.app import create_app


def test_health_and_branches(api):
    health = api.get("/health").json
    assert health["status"] == "ok" and health["checks"]["store"] == "ok", health   # API.md: {"status": "ok"}, and what was checked
    branches = api.get("/branches").json
    hk01 = next(b for b in branches if b["id"] == "hk-01")
    assert hk01["name"]["vi"].startswith("Trung tâm PVHCC số 01")
    civil = {s["id"]: s for s in hk01["services"]}["civil"]
    assert {k: v for k, v in civil.items() if k != "fields"} == {
        "id": "civil", "name": {"vi": "Hộ tịch", "en": "Civil status"}, "letter": "A",
        "description": {"vi": "Khai sinh, kết hôn, khai tử, xác nhận tình trạng hôn nhân",
                        "en": "Births, marriages, deaths, marital status"}}
    assert {"lat", "lon"} <= hk01.keys()


def test_ticket_life_through_the_api(api):
    ticket = api.issue("civil", lang="en")
    assert ticket["number"] == "A001" and ticket["status_url"].endswith("/t/" + ticket["id"])
    assert set(ticket) >= {"id", "number", "service", "branch", "issued_at", "position", "estimated_wait_min",
                           "status_url", "alternatives"}
    public = api.get(f"/tickets/{ticket['id']}").json
    assert public["status"] == "waiting" and public["position"] == 1
    assert set(public) >= {"id", "number", "branch", "service", "status", "position", "estimated_wait_min",
                           "counter"}
    called = api.post("/branches/hk-01/counters/2/next", "off1").json["ticket"]
    assert (called["id"], called["status"], called["counter"]) == (ticket["id"], "called", "2")
    assert api.post(f"/tickets/{ticket['id']}/recall", "off1").json["status"] == "called"
    assert api.post(f"/tickets/{ticket['id']}/start", "off1").json["status"] == "serving"
    assert api.post(f"/tickets/{ticket['id']}/rating", None, {"score": 4}).status_code == 409
    assert api.post(f"/tickets/{ticket['id']}/done", "off1").json["status"] == "done"
    rated = api.post(f"/tickets/{ticket['id']}/rating", None, {"score": 4, "reasons": ["fast"], "comment": "tốt"})
    assert rated.status_code == 201 and rated.json["score"] == 4
    again = api.post(f"/tickets/{ticket['id']}/rating", None, {"score": 1})
    assert again.status_code == 409 and again.json["error"]["code"] == "already_rated"


def test_calls_follow_the_order_of_arrival(api, clock):
    first = api.issue("civil")
    clock.advance(60)
    second = api.issue("civil")
    assert (first["number"], second["number"]) == ("A001", "A002")
    assert api.get(f"/tickets/{second['id']}").json["position"] == 2
    assert api.post("/branches/hk-01/counters/2/next", "off1").json["ticket"]["id"] == first["id"]
    assert api.get(f"/tickets/{second['id']}").json["position"] == 1


def test_nobody_waiting_answers_null(api):
    assert api.post("/branches/hk-01/counters/6/next", "off1").json == {"ticket": None, "took_on": None}


def test_a_counter_with_nobody_of_its_own_takes_on_the_advices_service_and_calls(api, app):
    """Counter 6 serves business only; with a long land queue and no business citizen, its officer's Next
    makes the advice's move for it (what the manager's page lists) and calls the first land citizen."""
    land = [api.issue("land") for _ in range(12)]
    moves = api.get("/branches/hk-01/recommendations", "mgr1").json["moves"]
    wanted = next(m for m in moves if m["counter"] == "6")
    answer = api.post("/branches/hk-01/counters/6/next", "off1")
    assert answer.status_code == 200, answer.json
    assert answer.json["took_on"] == ["land"] and "land" in wanted["to_services"]
    assert answer.json["ticket"]["id"] == land[0]["id"]
    counter = api.get("/branches/hk-01/counters/6", "off1").json
    assert counter["services"] == wanted["to_services"]
    # The manager's page sees the move made: the advice no longer lists it.
    assert "6" not in {m["counter"] for m in api.get("/branches/hk-01/recommendations", "mgr1").json["moves"]}


def test_with_idle_takes_on_off_only_a_manager_moves_counters(api, config, clock, tokens):
    # Idle counters taking on others' services, a slot counts all of a branch's counters for each service:
    # hk-03's build, on half of one counter as set up, is offered more than that half gives it.
    pooled = build_slots(api)
    app = create_app(load_config(server={"db": config.server.db, "async_mode": "threading"},
                                 dossiers={"holidays": config.dossiers.holidays},
                                 staffing={"idle_takes_on": False}), clock)
    api = Api(app.test_client(), tokens)
    try:
        assert 0 < build_slots(api) < pooled
        for _ in range(12):
            api.issue("land")
        assert api.post("/branches/hk-01/counters/6/next", "off1").json == {"ticket": None, "took_on": None}
        assert api.get("/branches/hk-01/counters/6", "off1").json["services"] == ["business"]
    finally:
        app.extensions["motcua"].store.close()


def build_slots(api: Api) -> int:
    """The appointments hk-03 offers for build tomorrow, in all."""
    answer = api.get("/branches/hk-03/slots?service=build&date=2026-11-25")
    assert answer.status_code == 200, answer.text
    return sum(slot["free"] for slot in answer.json)


def test_transfer_to_another_branch(api):
    ticket = api.issue("civil")
    new = api.post(f"/tickets/{ticket['id']}/transfer", "off1", {"service": "cert", "branch": "hk-02"}).json
    assert new["branch"] == "hk-02" and new["id"] != ticket["id"] and new["status"] == "waiting"
    assert new["issued_at"] == ticket["issued_at"]
    assert api.get(f"/tickets/{ticket['id']}").json["status"] == "transferred"


def test_manager_moves_a_counter(api):
    answer = api.post("/branches/hk-01/counters/3", "mgr1", {"services": ["cert", "civil"], "open": True})
    assert answer.status_code == 200 and answer.json["services"] == ["cert", "civil"]
    state = api.get("/branches/hk-01/state").json
    assert next(c for c in state["counters"] if c["id"] == "3")["services"] == ["cert", "civil"]
    assert api.post("/branches/hk-01/counters/3", "off1", {"open": False}).status_code == 403
    closed = api.post("/branches/hk-01/counters/3", "mgr1", {"open": False})
    assert closed.json["open"] is False
    refused = api.post("/branches/hk-01/counters/3/next", "off1")
    assert refused.status_code == 409 and refused.json["error"]["code"] == "counter_closed"


@pytest.mark.parametrize("call, who, body, status, code", [
    # 401: no token, or a wrong one
    (("POST", "/branches/hk-01/tickets"), None, {"service": "civil"}, 401, "unauthorized"),
    (("POST", "/branches/hk-01/counters/1/next"), "bogus", None, 401, "invalid_token"),
    # 404: unknown branch, counter, ticket, service
    (("POST", "/branches/nowhere/tickets"), "kiosk1", {"service": "civil"}, 404, "unknown_branch"),
    (("GET", "/branches/nowhere/state"), None, None, 404, "unknown_branch"),
    (("POST", "/branches/hk-01/counters/99/next"), "off1", None, 404, "unknown_counter"),
    (("GET", "/tickets/nope"), None, None, 404, "unknown_ticket"),
    (("POST", "/tickets/nope/done"), "off1", None, 404, "unknown_ticket"),
    (("POST", "/branches/hk-01/tickets"), "kiosk1", {"service": "astrology"}, 404, "unknown_service"),
    # 404 comes before 403: an unknown branch is unknown to everybody
    (("POST", "/branches/nowhere/counters/1/next"), "off2", None, 404, "unknown_branch"),
    # 403: another branch's officer, another branch's kiosk, a display, an officer doing a manager's job
    (("POST", "/branches/hk-01/counters/1/next"), "off2", None, 403, "other_branch"),
    (("POST", "/branches/hk-01/tickets"), "kiosk2", {"service": "civil"}, 403, "forbidden"),
    (("POST", "/branches/hk-01/tickets"), "display1", {"service": "civil"}, 403, "forbidden"),
    (("POST", "/branches/hk-01/counters/1"), "off1", {"open": True}, 403, "forbidden"),
    (("POST", "/branches/hk-01/counters/1/next"), "kiosk1", None, 403, "forbidden"),
    # 403 comes before 400
    (("POST", "/branches/hk-01/tickets"), "kiosk2", "not json", 403, "forbidden"),
    # 400: malformed JSON, wrong types, missing fields
    (("POST", "/branches/hk-01/tickets"), "kiosk1", "{not json", 400, "malformed_json"),
    (("POST", "/branches/hk-01/tickets"), "kiosk1", [1, 2], 400, "malformed_json"),
    (("POST", "/branches/hk-01/tickets"), "kiosk1", {}, 400, "missing_field"),
    (("POST", "/branches/hk-01/tickets"), "kiosk1", {"service": 3}, 400, "wrong_type"),
    (("POST", "/branches/hk-01/tickets"), "kiosk1", {"service": "civil", "priority": "yes"}, 400, "wrong_type"),
    (("POST", "/branches/hk-01/tickets"), "kiosk1", {"service": "civil", "lang": "fr"}, 400, "bad_value"),
    (("POST", "/branches/hk-01/counters/1"), "mgr1", {}, 400, "missing_field"),
    (("POST", "/branches/hk-01/counters/1"), "mgr1", {"services": "civil"}, 400, "wrong_type"),
    (("POST", "/auth/login"), None, {"username": "off1"}, 400, "missing_field"),
    (("POST", "/auth/login"), None, {"username": "off1", "password": "wrong-one"}, 401, "bad_credentials"),
    # 413: over 64 KiB
    (("POST", "/branches/hk-01/tickets"), "kiosk1", {"service": "civil", "pad": "x" * 70_000}, 413,
     "request_entity_too_large"),
])
def test_refusals(api, call, who, body, status, code):
    method, path = call
    if isinstance(body, str):
        answer = api.request(method, path, who, data=body, content_type="application/json")
    else:
        answer = api.request(method, path, who, body)
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json["error"]["code"] == code


def test_rating_refusals(api):
    ticket = api.issue("land")
    for body in ({"score": 0}, {"score": "4"}, {"score": 4, "reasons": "slow"}, {"score": 4, "comment": 7}):
        assert api.post(f"/tickets/{ticket['id']}/rating", None, body).status_code == 400
    assert api.post(f"/tickets/{ticket['id']}/rating", None, {"score": 4}).status_code == 409


@pytest.mark.parametrize("action", ["recall", "start", "done", "no-show", "requeue"])
def test_transitions_not_allowed_answer_409(api, action):
    ticket = api.issue("business")
    answer = api.post(f"/tickets/{ticket['id']}/{action}", "off1")
    assert answer.status_code == 409 and answer.json["error"]["code"] == "bad_transition"
    assert api.get(f"/tickets/{ticket['id']}").json["status"] == "waiting"


def test_busy_counter_refuses_next(api):
    api.issue("land")
    api.issue("land")
    first = api.post("/branches/hk-01/counters/4/next", "off1")
    assert first.status_code == 200 and first.json["ticket"]
    second = api.post("/branches/hk-01/counters/4/next", "off1")
    assert second.status_code == 409 and second.json["error"]["code"] == "counter_busy"


def test_unknown_routes_and_methods_answer_json(api):
    assert api.get("/nothing-here").json["error"]["code"] == "not_found"
    wrong = api.request("DELETE", "/health")
    assert wrong.status_code == 405 and "error" in wrong.json


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10)
bodies = st.dictionaries(st.sampled_from(["service", "priority", "lang", "score", "reasons", "comment", "services",
                                          "open", "branch", "ticket", "username", "password"]),
                         json_values, max_size=5) | json_values


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, path=st.sampled_from([
    "/branches/hk-01/tickets", "/branches/hk-01/counters/1", "/branches/hk-01/counters/1/call",
    "/tickets/nope/transfer", "/tickets/nope/rating", "/auth/login"]))
def test_no_body_ever_gets_a_500(api, body, path):
    who = "mgr1" if "counters" in path or "transfer" in path else "kiosk1"
    answer = api.post(path, who, body)
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert answer.json["error"]["code"]


def test_a_crowded_branch_offers_a_nearby_one(api):
    for _ in range(12):
        api.issue("land", who="kiosk2", branch="hk-02")
    ticket = api.issue("land", who="kiosk2", branch="hk-02")
    assert ticket["alternatives"], "12 land tickets ahead at one land counter, and nothing offered"
    best = ticket["alternatives"][0]
    assert best["branch"] in {"hk-01", "hk-03", "hn-hq"}
    assert best["travel_min"] + best["estimated_wait_min"] + 5 <= ticket["estimated_wait_min"]
    assert 0 < best["distance_km"] <= 5
    assert api.issue("land", who="kiosk2", branch="hk-02", priority=True)["alternatives"] == []


def test_a_quiet_branch_offers_nothing(api):
    assert api.issue("land", who="kiosk2", branch="hk-02")["alternatives"] == []


def test_a_service_no_open_counter_serves_is_said_before_a_ticket_with_the_branches_that_serve_it(api):
    served = api.get("/branches/hk-01/services/land/availability").json
    assert served == {"branch": "hk-01", "service": "land", "served": True,
                      "estimated_wait_min": served["estimated_wait_min"], "alternatives": []}
    for counter in ("4", "5"):   # hk-01's only land counters
        assert api.post(f"/branches/hk-01/counters/{counter}", "mgr1", {"open": False}).status_code == 200
    unserved = api.get("/branches/hk-01/services/land/availability").json
    assert (unserved["served"], unserved["estimated_wait_min"]) == (False, None)
    offered = unserved["alternatives"]
    assert offered, "hk-02, hk-03 and hn-hq serve land within 5 km, and nothing offered"
    assert [a["travel_min"] + a["estimated_wait_min"] for a in offered] == sorted(
        a["travel_min"] + a["estimated_wait_min"] for a in offered)
    for offer in offered:
        there = api.get(f"/branches/{offer['branch']}/state").json
        assert next(s for s in there["services"] if s["id"] == "land")["estimated_wait_min"] is not None
        assert 0 < offer["distance_km"] <= 5
    # What was said holds: a ticket here has no estimate, and the citizen can be sent to the first.
    ticket = api.issue("land")
    assert ticket["estimated_wait_min"] is None
    moved = api.post(f"/tickets/{ticket['id']}/redirect", "kiosk1", {"branch": offered[0]["branch"]})
    assert moved.status_code == 201 and moved.json["branch"] == offered[0]["branch"]


@pytest.mark.parametrize("path, code", [("/branches/nowhere/services/land/availability", "unknown_branch"),
                                        ("/branches/hk-01/services/nothing/availability", "unknown_service")])
def test_availability_of_what_does_not_exist_is_404(api, path, code):
    answer = api.get(path)
    assert answer.status_code == 404 and answer.json["error"]["code"] == code
