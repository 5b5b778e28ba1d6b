"""The citizens' pages for every person (WCAG 2.1 AA): axe-core finds no A or AA violation in any state
of the wall display (1920×1080, 1080×1920), the phone page and the public dossier lookup (390×844);
the phone and /d/ pages follow the browser's own text size, and the phone's call is announced to a
screen reader. One real server on the real-size city (tests/big_city.py), one browser context per size."""
from __future__ import annotations

import pytest

from motcua.config import load_config
from motcua.core.dossier_codes import check_character
from motcua.i18n import catalogue

from axe import violations
from big_city import big_server, big_template  # noqa: F401 (fixtures)
from conftest import screenshot
from layout import problems
from test_intake import waived_for
from test_phone import DEAD_SOCKET   # a Socket.IO client that never connects: the page polls

VI, EN = catalogue("vi"), catalogue("en")
WALLS = [(1920, 1080), (1080, 1920)]
PHONE = (390, 844)
PAGE_SECONDS = load_config().display.page_seconds
CALLS = 8   # more calls than the wall keeps in its recent list
# The wall of hk-01 pages its 25 services; hk-02's five fit on one page and nobody has been called there.


@pytest.fixture(scope="module")
def contexts(chromium):
    """One browser context per size for the module: contexts(width, height)."""
    made = {}

    def context(width: int, height: int):
        if (width, height) not in made:
            phone = width < 600
            made[width, height] = chromium.new_context(bypass_csp=True, viewport={"width": width, "height": height},
                                                       has_touch=phone, is_mobile=phone)
            made[width, height].set_default_timeout(10000)
        return made[width, height]

    yield context
    for context in made.values():
        context.close()


@pytest.fixture
def page_at(contexts):
    """page_at(width, height): a new page in that size's context, closed after the test."""
    pages = []

    def make(width: int, height: int):
        pages.append(contexts(width, height).new_page())
        return pages[-1]

    yield make
    for page in pages:
        page.close()


@pytest.fixture(scope="module")
def called(big_server):
    """hk-01 with CALLS calls made (the last still at its counter): a call showing and recent calls."""
    for n in range(CALLS):
        counter = str(n + 1)   # one call a counter: each still holds its ticket
        answer = big_server.post(f"/branches/hk-01/counters/{counter}/next", "off1")
        assert answer.status_code == 200, answer.text
    return big_server


def clean(page, name: str) -> None:
    """No WCAG 2.1 A/AA violation and no layout problem on the page as it stands; its picture kept."""
    screenshot(page, name)
    assert violations(page) == [], name
    assert problems(page) == [], name


# ---- the wall display -----------------------------------------------------------------------------

@pytest.mark.parametrize("width, height", WALLS)
def test_the_wall_idle_calling_and_paging_passes_axe(called, page_at, width, height):
    idle = page_at(width, height)
    idle.goto(f"{called.base}/display/hk-02")
    idle.wait_for_function("() => document.querySelectorAll('.service, .crow').length === 5 && "   # cards or table rows
                           "!document.getElementById('nobody').hidden")
    clean(idle, f"a11y-wall-idle-{width}x{height}")

    busy = page_at(width, height)
    busy.clock.install()   # the page's time runs on, and the test may move it on to the next page of services
    busy.goto(f"{called.base}/display/hk-01")
    busy.wait_for_function(f"() => document.querySelectorAll('#recent li').length >= {CALLS - 2} && "
                           "document.getElementById('now-number').textContent !== '—' && "
                           "!document.getElementById('services-page').hidden")
    clean(busy, f"a11y-wall-calling-{width}x{height}")
    first = busy.text_content("#services-page")
    # A page of the table stays until each long name on it has rolled through whole: move the page's time on
    # a page at a time until the next page shows (a bounded number of steps, the names being a few lines).
    for _ in range(8):
        busy.clock.fast_forward(PAGE_SECONDS * 1000)
        if busy.text_content("#services-page") != first:
            break
    busy.wait_for_function("(first) => document.getElementById('services-page').textContent !== first", arg=first)
    clean(busy, f"a11y-wall-next-page-{width}x{height}")


# ---- the phone page -------------------------------------------------------------------------------

