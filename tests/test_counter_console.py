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

from big_city import big_server, big_template  # noqa: F401 (fixtures)
from conftest import PASSWORD, motcua, screenshot
from layout import focus_ring_contrast, problems, scrolls_inside

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


def test_a_counter_with_nobody_of_its_own_takes_on_a_queue_and_says_so(console, quiet, tmp_path):
    """Counter 6 serves business only; land citizens wait. Next takes land on (the staffing advice's move
    for it) and calls the first of them, and the console says what the counter took on."""
    land = [issue(quiet, "land") for _ in range(12)]
    page = console(counter="6")
    try:
        page.keyboard.press("n")
        wait_current(page, land[0]["number"])
        expect(page.locator("#message")).to_contain_text("quầy nhận thêm Đất đai", timeout=3000)
        page.screenshot(path=str(tmp_path / "took-on.png"))
        counter = next(c for c in staff_state(quiet)["counters"] if c["id"] == "6")
        assert "land" in counter["services"] and "business" in counter["services"]
        assert page.errors == []
    finally:   # the next test's morning: counter 6 back to its own service
        assert quiet.post(f"/branches/{BRANCH}/counters/6", "mgr1", {"services": ["business"]}).ok


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


# ---- a real-size branch: 25 services, 20 counters, 300 waiting, 50 branches (tests/big_city.py) ----------

@pytest.fixture
def big_console(chromium, big_server):
    """open(viewport, scale=1): off1's console at counter 1 of the big city's hk-01."""
    contexts = []

    def open_console(viewport=SCREEN, scale=1):
        context = chromium.new_context(viewport=viewport, device_scale_factor=scale)
        contexts.append(context)
        assert context.request.post(f"{big_server.base}/api/v1/auth/session",
                                    data={"username": "off1", "password": PASSWORD}).ok
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.goto(big_server.base + "/counter?counter=1")
        page.wait_for_selector("#console:not([hidden]) #waiting-rows tr", state="attached")
        return page

    yield open_console
    for context in contexts:
        context.close()


def free_counter(server, counter="1") -> None:
    """Counter 1 of the big city taken back by off1 and emptied: its next test starts from no ticket."""
    assert server.post(f"/branches/{BRANCH}/counters/{counter}/take", "off1", {"take_over": True}).ok
    for item in staff_state(server)["counters"]:
        if item["id"] == counter and item["ticket"]:
            assert server.post(f"/tickets/{item['ticket']['id']}/done", "off1").ok


@pytest.mark.parametrize("viewport", [SCREEN, {"width": 1366, "height": 768}], ids=["1920x1080", "1366x768"])
def test_a_real_size_branch_scrolls_inside_its_cards_and_the_transfer_dialog_searches(big_console, big_server,
                                                                                      viewport):
    free_counter(big_server)
    page = big_console(viewport)
    name = f"{viewport['width']}x{viewport['height']}"
    screenshot(page, f"counter-real-size-{name}")
    assert problems(page, "#console") == []
    assert scrolls_inside(page, ".table-wrap")
    # Twenty counters do not squeeze the waiting list: it keeps a third of the window at least.
    assert page.eval_on_selector(".table-wrap", "(el) => el.clientHeight") >= viewport["height"] / 3
    assert page.evaluate("document.documentElement.scrollHeight") <= viewport["height"]
    for button in page.locator("button[data-action]").all():
        box = button.bounding_box()
        assert box["y"] + box["height"] <= viewport["height"], box
    page.click("button[data-action='next']")
    expect(page.locator("#current-body")).to_be_visible(timeout=3000)
    page.click("button[data-action='transfer']")
    page.locator("#transfer-branches button[data-branch]").first.wait_for()
    branches = page.locator("#transfer-branches button[data-branch]").count()
    services = page.locator("#transfer-services button[data-service]").count()
    assert branches > 10 and services > 10, (branches, services)
    screenshot(page, f"counter-transfer-real-size-{name}")
    assert problems(page, "#transfer-dialog") == []
    # A few letters of a branch's number or a service's name, without the accents, narrow both lists.
    page.fill("#transfer-filter", "so 49")
    expect(page.locator("#transfer-branches button[data-branch]:visible")).to_have_count(1)
    assert page.locator("#transfer-branches button[data-branch]:visible").get_attribute("data-branch") == "hn-49"
    page.fill("#transfer-filter", "bao tro xa hoi")
    shown = page.locator("#transfer-services button[data-service]:visible")
    expect(shown).not_to_have_count(services)
    assert all("Bảo trợ xã hội" in text for text in shown.all_inner_texts()), shown.all_inner_texts()
    page.fill("#transfer-filter", "")
    expect(page.locator("#transfer-services button[data-service]:visible")).to_have_count(services)
    page.keyboard.press("Escape")
    assert page.errors == []


