"""The kiosk's flow over the branches listing, without its screens: services grouped by the fields the server
publishes (a service under each of its fields, "other services" for those taking none), a closed branch
refused at load, and a closed branch never offered."""
from __future__ import annotations

import pytest

from motcua.kiosk.flow import BranchClosed, Kiosk
from motcua.kiosk.settings import KioskSettings

HO_TICH = {"id": "civil_status", "name": {"vi": "Hộ tịch", "en": "Civil status"}}
DAT_DAI = {"id": "land", "name": {"vi": "Đất đai", "en": "Land"}}
CHUNG_THUC = {"id": "certification", "name": {"vi": "Chứng thực", "en": "Certification"}}


def service(sid: str, letter: str, *fields: dict) -> dict:
    return {"id": sid, "letter": letter, "name": {"vi": sid, "en": sid}, "description": {"vi": "", "en": ""},
            "fields": list(fields)}


class Listing:
    """The server as the kiosk calls it: the branches listing and a service's availability."""

    def __init__(self, branches: list[dict], availability: dict | None = None) -> None:
        self.listed, self.answer = branches, availability or {}

    def me(self) -> dict:
        return {"kind": "device", "role": "kiosk", "branch": "hk-01"}

    def branches(self) -> list[dict]:
        return self.listed

    def procedures(self) -> list[dict]:
        return []

    def availability(self, branch: str, service_id: str) -> dict:
        return self.answer


def branch(bid: str, services: list[dict], closed: bool = False, lat: float = 21.0) -> dict:
    return {"id": bid, "name": {"vi": f"Chi nhánh {bid}", "en": f"Branch {bid}"}, "lat": lat, "lon": 105.8,
            "closed": closed, "services": services}


def kiosk_over(listing: Listing, language: str = "vi") -> Kiosk:
    kiosk = Kiosk(KioskSettings("http://unused", "hk-01", "token", language=language), client=listing)
    kiosk.load()
    return kiosk


def test_fields_are_the_branch_s_own_by_name_with_other_services_last_and_a_service_under_each_of_its_fields():
    kiosk = kiosk_over(Listing([branch("hk-01", [service("land", "C", DAT_DAI), service("civil", "A", HO_TICH),
                                                  service("cert", "B", HO_TICH, CHUNG_THUC), service("tax", "D")]),
                                branch("hk-02", [service("vehicles", "V", {"id": "transport",
                                                                           "name": {"vi": "Giao thông", "en": "Transport"}})])]))
    assert [f.id for f in kiosk.fields()] == ["certification", "land", "civil_status", ""]   # Chứng thực, Đất đai, Hộ tịch
    assert kiosk.fields()[-1].name == {"vi": "Dịch vụ khác", "en": "Other services"}
    assert [s.id for s in kiosk.services_in("civil_status")] == ["civil", "cert"]
    assert [s.id for s in kiosk.services_in("certification")] == ["cert"]
    assert [s.id for s in kiosk.services_in("")] == ["tax"]
    kiosk.language = "en"
    assert [f.id for f in kiosk.fields()] == ["certification", "civil_status", "land", ""]


@pytest.mark.parametrize("services", [
    [service("civil", "A", HO_TICH), service("cert", "B", HO_TICH)],     # one field: nothing to choose
    [service("civil", "A"), service("cert", "B")],                       # a server that publishes none
])
def test_no_fields_to_choose_between_leave_the_plain_list(services):
    assert kiosk_over(Listing([branch("hk-01", services)])).fields() == []


def test_a_closed_branch_is_refused_at_load_and_never_offered_as_another():
    with pytest.raises(BranchClosed):
        kiosk_over(Listing([branch("hk-01", [service("civil", "A")], closed=True)]))
    offers = {"served": False, "alternatives": [
        {"branch": "hk-02", "distance_km": 1.0, "travel_min": 5, "estimated_wait_min": 3},
        {"branch": "hk-03", "distance_km": 2.0, "travel_min": 9, "estimated_wait_min": 4}]}
    kiosk = kiosk_over(Listing([branch("hk-01", [service("civil", "A")]),
                                branch("hk-02", [service("civil", "A")], closed=True),
                                branch("hk-03", [service("civil", "A")])], offers))
    assert [a.branch for a in kiosk.unserved("civil").alternatives] == ["hk-03"]
