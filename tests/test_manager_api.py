"""The manager's API: the staffing advice applied all at once and undone, today's figures by hour,
the city side by side; who may call them."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def counters(api, branch="hk-01") -> dict:
    state = api.get(f"/branches/{branch}/state").json
    return {c["id"]: c["services"] for c in state["counters"]}


def busy_civil(api, n=12):
    """A civil queue long enough that the advice moves a counter to it."""
    return [api.issue("civil") for _ in range(n)]


def test_applying_the_advice_makes_its_moves_and_the_next_call_follows_them(api):
    busy_civil(api)
    advised = api.get("/branches/hk-01/recommendations", "mgr1").json["moves"]
    assert advised, "a long civil queue should draw a counter to it"
    answer = api.post("/branches/hk-01/recommendations/apply", "mgr1", {})
    assert answer.status_code == 200, answer.text
    applied = answer.json
    assert [(m["counter"], m["from_services"], m["to_services"]) for m in applied["moves"]] == \
        [(m["counter"], m["from_services"], m["to_services"]) for m in advised]
    now = counters(api)
    for before, after in zip(applied["before"], applied["after"]):
        assert now[after["id"]] == after["services"] != before["services"]
    moved = next(m for m in advised if "civil" in m["to_services"] and "civil" not in m["from_services"])
    called = api.post(f"/branches/hk-01/counters/{moved['counter']}/next", "off1").json["ticket"]
    assert called["service"] == "civil"


def test_undo_moves_the_counters_back_from_after_to_before(api):
    busy_civil(api)
    original = counters(api)
    applied = api.post("/branches/hk-01/recommendations/apply", "mgr1", {}).json
    assert applied["moves"]
    undo = [{"counter": a["id"], "from_services": a["services"], "to_services": b["services"]}
            for b, a in zip(applied["before"], applied["after"])]
    answer = api.post("/branches/hk-01/recommendations/apply", "mgr1", {"moves": undo})
    assert answer.status_code == 200, answer.text
    assert counters(api) == original


def test_a_counter_changed_since_the_advice_refuses_every_move_of_the_lot(api):
    original = counters(api)
    moves = [{"counter": "2", "from_services": ["civil"], "to_services": ["civil", "cert"]},
             {"counter": "3", "from_services": ["land"], "to_services": ["cert", "civil"]}]  # 3 serves cert
    answer = api.post("/branches/hk-01/recommendations/apply", "mgr1", {"moves": moves})
    assert answer.status_code == 409 and answer.json["error"]["code"] == "counters_changed"
    assert counters(api) == original


@pytest.mark.parametrize("moves, status, code", [
    ([{"counter": "2", "from_services": ["civil"], "to_services": []}], 400, "bad_value"),
    ([{"counter": "2", "from_services": ["civil"]}], 400, "missing_field"),
    ([{"counter": "2", "from_services": ["civil"], "to_services": ["nope"]}], 404, "unknown_service"),
    ([{"counter": "9", "from_services": ["civil"], "to_services": ["civil"]}], 404, "unknown_counter"),
    ([{"counter": "2", "from_services": ["civil"], "to_services": ["civil"]}] * 2, 400, "duplicate_counter"),
    ("two", 400, "wrong_type"),
])
def test_bad_moves_are_refused_and_change_nothing(api, moves, status, code):
    original = counters(api)
    answer = api.post("/branches/hk-01/recommendations/apply", "mgr1", {"moves": moves})
    assert (answer.status_code, answer.json["error"]["code"]) == (status, code), answer.text
    assert counters(api) == original


def test_a_manager_of_one_branch_cannot_move_counters_of_another(api):
    original = counters(api, "hk-02")
    moves = [{"counter": "1", "from_services": ["civil", "cert"], "to_services": ["civil"]}]
    for who in ("mgr1", "off2"):
        answer = api.post("/branches/hk-02/recommendations/apply", who, {"moves": moves})
        assert answer.status_code == 403, answer.text
    assert counters(api, "hk-02") == original
    assert api.post("/branches/hk-02/recommendations/apply", "admin", {"moves": moves}).status_code == 200
    assert counters(api, "hk-02")["1"] == ["civil"]


def at(hour: int, minute: int = 0) -> float:
    return datetime(2026, 11, 24, hour, minute, tzinfo=HANOI).timestamp()


def test_today_counts_by_local_hour_what_the_test_did_at_each_hour(api, clock):
    clock.set(at(8, 5))
    first = [api.issue("civil") for _ in range(3)]
    clock.set(at(8, 10))
    a = api.post("/branches/hk-01/counters/2/next", "off1").json["ticket"]       # waited 5 min
    assert a["id"] == first[0]["id"]
    api.post(f"/tickets/{a['id']}/done", "off1")
    clock.set(at(9, 0))
    api.issue("cert")
    b = api.post("/branches/hk-01/counters/2/next", "off1").json["ticket"]       # waited 55 min
    api.post(f"/tickets/{b['id']}/no-show", "off1")
    clock.set(at(9, 30))
    c = api.post("/branches/hk-01/counters/2/next", "off1").json["ticket"]       # waited 85 min
    assert c["id"] == first[2]["id"]
    api.post(f"/tickets/{c['id']}/no-show", "off1")
    api.post(f"/tickets/{b['id']}/requeue", "off1")   # turned up after all: no longer a no-show
    rated = api.post(f"/tickets/{a['id']}/rating", None,
                     {"score": 2, "reasons": ["slow", "friendly"], "comment": "Chờ lâu"})
    assert rated.status_code == 201, rated.text
    api.issue("civil", branch="hk-02", who="kiosk2")  # another branch's ticket counts there, not here

    day = api.get("/branches/hk-01/today", "mgr1").json
    hour = {h: i for i, h in enumerate(day["hours"])}
    assert day["hours"][0] == "07:00" and day["hours"][-1] == "16:00"  # opening 07:30 to closing 17:00
    assert day["arrivals"][hour["08:00"]] == 3 and day["arrivals"][hour["09:00"]] == 1 and sum(day["arrivals"]) == 4
    assert day["called"][hour["08:00"]] == 1 and day["called"][hour["09:00"]] == 2
    assert day["wait_mean_min"][hour["08:00"]] == 5.0
    assert day["wait_mean_min"][hour["09:00"]] == 70.0            # (55 + 85) / 2
    assert day["within_target_pct"][hour["08:00"]] == 100.0 and day["within_target_pct"][hour["09:00"]] == 0.0
    assert day["wait_mean_min"][hour["10:00"]] is None
    assert day["no_shows"][hour["09:00"]] == 1 and sum(day["no_shows"]) == 1
    totals = day["totals"]
    assert (totals["tickets"], totals["served"], totals["no_shows"], totals["called"], totals["waiting"]) == \
        (4, 1, 1, 3, 2)
    assert totals["mean_wait_min"] == round((5 + 55 + 85) / 3, 1)
    assert totals["within_target_pct"] == round(100 / 3, 1)
    assert totals["ratings"] == 1 and totals["mean_rating"] == 2.0
    assert {s["score"]: s["count"] for s in day["ratings"]["scores"]} == {1: 0, 2: 1, 3: 0, 4: 0}
    assert {r["reason"]: r["count"] for r in day["ratings"]["reasons"]} == {"slow": 1, "friendly": 1}
    assert day["ratings"]["comments"] == [{"number": a["number"], "score": 2, "comment": "Chờ lâu",
                                           "at": "2026-11-24T09:30:00+07:00"}]


def test_today_is_for_the_branch_s_manager(api):
    assert api.get("/branches/hk-01/today", None).status_code == 401
    assert api.get("/branches/hk-01/today", "off1").status_code == 403
    assert api.get("/branches/hk-02/today", "mgr1").status_code == 403
    assert api.get("/branches/nowhere/today", "mgr1").status_code == 404
    assert api.get("/branches/hk-02/today", "admin").status_code == 200


def test_the_city_shows_every_branch_with_its_load_for_admins_only(api, clock):
    for _ in range(4):
        api.issue("civil")
    api.post("/branches/hk-01/counters/6", "mgr1", {"open": False})
    clock.advance(120)
    api.post("/branches/hk-01/counters/2/next", "off1")
    city = api.get("/city", "admin").json
    assert {b["branch"] for b in city["branches"]} == {b["id"] for b in api.get("/branches").json}
    hk01 = next(b for b in city["branches"] if b["branch"] == "hk-01")
    assert (hk01["waiting"], hk01["counters"], hk01["counters_open"], hk01["serving"], hk01["tickets"]) == (3, 6, 5, 1, 4)
    assert hk01["load"] == round(3 / 5, 2)
    assert hk01["mean_wait_min"] == 2.0 and hk01["within_target_pct"] == 100.0
    estimates = [s["estimated_wait_min"] for s in api.get("/branches/hk-01/state").json["services"]]
    assert hk01["longest_wait_min"] == max(e for e in estimates if e is not None)
    for who, status in ((None, 401), ("off1", 403), ("mgr1", 403), ("kiosk1", 403)):
        assert api.get("/city", who).status_code == status
