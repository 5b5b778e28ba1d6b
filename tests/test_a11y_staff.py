"""The staff pages for every person (WCAG 2.1 AA), in real headless Chromium against a real server on the
real-size city (tests/big_city.py: 25 services, 20 counters, 300 waiting, 50 branches): axe-core finds no
A or AA violation in any state of the counter console (idle, serving, the dossier panel, the transfer
dialog, the pause dialog, paused) or of the manager's page (now, today's charts, the city, a report shown)
at 1920×1080 and 1366×768; each chart has a table of its figures a screen reader reads, in the page's
language; the report's dates are read and typed the page's way whatever the browser's own language."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect

from axe import violations
from big_city import COUNTERS, big_server, big_template  # noqa: F401 (fixtures)
from conftest import PASSWORD, screenshot
from motcua.i18n import catalogue
from layout import BACKGROUND, contrast, problems

BRANCH = "hk-01"
SIZES = [{"width": 1920, "height": 1080}, {"width": 1366, "height": 768}]
IDS = ["1920x1080", "1366x768"]
WAIT_MS = 5000


@pytest.fixture(scope="module")
def contexts(chromium, big_server):
    """context(who, size, locale="vi-VN"): a signed-in browser context, made once a module per asking."""
    made = {}

    def context(who: str, size: dict, locale: str = "vi-VN"):
        key = (who, size["width"], size["height"], locale)
        if key not in made:
            made[key] = chromium.new_context(viewport=size, locale=locale, bypass_csp=True,
                                             timezone_id="Asia/Ho_Chi_Minh")
            signed = made[key].request.post(big_server.api + "/auth/session",
                                            data={"username": who, "password": PASSWORD})
            assert signed.ok, signed.text()
        return made[key]

    yield context
    for each in made.values():
        each.close()


def open_page(context, url: str):
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(url)
    return page


def free_counter(server, counter: str = "1") -> None:
    """Counter 1 taken back by off1, emptied and open: each run starts from an idle console."""
    assert server.post(f"/branches/{BRANCH}/counters/{counter}/take", "off1", {"take_over": True}).ok
    state = requests.get(f"{server.api}/branches/{BRANCH}/staff-state", headers=server.auth("off1"), timeout=10).json()
    for item in state["counters"]:
        if item["id"] == counter and item["ticket"]:
            assert server.post(f"/tickets/{item['ticket']['id']}/done", "off1").ok
        if item["id"] == counter and item["paused"]:
            assert server.post(f"/branches/{BRANCH}/counters/{counter}/resume", "off1").ok


# What is shown in a box (an open dialog) but runs past its right or left edge.
PAST_ITS_BOX = """(box) => {
  const edge = box.getBoundingClientRect();
  return [...box.querySelectorAll('*')].filter((el) => el.getClientRects().length).filter((el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && (r.right > edge.right + 1 || r.left < edge.left - 1);
  }).map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' ' + Math.round(el.getBoundingClientRect().right)
         + ' > ' + Math.round(edge.right));
}"""


def past_its_box(page, selector: str) -> list[str]:
    return page.eval_on_selector(selector, PAST_ITS_BOX)


def said(found: dict) -> str:
    return "\n".join(f"{state}: {v}" for state, broken in found.items() for v in broken)


TAB_STOPS = 20   # the first stops of a state are enough: the rest repeat their kinds (rows, cards, chips)

# The focused element's outline against what is around it, and its name; null when the window has the focus.
RING = f"""() => {{
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const style = getComputedStyle(el);
  const around = ({BACKGROUND})(el.parentElement);
  const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '.' + el.className + ' ' +
    el.textContent.trim().slice(0, 30);
  return [style.outlineColor, parseFloat(style.outlineWidth) || 0, around, name];
}}"""


def faint_rings(page) -> list[str]:
    """The focused elements, tabbing through the state, whose focus ring is under 3:1 against its ground."""
    faint = set()
    for _ in range(TAB_STOPS):
        page.keyboard.press("Tab")
        focused = page.evaluate(RING)
        if focused is None:
            continue
        ring, width, around, name = focused
        ratio = contrast(page, ring, around) if width >= 2 else 0.0
        if ratio < 3:
            faint.add(f"{name} {ratio:.2f}:1")
    return sorted(faint)


def audit(page, state: str, name: str, found: dict) -> None:
    """The state's screenshot, what axe finds in it and the focus rings too faint (nothing, when fine).
    The rings are the same at every size: tabbed through at the first only."""
    screenshot(page, f"a11y-{name}-{state}")
    broken = violations(page)
    if name.endswith(f"{SIZES[0]['width']}x{SIZES[0]['height']}"):
        broken += [f"focus ring under 3:1: {ring}" for ring in faint_rings(page)]
    if broken:
        found[state] = broken


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_every_state_of_the_counter_console_passes_axe(contexts, big_server, size):
    free_counter(big_server)
    name = f"counter-{size['width']}x{size['height']}"
    page = open_page(contexts("off1", size), big_server.base + "/counter?counter=1")
    page.wait_for_selector("#console:not([hidden]) #waiting-rows tr", state="attached")
    found = {}
    vi = catalogue("vi")
    # Each change of the counter's state is said once to a screen reader, in a polite live region.
    live = page.locator("#live-status")
    assert live.get_attribute("aria-live") == "polite"
    expect(live).to_have_text(vi["counter.live.none"].format(counter="1"))
    audit(page, "idle", name, found)
    page.keyboard.press("ArrowDown")   # a chosen row in the waiting list
    expect(page.locator("#waiting-rows tr[aria-selected='true']")).to_have_count(1)
    audit(page, "row-chosen", name, found)
    page.click("button[data-action='next']")
    expect(page.locator("#current-body")).to_be_visible(timeout=WAIT_MS)
    number = page.locator("#current-number").text_content()
    expect(live).to_have_text(vi["counter.live.ticket"].format(counter="1", number=number,
                                                               status=vi["counter.status.called"]))
    audit(page, "called", name, found)
    page.click("button[data-action='start']")
    page.wait_for_selector("#current.serving", timeout=WAIT_MS)
    expect(live).to_have_text(vi["counter.live.ticket"].format(counter="1", number=number,
                                                               status=vi["counter.status.serving"]))
    audit(page, "serving", name, found)
    page.click("#dossier-new")
    page.wait_for_selector("#new-dialog[open]", timeout=WAIT_MS)
    expect(page.locator("#d-procedure option")).not_to_have_count(0, timeout=WAIT_MS)
    audit(page, "dossier", name, found)
    assert past_its_box(page, "#new-dialog") == []
    page.keyboard.press("Escape")
    page.wait_for_selector("#new-dialog:not([open])", state="attached")
    page.click("button[data-action='transfer']")
    page.locator("#transfer-branches button[data-branch]").first.wait_for(timeout=WAIT_MS)
    audit(page, "transfer", name, found)
    assert past_its_box(page, "#transfer-dialog") == []
    page.keyboard.press("Escape")
    page.wait_for_selector("#transfer-dialog:not([open])", state="attached")
    page.click("button[data-action='done']")
    expect(page.locator("#current-body")).to_be_hidden(timeout=WAIT_MS)
    page.click("button[data-action='pause']")
    page.wait_for_selector("#pause-dialog[open]", timeout=WAIT_MS)
    audit(page, "pause-dialog", name, found)
    page.keyboard.press("1")
    page.wait_for_selector("#paused:not([hidden])", timeout=WAIT_MS)
    expect(live).to_have_text(vi["counter.paused_title"])
    audit(page, "paused", name, found)
    page.click("button[data-action='pause']")   # resumed, for whoever comes next
    page.wait_for_selector("#paused[hidden]", state="attached", timeout=WAIT_MS)
    expect(live).to_have_text(vi["counter.live.none"].format(counter="1"))
    assert found == {}, said(found)
    assert page.errors == []
    page.close()


def open_manager(contexts, big_server, size, tab: str, locale: str = "vi-VN"):
    page = open_page(contexts("admin", size, locale), f"{big_server.base}/manager?branch={BRANCH}#{tab}")
    page.wait_for_selector(f".counter-card[data-counter='{COUNTERS}']", state="attached")
    return page


def show_today(page) -> None:
    page.click(".tab-button[data-tab='today']")
    page.wait_for_selector("#totals > *", timeout=WAIT_MS)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_every_state_of_the_manager_s_page_passes_axe(contexts, big_server, size):
    name = f"manager-{size['width']}x{size['height']}"
    page = open_manager(contexts, big_server, size, "now")
    found = {}
    audit(page, "now", name, found)
    show_today(page)
    audit(page, "today", name, found)
    laid = problems(page, "#tab-today")
    assert laid == [], laid   # the charts keep to their cards and the window
    page.click(".tab-button[data-tab='city']")
    page.wait_for_selector("#city tr[data-branch='hn-50']", timeout=WAIT_MS)
    audit(page, "city", name, found)
    page.click(".tab-button[data-tab='reports']")
    page.wait_for_selector("#report-show", timeout=WAIT_MS)
    page.click("[data-preset='report.today']")
    page.wait_for_selector("#reports:not([aria-busy]) [data-group='services'] tbody tr", timeout=WAIT_MS)
    audit(page, "report", name, found)
    assert found == {}, said(found)
    assert page.errors == []
    page.close()


def figures(page, chart: str) -> list[list[str]]:
    """The rows of a chart's table of figures (what a screen reader reads), head row first."""
    table = page.locator(f"table.chart-figures[data-chart='{chart}']")
    expect(table).to_have_count(1)
    return table.evaluate("(t) => [...t.rows].map((r) => [...r.cells].map((c) => c.textContent.trim()))")


