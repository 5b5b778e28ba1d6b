"""The counter console's "Lịch hẹn hôm nay" in real headless Chromium under the real CSP, on the app's fake
clock (08:00, so that today has slots whatever the hour of the run): the appointments booked for the
counter's services, in time order, who came with which ticket and who has not yet; another service's are not
this counter's."""
from __future__ import annotations

from datetime import datetime

import requests
from playwright.sync_api import expect

from axe import violations
from conftest import PASSWORD, screenshot
from motcua.i18n import catalogue

VI = catalogue("vi")
DAY = "2026-11-24"   # the fake clock's day


def book(live_app, service: str, phone: str, index: int = 0) -> dict:
    slots = requests.get(f"{live_app.api}/branches/hk-01/slots", params={"service": service, "date": DAY}, timeout=10)
    start = [s["start"] for s in slots.json() if s["free"]][index]
    booked = requests.post(f"{live_app.api}/appointments", timeout=10,
                           json={"branch": "hk-01", "service": service, "start": start, "phone": phone})
    assert booked.status_code == 201, booked.text
    return booked.json()


def test_the_console_lists_today_s_appointments_for_its_services_and_who_came(chromium, live_app):
    first = book(live_app, "civil", "0912345678")
    second = book(live_app, "civil", "0987654321", index=3)
    book(live_app, "land", "0977777777")                       # not a civil-status counter's
    live_app.clock.set(datetime.fromisoformat(first["start"]).timestamp())
    ticket = live_app.post("/branches/hk-01/appointments/check-in", "kiosk1", {"code": first["code"]}).json()
    counter = next(c for c in live_app.get("/branches/hk-01/state").json()["counters"]
                   if c["services"] == ["civil"])["id"]
    context = chromium.new_context(viewport={"width": 1920, "height": 1080}, bypass_csp=True)   # axe is injected
    signed = context.request.post(live_app.api + "/auth/session", data={"username": "off1", "password": PASSWORD})
    assert signed.ok, signed.text()
    page = context.new_page()
    page.goto(f"{live_app.base}/counter?branch=hk-01&counter={counter}")
    page.wait_for_selector("#console:not([hidden])")
    items = page.locator("#booked li")
    expect(items).to_have_count(2, timeout=5000)
    assert items.evaluate_all("els => els.map((e) => e.dataset.start)") == [first["start"], second["start"]]
    expect(items.nth(0)).to_contain_text(VI["counter.booked_checked_in"].format(number=ticket["number"]))
    expect(items.nth(1)).to_contain_text(VI["counter.booked_booked"])
    assert items.nth(1).locator(".at").inner_text() == second["start"][11:16]
    expect(page.locator("#booked-count")).to_have_text(VI["counter.booked_count"].format(count=2, came=1))
    assert violations(page, ".booked") == []
    screenshot(page, "console-booked-1920x1080")
    page.goto(f"{live_app.base}/counter?branch=hk-01&counter=" + next(   # a counter of no booked service: no panel
        c["id"] for c in live_app.get("/branches/hk-01/state").json()["counters"] if c["services"] == ["cert"]))
    page.wait_for_selector("#console:not([hidden])")
    assert page.locator("#booked-panel").is_hidden()
    page.goto(f"{live_app.base}/counter?branch=hk-01&counter={counter}")
    expect(items).to_have_count(2, timeout=5000)
    page.set_viewport_size({"width": 1366, "height": 768})
    screenshot(page, "console-booked-1366x768")
    context.close()
