"""The administration API: each change takes effect at once (engine, kiosks' GET /branches, displays'
`queue`), survives a restart, and is refused to non-admins, for bad input and for the state."""
from __future__ import annotations

import pytest
import requests

from motcua.config import load_config
from motcua.web.app import create_app
from motcua.web.events import EXTENSION
from motcua.web.events import socketio as io

from conftest import HOAN_KIEM, PASSWORD, motcua

TAX = {"id": "tax", "name": {"vi": "Thuế", "en": "Tax"}, "letter": "T", "mean_min": 12,
       "description": {"vi": "Kê khai và nộp thuế", "en": "Tax returns and payments"}}


def admin(api, method: str, path: str, json=None, status: int = 200) -> dict:
    """An admin's call; the test fails on any other status than the one expected."""
    answer = api.request(method, "/admin" + path, "admin", json)
    assert answer.status_code == status, answer.text
    return answer.json


def kiosk_service(api, branch: str, service: str) -> dict | None:
    found = next(b for b in api.get("/branches").json if b["id"] == branch)
    return next((s for s in found["services"] if s["id"] == service), None)


def test_a_new_service_and_counter_reach_the_kiosk_the_engine_and_the_display_at_once(app, api):
    display = io.test_client(app, flask_test_client=api.client)
    display.emit("subscribe", {"branch": "hk-01"})
    display.get_received()
    assert admin(api, "POST", "/services", TAX, 201)["description"]["en"] == "Tax returns and payments"
    assert kiosk_service(api, "hk-01", "tax") is None  # no counter serves it yet
    counter = admin(api, "POST", "/branches/hk-01/counters", {"id": "9", "services": ["tax"]}, 201)
    assert counter == {"id": "9", "branch": "hk-01", "services": ["tax"], "open": True, "serving": None}
    assert kiosk_service(api, "hk-01", "tax") == {**{k: TAX[k] for k in ("id", "name", "letter", "description")},
                                                  "fields": []}   # it takes no procedure yet
    app.extensions[EXTENSION].drain()
    [state] = [e["args"][0] for e in display.get_received() if e["name"] == "queue"]
    assert {"id": "tax", "letter": "T", "name": TAX["name"], "waiting": 0, "estimated_wait_min": 0} in state["services"]
    assert "9" in [c["id"] for c in state["counters"]]
    ticket = api.issue("tax")
    assert ticket["number"] == "T001" and ticket["estimated_wait_min"] == 0
    assert api.post("/branches/hk-01/counters/9/next", "off1").json["ticket"]["id"] == ticket["id"]
    display.disconnect()


def test_renaming_and_relettering_a_service_shows_on_the_display_and_numbers_the_next_ticket(app, api):
    display = io.test_client(app, flask_test_client=api.client)
    display.emit("subscribe", {"branch": "hk-02"})
    display.get_received()
    change = {"name": {"en": "Civil registry"}, "letter": "H", "description": {"vi": "Khai sinh, kết hôn"}}
    changed = admin(api, "PATCH", "/services/civil", change)
    assert changed["name"] == {"vi": "Hộ tịch", "en": "Civil registry"} and changed["letter"] == "H"
    app.extensions[EXTENSION].drain()
    [state] = [e["args"][0] for e in display.get_received() if e["name"] == "queue"]
    civil = next(s for s in state["services"] if s["id"] == "civil")
    assert civil["letter"] == "H" and civil["name"]["en"] == "Civil registry"
    assert kiosk_service(api, "hk-01", "civil")["description"]["vi"] == "Khai sinh, kết hôn"
    assert api.issue("civil")["number"] == "H001"
    display.disconnect()


def test_a_mean_service_time_changed_moves_the_next_estimate(api):
    for _ in range(3):
        api.issue("land", who="kiosk1")
    before = next(s for s in api.get("/branches/hk-01/state").json["services"] if s["id"] == "land")
    admin(api, "PATCH", "/services/land", {"mean_min": 60})
    after = next(s for s in api.get("/branches/hk-01/state").json["services"] if s["id"] == "land")
    assert after["estimated_wait_min"] > before["estimated_wait_min"] > 0


