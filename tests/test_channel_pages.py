"""How a ticket was taken, on the staff's and the room's screens, in real headless Chromium against a
real server: the counter console marks a waiting remote ticket and whether its citizen has checked
in; the wall display marks a called remote ticket ("Từ xa") beside its number, in the big call and
in the recent calls, and leaves a walk-in's unmarked. Both pass axe-core (WCAG 2.1 AA)."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from axe import violations
from conftest import PASSWORD, screenshot
from motcua.i18n import catalogue
from test_display_wall import SCREENS

VI, EN = catalogue("vi"), catalogue("en")
BRANCH = "hk-01"


def remote(server, phone: str) -> dict:
    answer = requests.post(f"{server.api}/branches/{BRANCH}/remote-tickets", timeout=10,
                           json={"service": "civil", "phone": phone})
    assert answer.status_code == 201, answer.text
    return answer.json()


def walk_in(server) -> dict:
    answer = server.post(f"/branches/{BRANCH}/tickets", "kiosk1", {"service": "civil"})
    assert answer.status_code == 201, answer.text
    return answer.json()


def check_in(server, number: str) -> dict:
    answer = server.post(f"/branches/{BRANCH}/tickets/{number}/check-in", "kiosk1")
    assert answer.status_code == 200, answer.text
    return answer.json()


def hhmm(iso: str) -> str:
    return iso[11:16]   # the server writes the branch's local time


@pytest.fixture
def queue(fresh_server):
    """hk-01's civil queue: a walk-in, a remote ticket checked in, a remote ticket still on its way."""
    server = fresh_server
    return server, walk_in(server), check_in(server, remote(server, "0912345678")["number"]), \
        remote(server, "0987654321")


def test_the_console_marks_remote_tickets_and_whether_they_have_checked_in(chromium, queue):
    server, walking, arrived, coming = queue
    context = chromium.new_context(viewport={"width": 1920, "height": 1080}, bypass_csp=True)   # axe is injected
    signed = context.request.post(f"{server.api}/auth/session", data={"username": "off1", "password": PASSWORD})
    assert signed.ok, signed.text()
    page = context.new_page()
    page.goto(server.base + "/counter")
    page.click("#counter-choices button[data-counter='2']")
    row = lambda ticket: page.locator(f"#waiting-rows tr[data-number='{ticket['number']}']")   # noqa: E731
    for ticket in (walking, arrived, coming):
        expect(row(ticket)).to_be_visible(timeout=5000)
    assert row(walking).locator(".badge.channel").count() == 0
    for ticket in (arrived, coming):
        expect(row(ticket).locator(".badge.channel")).to_have_text(VI["counter.channel.remote"])
    expect(row(arrived).locator(".badge.checked-in")).to_have_text(
        VI["counter.checked_in"].format(time=hhmm(arrived["checked_in_at"])))
    expect(row(coming).locator(".badge.not-checked-in")).to_have_text(
        VI["counter.not_checked_in"].format(time=hhmm(coming["window_end"])))
    assert row(coming).locator(".badge.on-way").count() == 0   # said once: not arrived, with its deadline
    assert violations(page, "#waiting") == []
    screenshot(page, "console-channels-1920x1080")
    context.close()


@pytest.mark.parametrize("width, height", SCREENS)
def test_the_wall_marks_a_called_remote_ticket_beside_its_number(chromium, queue, width, height):
    server, walking, arrived, _ = queue
    context = chromium.new_context(viewport={"width": width, "height": height}, bypass_csp=True)   # axe is injected
    page = context.new_page()
    page.goto(f"{server.base}/display/{BRANCH}")
    expect(page.locator("#nobody")).to_be_visible(timeout=5000)
    for counter in ("2", "1"):
        called = server.post(f"/branches/{BRANCH}/counters/{counter}/next", "off1").json()
        assert called.get("ticket"), called
    # Walk-in first (called at 2), then the remote ticket checked in (at 1): the big call is the remote one.
    expect(page.locator("#now-number")).to_have_text(arrived["number"], timeout=5000)
    expect(page.locator("#now-channel")).to_have_text(
        f"{VI['display.channel.remote']} · {EN['display.channel.remote']}")
    expect(page.locator("#recent li")).to_have_count(1)
    assert page.locator("#recent li .num").first.inner_text() == walking["number"]
    assert page.locator("#recent li .tag.channel").count() == 0
    box, view = page.locator("#now-channel").bounding_box(), page.viewport_size
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= view["width"]
    number = page.locator("#now-number").bounding_box()
    assert box["y"] + box["height"] <= number["y"] or box["x"] + box["width"] <= number["x"]   # beside, not over
    assert violations(page, "#now-channel") == []
    screenshot(page, f"wall-remote-call-{width}x{height}")

    # A later call: the remote one moves to the recent calls, still marked.
    walk_in(server)
    assert server.post(f"/tickets/{walking['id']}/done", "off1").ok
    assert server.post(f"/branches/{BRANCH}/counters/2/next", "off1").json()["ticket"]
    expect(page.locator("#now-channel")).to_be_hidden(timeout=5000)
    marked = page.locator(f"#recent li[data-key^='{arrived['number']}|'] .tag.channel")
    expect(marked).to_have_text(VI["display.channel.remote"])
    assert violations(page, "#recent") == []   # the panel behind the big call flashes: its labels have their own
    screenshot(page, f"wall-remote-recent-{width}x{height}")
    context.close()