def issue(server, service: str = "business") -> dict:
    answer = server.post("/branches/hk-02/tickets", "kiosk2", {"service": service})
    assert answer.status_code == 201, answer.text
    return answer.json()


def call(server, counter: str, ticket: dict) -> None:
    """hk-02's counter calls this very ticket (the tests of the module share the server's queues)."""
    answer = server.post(f"/branches/hk-02/counters/{counter}/call", "off2", {"ticket": ticket["id"]})
    assert answer.status_code == 200, answer.text


def test_the_phone_page_in_every_state_passes_axe_and_announces_the_call(big_server, page_at):
    first, mine = issue(big_server), issue(big_server)
    page = page_at(*PHONE)
    page.goto(f"{big_server.base}/t/{mine['id']}")
    page.wait_for_function("() => document.getElementById('ahead').textContent === '1'")
    clean(page, "a11y-phone-waiting-390x844")
    page.tap("#sound")   # sound on: the button's other colours
    page.wait_for_selector("#sound[aria-pressed='true']")
    clean(page, "a11y-phone-waiting-sound-on-390x844")
    live = "#announce"
    assert page.get_attribute(live, "role") == "status" and page.get_attribute(live, "aria-live")
    assert VI["phone.status.waiting"] in page.text_content(live)

    # The region's changes, counted from now on: one person fewer ahead is shown, not said.
    page.evaluate("""() => { window.said = 0;
      new MutationObserver(() => { window.said += 1; }).observe(document.getElementById('announce'),
                                                                {childList: true, subtree: true, characterData: true});
    }""")
    call(big_server, "4", first)
    assert big_server.post(f"/tickets/{first['id']}/done", "off2").status_code == 200
    page.wait_for_function("() => document.getElementById('ahead').textContent === '0'")
    assert page.evaluate("() => window.said") == 0
    call(big_server, "4", mine)
    # The call is said in the live region, which was on the page before it (a region added with its
    # text is not read out).
    said = VI["phone.go_to_counter"].replace("{counter}", "4")
    page.wait_for_function("(said) => document.getElementById('announce').textContent.includes(said)", arg=said)
    assert EN["phone.go_to_counter"].replace("{counter}", "4") in page.text_content(live)
    assert big_server.post(f"/tickets/{mine['id']}/recall", "off2").status_code == 200
    page.wait_for_function("(said) => document.getElementById('announce').textContent.startsWith(said)",
                           arg=VI["phone.recall"])
    page.evaluate("() => document.getAnimations().forEach((a) => a.finish())")
    clean(page, "a11y-phone-called-390x844")

    assert big_server.post(f"/tickets/{mine['id']}/done", "off2").status_code == 200
    page.wait_for_selector("#rating", state="visible")
    assert VI["phone.status.done"] in page.text_content(live)
    page.tap(".score[data-score='4']")
    page.tap(".chip[data-reason='fast']")
    clean(page, "a11y-phone-rating-390x844")
    page.tap("#submit")
    page.wait_for_selector("#thanks", state="visible")
    clean(page, "a11y-phone-thanks-390x844")

    missing = page_at(*PHONE)
    missing.goto(f"{big_server.base}/t/no-such-ticket")
    missing.wait_for_selector("#missing", state="visible")
    clean(missing, "a11y-phone-unknown-390x844")
    assert missing.title() == VI["phone.not_found"]   # the tab says so too (WCAG 2.4.2)


def test_the_rating_refusal_passes_axe(big_server, page_at):
    mine = issue(big_server, "land")
    call(big_server, "3", mine)
    assert big_server.post(f"/tickets/{mine['id']}/done", "off2").status_code == 200
    page = page_at(*PHONE)
    page.goto(f"{big_server.base}/t/{mine['id']}")
    page.wait_for_selector("#rating", state="visible")
    page.tap("#submit")   # no level chosen
    page.wait_for_selector("#rating-message", state="visible")
    clean(page, "a11y-phone-rating-refused-390x844")


