"""The citizen's phone pages for a remote ticket (/r/) and an appointment (/h/) on a real-size city
(tests/big_city.py: 50 branches, 25 services with the longest real names), at 390×844: the lists fit
the phone, a citizen finds a centre among fifty by typing a few letters without marks, and the page
asks the server for the waits of the centres the citizen sees, not of all fifty at once. Each step is
photographed in test-output/."""
from __future__ import annotations

from playwright.sync_api import expect

from big_city import BRANCHES, SERVICES, big_server, big_template  # noqa: F401 (fixtures)
from conftest import screenshot
from motcua.i18n import catalogue
from test_remote_pages import check, citizen  # noqa: F401 (a fixture)

PHONE = (390, 844)
VI = catalogue("vi")


def waits_asked(page) -> list[str]:
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/availability" in request.url else None)
    return asked


def branch_cards(page):
    return page.locator("#branch-list [data-branch]")


def test_a_citizen_finds_a_centre_among_fifty_by_typing_and_only_seen_waits_are_asked(big_server, citizen):
    page = citizen(*PHONE, located=False)
    asked = waits_asked(page)
    page.goto(big_server.base + "/r/")
    page.wait_for_selector("#services [data-service]")
    assert page.locator("#services [data-service]").count() == SERVICES
    check(page)
    screenshot(page, "real-size-remote-1-services")
    page.click("[data-service=civil]")
    page.wait_for_selector("#where-step:not([hidden])")
    expect(branch_cards(page)).to_have_count(BRANCHES)
    expect(page.locator("#branch-search")).to_be_visible()
    # The first cards in view say their wait; the rest are asked for only as the citizen scrolls to them.
    expect(branch_cards(page).first).to_contain_text(VI["rpage.where.wait"].split("{")[0].strip())
    page.wait_for_timeout(500)
    assert 0 < len(asked) < 10, asked
    check(page)
    screenshot(page, "real-size-remote-2-branches")
    last = branch_cards(page).last
    last.scroll_into_view_if_needed()
    expect(last).to_contain_text(VI["rpage.where.wait"].split("{")[0].strip())
    assert any("/branches/hn-50/" in url for url in asked)
    assert len(asked) < BRANCHES
    # A branch number or a ward, typed without marks, leaves the centres it names.
    page.fill("#branch-search", "so 49")
    expect(page.locator("#branch-list [data-branch]:visible")).to_have_count(1)
    assert page.locator("#branch-list [data-branch]:visible").get_attribute("data-branch") == "hn-49"
    page.fill("#branch-search", "tran hung dao")
    expect(page.locator("#branch-list [data-branch]:visible")).to_have_count(1)
    assert page.locator("#branch-list [data-branch]:visible").get_attribute("data-branch") == "hk-01"
    check(page)
    screenshot(page, "real-size-remote-3-found")
    page.fill("#branch-search", "khong co dau")
    expect(page.locator("#no-branch")).to_be_visible()
    assert page.locator("#no-branch .vi").inner_text() == VI["rpage.where.none"]
    expect(page.locator("#branch-list [data-branch]:visible")).to_have_count(0)
    check(page)
    screenshot(page, "real-size-remote-4-none")
    page.fill("#branch-search", "")
    expect(page.locator("#branch-list [data-branch]:visible")).to_have_count(BRANCHES)
    expect(page.locator("#no-branch")).to_be_hidden()
    # The centre found goes on to the phone step as any picked from the list.
    page.fill("#branch-search", "so 49")
    page.click("#branch-list [data-branch=hn-49]")
    page.wait_for_selector("#phone-step:not([hidden])")
    assert "49" in page.locator("#chosen-branch").inner_text()


def test_the_booking_page_searches_the_centres_of_a_real_size_city(big_server, citizen):
    page = citizen(*PHONE, located=False)
    page.goto(big_server.base + "/h/")
    page.wait_for_selector("#services [data-service]")
    check(page)
    screenshot(page, "real-size-book-1-services")
    page.click("[data-service=civil]")
    expect(branch_cards(page)).to_have_count(BRANCHES)
    page.fill("#branch-search", "so 12")
    expect(page.locator("#branch-list [data-branch]:visible")).to_have_count(1)
    check(page)
    screenshot(page, "real-size-book-2-found")
    page.click("#branch-list [data-branch=hn-12]")
    page.wait_for_selector("#when-step:not([hidden])")
    check(page)
    screenshot(page, "real-size-book-3-days")
