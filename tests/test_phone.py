"""The citizen's phone page /t/{id} (what the ticket's QR code opens), in real headless Chromium at
360×640 against a real server: the number and the people ahead, live; the call on screen within a
second, with vibration and chime; the rating form after done; not found; nothing wider than 360 px."""
from __future__ import annotations

import time

import pytest

from conftest import screenshot
from motcua.i18n import catalogue, rating_reasons

VI, EN = catalogue("vi"), catalogue("en")

# Headless Chromium has no vibration motor: record what the page asks for.
VIBRATE_SPY = "navigator.vibrate = (pattern) => { (window.vibrations ||= []).push(pattern); return true; };"

# Checks of the layout itself, run in the page for whatever is on screen.
LAYOUT = """() => {
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const size = (el) => parseFloat(getComputedStyle(el).fontSize);
  const louderEnglish = [...document.querySelectorAll('.en')].filter(shown).filter((en) => {
    const vi = en.previousElementSibling;
    return vi && !vi.classList.contains('en') && shown(vi) && size(en) >= size(vi);
  }).map((en) => en.textContent);
  const smallTargets = [...document.querySelectorAll('button, a')].filter(shown)
    .filter((el) => el.getBoundingClientRect().height < 48 || el.getBoundingClientRect().width < 48)
    .map((el) => el.textContent.trim());
  const wide = [...document.querySelectorAll('body *')].filter(shown)
    .filter((el) => el.getBoundingClientRect().right > innerWidth + 0.5).map((el) => el.tagName + '.' + el.className);
  return {overflow: document.documentElement.scrollWidth > innerWidth, louderEnglish, smallTargets, wide};
}"""


def issue(server, service="cert", priority=False) -> dict:
    answer = server.post("/branches/hk-01/tickets", "kiosk1", {"service": service, "priority": priority})
    assert answer.status_code == 201, answer.text
    return answer.json()


def call_next(server, counter="3") -> dict:
    answer = server.post(f"/branches/hk-01/counters/{counter}/next", "off1")
    assert answer.status_code == 200, answer.text
    return answer.json()["ticket"]


def text_is(selector: str, value: str) -> str:
    return f"(document.querySelector({selector!r}) || {{}}).textContent === {value!r}"


def assert_layout(page) -> None:
    found = page.evaluate(LAYOUT)
    assert not found["overflow"] and not found["wide"], found
    assert not found["louderEnglish"], found
    assert not found["smallTargets"], found


@pytest.fixture
def phone(chromium):
    """Opens /t/{id} as a 360×640 touch phone (None: a blank page to set up first); one context each."""
    contexts = []

    def open_page(server, ticket_id: str | None):
        context = chromium.new_context(bypass_csp=True, viewport={"width": 360, "height": 640}, has_touch=True,
                                       is_mobile=True)
        contexts.append(context)
        page = context.new_page()
        page.add_init_script(VIBRATE_SPY)
        page.chimes = []
        page.on("request", lambda r: page.chimes.append(r.url) if r.url.endswith("/display/chime.wav") else None)
        if ticket_id is not None:
            page.goto(f"{server.base}/t/{ticket_id}")
        return page

    yield open_page
    for context in contexts:
        context.close()