def test_the_phone_page_missed_moved_transferred_and_polling_passes_axe(big_server, page_at):
    missed = issue(big_server, "business")
    call(big_server, "4", missed)
    assert big_server.post(f"/tickets/{missed['id']}/no-show", "off2").status_code == 200
    moved = issue(big_server, "cert")
    assert big_server.post(f"/tickets/{moved['id']}/transfer", "off2", {"service": "civil"}).status_code == 200
    away = issue(big_server, "cert")
    assert big_server.post(f"/tickets/{away['id']}/transfer", "off2",
                           {"service": "cert", "branch": "hk-03"}).status_code == 200
    for ticket, ready, name in ((missed, "#detail", "missed"), (moved, "#moved", "moved"),
                                (away, "#transferred", "transferred")):
        page = page_at(*PHONE)
        page.goto(f"{big_server.base}/t/{ticket['id']}")
        page.wait_for_selector(ready, state="visible")
        clean(page, f"a11y-phone-{name}-390x844")

    polling = page_at(*PHONE)
    polling.route("**/vendor/socket.io.min.js",
                  lambda route: route.fulfill(body=DEAD_SOCKET, content_type="text/javascript"))
    polling.goto(f"{big_server.base}/t/{moved['id']}")
    polling.wait_for_selector("#badge[data-status='polling']", state="visible")
    clean(polling, "a11y-phone-polling-390x844")


# ---- the public dossier lookup --------------------------------------------------------------------

def opened(server) -> str:
    body = {"procedure": "KD-TL", "citizen": {"id_number": "001090012345", "name": "Trần Thị Bình",
                                              "phone": "0987654321"}, "return_branch": "hk-02"}
    answer = server.post("/dossiers", "off1", body)
    assert answer.status_code == 201, answer.text
    code = answer.json()["code"]
    digitised = {"status": "digitized", "missing": waived_for(answer.json())}
    assert server.post(f"/dossiers/{code}/status", "off1", digitised).status_code == 200
    return code


def test_the_dossier_lookup_in_every_state_passes_axe(big_server, page_at):
    code = opened(big_server)
    page = page_at(*PHONE)
    page.goto(f"{big_server.base}/d/{code}?check={check_character(code)}")   # as the receipt's QR link
    page.wait_for_selector("#dossier:not([hidden])")
    clean(page, "a11y-dossier-found-390x844")
    # The tab says what the page is (WCAG 2.4.2), and which dossier.
    assert page.title() == f"{code} · {VI['dpages.d.title']}"

    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    page.goto(f"{big_server.base}/d/{wrong}?check={check_character(wrong)}")
    page.wait_for_selector("#problem:not([hidden])")
    clean(page, "a11y-dossier-unknown-390x844")

    page.goto(f"{big_server.base}/d/not a code!")
    page.wait_for_selector("#problem:not([hidden])")
    clean(page, "a11y-dossier-mistyped-390x844")

    page.goto(f"{big_server.base}/d/")
    page.wait_for_selector("#lookup")
    page.wait_for_function("() => document.body.dataset.state !== 'loading'")
    clean(page, "a11y-dossier-empty-390x844")
    assert page.title() == VI["dpages.d.title"]


# ---- text that follows the person's own size -----------------------------------------------------

# What the reader's own setting changes, as the page lays it out: the root font, the lines the number
# takes, and every shown box that runs past the window or is cut by its own box.
SIZES = """() => {
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  // The element's text, line by line as laid out.
  const lines = (el) => {
    const text = el.firstChild, found = new Map();
    for (let i = 0; i < text.length; i++) {
      const range = document.createRange();
      range.setStart(text, i);
      range.setEnd(text, i + 1);
      const top = Math.round(range.getBoundingClientRect().top);
      found.set(top, (found.get(top) || '') + text.data[i]);
    }
    return [...found.values()];
  };
  const number = document.querySelector('#number:not(:empty), #code:not(:empty)');
  // What only a screen reader reads (.sr-only) is a 1 px box on purpose.
  const outside = [...document.querySelectorAll('body *')].filter(shown).filter((el) => !el.closest('.sr-only'))
    .filter((el) => {
    const box = el.getBoundingClientRect();
    return box.right > innerWidth + 0.5 || box.left < -0.5 ||
      (getComputedStyle(el).overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1 &&
       !['TEXTAREA', 'INPUT'].includes(el.tagName));
  }).map((el) => el.tagName + '#' + el.id + '.' + el.className);
  return {root: parseFloat(getComputedStyle(document.documentElement).fontSize), number: lines(number), outside, wider: document.documentElement.scrollWidth > innerWidth};
}"""


