"""The catalogue and the branches administered live: a department, a document kind and a procedure added by
an admin open the next citizen's dossier; a procedure attached to a new service; retiring, not deleting;
a non-reusable kind refused on reuse; a branch added with its unit code, closed and reopened."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from motcua.store import Store
from motcua.web.app import create_app

from conftest import HOAN_KIEM, PASSWORD, motcua
from test_intake import waived_for

LONG_VI = "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất"
LONG_EN = "Registration of changes to land-use rights and to ownership of assets attached to land"
VEHICLES = {"id": "vehicles", "name": {"vi": "Phương tiện", "en": "Vehicles"}, "letter": "V", "mean_min": 10}
TRANSPORT = {"code": "transport", "name": {"vi": "Phòng Quản lý giao thông", "en": "Transport Division"}}
PAPERS = {"kind": "boat_papers", "name": {"vi": "Giấy tờ tàu thuyền", "en": "Boat papers"}, "reusable": True}
PROCEDURE = {"code": "GT-DK", "name": {"vi": LONG_VI, "en": LONG_EN}, "field": "transport",
             "department": "transport", "statutory_days": 3, "documents": ["id_card", "boat_papers"],
             "services": ["vehicles"]}
CITIZEN = {"id_number": "001090012345", "name": "Trần Thị Bình", "phone": "0987654321"}
HA_DONG = {"id": "hd-01", "name": {"vi": "Trung tâm Hà Đông", "en": "Ha Dong Centre"},
           "address": {"vi": "1 Quang Trung, Hà Đông", "en": "1 Quang Trung, Ha Dong"},
           "location": {"lat": 20.97, "lon": 105.78}, "open": "08:00", "close": "17:00", "unit_code": "000.00.15.h29"}


def admin(api, method: str, path: str, json=None, status: int = 200) -> dict:
    answer = api.request(method, "/admin" + path, "admin", json)
    assert answer.status_code == status, answer.text
    return answer.json


def new_service_at_counter(api, counter: str = "9") -> None:
    """The vehicles service, served at a new counter of hk-01."""
    admin(api, "POST", "/services", VEHICLES, 201)
    admin(api, "POST", "/branches/hk-01/counters", {"id": counter, "services": ["vehicles"]}, 201)


def served_ticket(api, service: str, counter: str = "9") -> dict:
    """A ticket of the service issued at hk-01 and called to the counter by off1."""
    ticket = api.issue(service)
    called = api.post(f"/branches/hk-01/counters/{counter}/next", "off1")
    assert called.json["ticket"]["id"] == ticket["id"], called.text
    return ticket


def test_a_department_document_kind_and_procedure_added_live_open_the_next_citizens_dossier(api):
    new_service_at_counter(api)
    assert api.get("/procedures?service=vehicles").json == []
    assert admin(api, "POST", "/departments", TRANSPORT, 201) == TRANSPORT
    assert admin(api, "POST", "/document-kinds", PAPERS, 201) == {**PAPERS, "valid_months": None}
    added = admin(api, "POST", "/procedures", PROCEDURE, 201)
    assert added == {**PROCEDURE, "retired": False}
    [offered] = api.get("/procedures?service=vehicles").json
    assert offered["code"] == "GT-DK" and offered["name"]["vi"] == LONG_VI
    assert [d["kind"] for d in offered["documents"]] == ["id_card", "boat_papers"]
    assert "transport" in [d["code"] for d in api.get("/departments").json]
    ticket = served_ticket(api, "vehicles")
    opened = api.post("/dossiers", "off1", {"procedure": "GT-DK", "citizen": CITIZEN, "ticket": ticket["id"]})
    assert opened.status_code == 201, opened.text
    assert opened.json["department"] == "transport"
    # The department's own user, with the department added a moment ago, sees it once it is sent there.
    for status in ("digitized", "processing"):
        moved = api.post(f"/dossiers/{opened.json['code']}/status", "off1",
                         {"status": status, "missing": waived_for(opened.json)})
        assert moved.status_code == 200, moved.text
    admin(api, "POST", "/users", {"username": "gt1", "password": PASSWORD, "role": "department",
                                  "department": "transport"}, 201)
    token = api.post("/auth/login", json={"username": "gt1", "password": PASSWORD}).json["token"]
    work = api.get("/departments/transport/dossiers", token)
    assert [d["code"] for d in work.json] == [opened.json["code"]], work.text


def test_a_new_services_first_citizen_gets_a_procedure_attached_to_it_through_the_api(api):
    new_service_at_counter(api)
    ticket = served_ticket(api, "vehicles")
    refused = api.post("/dossiers", "off1", {"procedure": "GT-DK", "citizen": CITIZEN, "ticket": ticket["id"]})
    assert refused.json["error"]["code"] == "unknown_procedure"
    # An existing procedure is taken by the new service too.
    birth = next(p for p in admin(api, "GET", "/catalogue")["procedures"] if p["code"] == "HT-KS")
    changed = admin(api, "PATCH", "/procedures/HT-KS", {"services": birth["services"] + ["vehicles"]})
    assert changed["services"] == birth["services"] + ["vehicles"]
    assert [p["code"] for p in api.get("/procedures?service=vehicles").json] == ["HT-KS"]
    opened = api.post("/dossiers", "off1", {"procedure": "HT-KS", "citizen": CITIZEN, "ticket": ticket["id"]})
    assert opened.status_code == 201, opened.text


def test_a_retired_procedure_opens_no_new_dossier_and_its_old_ones_stay_readable(api):
    opened = api.post("/dossiers", "off1", {"procedure": "HT-KS", "citizen": CITIZEN})
    assert opened.status_code == 201, opened.text
    assert admin(api, "PATCH", "/procedures/HT-KS", {"retired": True})["retired"] is True
    assert "HT-KS" not in [p["code"] for p in api.get("/procedures").json]
    assert "HT-KS" in [p["code"] for p in admin(api, "GET", "/catalogue")["procedures"]]
    again = api.post("/dossiers", "off1", {"procedure": "HT-KS", "citizen": CITIZEN})
    assert (again.status_code, again.json["error"]["code"]) == (400, "retired_procedure")
    code = opened.json["code"]
    assert api.get(f"/dossiers/{code}/full", "off1").json["procedure"] == "HT-KS"
    admin(api, "PATCH", "/procedures/HT-KS", {"retired": False})
    assert api.post("/dossiers", "off1", {"procedure": "HT-KS", "citizen": CITIZEN}).status_code == 201


def test_the_catalogue_outlives_a_restart(app, api, config, clock):
    admin(api, "POST", "/departments", TRANSPORT, 201)
    admin(api, "POST", "/document-kinds", PAPERS, 201)
    admin(api, "POST", "/procedures", {**PROCEDURE, "services": []}, 201)
    admin(api, "PATCH", "/departments/transport", {"name": {"en": "Transport Office"}})
    app.extensions["motcua"].store.close()
    restarted = create_app(config, clock)
    try:
        catalogue = restarted.test_client().get("/api/v1/admin/catalogue", headers=api.headers("admin")).json
        assert {"code": "transport", "name": {"vi": TRANSPORT["name"]["vi"], "en": "Transport Office"}} in \
            catalogue["departments"]
        assert {**PAPERS, "valid_months": None} in catalogue["document_kinds"]
        assert catalogue["procedures"][-1]["code"] == "GT-DK"
    finally:
        restarted.extensions["motcua"].store.close()


@pytest.mark.parametrize("method, path, body, status, code", [
    ("POST", "/departments", {**TRANSPORT, "code": "justice"}, 409, "department_exists"),
    ("POST", "/departments", {**TRANSPORT, "code": "Giao Thông"}, 400, "bad_value"),
    ("POST", "/departments", {**TRANSPORT, "name": {"vi": " ", "en": "x"}}, 400, "bad_value"),
    ("PATCH", "/departments/nowhere", {"name": {"en": "x"}}, 404, "unknown_department"),
    ("POST", "/document-kinds", {**PAPERS, "kind": "id_card"}, 409, "kind_exists"),
    ("POST", "/document-kinds", {k: v for k, v in PAPERS.items() if k != "reusable"}, 400, "missing_field"),
    ("POST", "/procedures", {**PROCEDURE, "code": "HT-KS", "department": "justice", "documents": [],
                             "services": []}, 409, "procedure_exists"),
    ("POST", "/procedures", {**PROCEDURE, "documents": []}, 404, "unknown_department"),
    ("POST", "/procedures", {**PROCEDURE, "department": "justice", "documents": ["nope"]}, 404, "unknown_kind"),
    ("POST", "/procedures", {**PROCEDURE, "department": "justice", "documents": [], "services": ["nope"]}, 404,
     "unknown_service"),
    ("POST", "/procedures", {**PROCEDURE, "statutory_days": 0}, 400, "bad_value"),
    ("PATCH", "/procedures/HT-KS", {"department": "nowhere"}, 404, "unknown_department"),
    ("PATCH", "/procedures/NOPE", {"retired": True}, 404, "unknown_procedure"),
    ("POST", "/branches", {**HA_DONG, "id": "hk-01"}, 409, "branch_exists"),
    ("POST", "/branches", {**HA_DONG, "unit_code": "hk-02"}, 400, "bad_value"),
    ("POST", "/branches", {**HA_DONG, "unit_code": "000.00.15"}, 400, "bad_value"),
    ("POST", "/branches", {**HA_DONG, "open": "18:00"}, 400, "bad_hours"),
    ("POST", "/branches", {**HA_DONG, "location": {"lat": 91, "lon": 0}}, 400, "bad_value"),
    ("PATCH", "/branches/hk-01", {"unit_code": "H29-HK"}, 400, "bad_value"),
])
def test_bad_catalogue_and_branch_input_is_refused_with_a_code_and_changes_nothing(api, method, path, body,
                                                                                   status, code):
    before = (admin(api, "GET", "/catalogue"), admin(api, "GET", "/network"))
    answer = api.request(method, "/admin" + path, "admin", body)
    assert (answer.status_code, answer.json["error"]["code"]) == (status, code), answer.text
    assert before == (admin(api, "GET", "/catalogue"), admin(api, "GET", "/network"))


@pytest.mark.parametrize("who, status", [(None, 401), ("off1", 403), ("mgr1", 403), ("kiosk1", 403)])
def test_only_an_admin_administers_the_catalogue_and_adds_branches(api, who, status):
    calls = [("GET", "/admin/catalogue", None), ("POST", "/admin/departments", TRANSPORT),
             ("PATCH", "/admin/departments/justice", {"name": {"en": "x"}}),
             ("POST", "/admin/document-kinds", PAPERS), ("POST", "/admin/procedures", PROCEDURE),
             ("PATCH", "/admin/procedures/HT-KS", {"retired": True}), ("POST", "/admin/branches", HA_DONG),
             ("PATCH", "/admin/branches/hk-01", {"closed": True})]
    for method, path, body in calls:
        assert api.request(method, path, who, body).status_code == status, (method, path)
    assert "HT-KS" in [p["code"] for p in api.get("/procedures").json]
    assert "hd-01" not in [b["id"] for b in api.get("/branches").json]


def test_a_branch_added_live_takes_tickets_and_numbers_its_dossiers_with_its_unit_code(api):
    added = admin(api, "POST", "/branches", HA_DONG, 201)
    assert (added["unit_code"], added["closed"], added["address"], added["services"]) == (
        "000.00.15.H29", False, HA_DONG["address"], [])
    admin(api, "POST", "/branches/hd-01/counters", {"id": "1", "services": ["civil"]}, 201)
    assert api.issue("civil", who="admin", branch="hd-01")["number"] == "A001"
    opened = api.post("/dossiers", "admin", {"procedure": "HT-KS", "citizen": CITIZEN, "branch": "hd-01"})
    assert opened.status_code == 201, opened.text
    assert re.fullmatch(r"000\.00\.15\.H29-[0-9]{6}-0001", opened.json["code"])
    assert api.get(f"/dossiers/{opened.json['code']}?check={opened.json['check']}").status_code == 200


def test_no_two_branches_share_a_unit_code(api):
    admin(api, "PATCH", "/branches/hk-02", {"unit_code": "000.00.12.H29"})
    before = admin(api, "GET", "/network")
    for method, path, body in (("PATCH", "/branches/hk-01", {"unit_code": "000.00.12.h29"}),
                               ("POST", "/branches", {**HA_DONG, "unit_code": "000.00.12.H29"})):
        answer = api.request(method, "/admin" + path, "admin", body)
        assert (answer.status_code, answer.json["error"]["code"]) == (409, "unit_code_taken"), answer.text
    assert admin(api, "GET", "/network") == before
    admin(api, "PATCH", "/branches/hk-02", {"unit_code": ""})    # given up, it is free again
    assert admin(api, "PATCH", "/branches/hk-01", {"unit_code": "000.00.12.H29"})["unit_code"] == "000.00.12.H29"


def test_a_closed_branch_issues_no_ticket_and_is_offered_to_no_one_until_reopened(api):
    api.issue("civil", branch="hk-02", who="admin")
    ticket = api.issue("civil")
    assert admin(api, "PATCH", "/branches/hk-02", {"closed": True})["closed"] is True
    refused = api.post("/branches/hk-02/tickets", "admin", {"service": "civil"})
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "branch_closed")
    moved = api.post(f"/tickets/{ticket['id']}/transfer", "off1", {"service": "civil", "branch": "hk-02"})
    assert (moved.status_code, moved.json["error"]["code"]) == (409, "branch_closed")
    admin(api, "PATCH", "/branches/hk-02", {"closed": False})
    assert api.issue("civil", branch="hk-02", who="admin")["branch"] == "hk-02"


def test_document_kinds_are_reusable_as_given_or_by_default_but_forms_never(api):
    admin(api, "POST", "/document-kinds", {"kind": "vehicle_form", "name": {"vi": "Tờ khai xe", "en": "Vehicle form"},
                                           "reusable": False}, 201)
    kinds = {k["kind"]: k["reusable"] for k in admin(api, "GET", "/catalogue")["document_kinds"]}
    assert kinds["id_card"] is True and kinds["civil_form"] is False and kinds["vehicle_form"] is False


def test_the_catalogue_moves_between_servers_by_export_and_import_and_a_bad_file_changes_nothing(
        app, api, config, clock, tmp_path):
    admin(api, "POST", "/departments", TRANSPORT, 201)
    admin(api, "POST", "/document-kinds", PAPERS, 201)
    admin(api, "POST", "/procedures", {**PROCEDURE, "services": []}, 201)
    app.extensions["motcua"].store.close()
    exported = tmp_path / "catalogue.json"
    motcua("catalogue", "export", str(exported), db=config.server.db)
    data = json.loads(exported.read_text(encoding="utf-8"))
    assert data["procedures"][-1]["name_vi"] == LONG_VI and data["document_kinds"]["boat_papers"]["reusable"]
    # The other server: a new database, seeded from the shipped file, then given this catalogue.
    other = tmp_path / "other.db"
    motcua("init", "--scenario", str(HOAN_KIEM), db=other)
    motcua("catalogue", "export", str(tmp_path / "before.json"), db=other)
    assert "GT-DK" not in (tmp_path / "before.json").read_text(encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**data, "procedures": data["procedures"] + [{**data["procedures"][0], "code": "X-1",
                                                                           "department": "nowhere"}]}),
                   encoding="utf-8")
    refused = subprocess.run([sys.executable, "-m", "motcua.cli", "catalogue", "import", str(bad), "--db", str(other)],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "unknown department" in refused.stderr
    motcua("catalogue", "export", str(tmp_path / "unchanged.json"), db=other)
    assert (tmp_path / "unchanged.json").read_text(encoding="utf-8") == (tmp_path / "before.json").read_text(
        encoding="utf-8")
    motcua("catalogue", "import", str(exported), db=other)
    motcua("catalogue", "export", str(tmp_path / "after.json"), db=other)
    assert json.loads((tmp_path / "after.json").read_text(encoding="utf-8")) == data


def test_a_scenario_loaded_again_keeps_what_an_admin_gave_a_branch(app, api, config):
    admin(api, "PATCH", "/branches/hk-02", {"closed": True, "unit_code": "000.00.16.H29",
                                            "address": {"vi": "Hàng Mã", "en": "Hang Ma"}})
    app.extensions["motcua"].store.close()
    motcua("init", "--scenario", str(HOAN_KIEM), db=config.server.db)
    [row] = Store(config.server.db).query("select closed, unit_code, address_vi from branches where id = 'hk-02'")
    assert row == {"closed": 1, "unit_code": "000.00.16.H29", "address_vi": "Hàng Mã"}


def test_every_shipped_procedure_takes_a_change_and_a_name_as_long_as_the_national_catalogue_s(api):
    """Names of the national catalogue run past a service's 100 characters: the longest shipped procedure
    takes a services-only change, a 300-character name is kept and a longer one refused."""
    procedures = admin(api, "GET", "/catalogue")["procedures"]
    longest = max(procedures, key=lambda p: len(p["name"]["vi"]))
    assert len(longest["name"]["vi"]) > 100
    changed = admin(api, "PATCH", f"/procedures/{longest['code']}", {"services": ["civil"]})
    assert changed["services"] == ["civil"]
    official = ("Thủ tục " * 40)[:300].strip()
    assert admin(api, "PATCH", f"/procedures/{longest['code']}", {"name": {"vi": official}})["name"]["vi"] == official
    refused = api.request("PATCH", f"/admin/procedures/{longest['code']}", "admin", {"name": {"vi": official + "x" * 10}})
    assert (refused.status_code, refused.json["error"]["code"]) == (400, "bad_value"), refused.text
