"""The page the QR code at a branch's door opens (/door/{b}?code=…), in real headless Chromium at 390×844
against a real server: the phone that took a remote ticket checks it in, and a code of no door is refused."""
from __future__ import annotations

import requests

from axe import violations
from conftest import screenshot
from motcua.i18n import catalogue
from test_phone import assert_layout

VI, EN = catalogue("vi"), catalogue("en")
PHONE = "0912345678"


def door_url(server) -> str:
    answer = requests.get(f"{server.api}/branches/hk-01/door", headers=server.auth("mgr1"), timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()["url"]


def test_the_phone_at_the_door_checks_its_remote_ticket_in(fresh_server, chromium):
    server = fresh_server
    taken = requests.post(f"{server.api}/branches/hk-01/remote-tickets", json={"service": "civil", "phone": PHONE},
                          timeout=5)
    assert taken.status_code == 201, taken.text
    ticket = taken.json()
    context = chromium.new_context(bypass_csp=True, viewport={"width": 390, "height": 844}, has_touch=True,
                                   is_mobile=True)
    try:
        page = context.new_page()
        url = door_url(server)
        page.goto(url.replace(url.split("/door/")[0], server.base))
        assert page.text_content("#check-in .vi") == VI["door.check_in"]
        page.fill("#phone", "0912 345 678")
        screenshot(page, "door")
        assert_layout(page)
        assert violations(page) == []
        page.tap("#check-in")
        page.wait_for_selector("#done:not([hidden])", timeout=5000)
        assert page.text_content("#tickets .number") == ticket["number"]
        assert page.get_attribute("#tickets a", "href") == f"/t/{ticket['id']}"
        screenshot(page, "door-done")
        assert_layout(page)
        assert violations(page) == []
        # The number is in the button's own colour (white on navy), not the ticket card's navy.
        assert page.evaluate("getComputedStyle(document.querySelector('#tickets .number')).color") == \
            page.evaluate("getComputedStyle(document.querySelector('#tickets a')).color") != \
            page.evaluate("getComputedStyle(document.querySelector('#tickets a')).backgroundColor")
        seen = requests.get(f"{server.api}/tickets/{ticket['id']}", timeout=5).json()
        assert seen["checked_in_at"] is not None
    finally:
        context.close()


def test_a_code_of_no_door_is_refused_in_words(fresh_server, chromium):
    server = fresh_server
    requests.post(f"{server.api}/branches/hk-01/remote-tickets", json={"service": "civil", "phone": PHONE}, timeout=5)
    context = chromium.new_context(bypass_csp=True, viewport={"width": 390, "height": 844}, has_touch=True,
                                   is_mobile=True)
    try:
        page = context.new_page()
        page.goto(f"{server.base}/door/hk-01?code=AAAAAAAAAAAA")
        page.fill("#phone", PHONE)
        page.tap("#check-in")
        page.wait_for_selector("#door-message:not([hidden])", timeout=5000)
        assert page.text_content("#door-message .vi") == VI["door.wrong_code"]
        assert page.text_content("#door-message .en") == EN["door.wrong_code"]
        assert page.is_hidden("#done")
    finally:
        context.close()