def at_text_size(page, standard: int) -> dict:
    """The page laid out with the browser's default font size set to standard px (16 is Chromium's own)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": standard}})
    # The browser's own size, as a box of "medium" type shows it: proof that the setting took.
    page.wait_for_function("""(px) => {
      const probe = document.createElement('div');
      probe.style.fontSize = 'medium';
      document.body.append(probe);
      const size = parseFloat(getComputedStyle(probe).fontSize);
      probe.remove();
      return size === px;
    }""", arg=standard)
    cdp.detach()
    return page.evaluate(SIZES)


def test_the_phone_and_dossier_pages_follow_the_browsers_text_size(big_server, page_at):
    ticket = issue(big_server, "cert")
    code = opened(big_server)
    for path, ready, name in ((f"/t/{ticket['id']}", "#waiting", "phone"), (f"/d/{code}?check={check_character(code)}", "#dossier", "dossier")):
        page = page_at(*PHONE)
        page.goto(big_server.base + path)
        page.wait_for_selector(ready, state="visible")
        usual = page.evaluate(SIZES)
        assert len(usual["number"]) == 1 and not usual["outside"] and not usual["wider"], usual
        large = at_text_size(page, 32)   # twice the browser's own 16 px: "200 %" in a phone's settings
        screenshot(page, f"a11y-{name}-text-200-390x844")
        assert large["root"] == 2 * usual["root"], (usual, large)
        if name == "phone":
            assert len(large["number"]) == 1, large
        else:   # a dossier's code, too long for one line of large type, breaks only after its dashes
            assert all(line.endswith("-") for line in large["number"][:-1]), large
        assert not large["outside"] and not large["wider"], large
        assert problems(page) == [] and violations(page) == []
        # Zoomed to 200 % at the usual type: the phone's 390 px hold 195 px of the page.
        at_text_size(page, 16)
        page.set_viewport_size({"width": PHONE[0] // 2, "height": PHONE[1] // 2})
        zoomed = page.evaluate(SIZES)
        screenshot(page, f"a11y-{name}-zoom-200-195x422")
        if name == "phone":
            assert len(zoomed["number"]) == 1, zoomed
        assert not zoomed["outside"] and not zoomed["wider"], zoomed


def test_the_phone_call_in_large_type_is_whole(big_server, page_at):
    mine = issue(big_server, "civil")
    page = page_at(*PHONE)
    page.goto(f"{big_server.base}/t/{mine['id']}")
    page.wait_for_selector("#waiting", state="visible")
    at_text_size(page, 32)
    call(big_server, "2", mine)
    page.wait_for_selector("#called", state="visible")
    page.evaluate("() => document.getAnimations().forEach((a) => a.finish())")
    screenshot(page, "a11y-phone-called-text-200-390x844")
    large = page.evaluate(SIZES)
    assert len(large["number"]) == 1 and not large["outside"] and not large["wider"], large
    # The counter's box holds one line of its figure.
    assert page.eval_on_selector("#called-to .vi b", "(b) => b.getBoundingClientRect().height < "
                                                     "1.5 * parseFloat(getComputedStyle(b).lineHeight)")
    assert problems(page) == [] and violations(page) == []
    assert big_server.post(f"/tickets/{mine['id']}/done", "off2").status_code == 200   # counter 2 free again


# ---- the start page -------------------------------------------------------------------------------

@pytest.mark.parametrize("width, height", [PHONE, (1920, 1080)])
def test_the_start_page_with_fifty_branches_passes_axe(big_server, page_at, width, height):
    """The page a citizen or an officer opens first: its 50 branches' links on a phone and a desk."""
    page = page_at(width, height)
    page.goto(f"{big_server.base}/")
    page.wait_for_selector("#displays li:nth-child(50)", state="attached")
    clean(page, f"a11y-start-{width}x{height}")