def vi_number(value, digits: int) -> str:
    """A figure written the Vietnamese way: 1.234,5."""
    text = f"{value:,.{digits}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


@pytest.mark.parametrize("size", SIZES[:1], ids=IDS[:1])
def test_each_chart_has_a_table_of_its_figures_in_the_page_s_language(contexts, big_server, size):
    # Somebody called at counter 2: the day has a wait to chart.
    assert big_server.post(f"/branches/{BRANCH}/counters/2/take", "off1", {"take_over": True}).ok
    called = big_server.post(f"/branches/{BRANCH}/counters/2/next", "off1")
    assert called.ok, called.text
    assert big_server.post(f"/tickets/{called.json()['ticket']['id']}/done", "off1").ok
    page = open_manager(contexts, big_server, size, "now")
    show_today(page)
    today = page.context.request.get(f"{big_server.api}/branches/{BRANCH}/today").json()
    # Each chart is named by its title and hidden from the reader as a picture: its table says it instead.
    for chart in ("wait", "arrivals", "within", "no-shows", "ratings", "reasons"):
        canvas = page.locator(f"#chart-{chart}")
        assert canvas.get_attribute("aria-hidden") == "true"
        caption = page.locator(f"table.chart-figures[data-chart='{chart}'] caption").text_content()
        assert caption == canvas.locator("xpath=ancestor::section[1]/h2").text_content()
    rows = figures(page, "wait")
    assert rows[0][:3] == ["Giờ", "Chờ trung bình", "9 trên 10 người chờ dưới"]
    assert [r[0] for r in rows[1:]] == today["hours"]
    for row, mean, p90 in zip(rows[1:], today["wait_mean_min"], today["wait_p90_min"]):
        assert row[1] == ("–" if mean is None else vi_number(mean, 1))
        assert row[2] == ("–" if p90 is None else vi_number(p90, 1))
    assert any("," in r[1] for r in rows[1:]), rows   # a decimal comma, as Vietnamese writes it
    assert [r[1] for r in figures(page, "arrivals")[1:]] == [vi_number(n, 0) for n in today["arrivals"]]
    assert sum(today["arrivals"]) > 0
    # The other language: the tables are written again in it.
    page.click("#staff-lang")
    expect(page.locator("table.chart-figures[data-chart='wait'] th").first).to_have_text("Hour")
    rows = figures(page, "wait")
    for row, mean in zip(rows[1:], today["wait_mean_min"]):
        assert row[1] == ("–" if mean is None else f"{mean:,.1f}")
    page.click("#staff-lang")
    # The city's chart: a row per branch, with its mean and longest waits.
    page.click(".tab-button[data-tab='city']")
    page.wait_for_selector("#city tr[data-branch='hn-50']", timeout=WAIT_MS)
    city = page.context.request.get(f"{big_server.api}/city").json()
    rows = figures(page, "city")
    assert len(rows) == 1 + len(city["branches"])
    for row, branch in zip(rows[1:], city["branches"]):
        assert row[0] == branch["name"]["vi"]
        mean = branch["mean_wait_min"]
        assert row[1] == ("–" if mean is None else vi_number(mean, 1))
    # Each row's button names its branch to a screen reader, beginning with the words it shows.
    for branch in city["branches"][:3]:
        button = page.locator(f"#city tr[data-branch='{branch['branch']}'] button")
        assert button.get_attribute("aria-label") == f"{button.inner_text()}: {branch['name']['vi']}"
    page.close()


