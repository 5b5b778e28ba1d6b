"""The counter console (/counter) in real headless Chromium against a real server: an officer signs
in, calls, starts, finishes, puts a no-show back, calls a chosen ticket, transfers within the branch
and to another branch, pauses and resumes; a second officer's call shows at once; a ticket taken
meanwhile is said so; a counter another officer works is offered to take over; another branch's
console and a request without the CSRF token are refused."""
from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from conftest import PASSWORD, motcua, screenshot

BRANCH = "hk-01"
SCREEN = {"width": 1920, "height": 1080}


def staff_state(server, who: str = "off1") -> dict:
    answer = requests.get(f"{server.api}/branches/{BRANCH}/staff-state", headers=server.auth(who), timeout=10)
    answer.raise_for_status()
    return answer.json()


def ticket_of(server, ticket_id: str) -> dict:
    return server.get(f"/tickets/{ticket_id}").json()


def issue(server, service: str = "civil", priority: bool = False) -> dict:
    answer = server.post(f"/branches/{BRANCH}/tickets", "kiosk1", {"service": service, "priority": priority})
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def desk(server):
    """The module's server, with a second officer of hk-01: off3."""
    motcua("user", "add", "--username", "off3", "--password", PASSWORD, "--role", "officer", "--branch", BRANCH,
           db=server.db)
    server.tokens["off3"] = server.login("off3")
    return server


@pytest.fixture
def quiet(desk):
    """The branch as at the start of a morning: nobody waiting or at a counter, no counter paused or held."""
    for counter in staff_state(desk)["counters"]:
        assert desk.post(f"/branches/{BRANCH}/counters/{counter['id']}/take", "off1", {"take_over": True}).ok
        if counter["ticket"]:
            assert desk.post(f"/tickets/{counter['ticket']['id']}/done", "off1").ok
        if counter["paused"]:
            assert desk.post(f"/branches/{BRANCH}/counters/{counter['id']}/resume", "off1").ok
    for ticket in staff_state(desk)["waiting"]:
        assert desk.post(f"/branches/{BRANCH}/counters/1/call", "off1", {"ticket": ticket["id"]}).ok
        assert desk.post(f"/tickets/{ticket['id']}/done", "off1").ok
    for counter in staff_state(desk)["counters"]:
        assert desk.post(f"/branches/{BRANCH}/counters/{counter['id']}/release", "off1").ok
    return desk


@pytest.fixture
def console(chromium, quiet):
    """open(who, counter=None, viewport=SCREEN, path="/counter"): a signed-in console page of its own."""
    contexts = []

    def open_console(who: str = "off1", counter: str | None = "1", viewport=SCREEN, path: str = "/counter"):
        context = chromium.new_context(viewport=viewport)
        contexts.append(context)
        signed = context.request.post(f"{quiet.base}/api/v1/auth/session",
                                      data={"username": who, "password": PASSWORD})
        assert signed.ok, signed.text()
        page = context.new_page()
        page.csrf = signed.json()["csrf"]
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.errors = errors
        page.goto(quiet.base + path)
        if counter is not None:
            page.wait_for_selector("#counter-choices button[data-counter]")
            page.click(f"#counter-choices button[data-counter='{counter}']")
            page.wait_for_selector("#console:not([hidden])")
        return page

    yield open_console
    for context in contexts:
        context.close()


# The pages run under the real CSP (no eval), so waits go through locators, never wait_for_function.
def wait_current(page, number: str) -> None:
    expect(page.locator("#current-body")).to_be_visible(timeout=3000)
    expect(page.locator("#current-number")).to_have_text(number, timeout=3000)


def wait_row(page, number: str, present: bool = True) -> None:
    selector = f"#waiting-rows tr[data-number='{number}']"
    page.wait_for_selector(selector, state="attached" if present else "detached", timeout=3000)


