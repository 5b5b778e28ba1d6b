"""A citizen takes a remote ticket on a phone (/ then /r/), in real headless Chromium against a real
server, at 390×844 and on a laptop: the service found by searching, the branches near the phone's
location (or, location refused, picked from the list), the phone number (a wrong one said in words),
the ticket with the time to arrive by, then its own phone page; the server's refusals (409, 429, no
network) said in words. Each step is photographed in test-output/."""
from __future__ import annotations

import sqlite3

import pytest
import requests

from conftest import make_server, screenshot
from motcua.i18n import catalogue
from axe import violations
from test_phone import assert_layout

VI, EN = catalogue("vi"), catalogue("en")
HOAN_KIEM_1 = {"latitude": 21.0195, "longitude": 105.8545}   # at hk-01's door
SIZES = [(390, 844), (1280, 800)]


def check(page) -> None:
    """Nothing wider than the screen, English never louder, targets of 48 px, no WCAG 2.1 AA violation."""
    assert_layout(page)
    assert violations(page) == []


def first_line(key: str, **values) -> str:
    return VI[key].format(**values)


@pytest.fixture
def citizen(chromium):
    """A browser context as the citizen's phone (or laptop) at width×height; geolocation granted or not."""
    contexts = []

    def open_context(width: int, height: int, located: bool):
        options = dict(viewport={"width": width, "height": height}, bypass_csp=True)   # wait_for_function evaluates
        if width < 600:
            options.update(has_touch=True, is_mobile=True)
        if located:
            options.update(geolocation=HOAN_KIEM_1, permissions=["geolocation"])
        context = chromium.new_context(**options)
        contexts.append(context)
        return context.new_page()

    yield open_context
    for context in contexts:
        context.close()


def start(page, server, name: str) -> None:
    """From the start page's "Lấy số từ xa" to the civil-status service, found by typing without marks."""
    page.goto(server.base + "/")
    assert page.locator("#take-remote").inner_text().startswith(VI["start.remote"])
    assert page.locator("#book").get_attribute("href") == "/h/"   # booking, beside it
    action = page.locator("#take-remote").bounding_box()
    assert action["height"] >= 64 and action["x"] + action["width"] <= page.viewport_size["width"]
    assert violations(page) == []
    screenshot(page, f"remote-{name}-1-start")
    page.click("#take-remote")
    page.wait_for_url("**/r/")
    page.wait_for_selector("#services [data-service]")
    assert page.locator("#services [data-service]").count() >= 2
    check(page)
    screenshot(page, f"remote-{name}-2-services")
    page.fill("#search", "ket hon")
    assert page.locator("#services [data-service]").evaluate_all("els => els.map(e => e.dataset.service)") == ["civil"]
    page.click("[data-service=civil]")
    page.wait_for_selector("#where-step:not([hidden])")


def take(page, phone: str) -> None:
    page.fill("#phone", phone)
    page.click("#take")


def problem_text(page) -> str:
    page.wait_for_selector("#problem:not([hidden])")
    return page.locator("#problem").inner_text()


def finish(page, server, name: str, branch: str, told: bool = False) -> dict:
    """The ticket shown, checked against the server's own view of it, then its phone page."""
    page.wait_for_selector("#ticket-step:not([hidden])")
    ticket_id = page.locator("#follow").get_attribute("href").removeprefix("/t/")
    ticket = requests.get(f"{server.api}/tickets/{ticket_id}", timeout=10).json()
    assert (ticket["channel"], ticket["branch"], ticket["service"]) == ("remote", branch, "civil")
    assert page.locator("#number").inner_text() == ticket["number"]
    before = page.locator("#before").inner_text()
    assert first_line("rpage.ticket.before", time=ticket["window_end"][11:16]) in before
    assert first_line("rpage.ticket.how_kiosk", number=ticket["number"]) in page.locator("#ticket-step .how").inner_text()
    check(page)
    screenshot(page, f"remote-{name}-5-ticket")
    page.click("#follow")
    page.wait_for_function(f"document.querySelector('#number') && document.querySelector('#number').textContent "
                           f"=== {ticket['number']!r} && !document.querySelector('#card').hidden")
    arrival = page.locator("#arrival")
    assert first_line("phone.arrive_before", time=ticket["window_end"][11:16]) in arrival.inner_text()
    assert first_line("phone.arrive_check_in", number=ticket["number"]) in arrival.inner_text()
    check(page)
    screenshot(page, f"remote-{name}-6-phone-page")
    if told:   # a lead longer than the wait: the server's next sweep tells the citizen to set off, the page says it
        page.wait_for_selector("#arrival .set-off", timeout=15000)
        assert first_line("phone.set_off_now") in arrival.inner_text()
        assert requests.get(f"{server.api}/tickets/{ticket_id}", timeout=10).json()["set_off_at"] is not None
        screenshot(page, f"remote-{name}-7-set-off")
    # Checked in at the kiosk: the page, following the ticket live, stops asking the citizen to come.
    assert server.post(f"/branches/{branch}/tickets/{ticket['number']}/check-in", f"kiosk{branch[-1]}").ok
    arrival.wait_for(state="hidden", timeout=10000)
    return ticket


