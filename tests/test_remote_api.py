"""Remote tickets through the API on a fake clock: nearby branches, taking one, checking in, the refusals."""
from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from motcua.config import load_config
from motcua.web.app import create_app

from conftest import Api

PHONE = "0912345678"


def remote(api: Api, branch: str = "hk-01", **body):
    return api.post(f"/branches/{branch}/remote-tickets", json={"service": "civil", "phone": PHONE, **body})


def test_nearby_ranks_the_branches_a_citizen_can_reach_by_travel_plus_wait(api):
    home = next(b for b in api.get("/branches").json if b["id"] == "hk-01")
    answer = api.get(f"/branches/nearby?lat={home['lat']}&lon={home['lon']}&service=civil")
    assert answer.status_code == 200, answer.text
    found = answer.json
    assert found[0]["branch"] == "hk-01" and found[0]["travel_min"] == 0
    assert found[0]["name"]["vi"]
    assert [b["total_min"] for b in found] == sorted(b["total_min"] for b in found)
    assert all(b["total_min"] == b["travel_min"] + b["estimated_wait_min"] or
               abs(b["total_min"] - b["travel_min"] - b["estimated_wait_min"]) <= 1 for b in found)
    for _ in range(30):
        api.issue("civil")
    assert api.get(f"/branches/nearby?lat={home['lat']}&lon={home['lon']}&service=civil").json[0]["branch"] != "hk-01"
    assert api.get(f"/branches/nearby?lat={home['lat'] + 1}&lon={home['lon']}&service=civil").json == []


@pytest.mark.parametrize("query, status, code", [
    ("lat=21&lon=105.85", 400, "bad_query"),
    ("lat=north&lon=105.85&service=civil", 400, "bad_query"),
    ("lat=91&lon=105.85&service=civil", 400, "bad_query"),
    ("lat=21&lon=105.85&service=nothing", 404, "unknown_service"),
])
def test_nearby_refuses_a_bad_query_in_json(api, query, status, code):
    answer = api.get(f"/branches/nearby?{query}")
    assert (answer.status_code, answer.json["error"]["code"]) == (status, code)


def test_a_remote_ticket_is_taken_without_a_token_and_called_only_after_check_in(api, clock):
    answer = remote(api, phone="+84 912 345 678", lang="en")
    assert answer.status_code == 201, answer.text
    ticket = answer.json
    assert ticket["number"] == "A001" and ticket["lang"] == "en" and ticket["status"] == "waiting"
    assert ticket["status_url"].endswith(f"/t/{ticket['id']}")
    window_end = datetime.fromisoformat(ticket["window_end"])
    assert window_end > datetime.fromisoformat(ticket["due_at"]) > datetime.fromisoformat(ticket["issued_at"])
    seen = api.get(f"/tickets/{ticket['id']}").json
    assert (seen["channel"], seen["checked_in_at"], seen["window_end"]) == ("remote", None, ticket["window_end"])
    assert "phone" not in seen and PHONE not in str(seen)
    clock.set(datetime.fromisoformat(ticket["window_end"]).timestamp() - 60)   # past due: not called unchecked
    assert api.post("/branches/hk-01/counters/2/next", "off1").json["ticket"] is None
    checked = api.post(f"/branches/hk-01/tickets/{ticket['number']}/check-in", "kiosk1")
    assert checked.status_code == 200, checked.text
    assert checked.json["checked_in_at"] is not None
    assert api.post("/branches/hk-01/counters/2/next", "off1").json["ticket"]["id"] == ticket["id"]


def door_code(api: Api, branch: str = "hk-01") -> str:
    """The code the branch's door QR carries today, as its manager fetches it."""
    answer = api.get(f"/branches/{branch}/door", "mgr1" if branch == "hk-01" else "admin")
    assert answer.status_code == 200, answer.text
    return parse_qs(urlsplit(answer.json["url"]).query)["code"][0]


