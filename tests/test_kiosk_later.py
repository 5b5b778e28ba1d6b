"""The kiosk's later slot (motcua.core.appointments.later_slot): a walk-in whose predicted wait is over the
target is offered, before the number, a slot later today to come back for; one touch
books it and shows its code, another takes the number all the same. The flow against a real server on the
fake clock, then the real app under Xvfb, touched (tests/kiosk_driver.py)."""
from __future__ import annotations

from datetime import datetime

import pytest
import requests

from motcua.i18n import text
from motcua.kiosk.flow import BookedLater, LaterSlot

from test_kiosk import drive, shot
from test_kiosk_checkin import kiosk_for


def long_queue(server, n: int = 8) -> None:
    """hk-01's business queue past the target: one counter, n citizens before."""
    for _ in range(n):
        answer = server.post("/branches/hk-01/tickets", "kiosk1", {"service": "business"})
        assert answer.status_code == 201, answer.text


def staff_booked(server) -> list[dict]:
    answer = requests.get(f"{server.api}/branches/hk-01/staff-state", headers=server.auth("off1"), timeout=10)
    return answer.json()["booked"]


# ---- the flow ---------------------------------------------------------------------------------

def test_a_short_queue_offers_nothing_and_a_long_one_offers_the_server_s_slot(live_app):
    kiosk = kiosk_for(live_app)
    assert kiosk.later_slot("business") is None
    long_queue(live_app)
    offer = kiosk.later_slot("business")
    asked = requests.get(f"{live_app.api}/branches/hk-01/later-slot", params={"service": "business"},
                         headers=live_app.auth("kiosk1"), timeout=10).json()
    assert offer == LaterSlot(asked["slot"]["start"], asked["slot"]["start"][11:16], asked["estimated_wait_min"],
                              {"vi": "Đăng ký kinh doanh", "en": "Business registration"})
    assert offer.wait_min > 15


def test_the_offered_slot_is_booked_and_its_code_checks_its_holder_in_when_they_come_back(live_app):
    kiosk = kiosk_for(live_app)
    long_queue(live_app)
    offer = kiosk.later_slot("business")
    booked = kiosk.book_later("business", offer)
    assert isinstance(booked, BookedLater) and booked.time == offer.time and len(booked.code) == 6
    assert [b["start"] for b in staff_booked(live_app)] == [offer.start]
    live_app.clock.set(datetime.fromisoformat(offer.start).timestamp())
    checked = kiosk.check_in(booked.code)
    assert not isinstance(checked, str) and not checked.late


def test_a_slot_no_longer_offered_falls_back_to_the_queue(live_app):
    kiosk = kiosk_for(live_app)
    long_queue(live_app)
    offer = kiosk.later_slot("business")
    gone = LaterSlot(offer.start.replace(offer.time, "16:45"), "16:45", offer.wait_min, offer.service_name)
    assert kiosk.book_later("business", gone) is None


# ---- the screens, touched ---------------------------------------------------------------------

@pytest.mark.parametrize("screen, suffix, lang", [("1080x1920", "", "vi"), ("768x1366", "-768", "en")])
def test_the_walk_in_touches_book_and_is_shown_the_code(live_app, tmp_path, screen, suffix, lang):
    long_queue(live_app)
    offer = kiosk_for(live_app).later_slot("business")
    result = drive(live_app, "later", tmp_path, screen=screen, suffix=suffix, service="business", choice="book",
                   lang=lang)
    offered = " ".join(result["offered"])
    assert result["offered"].index(text(lang, "kiosk.later_book", time=offer.time)) < \
        result["offered"].index(text("en" if lang == "vi" else "vi", "kiosk.later_book", time=offer.time))
    assert text(lang, "kiosk.later_queue") in offered
    [booked] = staff_booked(live_app)
    shown = " ".join(result["shown"])
    codes = [word for word in shown.split() if len(word) == 6 and word.isalnum() and word.isupper()]
    assert codes, shown
    live_app.clock.set(datetime.fromisoformat(offer.start).timestamp())
    checked = live_app.post("/branches/hk-01/appointments/check-in", "kiosk1", {"code": codes[0]})
    assert checked.status_code == 201 and checked.json()["channel"] == "appointment", checked.text
    assert booked["ticket"] is None
    assert not result["problems"], result["problems"]
    for name in ("later", "later-booked"):
        shot(name + suffix)


def test_the_walk_in_who_would_rather_wait_takes_the_number(live_app, tmp_path):
    long_queue(live_app)
    result = drive(live_app, "later", tmp_path, service="business", choice="queue")
    assert result["ticket"]["service"] == "business" and result["ticket"]["number"] == "D009"
    assert staff_booked(live_app) == []
    assert not result["problems"], result["problems"]