def test_the_console_is_usable_at_200_percent_zoom_on_1366x768(big_console, big_server):
    """1366×768 at 200%: a CSS window of 683×384. The waiting list keeps a height, every action button
    can be scrolled to, and nothing runs past the window's right edge."""
    free_counter(big_server)
    page = big_console({"width": 683, "height": 384}, scale=2)
    assert page.eval_on_selector(".table-wrap", "(el) => el.clientHeight") >= 150
    assert page.evaluate("document.documentElement.scrollWidth") <= 683
    seen = set()
    page.mouse.move(4, 200)
    for _ in range(60):
        for button in page.locator("button[data-action]").all():
            box = button.bounding_box()
            if box and box["y"] >= 0 and box["y"] + box["height"] <= 384 and box["x"] + box["width"] <= 683:
                seen.add(button.get_attribute("data-action"))
        page.mouse.wheel(0, 60)
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
    assert seen == {"next", "recall", "start", "done", "no_show", "transfer", "pause"}, seen
    screenshot(page, "counter-200-percent-1366x768")
    assert page.errors == []


def test_status_is_announced_the_chosen_row_is_marked_and_shortcuts_can_be_turned_off(big_console, big_server):
    free_counter(big_server)
    page = big_console({"width": 1366, "height": 768})
    live = page.locator("#live-status")
    assert live.get_attribute("aria-live") == "polite"
    page.keyboard.press("n")
    expect(page.locator("#current-body")).to_be_visible(timeout=3000)
    number = page.locator("#current-number").text_content()
    expect(live).to_contain_text(number, timeout=3000)
    page.keyboard.press("s")
    page.wait_for_selector("#current.serving")
    expect(live).to_contain_text(page.locator("#current-status").text_content(), timeout=3000)
    expect(page.locator("button[data-action='done']")).to_be_enabled(timeout=3000)
    page.keyboard.press("d")
    expect(page.locator("#current-body")).to_be_hidden(timeout=3000)
    # The chosen row: aria-selected, and an outline at least 3:1 against the list.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    chosen = page.locator("#waiting-rows tr[aria-selected='true']")
    expect(chosen).to_have_count(1)
    assert page.locator("#waiting-rows tr[aria-selected='false']").count() >= 1
    assert page.get_attribute("#waiting", "role") == "grid"
    assert focus_ring_contrast(page, "#waiting-rows tr[aria-selected='true']") >= 3
    # Focus rings of the buttons and inputs: at least 3:1 against the page.
    page.focus("button[data-action='next']")
    page.keyboard.press("Tab")
    assert focus_ring_contrast(page, ":focus") >= 3
    page.focus("#shortcuts")
    assert focus_ring_contrast(page, "#shortcuts") >= 3
    # Single-key shortcuts off: N calls nobody (only the button does), and the choice is kept.
    page.uncheck("#shortcuts")
    calls = []
    page.on("request", lambda request: calls.append(request.url) if request.url.endswith("/next") else None)
    page.keyboard.press("n")
    page.click("button[data-action='next']")
    expect(page.locator("#current-body")).to_be_visible(timeout=3000)
    assert len(calls) == 1
    page.reload()
    page.wait_for_selector("#console:not([hidden])")
    expect(page.locator("#shortcuts")).not_to_be_checked()
    assert page.locator(".actions kbd:visible").count() == 0
    page.check("#shortcuts")
    assert page.errors == []


def test_every_input_of_the_console_is_labelled(big_console, big_server):
    page = big_console({"width": 1366, "height": 768})
    unlabelled = page.eval_on_selector_all(
        "input, select, textarea", """(els) => els.filter((el) => !el.labels.length && !el.getAttribute('aria-label')
            && !el.getAttribute('aria-labelledby')).map((el) => el.id || el.outerHTML)""")
    assert unlabelled == []