def test_the_phone_at_the_door_checks_its_tickets_in(api):
    civil = remote(api).json
    cert = remote(api, service="cert").json
    elsewhere = remote(api, "hk-02", service="land").json
    answer = api.post("/branches/hk-01/remote-tickets/check-in", json={"phone": "0912 345 678", "code": door_code(api)})
    assert answer.status_code == 200, answer.text
    assert sorted(t["id"] for t in answer.json) == sorted([civil["id"], cert["id"]])
    assert all(t["checked_in_at"] for t in answer.json)
    assert api.get(f"/tickets/{elsewhere['id']}").json["checked_in_at"] is None
    again = api.post("/branches/hk-01/remote-tickets/check-in", json={"phone": PHONE, "code": door_code(api)})
    assert (again.status_code, again.json["error"]["code"]) == (404, "unknown_ticket")


def test_the_door_qr_carries_the_phone_page_with_a_code_of_the_branch_and_the_day(api, clock):
    answer = api.get("/branches/hk-01/door", "mgr1")
    assert answer.status_code == 200, answer.text
    door = answer.json
    assert door["branch"] == "hk-01" and door["day"] == "2026-11-24"
    assert urlsplit(door["url"]).path == "/door/hk-01"
    assert door["qr_svg"].startswith("<svg") and "<path d=\"M" in door["qr_svg"]
    today = door_code(api)
    assert door_code(api, "hk-02") != today
    clock.advance(24 * 3600)
    journeys = api.client.application.extensions["motcua"].journeys
    assert journeys.door_code("hk-01") != today   # a photo of today's code checks nobody in tomorrow


@pytest.mark.parametrize("who, status", [("off1", 403), ("kiosk1", 403), (None, 401), ("admin", 200)])
def test_only_the_branchs_managers_get_its_door_code(api, who, status):
    assert api.get("/branches/hk-01/door", who).status_code == status


@pytest.mark.parametrize("code", [None, "", "AAAAAAAAAAAA", "yesterday"])
def test_a_check_in_by_phone_without_todays_door_code_is_refused(api, clock, code):
    ticket = remote(api).json
    if code == "yesterday":
        code = door_code(api)
        clock.advance(24 * 3600)
    body = {"phone": PHONE} if code is None else {"phone": PHONE, "code": code}
    answer = api.post("/branches/hk-01/remote-tickets/check-in", json=body)
    assert (answer.status_code, answer.json["error"]["code"]) == (403, "wrong_door_code")
    assert api.get(f"/tickets/{ticket['id']}").json["checked_in_at"] is None


def test_another_branchs_door_code_checks_nothing_in(api):
    remote(api)
    answer = api.post("/branches/hk-01/remote-tickets/check-in", json={"phone": PHONE, "code": door_code(api, "hk-02")})
    assert (answer.status_code, answer.json["error"]["code"]) == (403, "wrong_door_code")


def test_a_second_ticket_for_the_phone_and_service_is_refused_with_the_first(api):
    first = remote(api).json
    answer = remote(api, "hk-02")
    assert answer.status_code == 409
    assert answer.json["error"]["code"] == "remote_ticket_held"
    assert answer.json["error"]["details"] == {"ticket": first["id"], "branch": "hk-01", "number": first["number"]}


def test_a_window_missed_leaves_the_queue_and_refuses_the_late_check_in(api, clock):
    ticket = remote(api).json
    clock.set(datetime.fromisoformat(ticket["window_end"]).timestamp())
    late = api.post(f"/branches/hk-01/tickets/{ticket['number']}/check-in", "kiosk1")
    assert (late.status_code, late.json["error"]["code"]) == (409, "window_missed")
    assert api.get(f"/tickets/{ticket['id']}").json["status"] == "expired"
    assert remote(api).status_code == 201


@pytest.mark.parametrize("body, status, code", [
    ({"service": "civil", "phone": "12345"}, 400, "bad_phone"),
    ({"service": "civil", "phone": "0212345678"}, 400, "bad_phone"),
    ({"service": "civil"}, 400, "missing_field"),
    ({"service": "civil", "phone": 912345678}, 400, "wrong_type"),
    ({"service": "nothing", "phone": PHONE}, 404, "unknown_service"),
])
def test_bad_remote_tickets_are_refused_in_json(api, body, status, code):
    answer = api.post("/branches/hk-01/remote-tickets", json=body)
    assert (answer.status_code, answer.json["error"]["code"]) == (status, code)


