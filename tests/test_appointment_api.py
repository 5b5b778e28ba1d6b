"""Appointments through the API on a fake clock: the slots, booking, cancelling and moving with the phone,
the kiosk's check-in by code or ID number, and the refusals in JSON."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from motcua.config import load_config
from motcua.core.appointments import parse_weekdays
from motcua.core.model import Invalid
from motcua.web.app import create_app

from conftest import Api

PHONE = "0912345678"
ID_NUMBER = "001090012345"
DAY = "2026-11-24"   # the fake clock's day (08:00)


@pytest.fixture
def app(config, clock):
    """The test app, its limits per address out of the way but for the test of them."""
    app = create_app(load_config(server={"db": config.server.db, "async_mode": "threading"},
                                 dossiers={"holidays": config.dossiers.holidays},
                                 appointments={"requests_per_minute_per_address": 1000,
                                               "requests_per_hour_per_address": 1000}), clock)
    app.config["TESTING"] = True
    yield app
    app.extensions["motcua"].store.close()


def offered(api: Api, branch: str = "hk-01", service: str = "civil", day: str = DAY) -> list[dict]:
    answer = api.get(f"/branches/{branch}/slots?service={service}&date={day}")
    assert answer.status_code == 200, answer.text
    return answer.json


def book(api: Api, start: str, **body):
    return api.post("/appointments", json={"branch": "hk-01", "service": "civil", "start": start, "phone": PHONE,
                                           **body})


def test_the_slots_are_public_future_and_taken_by_a_booking(api, clock):
    slots = offered(api)
    assert slots and all(datetime.fromisoformat(s["start"]).timestamp() > clock.now() for s in slots)
    first = slots[0]
    assert first["free"] >= 1 and datetime.fromisoformat(first["end"]) > datetime.fromisoformat(first["start"])
    answer = book(api, first["start"], lang="en", id_number=ID_NUMBER)
    assert answer.status_code == 201, answer.text
    booked = answer.json
    assert len(booked["code"]) == 6 and booked["status"] == "booked" and booked["start"] == first["start"]
    assert booked["lang"] == "en" and "phone" not in booked and ID_NUMBER not in str(booked)
    assert datetime.fromisoformat(booked["check_in_from"]) < datetime.fromisoformat(booked["start"]) < \
        datetime.fromisoformat(booked["called_as_booked_until"])
    again = {s["start"]: s["free"] for s in offered(api)}
    assert again.get(first["start"], 0) == first["free"] - 1


def test_no_slot_is_offered_or_booked_on_a_weekend_or_a_holiday(api, config, clock):
    # Saturday 28 and Sunday 29 November: the centres are shut, by the default weekdays (Monday to Friday).
    assert offered(api, day="2026-11-27") and offered(api, day="2026-11-30")
    assert offered(api, day="2026-11-28") == [] and offered(api, day="2026-11-29") == []
    refused = book(api, "2026-11-28T08:00:00+07:00")
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "slot_full")
    # With the default holidays, today (24 November, Vietnam's Culture Day) has none either; a centre that
    # opens on Saturdays says so.
    shut = create_app(load_config(server={"db": config.server.db, "async_mode": "threading"},
                                  appointments={"weekdays": "1,2,3,4,5,6"}), clock)
    try:
        other = Api(shut.test_client(), {})
        assert offered(other) == [] and offered(other, day="2026-11-25")
        assert offered(other, day="2026-11-28") and offered(other, day="2026-11-29") == []
        # The booking page offers only the days slots are offered on, from the first of them.
        page = shut.test_client().get("/h/").get_data(as_text=True)
        assert '"2026-11-25"' in page and '"2026-11-28"' in page and '"2026-11-24"' not in page
        assert '"2026-11-29"' not in page
    finally:
        shut.extensions["motcua"].store.close()


@pytest.mark.parametrize("weekdays", ["", "0", "8", "Mon", "1,,2"])
def test_a_bad_weekdays_setting_is_refused_naming_it(weekdays):
    with pytest.raises(Invalid) as refused:
        parse_weekdays(weekdays)
    assert refused.value.code == "bad_weekday" and "weekdays" in str(refused.value)


def test_the_holder_checks_in_at_the_kiosk_and_is_called_at_the_slot(api, clock):
    slot = offered(api)[2]
    code = book(api, slot["start"]).json["code"]
    start = datetime.fromisoformat(slot["start"]).timestamp()
    clock.set(start - 20 * 60)
    early = api.post("/branches/hk-01/appointments/check-in", "kiosk1", json={"code": code})
    assert (early.status_code, early.json["error"]["code"]) == (409, "too_early")
    clock.set(start - 5 * 60)
    answer = api.post("/branches/hk-01/appointments/check-in", "kiosk1", json={"code": code.lower()})
    assert answer.status_code == 201, answer.text
    ticket = answer.json
    assert ticket["channel"] == "appointment" and datetime.fromisoformat(ticket["due_at"]).timestamp() == start
    assert api.post("/branches/hk-01/counters/2/next", "off1").json["ticket"] is None   # not before its slot
    clock.set(start)
    assert api.post("/branches/hk-01/counters/2/next", "off1").json["ticket"]["id"] == ticket["id"]


def test_a_check_in_by_id_number_and_the_kiosk_of_another_branch(api, clock):
    slot = offered(api)[0]
    book(api, slot["start"], id_number=ID_NUMBER)
    clock.set(datetime.fromisoformat(slot["start"]).timestamp())
    elsewhere = api.post("/branches/hk-02/appointments/check-in", "kiosk1", json={"id_number": ID_NUMBER})
    assert elsewhere.status_code == 403
    answer = api.post("/branches/hk-01/appointments/check-in", "kiosk1", json={"id_number": ID_NUMBER})
    assert answer.status_code == 201 and answer.json["channel"] == "appointment"
    anyone = api.post("/branches/hk-01/appointments/check-in", json={"id_number": ID_NUMBER})
    assert anyone.status_code == 401


@pytest.mark.parametrize("body, code", [({}, "missing_field"),
                                        ({"code": "ABCDEF", "id_number": ID_NUMBER}, "missing_field"),
                                        ({"id_number": "12"}, "bad_id_number")])
def test_a_check_in_names_one_appointment(api, body, code):
    answer = api.post("/branches/hk-01/appointments/check-in", "kiosk1", json=body)
    assert (answer.status_code, answer.json["error"]["code"]) == (400, code)


def test_cancel_and_move_with_the_phone_and_no_oracle_without_it(api):
    first, second = offered(api)[:2]
    code = book(api, first["start"]).json["code"]
    wrong = api.post(f"/appointments/{code}/cancel", json={"phone": "0987654321"})
    unknown = api.post("/appointments/ZZZZZZ/cancel", json={"phone": PHONE})
    assert wrong.status_code == unknown.status_code == 404 and wrong.json == unknown.json
    moved = api.post(f"/appointments/{code}/move", json={"phone": PHONE, "start": second["start"]})
    assert moved.status_code == 200, moved.text
    assert (moved.json["code"], moved.json["start"]) == (code, second["start"])
    off_grid = api.post(f"/appointments/{code}/move", json={"phone": PHONE, "start": "2026-11-24T12:31:00"})
    assert (off_grid.status_code, off_grid.json["error"]["code"]) == (409, "slot_full")
    cancelled = api.post(f"/appointments/{code}/cancel", json={"phone": "+84 912 345 678"})
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    again = api.post(f"/appointments/{code}/cancel", json={"phone": PHONE})
    assert (again.status_code, again.json["error"]["code"]) == (409, "appointment_cancelled")


@pytest.mark.parametrize("body, status, code", [
    ({"phone": "12345"}, 400, "bad_phone"),
    ({"id_number": "12345"}, 400, "bad_id_number"),
    ({"start": "tomorrow"}, 400, "bad_value"),
    ({"service": "nothing"}, 404, "unknown_service"),
    ({"branch": "nowhere"}, 404, "unknown_branch"),
    ({"start": "2026-11-24T08:00:00+07:00"}, 409, "slot_full"),
])
def test_bad_bookings_are_refused_in_json(api, body, status, code):
    answer = api.post("/appointments", json={"branch": "hk-01", "service": "civil", "phone": PHONE,
                                             "start": offered(api)[0]["start"], **body})
    assert (answer.status_code, answer.json["error"]["code"]) == (status, code)


def test_a_second_appointment_that_day_and_a_form_are_refused(api):
    first, second = offered(api)[:2]
    assert book(api, first["start"]).status_code == 201
    held = book(api, second["start"])
    assert (held.status_code, held.json["error"]["code"]) == (409, "appointment_held")
    form = api.client.post("/api/v1/appointments", data={"branch": "hk-01"})
    assert form.status_code == 415
    bad = api.get("/branches/hk-01/slots?service=civil&date=someday")
    assert (bad.status_code, bad.json["error"]["code"]) == (400, "bad_query")


def test_appointment_requests_are_limited_per_address(config, clock):
    app = create_app(load_config(server={"db": config.server.db, "async_mode": "threading"},
                                 dossiers={"holidays": config.dossiers.holidays},
                                 appointments={"requests_per_minute_per_address": 2}), clock)
    app.config["TESTING"] = True
    api = Api(app.test_client(), {})
    try:
        slots = offered(api)
        answers = [book(api, slots[n]["start"], phone=f"09123456{n:02d}").status_code for n in range(3)]
        assert answers == [201, 201, 429]
        limited = api.post("/appointments/ZZZZZZ/cancel", json={"phone": PHONE})
        assert limited.status_code == 429 and limited.headers.get("Retry-After")
    finally:
        app.extensions["motcua"].store.close()


def test_a_holder_is_reminded_once_through_the_outbox_and_again_of_a_new_slot(app, api, clock):
    rt = app.extensions["motcua"]
    first, later = offered(api)[4], offered(api)[8]
    booked = book(api, first["start"], lang="en").json
    start = datetime.fromisoformat(first["start"]).timestamp()
    clock.set(start - 61 * 60)
    assert rt.bookings.remind() == 0
    clock.set(start - 59 * 60)
    assert rt.bookings.remind() == 1 and rt.bookings.remind() == 0
    [row] = rt.store.query("select * from outbox where kind = 'appointment_reminder'")
    texts = json.loads(row["texts"])
    assert row["recipient"] == PHONE and row["lang"] == "en"
    assert booked["code"] in texts["vi"] and booked["code"] in texts["en"] and first["start"][11:16] in texts["vi"]
    assert "24/11/2026" in texts["vi"] and "24/11/2026" in texts["en"]
    moved = api.post(f"/appointments/{booked['code']}/move", json={"phone": PHONE, "start": later["start"]})
    assert moved.status_code == 200, moved.text
    clock.set(datetime.fromisoformat(later["start"]).timestamp() - 30 * 60)
    assert rt.bookings.remind() == 1
    assert len(rt.store.query("select * from outbox where kind = 'appointment_reminder'")) == 2


def test_a_restarted_server_keeps_its_appointments(app, config, clock):
    api = Api(app.test_client(), {})
    slot = offered(api)[0]
    code = book(api, slot["start"]).json["code"]
    app.extensions["motcua"].store.close()
    again = create_app(load_config(server={"db": config.server.db, "async_mode": "threading"},
                                   dossiers={"holidays": config.dossiers.holidays}), clock)
    try:
        restarted = Api(again.test_client(), {})
        assert {s["start"]: s["free"] for s in offered(restarted)}.get(slot["start"], 0) == slot["free"] - 1
        cancelled = restarted.post(f"/appointments/{code}/cancel", json={"phone": PHONE})
        assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    finally:
        again.extensions["motcua"].store.close()


def test_the_branch_s_staff_see_today_s_appointments_and_who_came_without_their_codes(api, clock):
    first, second, third = offered(api)[:3]
    codes = [book(api, slot["start"], phone=phone).json["code"]
             for slot, phone in ((first, PHONE), (second, "0987654321"), (third, "0977777777"))]
    assert api.post(f"/appointments/{codes[2]}/cancel", json={"phone": "0977777777"}).status_code == 200
    clock.set(datetime.fromisoformat(first["start"]).timestamp())
    ticket = api.post("/branches/hk-01/appointments/check-in", "kiosk1", {"code": codes[0]}).json
    booked = api.get("/branches/hk-01/staff-state", "off1").json["booked"]
    assert [(b["start"], b["service"], b["status"], b["ticket"]) for b in booked] == [
        (first["start"], "civil", "checked_in", ticket["number"]), (second["start"], "civil", "booked", None)]
    assert booked[0]["checked_in_at"] is not None and not any(code in str(booked) for code in codes)
    assert PHONE not in str(booked)
    assert api.get("/branches/hk-02/staff-state", "admin").json["booked"] == []   # another branch's are its own


def test_the_kiosk_offers_a_walk_in_over_the_target_a_later_slot_and_books_it_without_a_phone(api, clock):
    quiet = api.get("/branches/hk-01/later-slot?service=business", "kiosk1")
    assert quiet.status_code == 200, quiet.text
    assert quiet.json["slot"] is None
    for _ in range(8):
        api.issue("business")
    offer = api.get("/branches/hk-01/later-slot?service=business", "kiosk1").json
    assert offer["estimated_wait_min"] > 15 and offer["slot"] is not None
    start = datetime.fromisoformat(offer["slot"]["start"])
    assert start.timestamp() <= clock.now() + (offer["estimated_wait_min"] + 1) * 60
    assert offer["slot"] == offered(api, service="business")[0]
    taken = api.post("/branches/hk-01/later-slot", "kiosk1",
                     json={"service": "business", "start": offer["slot"]["start"], "lang": "en"})
    assert taken.status_code == 201, taken.text
    assert (taken.json["start"], taken.json["status"], taken.json["lang"]) == (offer["slot"]["start"], "booked", "en")
    assert "phone" not in taken.json
    clock.set(start.timestamp())
    ticket = api.post("/branches/hk-01/appointments/check-in", "kiosk1", json={"code": taken.json["code"]})
    assert ticket.status_code == 201 and ticket.json["channel"] == "appointment"


def test_a_later_slot_not_offered_and_a_stranger_are_refused(api, clock):
    for _ in range(8):
        api.issue("business")
    start = api.get("/branches/hk-01/later-slot?service=business", "kiosk1").json["slot"]["start"]
    moved = datetime.fromisoformat(start).timestamp() + 3600
    late = api.post("/branches/hk-01/later-slot", "kiosk1",
                    json={"service": "business", "start": datetime.fromtimestamp(moved).astimezone().isoformat()})
    assert (late.status_code, late.json["error"]["code"]) == (409, "slot_full")
    assert api.get("/branches/hk-01/later-slot?service=business").status_code == 401
    assert api.get("/branches/hk-02/later-slot?service=business", "kiosk1").status_code == 403
    assert api.get("/branches/hk-01/later-slot?service=nothing", "kiosk1").status_code == 404
    assert api.get("/branches/hk-01/later-slot", "kiosk1").status_code == 400
