"""The wall display as a citizen across the room sees it, at the screens centres use: every recent
call whole, waits coloured against the target, portrait, an empty queue, the sound-off bar, the icon."""
from __future__ import annotations

import pytest
import requests

from motcua.i18n import catalogue

from conftest import screenshot

VI = catalogue("vi")
SCREENS = [(1920, 1080), (1280, 720), (1080, 1920)]
# Each call to a counter that serves the service; the calls are finished so that the counter is free again.
CALLS = [("civil", "2"), ("cert", "3"), ("land", "4"), ("build", "5"), ("business", "6"), ("civil", "1"),
         ("cert", "3"), ("civil", "2"), ("cert", "1")]
LAND_QUEUE = 10   # twenty-minute files at two counters: far above 30 minutes
CIVIL_QUEUE = 4


@pytest.fixture(scope="module")
def busy(server):
    """More calls than the display keeps, long queues for land and civil, nobody waiting for cert."""
    for service, counter in CALLS:
        ticket = server.post("/branches/hk-01/tickets", "kiosk1", {"service": service}).json()
        called = server.post(f"/branches/hk-01/counters/{counter}/next", "off1").json()["ticket"]
        assert called["id"] == ticket["id"], called
        assert server.post(f"/tickets/{called['id']}/done", "off1").status_code == 200
    for service, count in (("land", LAND_QUEUE), ("civil", CIVIL_QUEUE)):
        for _ in range(count):
            server.post("/branches/hk-01/tickets", "kiosk1", {"service": service})
    return server


@pytest.fixture(scope="module")
def browser_context(chromium):
    contexts = []

    def make(width: int, height: int, **options):
        context = chromium.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def open_wall(browser_context, server, width: int, height: int, init_script: str | None = None):
    context = browser_context(width, height)
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: page.errors.append(message.text) if message.type == "error" else None)
    page.goto(server.base + "/display/hk-01")
    # A function, not an expression: the page's CSP (kept on here) forbids the eval an expression needs.
    page.wait_for_function("() => document.querySelectorAll('#recent li').length >= 6 && "
                           "document.querySelector(\".service[data-service='land'] .waiting\")?.textContent === "
                           f"'{LAND_QUEUE}'", timeout=5000)
    return page


# Every box that must be whole on screen: no part outside the viewport, nor outside its own panel.
CUT_OFF = """
() => {
  const cut = [];
  const inside = (box, frame) => box.left >= frame.left - 0.5 && box.right <= frame.right + 0.5 &&
    box.top >= frame.top - 0.5 && box.bottom <= frame.bottom + 0.5;
  const screen = { left: 0, top: 0, right: innerWidth, bottom: innerHeight };
  const check = (el, frame, what) => {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) return;
    if (!inside(box, screen) || (frame && !inside(box, frame.getBoundingClientRect()))) cut.push(what);
  };
  document.querySelectorAll('header > *').forEach((el) => check(el, document.querySelector('header'), 'header ' + el.className));
  document.querySelectorAll('#recent li').forEach((el, i) => check(el, document.querySelector('.recent'), 'recent ' + i));
  document.querySelectorAll('.service, .service .figures, .service .name').forEach((el) =>
    check(el, el.closest('.service') === el ? null : el.closest('.service'), 'service ' + el.closest('.service').dataset.service));
  const number = document.getElementById('now-number');
  document.querySelectorAll('#now .label, #now .number, #now .to').forEach((el) => check(el, document.getElementById('now'), 'now ' + el.className));
  if (number.scrollWidth > number.clientWidth + 1) cut.push('number text');
  const bar = document.getElementById('sound-blocked');
  if (!bar.hidden) {
    const top = bar.getBoundingClientRect().top;
    document.querySelectorAll('.service').forEach((el) => { if (el.getBoundingClientRect().bottom > top + 0.5) cut.push('under the bar'); });
    check(bar, null, 'bar');
  }
  return cut;
}
"""