def test_an_unknown_branch_and_a_form_are_refused(api):
    assert remote(api, "nowhere").status_code == 404
    form = api.client.post("/api/v1/branches/hk-01/remote-tickets", data={"service": "civil", "phone": PHONE})
    assert form.status_code == 415


def test_remote_tickets_are_limited_per_address(config, clock):
    app = create_app(load_config(server={"db": config.server.db, "async_mode": "threading"},
                                 remote={"tickets_per_minute_per_address": 2}), clock)
    app.config["TESTING"] = True
    api = Api(app.test_client(), {})
    try:
        answers = [remote(api, phone=f"09123456{n:02d}").status_code for n in range(3)]
        assert answers == [201, 201, 429]
        limited = remote(api, phone="0987654321")
        assert limited.status_code == 429 and limited.headers.get("Retry-After")
        assert limited.json["error"]["code"]
    finally:
        app.extensions["motcua"].store.close()


def test_the_server_tells_a_remote_ticket_its_turn_is_near_through_the_outbox(api):
    for _ in range(5):
        api.issue("business")
    ticket = remote(api, service="business", lang="en").json
    store = api.client.application.extensions["motcua"].store
    ahead = api.get(f"/tickets/{ticket['id']}").json["position"] - 1
    assert ahead >= 5
    while ahead > 3:
        assert store.query("select key from outbox") == []
        served = api.get("/branches/hk-01/counters/6", "off1").json.get("ticket")
        if served:
            api.post(f"/tickets/{served['id']}/done", "off1")
        assert api.post("/branches/hk-01/counters/6/next", "off1").status_code == 200
        ahead = api.get(f"/tickets/{ticket['id']}").json["position"] - 1
    [row] = store.query("select key, recipient, lang from outbox")
    assert row == {"key": f"ticket:{ticket['id']}:turn_near", "recipient": PHONE, "lang": "en"}


def test_the_server_tells_a_remote_ticket_to_set_off_once_through_the_outbox(api, clock):
    """The trip the phone gave and [remote] lead_min (5): told when the predicted call is that far away."""
    for _ in range(6):
        api.issue("business")
    ticket = remote(api, service="business", lang="en", travel_min=8).json
    rt = api.client.application.extensions["motcua"]
    seen = api.get(f"/tickets/{ticket['id']}").json
    assert seen["set_off_at"] is None and seen["estimated_wait_min"] > 8 + 5
    told = []
    for _ in range(6):   # the business counter serves one after another until the ticket's citizen is told
        wait = api.get(f"/tickets/{ticket['id']}").json["estimated_wait_min"]
        told.append(rt.journeys.tell_set_off())
        assert told[-1] == 0 if wait >= 8 + 5 + 1 else wait <= 8 + 5 and told[-1] == 1
        if told[-1]:
            break
        assert api.post("/branches/hk-01/counters/6/next", "off1").status_code == 200
        clock.advance(5 * 60)
        api.post(f"/tickets/{api.get('/branches/hk-01/counters/6', 'off1').json['ticket']['id']}/done", "off1")
    assert told[0] == 0 and told[-1] == 1 and rt.journeys.tell_set_off() == 0
    [row] = rt.store.query("select key, recipient, lang, texts from outbox where kind = 'set_off'")
    assert (row["key"], row["recipient"], row["lang"]) == (f"ticket:{ticket['id']}:set_off", PHONE, "en")
    assert "set off" in json.loads(row["texts"])["en"] and "lên đường" in json.loads(row["texts"])["vi"]
    assert api.get(f"/tickets/{ticket['id']}").json["set_off_at"] is not None


@pytest.mark.parametrize("travel", [-1, 10_000, "far"])
def test_a_trip_the_phone_cannot_have_is_refused(api, travel):
    answer = remote(api, travel_min=travel)
    assert answer.status_code == 400 and answer.json["error"]["code"] in ("bad_travel", "wrong_type", "bad_value")


