"""The manager's page in real headless Chromium (the real CSP, no bypass) against a real server: a
counter re-skilled on the page and the next call follows it, the advice applied and undone, the
day's charts drawn from the day's figures, the city for admins, and another branch out of reach."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from big_city import COUNTERS, SERVICES, big_server, big_template  # noqa: F401 (fixtures)
from conftest import PASSWORD
from layout import problems, scrolls_inside, text_contrasts

# Where the pictures looked at go: outside the repository (set by whoever looks), else test-output.
SHOTS = Path(os.environ.get("MOTCUA_SHOTS", Path(__file__).resolve().parent.parent / "test-output"))
CLICK_MS = 5000   # a click's answer and the staff room's push, on a machine shared with other tests


@pytest.fixture(scope="module")
def browser_context(chromium):
    contexts = []

    def open_as(server, who: str):
        context = chromium.new_context(viewport={"width": 1920, "height": 1080})
        contexts.append(context)
        signed = context.request.post(server.api + "/auth/session", data={"username": who, "password": PASSWORD})
        assert signed.ok, signed.text()
        return context

    yield open_as
    for context in contexts:
        context.close()


def open_page(browser_context, server, who="mgr1", path="/manager"):
    page = browser_context(server, who).new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # The charts and the page keep to the CSP: no inline style or script is refused.
    page.on("console", lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None)
    # The advice answers the page itself received, in order: what it draws is checked against them.
    page.advice = []
    page.on("response", lambda answer: page.advice.append(answer)
            if answer.url.endswith("/recommendations") and answer.request.method == "GET" else None)
    page.goto(server.base + path)
    page.wait_for_selector(".counter-card[data-counter='3']", state="attached")
    return page, errors


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def counters(server, branch="hk-01") -> dict:
    return {c["id"]: c["services"] for c in server.get(f"/branches/{branch}/state").json()["counters"]}


def set_services(server, counter, services, branch="hk-01"):
    answer = server.post(f"/branches/{branch}/counters/{counter}", "admin", {"services": services})
    assert answer.status_code == 200, answer.text


def clear_queue(server, branch="hk-01"):
    """Call and finish everyone waiting, so that each test starts from an empty queue."""
    for counter in ("1", "2", "3", "4", "5", "6"):
        while True:
            called = server.post(f"/branches/{branch}/counters/{counter}/next", "off1").json().get("ticket")
            if not called:
                break
            assert server.post(f"/tickets/{called['id']}/done", "off1").status_code == 200


def test_a_manager_re_skills_a_counter_on_the_page_and_the_next_call_follows_it(browser_context, server):
    page, errors = open_page(browser_context, server)
    assert counters(server)["3"] == ["cert"]
    civil = server.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).json()
    page.wait_for_selector("#services tr[data-service='civil'] .waiting:text-is('1')", timeout=CLICK_MS)
    page.click(".counter-card[data-counter='3'] .chip[data-service='civil']")
    page.wait_for_selector(".counter-card[data-counter='3'] .chip.on[data-service='civil']", timeout=CLICK_MS)
    assert counters(server)["3"] == ["civil", "cert"]
    called = server.post("/branches/hk-01/counters/3/next", "off1").json()["ticket"]
    assert called["id"] == civil["id"]
    page.wait_for_selector(".counter-card[data-counter='3'].called", timeout=CLICK_MS)
    assert server.post(f"/tickets/{called['id']}/done", "off1").status_code == 200
    # Switched off again on the page, and the counter no longer calls civil status tickets.
    page.click(".counter-card[data-counter='3'] .chip[data-service='civil']")
    page.wait_for_selector(".counter-card[data-counter='3'] .chip:not(.on)[data-service='civil']", timeout=CLICK_MS)
    assert counters(server)["3"] == ["cert"]
    server.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"})
    assert server.post("/branches/hk-01/counters/3/next", "off1").json()["ticket"] is None
    clear_queue(server)
    assert not errors


def test_closing_a_counter_on_the_page_and_resuming_a_paused_one(browser_context, server):
    page, errors = open_page(browser_context, server)
    page.click(".counter-card[data-counter='6'] .close-counter")
    page.wait_for_selector(".counter-card[data-counter='6'].closed", timeout=CLICK_MS)
    assert server.post("/branches/hk-01/counters/6/next", "off1").status_code == 409
    page.click(".counter-card[data-counter='6'] .open-counter")
    page.wait_for_selector(".counter-card[data-counter='6'].idle", timeout=CLICK_MS)
    # The officer pauses it; the manager sees why and brings it back.
    assert server.post("/branches/hk-01/counters/6/pause", "off1", {"reason": "meeting"}).status_code == 200
    page.wait_for_selector(".counter-card[data-counter='6'].paused", timeout=CLICK_MS)
    assert page.inner_text(".counter-card[data-counter='6'] .status") == "Tạm nghỉ · họp"
    # The card names who works the counter; the manager brings it back without taking it from them.
    assert page.inner_text(".counter-card[data-counter='6'] .holder") == "Cán bộ: off1"
    page.click(".counter-card[data-counter='6'] .resume-counter")
    page.wait_for_selector(".counter-card[data-counter='6'].idle", timeout=CLICK_MS)
    assert page.inner_text(".counter-card[data-counter='6'] .holder") == "Cán bộ: off1"
    assert server.post("/branches/hk-01/counters/6/release", "off1").status_code == 200
    expect(page.locator(".counter-card[data-counter='6'] .holder")).to_have_text("Chưa có cán bộ nhận quầy",
                                                                                timeout=CLICK_MS)
    shoot(page, "manager-counter-holders")
    assert not errors


def test_a_manager_applies_the_advice_and_undoes_it(browser_context, server):
    original = counters(server)
    for _ in range(14):
        server.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"})
    page, errors = open_page(browser_context, server)
    page.wait_for_selector("#moves li", timeout=CLICK_MS)
    # The moves the page received (the advice follows the clock's forecast: one asked a moment later may differ).
    advised = page.advice[-1].json()["moves"]
    assert advised, "fourteen waiting for civil status should draw a counter to it"
    shown = page.eval_on_selector_all("#moves li", "items => items.map((li) => li.dataset.counter)")
    assert shown == [m["counter"] for m in advised]
    page.wait_for_selector("#services tr[data-service='civil'] .estimate.bad, "
                           "#services tr[data-service='civil'] .estimate.warn", timeout=CLICK_MS)
    shoot(page, "manager-now-1920x1080")
    page.click("#apply")
    page.wait_for_selector("#undo:not([hidden])", timeout=CLICK_MS)
    moved = counters(server)
    for move in advised:
        assert moved[move["counter"]] == move["to_services"]
    for move in advised:
        page.wait_for_function("([counter, services]) => [...document.querySelectorAll("
                               "`.counter-card[data-counter='${counter}'] .chip.on`)].map((c) => c.dataset.service)"
                               ".sort().join() === services.sort().join()", arg=[move["counter"], move["to_services"]],
                               timeout=CLICK_MS)
    shoot(page, "manager-applied-1920x1080")
    undo_and_clear(page, server, original, errors)


def undo_and_clear(page, server, original, errors) -> None:
    """Undo the advice applied on the page: the counters as they were, the queue emptied, no page error."""
    page.click("#undo")
    page.wait_for_selector("#undo[hidden]", state="attached", timeout=CLICK_MS)
    assert counters(server) == original
    clear_queue(server)
    assert not errors


def test_today_s_charts_are_drawn_from_the_day_s_figures(browser_context, server):
    ticket = server.post("/branches/hk-01/tickets", "kiosk1", {"service": "land"}).json()
    called = server.post("/branches/hk-01/counters/4/next", "off1").json()["ticket"]
    assert called["id"] == ticket["id"]
    server.post(f"/tickets/{called['id']}/done", "off1")
    server.post(f"/tickets/{called['id']}/rating", None, {"score": 3, "reasons": ["clear"], "comment": "Cán bộ hướng dẫn kỹ"})
    page, errors = open_page(browser_context, server, path="/manager#today")
    page.wait_for_selector("#comments li", timeout=CLICK_MS)
    day = requests.get(server.api + "/branches/hk-01/today", headers=server.auth("mgr1"), timeout=10).json()
    drawn = page.evaluate("""() => Object.fromEntries(
        [...document.querySelectorAll('#tab-today canvas')].map((c) => [c.id, Chart.getChart(c).data.datasets[0].data]))""")
    assert drawn["chart-arrivals"] == day["arrivals"]
    assert drawn["chart-no-shows"] == day["no_shows"]
    assert drawn["chart-wait"] == day["wait_mean_min"]
    assert sum(drawn["chart-ratings"]) == day["totals"]["ratings"] >= 1
    sizes = page.evaluate("[...document.querySelectorAll('#tab-today canvas')].map((c) => c.width * c.height)")
    assert len(sizes) == 6 and all(size > 10000 for size in sizes)
    assert "Cán bộ hướng dẫn kỹ" in page.inner_text("#comments")
    shoot(page, "manager-today-1920x1080")
    assert not errors


def test_an_admin_sees_every_branch_side_by_side(browser_context, server):
    for _ in range(3):
        server.post("/branches/hk-02/tickets", "kiosk2", {"service": "cert"})
    page, errors = open_page(browser_context, server, who="admin", path="/manager#city")
    page.wait_for_selector("#city tr[data-branch='hk-02']", timeout=CLICK_MS)
    rows = page.eval_on_selector_all("#city tbody tr", "rows => rows.map((r) => r.dataset.branch)")
    assert rows == [b["id"] for b in server.get("/branches").json()]
    waiting = page.inner_text("#city tr[data-branch='hk-02'] .waiting")
    assert int(waiting) == sum(s["waiting"] for s in server.get("/branches/hk-02/state").json()["services"]) >= 3
    drawn = page.evaluate("Chart.getChart(document.getElementById('chart-city')).data.datasets[0].data")
    assert drawn == [b["mean_wait_min"] for b in admin_city(server)["branches"]]
    shoot(page, "manager-city-1920x1080")
    page.click("#city tr[data-branch='hk-02'] button")
    page.wait_for_selector("#tab-now:not([hidden]) #services tr[data-service='cert'] .waiting:text-is('3')",
                           timeout=CLICK_MS)
    clear_queue(server, "hk-02")
    assert not errors


def admin_city(server) -> dict:
    return requests.get(server.api + "/city", headers=server.auth("admin"), timeout=10).json()


def test_a_manager_sees_no_city_and_cannot_change_another_branch(browser_context, server):
    page, errors = open_page(browser_context, server, path="/manager?branch=hk-02#city")
    assert page.is_hidden(".tab-button[data-tab='city']") and page.is_hidden("#tab-city")
    hk01 = next(b for b in server.get("/branches").json() if b["id"] == "hk-01")
    assert page.inner_text("#branch-name") == hk01["name"]["vi"]
    state = page.evaluate("fetch('/api/v1/branches/hk-01/staff-state').then((r) => r.json())")
    assert page.eval_on_selector_all(".counter-card", "cards => cards.length") == len(state["counters"])
    before = counters(server, "hk-02")
    tries = page.evaluate("""async () => [
        (await Staff.api('POST', '/branches/hk-02/counters/1', {open: false})).status,
        (await Staff.api('POST', '/branches/hk-02/recommendations/apply', {})).status,
        (await Staff.api('GET', '/branches/hk-02/today')).status,
        (await Staff.api('GET', '/city')).status]""")
    assert tries == [403, 403, 403, 403]
    assert counters(server, "hk-02") == before
    assert not errors


def test_a_long_land_queue_shows_the_counters_it_needs_and_applied_advice_asks_for_nothing_more(
        browser_context, server):
    original = counters(server)
    for _ in range(25):
        server.post("/branches/hk-01/tickets", "kiosk1", {"service": "land"})
    page, errors = open_page(browser_context, server)
    needed = page.locator("#services tr[data-service='land'] td.needed")
    expect(needed).to_have_class("num needed bad", timeout=CLICK_MS)   # more than the counters serving it
    land = next(s for s in page.advice[-1].json()["services"] if s["service"] == "land")
    assert int(needed.inner_text()) == land["needed"] > 2
    page.wait_for_selector("#moves li", timeout=CLICK_MS)
    page.click("#apply")
    page.wait_for_selector("#undo:not([hidden])", timeout=CLICK_MS)
    page.wait_for_selector("#advice-none:not([hidden])", timeout=CLICK_MS)   # the advice, asked again: no moves
    after = page.advice[-1].json()   # the advice the page drew that from
    assert after["moves"] == []
    # Every counter serves land now and it is still short: said so, not "no change needed". Other services
    # may be short too: the session's server has seen earlier tests' arrivals within the last hour.
    short = [s["name"]["vi"] for s in after["services"] if s["short"]]
    assert "Đất đai" in short
    expect(page.locator("#advice-none")).to_have_text(
        f"Không còn quầy nào để điều thêm: {', '.join(short)} vẫn thiếu quầy để đạt mục tiêu.", timeout=CLICK_MS)
    shoot(page, "manager-land-queue-applied-1920x1080")
    undo_and_clear(page, server, original, errors)


SIZES = [{"width": 1920, "height": 1080}, {"width": 1366, "height": 768}]


@pytest.mark.parametrize("size", SIZES, ids=["1920x1080", "1366x768"])
def test_a_real_size_branch_and_city_fit_their_cards_at_each_size(chromium, big_server, size):
    """25 services, 20 counters, 300 waiting, 50 branches, as admin: nothing clipped or covered, the long
    lists scroll inside their cards, and numbers are written the Vietnamese way (decimal comma)."""
    context = chromium.new_context(viewport=size)
    assert context.request.post(big_server.api + "/auth/session",
                                data={"username": "admin", "password": PASSWORD}).ok
    page = context.new_page()
    page.goto(big_server.base + "/manager?branch=hk-01#now")
    page.wait_for_selector(f".counter-card[data-counter='{COUNTERS}']", state="attached")
    expect(page.locator("#services tbody tr")).to_have_count(SERVICES)
    name = f"{size['width']}x{size['height']}"
    shoot(page, f"manager-real-size-{name}")
    assert problems(page, "#tab-now") == []
    assert scrolls_inside(page, "#services-scroll") and scrolls_inside(page, "#counters")
    pills = text_contrasts(page, "#tab-now .pill")
    assert pills and min(pills.values()) >= 4.5, pills
    # English headings are longer ("Estimated wait", "Needed"): the queues' card must still hold its table.
    page.click("#staff-lang")
    expect(page.locator("#tab-now")).to_contain_text("Counters")
    shoot(page, f"manager-real-size-en-{name}")
    assert problems(page, "#tab-now") == []
    page.click("#staff-lang")
    expect(page.locator("#tab-now")).to_contain_text("Quầy")
    page.click(".tab-button[data-tab='reports']")
    page.wait_for_selector("#report-show", timeout=CLICK_MS)
    page.click("#report-show")
    page.wait_for_selector("#reports:not([aria-busy])", timeout=CLICK_MS)
    shoot(page, f"manager-reports-real-size-{name}")
    assert problems(page, "#tab-reports") == []
    unlabelled = page.eval_on_selector_all("input, select, textarea", """(els) => els.filter((el) => !el.labels.length
        && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')).map((el) => el.id || el.outerHTML)""")
    assert unlabelled == []
    page.click(".tab-button[data-tab='city']")
    page.wait_for_selector("#city tr[data-branch='hn-50']", timeout=CLICK_MS)
    shoot(page, f"manager-city-real-size-{name}")
    assert problems(page, "#tab-city") == []
    assert scrolls_inside(page, "#city-scroll")
    pills = text_contrasts(page, "#tab-city .pill")
    assert min(pills.values()) >= 4.5, pills
    loads = page.eval_on_selector_all("#city td.load", "cells => cells.map((c) => c.textContent)")
    assert any("," in load for load in loads) and not any("." in load for load in loads), loads
    context.close()