def test_waiting_then_called_then_rated(fresh_server, phone, capsys):
    server = fresh_server
    issue(server), issue(server)
    mine = issue(server)
    page = phone(server, mine["id"])
    page.wait_for_function(text_is("#ahead", "2"), timeout=3000)
    assert page.text_content("#number") == mine["number"]
    assert page.text_content("#service .vi") == "Chứng thực"
    assert VI["phone.status.waiting"] in page.text_content("#status")
    assert page.is_visible("#wait") and page.is_hidden("#called") and page.is_hidden("#rating")

    issue(server, priority=True)  # goes ahead of everyone: one more before me, pushed live
    page.wait_for_function(text_is("#ahead", "3"), timeout=3000)
    screenshot(page, "phone-waiting")
    assert_layout(page)

    for ahead in ("2", "1", "0"):
        other = call_next(server)
        assert other["id"] != mine["id"]
        assert server.post(f"/tickets/{other['id']}/done", "off1").status_code == 200
        page.wait_for_function(text_is("#ahead", ahead), timeout=3000)
    assert page.is_visible("#next")

    called = call_next(server)
    answered = time.monotonic()
    page.wait_for_function("!document.getElementById('called').hidden && " + text_is("#called-to .vi b", "3"),
                           timeout=1000)
    latency = time.monotonic() - answered
    with capsys.disabled():
        print(f"\ncall -> phone page: {latency * 1000:.0f} ms")
    assert latency < 1.0
    assert called["id"] == mine["id"]
    assert page.text_content("#called-to .vi") == VI["phone.go_to_counter"].format(counter="3")
    assert page.evaluate("window.vibrations") == [[400, 150, 400]]
    page.wait_for_timeout(300)
    assert page.chimes, "the chime was never requested"
    page.evaluate("document.getAnimations().forEach((a) => a.finish())")  # the picture shows the flash settled
    screenshot(page, "phone-called")
    assert_layout(page)

    assert server.post(f"/tickets/{mine['id']}/done", "off1").status_code == 200
    page.wait_for_selector("#rating", state="visible", timeout=3000)
    assert page.is_hidden("#called") and page.is_hidden("#waiting")
    page.locator("#rating h2").scroll_into_view_if_needed()
    chips = page.eval_on_selector_all(".chip", "cs => cs.map(c => [c.dataset.reason, c.querySelector('.vi').textContent])")
    assert chips == [[r, VI[f"rating.reasons.{r}"]] for r in rating_reasons()]  # the catalogue's, in its order
    page.tap(".score[data-score='4']")
    page.tap(".chip[data-reason='friendly']")
    page.tap(".chip[data-reason='fast']")
    page.fill("#comment", "Cán bộ hướng dẫn tận tình")
    page.evaluate("document.getElementById('rating').scrollIntoView()")
    screenshot(page, "phone-rating")
    assert_layout(page)
    with page.expect_response("**/rating") as sent:
        page.tap("#submit")
    # What was sent, not the answer's body: Chromium keeps no body of a no-store answer for Playwright to read.
    assert sent.value.status == 201 and sorted(sent.value.request.post_data_json["reasons"]) == ["fast", "friendly"]
    page.wait_for_selector("#thanks", state="visible", timeout=3000)
    assert page.is_hidden("#rating")
    screenshot(page, "phone-thanks")
    assert_layout(page)

    view = server.get(f"/tickets/{mine['id']}").json()
    assert view["rated"] is True
    again = server.post(f"/tickets/{mine['id']}/rating", json={"score": 1})
    assert again.status_code == 409

    page.reload()  # a rated ticket opens on the thank-you
    page.wait_for_selector("#thanks", state="visible", timeout=3000)
    assert page.is_hidden("#rating")


def test_the_holder_sees_the_rating_code_the_kiosk_asks_for(fresh_server, phone):
    mine = issue(fresh_server)
    page = phone(fresh_server, mine["id"])
    page.wait_for_function(text_is("#ahead", "0"), timeout=3000)
    assert page.is_hidden("#rating-code")               # waiting: the wait comes first, the paper has the code
    called = call_next(fresh_server)
    assert called["id"] == mine["id"]
    assert fresh_server.post(f"/tickets/{mine['id']}/done", "off1").status_code == 200
    page.wait_for_selector("#rating", state="visible", timeout=3000)
    # Done: rate here, or at the kiosk with the number and this code.
    page.wait_for_function(text_is("#code", mine["rating_code"]), timeout=3000)
    assert page.is_visible("#rating-code") and len(mine["rating_code"]) == 4
    assert VI["phone.rating_code"] in page.text_content("#rating-code")
    assert EN["phone.rating_code_hint"] in page.text_content("#rating-code")
    screenshot(page, "phone-rating-code")
    assert_layout(page)
    # Rated at the kiosk with the code: the page hears it, and the code has done its work.
    rated = fresh_server.post(f"/branches/hk-01/tickets/{mine['number']}/rating", "kiosk1",
                              {"score": 4, "code": mine["rating_code"]})
    assert rated.status_code == 201
    page.reload()
    page.wait_for_selector("#thanks", state="visible", timeout=3000)
    assert page.is_hidden("#rating-code")