def test_a_branch_renamed_and_its_hours_changed_show_at_once_and_outlive_a_restart(app, api, config, clock):
    changed = admin(api, "PATCH", "/branches/hk-02", {"name": {"vi": "Trung tâm Hàng Mã"}, "open": "08:00",
                                                      "close": "16:30"})
    assert (changed["name"]["vi"], changed["open"], changed["close"]) == ("Trung tâm Hàng Mã", "08:00", "16:30")
    assert next(b for b in api.get("/branches").json if b["id"] == "hk-02")["name"]["vi"] == "Trung tâm Hàng Mã"
    assert api.get("/branches/hk-02/state").json["name"]["vi"] == "Trung tâm Hàng Mã"
    admin(api, "POST", "/services", TAX, 201)
    admin(api, "POST", "/branches/hk-02/counters", {"id": "7", "services": ["tax", "civil"]}, 201)
    admin(api, "DELETE", "/branches/hk-02/counters/1")
    app.extensions["motcua"].store.close()
    restarted = create_app(config, clock)
    try:
        network = restarted.test_client().get("/api/v1/admin/network", headers=api.headers("admin")).json
        hk02 = next(b for b in network["branches"] if b["id"] == "hk-02")
        assert (hk02["name"]["vi"], hk02["open"], hk02["close"]) == ("Trung tâm Hàng Mã", "08:00", "16:30")
        assert "tax" in hk02["services"] and [c["id"] for c in hk02["counters"] if c["id"] in ("1", "7")] == ["7"]
        assert next(s for s in network["services"] if s["id"] == "tax")["description"] == TAX["description"]
    finally:
        restarted.extensions["motcua"].store.close()


def test_a_counter_holding_a_ticket_is_not_removed_and_one_removed_calls_no_more(api):
    api.issue("civil")
    api.post("/branches/hk-01/counters/1/next", "off1")
    answer = api.request("DELETE", "/admin/branches/hk-01/counters/1", "admin")
    assert answer.status_code == 409 and answer.json["error"]["code"] == "counter_busy"
    held = api.get("/branches/hk-01/state").json["counters"]
    assert next(c for c in held if c["id"] == "1")["serving"] is not None
    ticket = api.request("GET", "/branches/hk-01/counters/1", "off1").json["ticket"]
    api.post(f"/tickets/{ticket['id']}/done", "off1")
    assert admin(api, "DELETE", "/branches/hk-01/counters/1") == {"removed": "1"}
    assert "1" not in [c["id"] for c in api.get("/branches/hk-01/state").json["counters"]]
    assert api.post("/branches/hk-01/counters/1/next", "off1").status_code == 404


def test_a_counter_reskilled_by_an_admin_calls_for_its_new_services(api):
    api.issue("land")
    civil = api.issue("civil")
    admin(api, "PATCH", "/branches/hk-01/counters/1", {"services": ["civil"]})
    assert api.post("/branches/hk-01/counters/1/next", "off1").json["ticket"]["id"] == civil["id"]


@pytest.mark.parametrize("method, path, body, status, code", [
    ("POST", "/services", {**TAX, "letter": "t"}, 400, "bad_value"),
    ("POST", "/services", {**TAX, "letter": "A"}, 409, "letter_taken"),
    ("POST", "/services", {**TAX, "id": "civil", "letter": "Q"}, 409, "service_exists"),
    ("POST", "/services", {**TAX, "mean_min": 0}, 400, "bad_value"),
    ("POST", "/services", {**TAX, "name": {"vi": "   ", "en": "Tax"}}, 400, "bad_value"),
    ("POST", "/services", {**TAX, "name": {"vi": "Thu\u202ee", "en": "Tax"}}, 400, "bad_value"),
    ("POST", "/services", {k: v for k, v in TAX.items() if k != "letter"}, 400, "missing_field"),
    ("PATCH", "/branches/hk-01", {"open": "18:00"}, 400, "bad_hours"),
    ("PATCH", "/branches/hk-01", {"open": "7h30"}, 400, "bad_value"),
    ("PATCH", "/branches/hk-01", {"services": ["civil"]}, 409, "service_served"),
    ("PATCH", "/branches/hk-01", {"services": ["civil", "nope"]}, 404, "unknown_service"),
    ("PATCH", "/branches/nowhere", {"open": "08:00"}, 404, "unknown_branch"),
    ("PATCH", "/services/nope", {"letter": "Q"}, 404, "unknown_service"),
    ("POST", "/branches/hk-01/counters", {"id": "2", "services": ["civil"]}, 409, "counter_exists"),
    ("POST", "/branches/hk-01/counters", {"id": "quầy 9", "services": ["civil"]}, 400, "bad_value"),
    ("POST", "/branches/hk-01/counters", {"id": "9", "services": []}, 400, "bad_value"),
    ("POST", "/branches/hk-01/counters", {"id": "9", "services": ["nope"]}, 404, "unknown_service"),
    ("DELETE", "/branches/hk-01/counters/99", None, 404, "unknown_counter"),
    ("POST", "/users", {"username": "off3", "password": "password", "role": "officer", "branch": "hk-01"}, 400,
     "weak_password"),
    ("POST", "/users", {"username": "off3", "password": PASSWORD, "role": "officer"}, 400, "branch_needed"),
    ("POST", "/users", {"username": "off3", "password": PASSWORD, "role": "chief", "branch": "hk-01"}, 400,
     "bad_value"),
    ("POST", "/users", {"username": "off1", "password": PASSWORD, "role": "officer", "branch": "hk-01"}, 409,
     "user_exists"),
    ("POST", "/users", {"username": "off3", "password": PASSWORD, "role": "officer", "branch": "nowhere"}, 404,
     "unknown_branch"),
    ("PATCH", "/users/nobody", {"disabled": True}, 404, "unknown_user"),
    ("PATCH", "/users/admin", {"disabled": True}, 409, "last_admin"),
    ("PATCH", "/users/admin", {"role": "officer", "branch": "hk-01"}, 409, "last_admin"),
    ("POST", "/users/off1/password", {"password": "11111111"}, 400, "weak_password"),
    ("POST", "/devices", {"kind": "printer", "branch": "hk-01"}, 400, "bad_value"),
    ("DELETE", "/devices/nope", None, 404, "unknown_device"),
    ("POST", "/services", [1, 2], 400, "malformed_json"),
])
def test_bad_input_and_bad_states_are_refused_with_a_code_and_change_nothing(api, method, path, body, status, code):
    before = (api.get("/branches").json, admin(api, "GET", "/network"), admin(api, "GET", "/users"))
    answer = api.request(method, "/admin" + path, "admin", body)
    assert (answer.status_code, answer.json["error"]["code"]) == (status, code), answer.text
    assert before == (api.get("/branches").json, admin(api, "GET", "/network"), admin(api, "GET", "/users"))