def test_an_officer_calls_starts_finishes_puts_back_a_no_show_and_calls_a_chosen_ticket(console, quiet):
    first, second, third = issue(quiet), issue(quiet), issue(quiet, "cert", priority=True)
    page = console()
    for ticket in (first, second, third):
        wait_row(page, ticket["number"])
    # The priority citizen is called first, and marked as such.
    assert page.locator(f"#waiting-rows tr[data-number='{third['number']}'] .badge.priority").count() == 1
    page.keyboard.press("n")
    wait_current(page, third["number"])
    assert ticket_of(quiet, third["id"])["status"] == "called"
    assert re.fullmatch(r"\d\d:\d\d", page.locator("#current-timer").text_content())
    page.keyboard.press("s")
    page.wait_for_selector("#current.serving")
    page.keyboard.press("d")
    expect(page.locator("#current-body")).to_be_hidden(timeout=3000)
    assert ticket_of(quiet, third["id"])["status"] == "done"

    page.click("button[data-action='next']")
    wait_current(page, first["number"])
    page.keyboard.press("v")                                    # nobody comes: a no-show
    wait_row(page, first["number"])
    assert ticket_of(quiet, first["id"])["status"] == "no_show"
    page.click(f"#waiting-rows tr[data-number='{first['number']}'] button[data-do='requeue']")
    expect(page.locator(f"#waiting-rows tr[data-number='{first['number']}']")).not_to_have_class("no-show", timeout=3000)
    assert ticket_of(quiet, first["id"])["status"] == "waiting"

    # Call a chosen ticket: the second one, ahead of the first.
    page.click(f"#waiting-rows tr[data-number='{second['number']}'] button[data-do='call']")
    wait_current(page, second["number"])
    assert ticket_of(quiet, second["id"])["counter"] == "1"
    page.keyboard.press("r")                                    # recall: called again, still here
    expect(page.locator("#message")).to_contain_text("gọi lại", timeout=3000)
    assert ticket_of(quiet, second["id"])["status"] == "called"
    assert page.errors == []


def test_transfers_within_the_branch_and_to_another_branch_show_travel_and_wait(console, quiet):
    here, away = issue(quiet), issue(quiet)
    page = console()
    page.keyboard.press("n")
    wait_current(page, here["number"])
    page.keyboard.press("t")
    page.wait_for_selector("#transfer-dialog[open] #transfer-services button[data-service='cert']")
    page.click("#transfer-services button[data-service='cert']")
    expect(page.locator("#message")).to_contain_text("Đã chuyển", timeout=3000)
    expect(page.locator("#current-body")).to_be_hidden(timeout=3000)
    moved = ticket_of(quiet, here["id"])
    assert (moved["status"], moved["service"], moved["number"]) == ("waiting", "cert", here["number"])

    # The first ticket is now waiting for cert, which counter 1 also serves: it is called again.
    page.keyboard.press("n")
    wait_current(page, here["number"])
    page.keyboard.press("d")
    expect(page.locator("#current-body")).to_be_hidden(timeout=3000)
    page.keyboard.press("n")
    wait_current(page, away["number"])
    page.keyboard.press("t")
    branches = page.locator("#transfer-branches button[data-branch]")
    branches.first.wait_for()
    expected = {b["branch"]: b for b in next(s for s in quiet_options(quiet) if s["id"] == "civil")["branches"]}
    assert branches.count() == len(expected)
    text = page.locator("#transfer-branches button[data-branch='hk-02']").text_content()
    trip = expected["hk-02"]
    assert f"đi {trip['travel_min']} phút" in text and "km" in text
    wait = trip["estimated_wait_min"]
    assert (f"chờ {wait} phút" if wait else "không phải chờ" if wait == 0 else "chưa có quầy mở") in text
    page.click("#transfer-branches button[data-branch='hk-02']")
    expect(page.locator("#message")).to_contain_text("số mới", timeout=3000)
    original = ticket_of(quiet, away["id"])
    assert original["status"] == "transferred"
    assert ticket_of(quiet, original["transferred_to"])["branch"] == "hk-02"
    assert page.errors == []