@pytest.fixture
def telling_server(tmp_path, real_template):
    """A server that tells a remote ticket's citizen to set off an hour before the predicted call (so at once),
    sweeping every second."""
    srv = make_server(tmp_path, real_template, "[remote]\nlead_min = 60\nsweep_s = 1\n")
    yield srv
    srv.kill()


@pytest.mark.parametrize("width, height", SIZES)
def test_a_citizen_near_a_branch_takes_a_remote_ticket(telling_server, citizen, width, height):
    fresh_server = telling_server
    page = citizen(width, height, located=True)
    name = f"located-{width}x{height}"
    start(page, fresh_server, name)
    page.click("#locate")
    page.wait_for_selector("#nearby [data-branch]")
    query = f"lat={HOAN_KIEM_1['latitude']}&lon={HOAN_KIEM_1['longitude']}&service=civil"
    near = fresh_server.get(f"/branches/nearby?{query}").json()
    shown = page.locator("#nearby [data-branch]")
    assert shown.evaluate_all("els => els.map(e => e.dataset.branch)") == [b["branch"] for b in near]
    first = near[0]
    km = f"{first['distance_km']:.1f}".replace(".", ",")   # a decimal comma, as Vietnamese writes it
    assert first_line("rpage.where.travel_wait", travel=first["travel_min"], km=km,
                      wait=first["estimated_wait_min"]) in shown.first.inner_text()
    assert VI["rpage.where.soonest"] in shown.first.inner_text()
    check(page)
    screenshot(page, f"remote-{name}-3-nearby")
    shown.first.click()
    page.wait_for_selector("#phone-step:not([hidden])")
    take(page, "12345")
    assert VI["rpage.error.bad_phone"] in problem_text(page)
    assert page.locator("#phone").get_attribute("aria-invalid") == "true"
    check(page)
    screenshot(page, f"remote-{name}-4-bad-phone")
    # Messages in English, chosen on the phone: the ticket keeps the choice its messages are written in.
    assert page.locator("input[name=lang]:checked").get_attribute("value") == "vi"
    page.locator("label.lang", has_text="English").click()
    take(page, "0912 345 678")
    ticket = finish(page, fresh_server, name, first["branch"], told=True)
    with sqlite3.connect(fresh_server.db) as db:
        assert db.execute("SELECT lang FROM tickets WHERE id = ?", (ticket["id"],)).fetchone() == ("en",)


@pytest.fixture
def strict_server(tmp_path, real_template):
    """A server that lets an address ask for 2 remote tickets a minute."""
    srv = make_server(tmp_path, real_template, "[remote]\ntickets_per_minute_per_address = 2\n")
    yield srv
    srv.kill()


@pytest.mark.parametrize("width, height", SIZES)
def test_location_refused_the_citizen_picks_a_branch_and_refusals_are_said_in_words(strict_server, citizen, width,
                                                                                   height):
    page = citizen(width, height, located=False)
    name = f"listed-{width}x{height}"
    start(page, strict_server, name)
    page.click("#locate")
    page.wait_for_selector("#where-status.problem")
    assert page.locator("#where-status").inner_text().startswith(
        (VI["rpage.where.denied"], VI["rpage.where.unavailable"]))
    listed = page.locator("#branch-list [data-branch=hk-02]")
    wait = strict_server.get("/branches/hk-02/services/civil/availability").json()["estimated_wait_min"]
    page.wait_for_function("document.querySelector('#branch-list [data-branch=hk-02]').textContent.includes("
                           f"{first_line('rpage.where.wait', wait=wait)!r})")
    assert page.locator("#nearby [data-branch]").count() == 0
    check(page)
    screenshot(page, f"remote-{name}-3-list")
    listed.click()
    page.wait_for_selector("#phone-step:not([hidden])")
    take(page, "")
    assert VI["rpage.error.empty_phone"] in problem_text(page)
    page.context.set_offline(True)
    take(page, "0987654321")
    assert VI["rpage.error.network"] in problem_text(page)
    screenshot(page, f"remote-{name}-4-offline")
    page.context.set_offline(False)
    take(page, "0987654321")
    ticket = finish(page, strict_server, name, "hk-02")

    # The same phone again for the same service: the ticket it holds, in words and a link to it.
    page.goto(strict_server.base + "/r/")
    page.fill("#search", "kết hôn")
    page.click("[data-service=civil]")
    page.click("#branch-list [data-branch=hk-02]")
    take(page, "098 765 4321")
    branch_vi = next(b for b in strict_server.get("/branches").json() if b["id"] == "hk-02")["name"]["vi"]
    assert first_line("rpage.error.held", number=ticket["number"], branch=branch_vi) in problem_text(page)
    assert page.locator("#held").get_attribute("href") == f"/t/{ticket['id']}"
    check(page)
    screenshot(page, f"remote-{name}-7-held")
    take(page, "0912345678")   # a third ask within the minute: 429
    limited = VI["rpage.error.rate_limited"].split("{")[0]
    page.wait_for_function(f"document.querySelector('#problem').textContent.includes({limited!r})")
    assert page.locator("#held").is_hidden()
    screenshot(page, f"remote-{name}-8-rate-limited")