@pytest.mark.parametrize("who, status", [(None, 401), ("off1", 403), ("mgr1", 403), ("kiosk1", 403),
                                         ("display1", 403)])
def test_only_an_admin_administers(api, who, status):
    calls = [("GET", "/admin/network", None), ("PATCH", "/admin/branches/hk-01", {"open": "06:00"}),
             ("POST", "/admin/services", TAX),
             ("POST", "/admin/branches/hk-01/counters", {"id": "9", "services": ["civil"]}),
             ("DELETE", "/admin/branches/hk-01/counters/2", None), ("GET", "/admin/users", None),
             ("PATCH", "/admin/users/off2", {"disabled": True}),
             ("POST", "/admin/users/off2/password", {"password": PASSWORD}),
             ("GET", "/admin/devices", None), ("DELETE", "/admin/devices/x", None)]
    for method, path, body in calls:
        assert api.request(method, path, who, body).status_code == status, (method, path)
    network = admin(api, "GET", "/network")
    assert next(b for b in network["branches"] if b["id"] == "hk-01")["open"] == "07:30"
    assert "tax" not in [s["id"] for s in network["services"]]


def test_a_disabled_user_loses_its_session_at_once_and_cannot_sign_in_until_enabled(api):
    assert api.get("/branches/hk-01/counters/1", "off1").status_code == 200
    assert admin(api, "PATCH", "/users/off1", {"disabled": True}) == {"username": "off1", "role": "officer",
                                                                       "branch": "hk-01", "department": None,
                                                                       "disabled": True}
    assert api.get("/branches/hk-01/counters/1", "off1").status_code == 401
    refused = api.post("/auth/login", json={"username": "off1", "password": PASSWORD})
    assert (refused.status_code, refused.json["error"]["code"]) == (403, "account_disabled")
    wrong = api.post("/auth/login", json={"username": "off1", "password": "not-the-password"})
    assert wrong.json["error"]["code"] == "bad_credentials"  # the state shows only with the right password
    admin(api, "PATCH", "/users/off1", {"disabled": False})
    assert api.post("/auth/login", json={"username": "off1", "password": PASSWORD}).status_code == 200


