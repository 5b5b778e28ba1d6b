"""A citizen books an appointment on a phone (/ then /h/), in real headless Chromium against a real server, at
390×844 and on a laptop: the service found by searching, a branch from the list, tomorrow's free slots as the
server offers them, the phone number and ID number (a wrong ID said in words), the code; then, the page opened
again, the appointment this phone keeps, moved to another slot and cancelled, each checked against the server's
slots. Each step is photographed in test-output/."""
from __future__ import annotations

import re
from collections import defaultdict

import pytest
import requests

from conftest import make_server, screenshot
from motcua.i18n import catalogue
from test_remote_pages import check, citizen  # noqa: F401 (a fixture)

VI = catalogue("vi")
SIZES = [(390, 844), (1280, 800)]
CODE = re.compile(r"^[A-HJ-NP-Z2-9]{6}$")
PHONE = "0912 345 678"
ID_NUMBER = "001090012345"


@pytest.fixture
def booking_server(tmp_path, real_template):
    """A server that lets one address book, move and cancel more often than a citizen would (the test does all)."""
    srv = make_server(tmp_path, real_template,
                      "[appointments]\nrequests_per_minute_per_address = 30\nrequests_per_hour_per_address = 100\n")
    yield srv
    srv.kill()


def free_slots(server, day: str, branch: str = "hk-01") -> dict[str, int]:
    slots = requests.get(f"{server.api}/branches/{branch}/slots", params={"service": "civil", "date": day}, timeout=10)
    assert slots.status_code == 200, slots.text
    return defaultdict(int, {s["start"]: s["free"] for s in slots.json()})   # a full slot is not listed


def shown_slots(page) -> list[str]:
    page.wait_for_selector("#slots .slot")
    return page.locator("#slots .slot").evaluate_all("els => els.map((e) => e.dataset.start)")


@pytest.mark.parametrize("width, height", SIZES)
def test_a_citizen_books_moves_and_cancels_an_appointment_on_a_phone(booking_server, citizen, width, height):
    name = f"{width}x{height}"
    page = citizen(width, height, located=False)
    page.goto(booking_server.base + "/")
    assert page.locator("#book").get_attribute("href") == "/h/"
    page.click("#book")
    page.wait_for_url("**/h/")
    page.wait_for_selector("#services [data-service]")
    assert page.locator("#title").inner_text().startswith(VI["bpage.title"])
    assert page.locator("#mine").is_hidden()   # nothing booked on this phone yet
    page.fill("#search", "ket hon")
    page.click("[data-service=civil]")
    page.click("#branch-list [data-branch=hk-01]")

    # The days: today and the next six; tomorrow's slots are the server's free ones, in order.
    page.wait_for_selector("#when-step:not([hidden])")
    days = page.locator("#days .day").evaluate_all("els => els.map((e) => e.dataset.day)")
    assert len(days) == 7 and days == sorted(days)
    page.click(f"#days .day[data-day='{days[1]}']")
    page.wait_for_function(f"[...document.querySelectorAll('#slots .slot')].every((e) => e.dataset.start.startsWith("
                           f"{days[1]!r})) && document.querySelectorAll('#slots .slot').length > 0")
    offered = free_slots(booking_server, days[1])
    assert shown_slots(page) == [start for start, free in offered.items() if free > 0]
    check(page)
    screenshot(page, f"booking-{name}-1-slots")
    first, second = shown_slots(page)[:2]
    page.click(f"#slots .slot[data-start='{first}']")

    # The phone and an ID number: a wrong one said in words, nothing booked.
    page.wait_for_selector("#phone-step:not([hidden])")
    assert first[11:16] in page.locator("#chosen-slot").inner_text()
    page.fill("#phone", PHONE)
    page.fill("#id-number", "12345")
    page.click("#take")
    page.wait_for_selector("#problem:not([hidden])")
    assert VI["bpage.error.bad_id"] in page.locator("#problem").inner_text()
    assert page.locator("#id-number").get_attribute("aria-invalid") == "true"
    assert free_slots(booking_server, days[1])[first] == offered[first]
    check(page)
    screenshot(page, f"booking-{name}-2-bad-id")
    page.fill("#id-number", ID_NUMBER)
    page.click("#take")
    page.wait_for_selector("#booked-step:not([hidden])")
    code = page.locator("#code").inner_text()
    assert CODE.match(code), code
    assert free_slots(booking_server, days[1])[first] == offered[first] - 1
    assert VI["bpage.booked.how_kiosk"].format(code=code) in page.locator("#booked-step .how").inner_text()
    check(page)
    screenshot(page, f"booking-{name}-3-booked")

    # Opened again later: this phone's appointment is listed; moved to the next slot.
    page.goto(booking_server.base + "/h/")
    page.wait_for_selector(f"#mine [data-code='{code}']")
    check(page)
    screenshot(page, f"booking-{name}-4-mine")
    page.click(f"#mine [data-code='{code}']")
    page.wait_for_selector("#booked-step:not([hidden])")
    page.click("#move")
    page.wait_for_selector("#when-step:not([hidden])")
    page.click(f"#days .day[data-day='{days[1]}']")
    page.wait_for_selector(f"#slots .slot[data-start='{second}']")
    page.click(f"#slots .slot[data-start='{second}']")
    page.wait_for_function(f"!document.querySelector('#booked-step').hidden && "
                           f"document.querySelector('#booked-when').textContent.includes({second[11:16]!r})")
    assert page.locator("#code").inner_text() == code   # moved, same code
    now = free_slots(booking_server, days[1])
    assert (now[first], now[second]) == (offered[first], offered[second] - 1)

    # Cancelled, after saying yes: the slot given back, and the code no longer held.
    page.click("#cancel")
    page.wait_for_selector("#confirm-cancel:not([hidden])")
    check(page)
    screenshot(page, f"booking-{name}-5-cancel")
    page.click("#cancel-yes")
    page.wait_for_selector("#booked-status:not([hidden])")
    assert VI["bpage.booked.cancelled"] in page.locator("#booked-status").inner_text()
    assert page.locator("#booked-actions").is_hidden()
    assert free_slots(booking_server, days[1])[second] == offered[second]
    again = requests.post(f"{booking_server.api}/appointments/{code}/cancel", json={"phone": PHONE}, timeout=10)
    assert again.status_code == 409, again.text
    screenshot(page, f"booking-{name}-6-cancelled")
    page.goto(booking_server.base + "/h/")
    page.wait_for_selector("#services [data-service]")
    assert page.locator("#mine").is_hidden()