# A Socket.IO client that never connects: the page must live on HTTP polling alone.
DEAD_SOCKET = """window.io = () => {
  const handlers = {};
  const socket = { connected: false, on: (name, f) => { handlers[name] = f; return socket; }, emit: () => socket };
  setTimeout(() => handlers.connect_error(new Error("no socket")), 50);
  return socket;
};"""


def test_a_call_learnt_by_polling_still_alerts(fresh_server, phone, chromium):
    """With no socket the page polls, says so, and a call still shows, buzzes and chimes."""
    server = fresh_server
    mine = issue(server, "land")
    page = phone(server, None)
    page.route("**/vendor/socket.io.min.js",
               lambda route: route.fulfill(body=DEAD_SOCKET, content_type="text/javascript"))
    page.goto(f"{server.base}/t/{mine['id']}")
    page.wait_for_function(text_is("#ahead", "0"), timeout=3000)
    page.wait_for_selector("#badge[data-status='polling']", state="visible", timeout=5000)
    assert VI["phone.polling"] in page.text_content("#badge")
    call_next(server, "4")
    page.wait_for_function("!document.getElementById('called').hidden && " + text_is("#called-to .vi b", "4"),
                           timeout=5000)
    assert page.evaluate("window.vibrations") == [[400, 150, 400]]


def test_rating_refusals_are_readable(fresh_server, phone):
    server = fresh_server
    mine = issue(server, "civil")
    assert call_next(server, "2")["id"] == mine["id"]
    assert server.post(f"/tickets/{mine['id']}/done", "off1").status_code == 200
    page = phone(server, mine["id"])
    page.wait_for_selector("#rating", state="visible", timeout=3000)

    page.tap("#submit")  # no level chosen yet
    page.wait_for_selector("#rating-message", state="visible")
    assert page.text_content("#rating-message .vi") == VI["rating.pick_score"]

    page.route("**/rating", lambda route: route.abort())  # the network fails
    page.tap(".score[data-score='2']")
    page.tap(".chip[data-reason='slow']")
    page.tap("#submit")
    page.wait_for_function(text_is("#rating-message .vi", VI["rating.error"]), timeout=3000)
    assert page.is_visible("#rating") and page.get_attribute(".chip[data-reason='slow']", "aria-pressed") == "true"
    page.unroute("**/rating")

    # A comment pasted with a bidi override: the server's 400 is told as a comment to correct, kept on screen.
    page.fill("#comment", "Tốt\u202e")
    page.tap("#submit")
    page.wait_for_function(text_is("#rating-message .vi", VI["rating.bad_comment"]), timeout=3000)
    assert page.input_value("#comment") == "Tốt\u202e"
    page.fill("#comment", "")

    # Someone else holding the id rated first: 409, told kindly, thank-you shown. They rate while this
    # page's rating is on its way, so that no live push of the rated ticket can hide the form before the tap.
    others = []

    def rated_first(route):
        others.append(server.post(f"/tickets/{mine['id']}/rating", json={"score": 3}).status_code)
        route.continue_()
    page.route("**/rating", rated_first)
    page.tap("#submit")
    page.wait_for_selector("#thanks", state="visible", timeout=3000)
    assert others == [201] and page.text_content("#thanks-note .vi") == VI["rating.already"]


def test_rating_too_early_is_refused_by_the_server(fresh_server):
    mine = issue(fresh_server, "cert")
    answer = fresh_server.post(f"/tickets/{mine['id']}/rating", json={"score": 4})
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "not_done"


def test_unknown_ticket_says_so(server, phone):
    page = phone(server, "no-such-ticket")
    page.wait_for_selector("#missing", state="visible", timeout=3000)
    assert page.text_content("#missing h1") == VI["phone.not_found"]
    assert EN["phone.not_found"] in page.text_content("#missing")
    assert page.is_hidden("#card")
    assert_layout(page)


