"""The wall display as a citizen across the room sees it, at the screens centres use: every recent
call whole, waits coloured against the target, portrait, an empty queue, the sound-off bar, the icon."""
from __future__ import annotations

import itertools
import re
import signal

import pytest
import requests

from motcua.accounts import Accounts
from motcua.core import scenario
from motcua.core.clock import SystemClock
from motcua.i18n import catalogue
from motcua.store import Store

from conftest import PASSWORD, Server, free_port, screenshot

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
                           "document.querySelector(\"[data-service='land'] .waiting\")?.textContent === "
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
  document.querySelectorAll('.service, .service .figures, .service .name, .crow, .crow > *').forEach((el) => {
    const box = el.closest('[data-service]');
    check(el, box === el ? document.getElementById('services') : box, 'service ' + box.dataset.service);
  });
  const number = document.getElementById('now-number');
  document.querySelectorAll('#now .label, #now .number, #now .to').forEach((el) => check(el, document.getElementById('now'), 'now ' + el.className));
  if (number.scrollWidth > number.clientWidth + 1) cut.push('number text');
  const bar = document.getElementById('sound-blocked');
  if (!bar.hidden) {
    const top = bar.getBoundingClientRect().top;
    document.querySelectorAll('.service, .crow').forEach((el) => { if (el.getBoundingClientRect().bottom > top + 0.5) cut.push('under the bar'); });
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
    colours = page.evaluate("""[...document.querySelectorAll('.service, .crow')].map((box) => {
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
    services = {s["id"]: s for s in busy.get("/branches/hk-01/state").json()["services"]}
    assert services["cert"]["waiting"] == 0
    if page.query_selector(".service"):
        cert = page.inner_text(".service[data-service='cert']")
        assert VI["display.nobody_waiting"] in cert
        assert "0 phút" not in cert and f"{VI['display.waiting']} 0" not in cert
    else:   # the table: nobody and no wait, in the muted colour of what needs no attention
        cells = page.eval_on_selector_all(".crow[data-service='cert'] .cnum", "cells => cells.map((c) => [c.textContent, c.className])")
        assert [text for text, _ in cells[:2]] == ["0", "0"] and all("quiet" in classes for _, classes in cells[:2])


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


# ---- a real branch: 1 to 40 services with the longest real names -------------------------------------

# The longest names of real one-stop services (Vietnamese, English): the cards must hold them whole.
LONG_NAMES = [
    ("Cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất",
     "Certificate of land use rights, ownership of houses and other assets attached to land"),
    ("Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
     "Registration of changes in land use rights and ownership of assets attached to land"),
    ("Đăng ký thành lập hộ kinh doanh và cấp Giấy chứng nhận đăng ký hộ kinh doanh",
     "Household business registration and issuance of the household business registration certificate"),
    ("Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có thẩm quyền cấp",
     "Certified copies from originals of papers and documents issued by competent authorities"),
    ("Liên thông đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
     "Joint birth registration, permanent residence registration and health insurance card for children"),
]
COUNTS = [1, 5, 12, 25, 40]
PAGE_SECONDS = 0.6   # the test's [display] page_seconds: every page is seen within seconds


def real_size_scenario() -> dict:
    """A branch "nN" for each count N, with N services (one counter each) named as LONG_NAMES, in turn."""
    services = [{"id": f"s{i:02d}", "name": {"vi": LONG_NAMES[i % len(LONG_NAMES)][0],
                                             "en": LONG_NAMES[i % len(LONG_NAMES)][1]},
                 "service_min": {"mean": 12}} for i in range(max(COUNTS))]
    branches = [{"id": f"n{n}", "name": {"vi": f"Trung tâm Phục vụ hành chính công số {n:02d} - Hoàn Kiếm",
                                         "en": f"Public Administrative Service Centre No. {n:02d} - Hoan Kiem"},
                 "lat": 21.02, "lon": 105.85,
                 "counters": [{"id": str(i + 1), "services": [services[i]["id"]]} for i in range(n)]}
                for n in COUNTS]
    return {"format": scenario.FORMAT, "name": "real-size", "timezone": "Asia/Ho_Chi_Minh", "open": "00:00",
            "close": "23:59", "services": services, "branches": branches}


@pytest.fixture(scope="module")
def real_size(tmp_path_factory):
    """A real server on the real-size scenario, every branch with full recent calls and people waiting."""
    folder = tmp_path_factory.mktemp("real-size")
    data = real_size_scenario()
    store = Store(folder / "motcua.db")
    store.load_network(scenario.services(data), scenario.branches(data), scenario.counters(data))
    accounts = Accounts(store, SystemClock(), 12.0)
    tokens = {}
    for n in COUNTS:
        accounts.add_user(f"off-n{n}", PASSWORD, "officer", f"n{n}")
        tokens[f"off-n{n}"] = accounts.login(f"off-n{n}", PASSWORD)[0]
        tokens[f"kiosk-n{n}"] = accounts.add_device("kiosk", f"n{n}")
    store.close()
    (folder / "config.toml").write_text(f"[display]\npage_seconds = {PAGE_SECONDS}\n", encoding="utf-8")
    srv = Server(folder / "motcua.db", free_port(), folder / "server.log", tokens=tokens,
                 args=("--config", str(folder / "config.toml")))
    srv.start()
    for n in COUNTS:
        # Nine calls (more than the display keeps), the counters called in turn; then people waiting.
        for k in range(9):
            counter = k % n + 1
            srv.post(f"/branches/n{n}/tickets", f"kiosk-n{n}", {"service": f"s{counter - 1:02d}"})
            called = srv.post(f"/branches/n{n}/counters/{counter}/next", f"off-n{n}").json()["ticket"]
            assert srv.post(f"/tickets/{called['id']}/done", f"off-n{n}").status_code == 200
        for i in range(n):
            for _ in range(1 + i % 3):
                srv.post(f"/branches/n{n}/tickets", f"kiosk-n{n}", {"service": f"s{i:02d}"})
    yield srv
    srv.kill(signal.SIGTERM)


@pytest.fixture(scope="module")
def serving_at_n40(real_size) -> dict:
    """A ticket of the forty-service branch called to counter 1 and being served (s00's)."""
    ticket = real_size.post("/branches/n40/counters/1/next", "off-n40").json()["ticket"]
    assert ticket["service"] == "s00", ticket
    return ticket


# Everything that must hold on any page of services: sizes of the call and the recent calls (compared
# with one service), nothing outside the viewport, no two cards over each other, no text cut off.
LAYOUT = """
() => {
  const problems = [];
  const view = { left: 0, top: 0, right: innerWidth, bottom: innerHeight };
  const inside = (b, f) => b.left >= f.left - 0.5 && b.right <= f.right + 0.5 && b.top >= f.top - 0.5 && b.bottom <= f.bottom + 0.5;
  const ancestors = function* (el) { for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) yield a; };
  const shown = (el) => { const b = el.getBoundingClientRect(); return b.width > 0 && b.height > 0 && getComputedStyle(el).visibility !== 'hidden'; };
  for (const el of document.body.querySelectorAll('*')) {
    if (!shown(el) || el.tagName === 'SCRIPT' || el.classList.contains('roll')) continue;   // rolls: below
    const name = el.id || el.className || el.tagName;
    if (!inside(el.getBoundingClientRect(), view)) problems.push('outside the viewport: ' + name);
    const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!text) continue;
    const cut = el.scrollWidth > el.clientWidth + 1 ||   // and no box that clips holds only part of it
      [...ancestors(el)].some((a) => getComputedStyle(a).overflow !== 'visible' && !inside(el.getBoundingClientRect(), a.getBoundingClientRect()));
    if (cut) problems.push('text cut off: ' + name + ' "' + el.textContent.slice(0, 40) + '"');
  }
  // A table's name is rolled by whole lines: each word is whole in its row, or wholly out of it, never
  // cut, and clear of the "…" that says more follows.
  const words = {};
  for (const roll of [...document.querySelectorAll('.roll')].filter((r) => shown(r.parentElement))) {
    const frame = roll.parentElement.getBoundingClientRect();
    const room = roll.parentElement.classList.contains('more') ? frame.right - 0.9 * parseFloat(getComputedStyle(roll).fontSize) : frame.right;
    const service = roll.closest('.crow').dataset.service;
    const text = roll.firstChild;
    words[service] = [];
    for (const match of text.textContent.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(text, match.index);
      range.setEnd(text, match.index + match[0].length);
      const boxes = [...range.getClientRects()];
      // A word's box is the font's height, centred on its line: as much more than the line as it is taller.
      const slack = (b) => Math.max(0, (b.height - parseFloat(getComputedStyle(roll).lineHeight)) / 2) + 0.5;
      const whole = boxes.every((b) => b.top >= frame.top - slack(b) && b.bottom <= frame.bottom + slack(b));
      const out = boxes.every((b) => b.bottom <= frame.top + slack(b) || b.top >= frame.bottom - slack(b));
      if (!whole && !out) problems.push('word cut: ' + service + ' "' + match[0] + '"');
      if (whole && boxes.some((b) => b.left < frame.left - 0.5 || b.right > room + 0.5)) problems.push('word past its row: ' + service + ' "' + match[0] + '"');
      if (whole) words[service].push(match.index);
    }
  }
  const rows = [...document.querySelectorAll('.crow')].filter(shown);
  rows.forEach((row) => { const cells = [...row.children];
    cells.forEach((a, i) => cells.slice(i + 1).forEach((b) => { const p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
      if (p.left < q.right - 0.5 && q.left < p.right - 0.5) problems.push('cells overlap: ' + row.dataset.service); })); });
  const cards = [...document.querySelectorAll('.service, .crow')].filter(shown);
  cards.forEach((a, i) => cards.slice(i + 1).forEach((b) => {
    const p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
    if (p.left < q.right - 0.5 && q.left < p.right - 0.5 && p.top < q.bottom - 0.5 && q.top < p.bottom - 0.5)
      problems.push('overlap: ' + a.dataset.service + ' ' + b.dataset.service);
  }));
  cards.forEach((card) => { if (!inside(card.getBoundingClientRect(), document.getElementById('services').getBoundingClientRect()))
    problems.push('card outside its panel: ' + card.dataset.service); });
  const number = document.getElementById('now-number');
  const recent = document.querySelector('#recent li');
  const row = document.querySelector('.crow:not([hidden])');
  return { problems, cards: cards.map((c) => c.dataset.service), words,
           rowFont: rows.length ? Math.min(...rows.map((r) => parseFloat(getComputedStyle(r).fontSize))) : null,
           page: document.getElementById('services').dataset.page || '1',
           line: document.getElementById('services').dataset.line || '1',
           lines: document.getElementById('services').dataset.lines || '1',
           lang: document.getElementById('services').dataset.lang || 'vi',
           number: [parseFloat(getComputedStyle(number).fontSize), number.getBoundingClientRect().height,
                    document.getElementById('now').getBoundingClientRect().height],
           recent: [document.querySelectorAll('#recent li').length, parseFloat(getComputedStyle(recent).fontSize)] };
}
"""


def wall_pages(page, lang: str = "vi") -> dict[str, dict]:
    """The layout of every page of services, by page number, as the display turns them; a table's page
    once for each line its names roll to (its "states": a layout for each, by line), in the round of pages
    whose names are in `lang`."""
    pages = int(page.evaluate("() => document.getElementById('services').dataset.pages || '1'"))
    seen = {}
    for number in range(1, pages + 1):
        states, lines = {}, 1
        for line in itertools.count(1):
            if line > lines:
                break
            # Measured in the same turn as the page is seen: a second call could find the next state already
            # (a state lasts 0.3 s, a round trip to a loaded browser may last longer). A state missed is met
            # again a cycle later: the deadline is a few cycles.
            layout = page.wait_for_function(
                f"() => document.getElementById('services').dataset.page === '{number}' && "
                f"document.getElementById('services').dataset.line === '{line}' && "
                f"(document.getElementById('services').dataset.lang || 'vi') === '{lang}' && ({LAYOUT})()",
                timeout=30_000).json_value()
            lines = int(layout["lines"])
            states[line] = layout
        seen[str(number)] = {**states[1], "states": states}
    assert sorted(seen, key=int) == [str(n) for n in range(1, pages + 1)]
    return seen


def read_whole(layout: dict, lang: str = "vi") -> None:
    """Each name of a table's page read whole over its states, in `lang`, at 28 px on 1080 lines (as much
    of the same screen at a lower resolution)."""
    seen = {}
    for state in layout["states"].values():
        for service, offsets in state["words"].items():
            seen.setdefault(service, set()).update(offsets)
    for service, offsets in seen.items():
        name = LONG_NAMES[int(service[1:]) % len(LONG_NAMES)][["vi", "en"].index(lang)]
        assert offsets == {m.start() for m in re.finditer(r"\S+", name)}, (service, sorted(offsets))


@pytest.mark.parametrize("width, height", SCREENS)
def test_the_call_keeps_its_size_and_every_service_is_shown_whole_at_any_count(real_size, serving_at_n40,
                                                                                  browser_context, width, height):
    sizes, counted = {}, {}
    for n in COUNTS:
        page = browser_context(width, height).new_page()
        page.goto(real_size.base + f"/display/n{n}")
        page.wait_for_function("() => document.querySelectorAll('#recent li').length >= 7 && "
                               "document.querySelectorAll('.service, .crow').length > 0", timeout=5000)
        page.evaluate("() => document.fonts.ready")
        layouts = wall_pages(page)
        screenshot(page, f"wall-{n}-services-{width}x{height}")
        # A table's round of pages in Vietnamese, then one in English: the same pages, every name whole.
        rounds = {"vi": layouts}
        if layouts["1"]["rowFont"] is not None:
            rounds["en"] = wall_pages(page, "en")
            screenshot(page, f"wall-{n}-services-{width}x{height}-en")
            assert [layout["cards"] for layout in rounds["en"].values()] == [layout["cards"] for layout in layouts.values()]
        for lang, shown in rounds.items():
            for layout in shown.values():
                for state in layout["states"].values():
                    assert state["problems"] == [], (n, lang, layout["page"], state["line"], state["problems"])
                if layout["rowFont"] is not None:   # the table
                    assert layout["rowFont"] >= 28 * min(width, height) / 1080 - 0.01, (n, layout["rowFont"])
                    read_whole(layout, lang)
        counted[n] = len(layouts)
        if n == 40:
            assert page.text_content(".crow[data-service='s00'] .cserving") == serving_at_n40["number"]
        on_pages = [service for layout in layouts.values() for service in layout["cards"]]
        assert sorted(on_pages) == [f"s{i:02d}" for i in range(n)]   # each service on one page, none left out
        sizes[n] = (layouts["1"]["number"], layouts["1"]["recent"])
        page.close()
    # Forty services in three pages at most, twenty-five in two: each seen within seconds.
    assert counted[40] <= 3 and counted[25] <= 2, counted
    print(f"pages at {width}x{height}: {counted}")
    (number_1, recent_1) = sizes[1]
    for n in COUNTS:
        number, recent = sizes[n]
        assert number == pytest.approx(number_1, abs=1), (n, "the call shrank")
        assert recent == pytest.approx(recent_1, abs=0.5), (n, "the recent calls shrank")
    assert number_1[0] >= 0.15 * min(height, width * 9 / 16)   # the call is huge, not only equal