def test_new_users_roles_branches_and_passwords(api):
    added = admin(api, "POST", "/users", {"username": "off3", "password": PASSWORD, "role": "officer",
                                          "branch": "hk-02"}, 201)
    assert added == {"username": "off3", "role": "officer", "branch": "hk-02", "department": None,
                     "disabled": False}
    token = api.post("/auth/login", json={"username": "off3", "password": PASSWORD}).json["token"]
    assert api.get("/branches/hk-02/counters/1", token).status_code == 200
    admin(api, "PATCH", "/users/off3", {"role": "manager", "branch": "hk-03"})
    assert api.get("/branches/hk-02/counters/1", token).status_code == 401  # the old rights ended with the token
    token = api.post("/auth/login", json={"username": "off3", "password": PASSWORD}).json
    assert (token["role"], token["branch"]) == ("manager", "hk-03")
    admin(api, "POST", "/users/off3/password", {"password": "another-good-pass"})
    assert api.get("/branches/hk-03/recommendations", token["token"]).status_code == 401
    assert api.post("/auth/login", json={"username": "off3", "password": "another-good-pass"}).status_code == 200
    admin(api, "POST", "/users", {"username": "boss", "password": PASSWORD, "role": "admin"}, 201)
    assert admin(api, "PATCH", "/users/admin", {"role": "manager", "branch": "hk-01"})["role"] == "manager"
    boss = api.post("/auth/login", json={"username": "boss", "password": PASSWORD}).json["token"]
    assert [u["username"] for u in api.get("/admin/users", boss).json] == sorted(
        ["admin", "boss", "mgr1", "off1", "off2", "off3"])


def test_devices_are_registered_listed_and_revoked_at_once(api):
    added = admin(api, "POST", "/devices", {"kind": "kiosk", "branch": "hk-02"}, 201)
    assert added["token"].startswith("dev_") and added["kind"] == "kiosk"
    assert api.issue("civil", who=added["token"], branch="hk-02")["branch"] == "hk-02"
    listed = admin(api, "GET", "/devices")
    assert added["id"] in [d["id"] for d in listed] and all("token" not in d for d in listed)
    assert admin(api, "DELETE", f"/devices/{added['id']}") == {"removed": added["id"]}
    assert api.post("/branches/hk-02/tickets", added["token"], {"service": "civil"}).status_code == 401
    assert added["id"] not in [d["id"] for d in admin(api, "GET", "/devices")]


def test_scenario_loading_keeps_working_on_an_administered_database(tmp_path, config, clock, api):
    """`motcua init` on a database an admin has changed: the scenario's network is loaded again over it."""
    admin(api, "POST", "/services", TAX, 201)
    admin(api, "PATCH", "/users/off1", {"disabled": True})
    api.client.application.extensions["motcua"].store.close()
    motcua("init", "--scenario", str(HOAN_KIEM), db=config.server.db)
    assert "off1\tofficer\thk-01\tdisabled" in motcua("user", "list", db=config.server.db).splitlines()
    again = create_app(load_config(server={"db": config.server.db, "async_mode": "threading"}), clock)
    try:
        client = again.test_client()
        assert client.get("/api/v1/branches").status_code == 200
        login = client.post("/api/v1/auth/login", json={"username": "off1", "password": PASSWORD})
        assert login.status_code == 403  # init loads the network; it leaves accounts as they are
    finally:
        again.extensions["motcua"].store.close()


def test_the_kiosk_shows_a_new_service_and_the_description_an_admin_gave_on_its_next_load(live_app):
    from motcua.kiosk.flow import Kiosk
    from motcua.kiosk.settings import KioskSettings

    kiosk = Kiosk(KioskSettings(live_app.base, "hk-01", live_app.tokens["kiosk1"]))
    kiosk.load()
    civil = next(s for s in kiosk.services() if s.id == "civil")
    assert civil.line["en"] == "Births, marriages, deaths, marital status"
    headers = {"Authorization": f"Bearer {live_app.tokens['admin']}"}
    for method, path, body in (("POST", "/admin/services", TAX),
                               ("POST", "/admin/branches/hk-01/counters", {"id": "9", "services": ["tax"]}),
                               ("PATCH", "/admin/services/civil", {"description": {"en": "Births and marriages"}})):
        assert requests.request(method, live_app.api + path, json=body, headers=headers, timeout=5).ok
    kiosk.load()
    lines = {s.id: s.line for s in kiosk.services()}
    assert lines["tax"] == TAX["description"] and lines["civil"]["en"] == "Births and marriages"
    assert kiosk.take_ticket("tax", priority=False).ticket["number"] == "T001"


def test_each_change_is_logged_with_who_made_it(api, caplog):
    with caplog.at_level("INFO", logger="motcua"):
        admin(api, "PATCH", "/branches/hk-01", {"close": "17:30"})
        admin(api, "GET", "/network")
        api.request("PATCH", "/admin/branches/hk-01", "admin", {"close": "06:00"})
    assert [r.getMessage() for r in caplog.records if r.name == "motcua"] == [
        "administration by staff:admin: PATCH /api/v1/admin/branches/hk-01"]
