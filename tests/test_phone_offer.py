"""An offer on the phone page (/t/{id}) in real headless Chromium at 390×844 against a real server: a
ticket waiting behind a crowd is shown a branch that would call it sooner, and one tap moves it there."""
from __future__ import annotations

import json
import re
import time

import pytest
import requests

from axe import violations
from conftest import screenshot
from motcua.i18n import catalogue
from test_phone import assert_layout

VI, EN = catalogue("vi"), catalogue("en")


def issue(server, service="land") -> dict:
    answer = server.post("/branches/hk-01/tickets", "kiosk1", {"service": service})
    assert answer.status_code == 201, answer.text
    return answer.json()


def crowded(server) -> dict:
    """A land ticket at hk-01 behind twelve others: a quieter branch nearby would call it sooner."""
    for _ in range(12):
        issue(server)
    return issue(server)


@pytest.fixture
def phone(chromium):
    """A new 390×844 touch phone's page, closed at the test's end."""
    context = chromium.new_context(bypass_csp=True, viewport={"width": 390, "height": 844}, has_touch=True,
                                   is_mobile=True)
    yield context.new_page()
    context.close()


def test_a_waiting_ticket_is_offered_a_sooner_branch_and_one_tap_moves_it(fresh_server, phone):
    server, page = fresh_server, phone
    mine = crowded(server)
    offer = requests.get(f"{server.api}/tickets/{mine['id']}", timeout=5).json()["offer"]
    assert offer is not None, "twelve ahead at hk-01: a quieter branch nearby should call the citizen sooner"
    branch = next(b for b in requests.get(f"{server.api}/branches", timeout=5).json() if b["id"] == offer["branch"])

    page.goto(f"{server.base}/t/{mine['id']}")
    page.wait_for_selector("#offer:not([hidden])", timeout=5000)
    body = page.text_content("#offer-body .vi")
    assert branch["name"]["vi"] in body and str(offer["saving_min"]) in body and str(offer["travel_min"]) in body
    assert page.text_content("#offer-take .vi") == VI["phone.offer.take"].format(branch=branch["name"]["vi"])
    assert page.text_content("#offer-take .en") == EN["phone.offer.take"].format(branch=branch["name"]["en"])
    assert page.text_content("#offer h2 .en") == EN["phone.offer.title"]
    # Seen without scrolling: the button is on the first screen.
    assert page.evaluate("document.getElementById('offer-take').getBoundingClientRect().bottom") <= 844
    screenshot(page, "phone-offer")
    assert_layout(page)
    assert violations(page) == []

    page.tap("#offer-take")
    page.wait_for_url(re.compile(r"/t/(?!" + re.escape(mine["id"]) + r"$)[^/]+$"), timeout=5000)
    moved_id = page.url.rsplit("/", 1)[1]
    page.wait_for_function("document.body.dataset.status === 'waiting'", timeout=5000)
    moved = requests.get(f"{server.api}/tickets/{moved_id}", timeout=5).json()
    assert moved["branch"] == offer["branch"] and moved["status"] == "waiting"
    assert page.text_content("#number") == moved["number"]
    assert page.text_content("#branch .vi") == branch["name"]["vi"]
    old = requests.get(f"{server.api}/tickets/{mine['id']}", timeout=5).json()
    assert (old["status"], old["transferred_to"]) == ("transferred", moved_id)
    screenshot(page, "phone-offer-moved")
    assert_layout(page)


def test_an_offer_gone_before_the_tap_keeps_the_ticket_and_says_so(fresh_server, phone):
    server, page = fresh_server, phone
    mine = crowded(server)
    pushed = []   # the ticket's states the socket brought: after its subscription's answer, the page polls no more
    page.on("websocket", lambda socket: socket.on("framereceived", lambda frame: pushed.append(frame)
                                                  if isinstance(frame, str) and frame.startswith('42["ticket"') else None))
    page.goto(f"{server.base}/t/{mine['id']}")
    deadline = time.monotonic() + 10
    while not pushed:
        assert time.monotonic() < deadline, "the ticket's socket never answered its subscription"
        page.wait_for_timeout(50)
    offered = json.loads(pushed[-1][2:])[1]["offer"]["branch"]
    # What the page shows is the socket's answer; nothing at hk-01 changes from here, so no push comes.
    page.wait_for_selector(f"#offer:not([hidden]) #offer-take[data-branch='{offered}']", timeout=5000)
    # The branch offered fills up meanwhile (its own staff issue there): the offer on screen is gone.
    while (requests.get(f"{server.api}/tickets/{mine['id']}", timeout=5).json()["offer"] or {}).get(
            "branch") == offered:
        answer = server.post(f"/branches/{offered}/tickets", "admin", {"service": "land"})
        assert answer.status_code == 201, answer.text
    page.tap("#offer-take")
    page.wait_for_selector("#offer-message:not([hidden])", timeout=5000)
    assert page.text_content("#offer-message .vi") == VI["phone.offer.gone"]
    # The branch gone is not offered again on screen (a push may since have brought another one).
    assert page.is_hidden("#offer-take") or page.get_attribute("#offer-take", "data-branch") != offered
    assert page.url.endswith(f"/t/{mine['id']}")
    assert requests.get(f"{server.api}/tickets/{mine['id']}", timeout=5).json()["status"] == "waiting"