def typed(day: date) -> str:
    """A day as both the page's languages write it (vi-VN and en-GB): day/month/year."""
    return day.strftime("%d/%m/%Y")


@pytest.mark.parametrize(("browser", "lang"), [("en-US", "vi"), ("vi-VN", "en")])
def test_the_report_s_dates_are_read_and_typed_the_page_s_way_whatever_the_browser_s_language(
        contexts, big_server, browser, lang):
    context = contexts("admin", SIZES[1], locale=browser)
    page = open_page(context, f"{big_server.base}/manager?branch={BRANCH}#reports")
    page.evaluate("(lang) => localStorage.setItem('motcua.staff.lang', lang)", lang)
    page.reload()
    page.wait_for_selector("#reports:not([aria-busy]) #report-status:not(:empty)", timeout=WAIT_MS)
    texts = catalogue(lang)
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    # The last seven days, written the page's way (never the browser's mm/dd/yyyy).
    expect(page.locator("#report-from")).to_have_value(typed(today - timedelta(days=6)))
    expect(page.locator("#report-to")).to_have_value(typed(today))
    assert texts["report.date_hint"] in page.locator("label[for='report-from']").inner_text()
    # A day past the 12th is read day first: the 13th of last month, to today.
    thirteenth = (today.replace(day=1) - timedelta(days=1)).replace(day=13)
    page.fill("#report-from", typed(thirteenth))
    page.fill("#report-to", typed(today))
    page.click("#report-show")
    expect(page.locator("#report-csv")).to_have_attribute(
        "href", f"/api/v1/branches/{BRANCH}/report.csv?from={thirteenth.isoformat()}&to={today.isoformat()}")
    expect(page.locator("#report-status")).to_have_text(
        texts["report.range_said"].format(**{"from": typed(thirteenth), "to": typed(today)}), timeout=WAIT_MS)
    assert page.get_attribute("#report-from", "aria-invalid") != "true"
    # A day that does not exist, and words: said plainly in the page's language, the field marked.
    for bad in ("31/02/2026", "hôm qua"):
        page.fill("#report-from", bad)
        page.click("#report-show")
        expect(page.locator("#report-status")).to_have_text(
            texts["report.bad_day"].format(text=bad, example=typed(today)))
        assert page.get_attribute("#report-from", "aria-invalid") == "true"
        assert "#report-status" in "#" + page.get_attribute("#report-from", "aria-describedby")
    screenshot(page, f"a11y-report-bad-day-{lang}-{browser}")
    assert violations(page) == []
    # Typed again right, the mark goes.
    page.fill("#report-from", typed(today))
    page.click("#report-show")
    expect(page.locator("#report-status")).to_have_text(
        texts["report.range_said"].format(**{"from": typed(today), "to": typed(today)}), timeout=WAIT_MS)
    assert page.get_attribute("#report-from", "aria-invalid") != "true"
    assert page.errors == []
    page.evaluate("() => localStorage.removeItem('motcua.staff.lang')")
    page.close()