@pytest.mark.parametrize("width, height", SCREENS)
def test_every_recent_call_the_number_and_the_services_are_whole_on_screen(busy, browser_context, width, height):
    page = open_wall(browser_context, busy, width, height)
    screenshot(page, f"wall-{width}x{height}")
    shown = page.eval_on_selector_all("#recent li", "items => items.length")
    assert shown == busy.get("/branches/hk-01/state").json()["recent_calls"].__len__() - 1 >= 6
    assert page.evaluate(CUT_OFF) == []
    assert len(page.text_content("#now-number")) == 4   # "A009", never "A00"
    assert page.errors == []                              # nothing refused by the CSP


def test_waits_are_coloured_against_the_target(busy, browser_context):
    page = open_wall(browser_context, busy, 1920, 1080)
    colours = page.evaluate("""[...document.querySelectorAll('.service')].map((box) => {
        const wait = box.querySelector('.wait');
        return [box.dataset.service, wait ? Number(wait.textContent) : null, wait ? wait.className : null,
                wait ? getComputedStyle(wait).color : null];
      })""")
    target = busy.get("/branches/hk-01/state").json()
    by_service = {s["id"]: s["estimated_wait_min"] for s in target["services"]}
    seen = set()
    for service, minutes, classes, colour in colours:
        if minutes is None:
            continue
        assert minutes == by_service[service]
        expected = "ok" if minutes <= 15 else "warn" if minutes <= 30 else "bad"
        assert expected in classes.split(), (service, minutes, classes)
        seen.add((expected, colour))
    assert by_service["land"] > 30 and "bad" in {level for level, _ in seen}
    assert len({colour for _, colour in seen}) == len(seen)   # each class its own colour
    red, green, _ = (int(c) for c in dict(seen)["bad"][4:-1].split(","))
    assert red > 200 and green < 120


def test_a_service_nobody_waits_for_says_so(busy, browser_context):
    page = open_wall(browser_context, busy, 1920, 1080)
    cert = page.inner_text(".service[data-service='cert']")
    services = {s["id"]: s for s in busy.get("/branches/hk-01/state").json()["services"]}
    assert services["cert"]["waiting"] == 0
    assert VI["display.nobody_waiting"] in cert
    assert "0 phút" not in cert and f"{VI['display.waiting']} 0" not in cert


BLOCK_SOUND = """
HTMLMediaElement.prototype.play = function () { return Promise.reject(new DOMException('blocked', 'NotAllowedError')); };
"""


@pytest.mark.parametrize("width, height", [(1280, 720), (1080, 1920)])
def test_the_sound_off_bar_covers_nothing(busy, browser_context, width, height):
    page = open_wall(browser_context, busy, width, height, init_script=BLOCK_SOUND)
    page.evaluate("document.getElementById('sound-blocked').hidden = false")  # as play() refused shows it
    assert page.is_visible("#sound-blocked")
    assert page.evaluate(CUT_OFF) == []
    screenshot(page, f"wall-sound-off-{width}x{height}")


def test_every_page_has_an_icon_from_the_server(busy, browser_context):
    icon = requests.get(busy.base + "/favicon.ico", timeout=5)
    assert icon.status_code == 200 and icon.headers["Content-Type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"       # an ICO file
    page = browser_context(800, 600).new_page()
    ticket = busy.post("/branches/hk-01/tickets", "kiosk1", {"service": "cert"}).json()
    for path in ("/", "/display/hk-01", f"/t/{ticket['id']}"):
        page.goto(busy.base + path)
        href = page.eval_on_selector("link[rel='icon']", "link => link.href")
        answer = page.request.get(href)
        assert answer.status == 200 and answer.headers["content-type"].startswith("image/"), path


def test_the_pages_are_never_offered_for_translation(busy):
    ticket = busy.post("/branches/hk-01/tickets", "kiosk1", {"service": "cert"}).json()
    for path in ("/display/hk-01", f"/t/{ticket['id']}", "/"):
        html = requests.get(busy.base + path, timeout=5).text
        assert '<html lang="vi" translate="no">' in html, path
