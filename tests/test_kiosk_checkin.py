"""The kiosk's "Tôi có lịch hẹn / I have an appointment": check in with the number taken on a phone, or an
appointment's code or the ID number it was booked with. The flow against a real server on the fake clock
(fast), then the real app under Xvfb, touched key by key (tests/kiosk_driver.py), at both screen sizes."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from motcua.i18n import text
from motcua.kiosk.flow import CheckedIn, Kiosk
from motcua.kiosk.settings import KioskSettings

from test_kiosk import drive, shot


def remote(server, phone: str, service: str = "civil") -> dict:
    answer = requests.post(f"{server.api}/branches/hk-01/remote-tickets", json={"service": service, "phone": phone},
                           timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()


def kiosk_for(server) -> Kiosk:
    kiosk = Kiosk(KioskSettings(server.base, "hk-01", server.tokens["kiosk1"]))
    kiosk.load()
    return kiosk


# ---- the flow ---------------------------------------------------------------------------------

def test_a_remote_ticket_is_checked_in_by_its_number_with_the_people_ahead(live_app):
    ahead = live_app.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).json()
    ticket = remote(live_app, "0912345678")
    kiosk = kiosk_for(live_app)
    checked = kiosk.check_in(" " + ticket["number"].lower() + " ")     # as typed: any case, stray spaces
    assert checked == CheckedIn(ticket["number"], {"vi": "Hộ tịch", "en": "Civil status"}, 1)
    seen = live_app.get(f"/tickets/{ticket['id']}").json()
    assert seen["checked_in_at"] is not None and seen["position"] == 2 and ahead["position"] == 1


def test_an_unknown_number_a_missed_window_and_a_called_ticket_are_told_apart(live_app):
    kiosk = kiosk_for(live_app)
    assert kiosk.check_in("") == "empty"
    assert kiosk.check_in("A999") == "not_found"
    assert kiosk.check_in("no such") == "not_found"
    late = remote(live_app, "0987654321")
    live_app.clock.set(datetime.fromisoformat(late["window_end"]).timestamp() + 60)
    assert kiosk.check_in(late["number"]) == "window_missed"
    walk_in = live_app.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).json()
    assert live_app.post("/branches/hk-01/counters/2/next", "off1").json()["ticket"]["id"] == walk_in["id"]
    assert kiosk.check_in(walk_in["number"]) == "not_waiting"


# ---- the screens, touched ---------------------------------------------------------------------

@pytest.mark.parametrize("screen, suffix, lang", [("1080x1920", "", "vi"), ("768x1366", "-768", "en")])
def test_a_number_typed_on_the_keys_checks_in_and_an_unknown_one_is_refused_in_words(live_app, tmp_path, screen,
                                                                                     suffix, lang):
    live_app.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"})
    ticket = remote(live_app, "0912345678")
    result = drive(live_app, "check-in", tmp_path, screen=screen, suffix=suffix, number=ticket["number"],
                   mistyped="A999", lang=lang)
    assert text(lang, "kiosk.checkin_not_found", number="A999") in result["refused"]
    shown = " ".join(result["shown"])
    assert text(lang, "kiosk.checkin_done") in shown
    assert text(lang, "kiosk.checkin_done_ahead", number=ticket["number"], ahead=1) in shown
    assert live_app.get(f"/tickets/{ticket['id']}").json()["checked_in_at"] is not None
    assert not result["problems"], result["problems"]
    for name in ("checkin-home", "checkin-empty", "checkin-not-found", "checkin-typed", "checkin-done"):
        shot(name + suffix)


# ---- an appointment's holder ------------------------------------------------------------------

def book(server, phone: str, after_min: float = 0.0, id_number: str | None = None) -> dict:
    """Today's first civil-status slot at hk-01 starting at least after_min from now, booked from a phone."""
    now = server.clock.now()
    day = datetime.fromtimestamp(now, ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    slots = requests.get(f"{server.api}/branches/hk-01/slots", params={"service": "civil", "date": day}, timeout=10)
    start = next(s["start"] for s in slots.json()
                 if s["free"] and datetime.fromisoformat(s["start"]).timestamp() >= now + after_min * 60)
    body = {"branch": "hk-01", "service": "civil", "start": start, "phone": phone}
    if id_number:
        body["id_number"] = id_number
    booked = requests.post(f"{server.api}/appointments", json=body, timeout=10)
    assert booked.status_code == 201, booked.text
    return booked.json()


def staff_waiting(server) -> list[dict]:
    answer = requests.get(f"{server.api}/branches/hk-01/staff-state", headers=server.auth("off1"), timeout=10)
    return answer.json()["waiting"]


def test_an_appointment_is_checked_in_by_its_code_or_id_number_and_called_at_its_slot(live_app):
    kiosk = kiosk_for(live_app)
    by_code = book(live_app, "0912345678")
    checked = kiosk.check_in(by_code["code"].lower())                 # as typed: any case
    assert isinstance(checked, CheckedIn) and not checked.late and checked.service_name["vi"] == "Hộ tịch"
    waiting = {t["number"]: t for t in staff_waiting(live_app)}
    assert waiting[checked.number]["channel"] == "appointment"
    by_id = book(live_app, "0987654321", id_number="001090012345")
    # Its slot may be a later one (the first full): the holder comes when check-in opens for it.
    opens = datetime.fromisoformat(by_id["check_in_from"]).timestamp()
    live_app.clock.set(max(live_app.clock.now(), opens))
    assert kiosk.check_in("0010 9001 2345").number != checked.number   # the ID number it was booked with
    assert kiosk.check_in(by_code["code"]) == "not_found"              # checked in already: no appointment left
    assert kiosk.check_in("ABCDEF") == "not_found"                     # a code no one holds, nor a ticket's number
    assert by_id["code"] != by_code["code"]


def test_too_early_and_late_holders_are_told_apart(live_app):
    kiosk = kiosk_for(live_app)
    later = book(live_app, "0912345678", after_min=60)
    assert kiosk.check_in(later["code"]) == "too_early"
    live_app.clock.set(datetime.fromisoformat(later["called_as_booked_until"]).timestamp() + 60)
    checked = kiosk.check_in(later["code"])
    assert isinstance(checked, CheckedIn) and checked.late               # a walk-in from now


@pytest.mark.parametrize("screen, suffix, lang", [("1080x1920", "-appointment", "vi"),
                                                  ("768x1366", "-appointment-768", "en")])
def test_an_appointment_code_typed_on_the_letter_keys_checks_its_holder_in(live_app, tmp_path, screen, suffix, lang):
    booked = book(live_app, "0912345678")
    result = drive(live_app, "check-in", tmp_path, screen=screen, suffix=suffix, number=booked["code"],
                   mistyped="ZZZZ99", lang=lang)
    assert text(lang, "kiosk.checkin_not_found", number="ZZZZ99") in result["refused"]
    shown = " ".join(result["shown"])
    assert text(lang, "kiosk.checkin_done") in shown
    waiting = staff_waiting(live_app)
    assert [t["channel"] for t in waiting] == ["appointment"]
    assert not result["problems"], result["problems"]
    for name in ("checkin-typed", "checkin-done"):
        shot(name + suffix)