def test_transferred_ticket_links_to_the_new_one(server, phone):
    mine = issue(server, "cert")
    moved = server.post(f"/tickets/{mine['id']}/transfer", "off1", {"service": "civil", "branch": "hk-02"})
    assert moved.status_code == 200, moved.text
    page = phone(server, mine["id"])
    page.wait_for_selector("#transferred", state="visible", timeout=3000)
    assert page.get_attribute("#transferred", "href") == f"/t/{moved.json()['id']}"
    page.tap("#transferred")
    page.wait_for_function(text_is("#number", moved.json()["number"]), timeout=3000)
    hk02 = next(b for b in server.get("/branches").json() if b["id"] == "hk-02")
    assert page.text_content("#branch .vi") == hk02["name"]["vi"]


def test_a_ticket_moved_to_another_service_of_the_branch_says_so(server, phone):
    mine = issue(server, "cert")
    moved = server.post(f"/tickets/{mine['id']}/transfer", "off1", {"service": "civil"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["id"], moved.json()["number"]) == (mine["id"], mine["number"])  # the same ticket
    page = phone(server, mine["id"])
    page.wait_for_selector("#moved", state="visible", timeout=3000)
    assert page.text_content("#moved .vi") == VI["phone.moved_note"].format(service="Hộ tịch")
    assert page.text_content("#moved .en") == EN["phone.moved_note"].format(service="Civil status")
    assert page.text_content("#service .vi") == "Hộ tịch"
    screenshot(page, "phone-moved")
    assert_layout(page)
    # Not a word of it on a ticket that stayed where it was issued.
    other = phone(server, issue(server, "cert")["id"])
    other.wait_for_selector("#waiting", state="visible", timeout=3000)
    assert other.is_hidden("#moved")


# The range's characters, from "(" to ")": the boxes of one line share their top.
RANGE_LINES = """() => {
  const el = document.querySelector('#wait .vi');
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const open = node.data.indexOf('('), close = node.data.indexOf(')');
    if (open >= 0) range.setStart(node, open);
    if (close >= 0) range.setEnd(node, close + 1);
  }
  return new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.bottom))).size;
}"""


def test_the_wait_range_never_breaks_across_lines(fresh_server, phone):
    for _ in range(12):
        issue(fresh_server, "land")
    mine = issue(fresh_server, "land")
    view = fresh_server.get(f"/tickets/{mine['id']}").json()
    low, high = view["estimated_wait_range_min"]
    page = phone(fresh_server, mine["id"])
    page.wait_for_function(f"document.querySelector('#wait .vi')?.textContent.includes('{low}–{high})')",
                           timeout=3000)
    screenshot(page, "phone-range")
    assert page.evaluate(RANGE_LINES) == 1, page.text_content("#wait .vi")
    assert_layout(page)


def test_sound_toggle_and_larger_screens(server, phone, chromium):
    mine = issue(server, "business", priority=True)
    page = phone(server, mine["id"])
    page.wait_for_selector("#sound", state="visible", timeout=3000)
    assert page.text_content("#priority .vi") == VI["phone.priority"]
    screenshot(page, "phone-priority")
    assert_layout(page)
    page.tap("#sound")
    page.wait_for_function("document.getElementById('sound').getAttribute('aria-pressed') === 'true'")
    assert page.text_content("#sound-label .vi") == VI["phone.sound_on"]
    page.tap("#sound")
    assert page.get_attribute("#sound", "aria-pressed") == "false"

    context = chromium.new_context(bypass_csp=True, viewport={"width": 1024, "height": 768})
    big = context.new_page()
    big.goto(f"{server.base}/t/{mine['id']}")
    big.wait_for_selector("#card", state="visible", timeout=3000)
    assert big.evaluate("document.getElementById('card').getBoundingClientRect().width") <= 560
    assert not big.evaluate("document.documentElement.scrollWidth > innerWidth")
    context.close()