def quiet_options(server) -> list[dict]:
    answer = requests.get(f"{server.api}/branches/{BRANCH}/transfer-options", headers=server.auth("off1"), timeout=10)
    answer.raise_for_status()
    return answer.json()["services"]


def test_a_paused_counter_calls_nobody_and_shows_as_paused_until_resumed(console, quiet):
    waiting = issue(quiet)
    page = console(counter="2")
    wait_row(page, waiting["number"])
    page.keyboard.press("p")
    page.wait_for_selector("#pause-dialog[open]")
    page.keyboard.press("1")
    page.wait_for_selector("#paused:not([hidden])")
    assert "Nghỉ giải lao" in page.locator("#paused-for").text_content()
    assert page.locator("button[data-action='next']").is_disabled()
    counter = next(c for c in staff_state(quiet)["counters"] if c["id"] == "2")
    assert (counter["status"], counter["pause_reason"]) == ("paused", "break")
    refused = quiet.post(f"/branches/{BRANCH}/counters/2/next", "off1")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "counter_paused"
    page.keyboard.press("p")                                    # resume
    page.wait_for_selector("#paused[hidden]", state="attached")
    page.keyboard.press("n")
    wait_current(page, waiting["number"])
    assert page.errors == []


def test_a_second_officer_s_call_shows_at_once_and_a_ticket_just_taken_is_said_so(console, quiet):
    first = issue(quiet)
    mine, theirs = console("off1", "1"), console("off3", "2")
    for page in (mine, theirs):
        wait_row(page, first["number"])
    theirs.click(f"#waiting-rows tr[data-number='{first['number']}'] button[data-do='call']")
    wait_current(theirs, first["number"])
    wait_row(mine, first["number"], present=False)            # live, no refresh
    expect(mine.locator("#counter-strip li[data-counter='2'] .what")).to_have_text(first["number"], timeout=3000)

    second = issue(quiet, "cert")
    wait_row(mine, second["number"])

    def taken_meanwhile(route):
        # Counter 3 calls the ticket while this officer's call is on its way.
        assert quiet.post(f"/branches/{BRANCH}/counters/3/call", "off1", {"ticket": second["id"]}).ok
        route.continue_()

    mine.route("**/api/v1/branches/hk-01/counters/1/call", taken_meanwhile)
    mine.click(f"#waiting-rows tr[data-number='{second['number']}'] button[data-do='call']")
    mine.wait_for_selector("#message.bad:not([hidden])", timeout=3000)
    assert second["number"] in mine.locator("#message").text_content()
    assert "vừa được xử lý ở nơi khác" in mine.locator("#message").text_content()
    wait_row(mine, second["number"], present=False)
    assert mine.locator("#current-body").is_hidden()
    assert ticket_of(quiet, second["id"])["counter"] == "3"
    assert mine.errors == [] and theirs.errors == []


def test_a_counter_another_officer_works_is_offered_to_take_over_and_taken_over_explicitly(console, quiet):
    waiting = issue(quiet)
    mine = console("off1", "1")
    mine.keyboard.press("n")
    wait_current(mine, waiting["number"])
    theirs = console("off3", None)
    theirs.wait_for_selector("#counter-choices button[data-counter='1'] .holder")
    assert "off1" in theirs.locator("#counter-choices button[data-counter='1'] .holder").text_content()
    theirs.click("#counter-choices button[data-counter='1']")
    theirs.wait_for_selector("#taken:not([hidden])")
    assert theirs.locator("#console").is_hidden()
    expect(theirs.locator("#taken-by")).to_contain_text("off1", timeout=3000)
    assert "Nhận thay quầy?" in theirs.locator("#taken-by").text_content()
    screenshot(theirs, "counter-taken-choice")
    assert staff_state(quiet)["counters"][0]["holder"] == "off1"      # offered, not taken: nothing changed yet
    theirs.click("#take-over")
    theirs.wait_for_selector("#console:not([hidden])")
    wait_current(theirs, waiting["number"])                             # the citizen at the desk comes with it
    expect(theirs.locator("#message")).to_contain_text("off1", timeout=3000)
    assert staff_state(quiet)["counters"][0]["holder"] == "off3"
    # The officer it was taken from is told so at once, and offered it back the same way.
    mine.wait_for_selector("#taken:not([hidden])", timeout=3000)
    expect(mine.locator("#taken-by")).to_contain_text("off3", timeout=3000)
    screenshot(mine, "counter-taken-over")
    theirs.keyboard.press("d")
    expect(theirs.locator("#current-body")).to_be_hidden(timeout=3000)
    assert ticket_of(quiet, waiting["id"])["status"] == "done"
    mine.click("#taken-other")
    mine.wait_for_selector("#picker:not([hidden])")
    assert mine.errors == [] and theirs.errors == []


