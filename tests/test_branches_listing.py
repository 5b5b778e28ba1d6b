"""`GET /branches` as kiosks read it: each service's fields (lĩnh vực) from the live catalogue, with their
names, and a branch closed by the administration marked closed (its state too, for the wall display)."""
from __future__ import annotations

import json

from motcua.core.procedures import DEFAULT_CATALOGUE

CATALOGUE = json.loads(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))
TRANSPORT = {"code": "transport", "name": {"vi": "Phòng Quản lý giao thông", "en": "Transport Division"}}


def admin(api, method: str, path: str, json=None, status: int = 200) -> dict:
    answer = api.request(method, "/admin" + path, "admin", json)
    assert answer.status_code == status, answer.text
    return answer.json


def listed(api, branch: str = "hk-01") -> dict:
    return next(b for b in api.get("/branches").json if b["id"] == branch)


def test_each_service_lists_the_fields_of_the_procedures_it_takes_with_their_names(api):
    hk01 = listed(api)
    for service in hk01["services"]:
        expected = list(dict.fromkeys(p["field"] for p in CATALOGUE["procedures"]
                                      if service["id"] in p.get("services", ()) and not p.get("retired")))
        assert [f["id"] for f in service["fields"]] == expected, service["id"]
        for field in service["fields"]:
            names = CATALOGUE["fields"][field["id"]]
            assert field["name"] == {"vi": names["name_vi"], "en": names["name_en"]}
    civil = next(s for s in hk01["services"] if s["id"] == "civil")
    assert {"id": "civil_status", "name": {"vi": "Hộ tịch", "en": "Civil status"}} in civil["fields"]
    assert sum(len(s["fields"]) > 1 for s in hk01["services"]) >= 1, "no service spanning several fields"


def test_a_procedure_added_live_puts_its_field_under_its_services_at_once(api):
    admin(api, "POST", "/departments", TRANSPORT, 201)
    before = [f["id"] for f in next(s for s in listed(api)["services"] if s["id"] == "cert")["fields"]]
    assert "inland_waterway" not in before
    admin(api, "POST", "/procedures", {"code": "GT-TT", "name": {"vi": "Đăng ký phương tiện thủy nội địa",
                                                                  "en": "Inland waterway vehicle registration"},
                                       "field": "inland_waterway", "department": "transport", "statutory_days": 3,
                                       "documents": ["id_card"], "services": ["cert"]}, 201)
    after = next(s for s in listed(api)["services"] if s["id"] == "cert")["fields"]
    assert [f["id"] for f in after] == [*before, "inland_waterway"]
    assert after[-1]["name"] == {"vi": "Inland waterway", "en": "Inland waterway"}   # no file names it


def test_a_closed_branch_is_listed_closed_its_state_says_so_and_no_kiosk_is_offered_it(api):
    assert listed(api, "hk-02")["closed"] is False
    assert api.get("/branches/hk-02/state").json["closed"] is False
    offered = {a["branch"] for _ in range(12) for a in api.issue("land")["alternatives"]}
    admin(api, "PATCH", "/branches/hk-02", {"closed": True})
    assert listed(api, "hk-02")["closed"] is True and listed(api)["closed"] is False
    assert api.get("/branches/hk-02/state").json["closed"] is True
    for _ in range(12):
        assert "hk-02" not in {a["branch"] for a in api.issue("land")["alternatives"]}
        assert "hk-02" not in {a["branch"] for a in
                               api.get("/branches/hk-01/services/land/availability").json["alternatives"]}
    admin(api, "PATCH", "/branches/hk-02", {"closed": False})
    assert listed(api, "hk-02")["closed"] is False
    assert offered, "hk-01 offered no branch before: the check above proves nothing"