def crowded_ticket(api) -> dict:
    """A land ticket at hk-01 behind twelve others: offered a quieter branch nearby."""
    for _ in range(12):
        api.issue("land")
    return api.issue("land")


def test_a_waiting_tickets_page_is_offered_a_sooner_branch_and_its_holder_takes_it(api):
    ticket = crowded_ticket(api)
    seen = api.get(f"/tickets/{ticket['id']}").json
    offer = seen["offer"]
    assert offer is not None and offer["branch"] != "hk-01"
    assert offer["saving_min"] >= 10 and set(offer) == {"branch", "estimated_wait_min", "travel_min", "distance_km",
                                                         "saving_min"}
    moved = api.post(f"/tickets/{ticket['id']}/move", json={"branch": offer["branch"], "code": ticket["rating_code"]})
    assert moved.status_code == 201, moved.text
    assert moved.json["branch"] == offer["branch"] and moved.json["status"] == "waiting"
    assert moved.json["status_url"].endswith(f"/t/{moved.json['id']}")
    assert moved.json["rating_code"] == ticket["rating_code"]
    old = api.get(f"/tickets/{ticket['id']}").json
    assert (old["status"], old["transferred_to"], old["offer"]) == ("transferred", moved.json["id"], None)


def test_an_offer_is_taken_only_by_the_holder_and_only_while_offered(api):
    ticket = crowded_ticket(api)
    offer = api.get(f"/tickets/{ticket['id']}").json["offer"]
    wrong = api.post(f"/tickets/{ticket['id']}/move", json={"branch": offer["branch"], "code": "0000"
                                                           if ticket["rating_code"] != "0000" else "1111"})
    assert (wrong.status_code, wrong.json["error"]["code"]) == (403, "wrong_rating_code")
    gone = api.post(f"/tickets/{ticket['id']}/move", json={"branch": "hk-01", "code": ticket["rating_code"]})
    assert (gone.status_code, gone.json["error"]["code"]) == (409, "offer_gone")
    form = api.client.post(f"/api/v1/tickets/{ticket['id']}/move", data={"branch": offer["branch"]})
    assert form.status_code == 415
    missing = api.post(f"/tickets/{ticket['id']}/move", json={"branch": offer["branch"]})
    assert (missing.status_code, missing.json["error"]["code"]) == (400, "missing_field")
    assert api.post("/tickets/nothing/move", json={"branch": "hk-02", "code": "1"}).status_code == 404
    assert api.get(f"/tickets/{ticket['id']}").json["status"] == "waiting"


def test_a_ticket_near_the_front_is_offered_nothing(api):
    ticket = api.issue("land")
    assert api.get(f"/tickets/{ticket['id']}").json["offer"] is None


def test_the_staff_and_the_room_are_told_each_ticket_s_channel_and_check_in(api):
    walk_in = api.issue("civil")
    far = remote(api).json
    waiting = {t["number"]: t for t in api.get("/branches/hk-01/staff-state", "off1").json["waiting"]}
    assert (waiting[walk_in["number"]]["channel"], waiting[walk_in["number"]]["checked_in_at"]) == ("walk_in", None)
    assert (waiting[far["number"]]["channel"], waiting[far["number"]]["checked_in_at"]) == ("remote", None)
    assert waiting[far["number"]]["window_end"] == far["window_end"] and waiting[walk_in["number"]]["window_end"] is None
    api.post(f"/branches/hk-01/tickets/{far['number']}/check-in", "kiosk1")
    waiting = {t["number"]: t for t in api.get("/branches/hk-01/staff-state", "off1").json["waiting"]}
    assert waiting[far["number"]]["checked_in_at"] is not None
    civil = [c["id"] for c in api.get("/branches/hk-01/state").json["counters"] if "civil" in c["services"]]
    for counter in civil[:2]:
        assert api.post(f"/branches/hk-01/counters/{counter}/next", "off1").json["ticket"]
    calls = api.get("/branches/hk-01/state").json["recent_calls"]
    assert {c["number"]: c["channel"] for c in calls} == {walk_in["number"]: "walk_in", far["number"]: "remote"}