def test_another_branch_s_console_is_refused_and_so_is_a_change_without_the_csrf_token(console, quiet):
    page = console("off1", None, path="/counter?branch=hk-02")
    page.wait_for_selector("#refusal:not([hidden])")
    assert "không thuộc chi nhánh này" in page.locator("#refusal").text_content()
    assert page.locator("#console").is_hidden()
    request = page.context.request
    issue(quiet)
    acted = request.post(f"{quiet.api}/branches/hk-02/counters/1/next", headers={"X-CSRF-Token": page.csrf})
    assert acted.status == 403 and acted.json()["error"]["code"] == "other_branch"
    forged = request.post(f"{quiet.api}/branches/{BRANCH}/counters/1/next")
    assert forged.status == 403 and forged.json()["error"]["code"] == "csrf"
    assert next(c for c in staff_state(quiet)["counters"] if c["id"] == "1")["ticket"] is None


def test_a_kiosk_s_printer_problem_shows_as_a_banner(console, quiet):
    page = console()
    ticket = issue(quiet)
    assert quiet.post(f"/tickets/{ticket['id']}/not-printed", "kiosk1", {"problem": "paper_out"}).status_code == 201
    page.wait_for_selector("#kiosk-banner:not([hidden])", timeout=3000)
    assert "hết giấy" in page.locator("#kiosk-text").text_content()
    assert ticket["number"] in page.locator("#kiosk-text").text_content()
    page.click("#kiosk-dismiss")
    assert page.locator("#kiosk-banner").is_hidden()


@pytest.mark.parametrize("viewport", [SCREEN, {"width": 1366, "height": 768}], ids=["1920x1080", "1366x768"])
def test_a_busy_morning_fits_the_screen(console, quiet, viewport):
    for service, priority in [("civil", False), ("cert", True), ("civil", False), ("cert", False), ("civil", False),
                              ("civil", False), ("cert", False), ("civil", True), ("civil", False), ("cert", False)]:
        issue(quiet, service, priority)
    for counter in ("2", "3"):
        assert quiet.post(f"/branches/{BRANCH}/counters/{counter}/next", "off1").ok
    issue(quiet, "cert", priority=True)               # one more priority citizen, still waiting
    assert quiet.post(f"/branches/{BRANCH}/counters/6/pause", "off1", {"reason": "meeting"}).ok
    page = console(viewport=viewport)
    page.keyboard.press("n")
    expect(page.locator("#current-body")).to_be_visible(timeout=3000)
    page.keyboard.press("s")
    page.wait_for_selector("#current.serving")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#waiting-rows tr.selected")).to_have_count(1)
    width = page.evaluate("document.documentElement.scrollWidth")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert width <= viewport["width"] and height <= viewport["height"], (width, height)
    for button in page.locator("button[data-action]").all():
        box = button.bounding_box()
        assert box["y"] + box["height"] <= viewport["height"] and box["height"] >= 60, box
    screenshot(page, f"counter-{viewport['width']}x{viewport['height']}")
    page.keyboard.press("t")
    page.locator("#transfer-branches button[data-branch]").first.wait_for()
    screenshot(page, f"counter-transfer-{viewport['width']}x{viewport['height']}")
    assert page.errors == []
