"""The Reports section of the manager's page (display/report.js in /manager) in real headless Chromium,
under the real CSP, against `motcua serve` on the simulated city's database: the range picked, the three
tables with the report's figures, the CSV link, a refused range said plainly, the other language, an
admin switching branch, another branch out of reach."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from motcua.i18n import catalogue

from conftest import PASSWORD, Server, free_port
from report_city import DAY, NEXT, build_city

SHOTS = Path(os.environ.get("MOTCUA_SHOTS", Path(__file__).resolve().parent.parent / "test-output"))
WAIT_MS = 5000


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A real server on the simulated city's database."""
    folder = tmp_path_factory.mktemp("report-page")
    build_city(folder / "motcua.db")
    server = Server(folder / "motcua.db", free_port(), folder / "server.log")
    server.start()
    yield server
    server.kill(signal.SIGTERM)


@pytest.fixture
def open_section(chromium, site):
    """open_section(who, query=""): /manager's Reports tab, signed in as who, the section filled."""
    contexts = []

    def open_as(who: str, query: str = ""):
        # A manager's browser in Vietnam.
        context = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN",
                                       timezone_id="Asia/Ho_Chi_Minh")
        contexts.append(context)
        signed = context.request.post(site.api + "/auth/session", data={"username": who, "password": PASSWORD})
        assert signed.ok, signed.text()
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # A refusal the page expects (400, 403) is logged as a failed load; a CSP violation is an error.
        page.on("console", lambda m: errors.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
        page.goto(f"{site.base}/manager{query}#reports")
        page.wait_for_selector("#reports #report-status:not(:empty)", timeout=WAIT_MS)
        page.wait_for_selector("#reports.report:not([aria-busy])", timeout=WAIT_MS)
        return page, errors

    yield open_as
    for context in contexts:
        context.close()


def typed(iso: str) -> str:
    """A day as the page's languages write it: day/month/year (whatever the browser's locale)."""
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def show(page, first: str, last: str) -> None:
    page.fill("#report-from", typed(first))
    page.fill("#report-to", typed(last))
    page.click("#report-show")   # marks the section busy at once, until the answer is drawn
    page.wait_for_selector("#reports:not([aria-busy])", timeout=WAIT_MS)


def figure(text: str) -> float | None:
    """A cell as a number: Vietnamese writes 2,5 and 1.234; a dash is nothing."""
    text = text.replace("%", "").strip()
    if text == "–":
        return None
    return float(text.replace(".", "").replace(",", "."))


def origin(page) -> str:
    return page.evaluate("location.origin")


def report_of(page, branch: str, first: str, last: str) -> dict:
    answer = page.context.request.get(f"{origin(page)}/api/v1/branches/{branch}/report.json?from={first}&to={last}")
    assert answer.ok, answer.text()
    return answer.json()


def test_the_range_s_three_tables_show_the_report_and_the_csv_downloads(open_section):
    page, errors = open_section("boss")
    # The last seven days of the wall clock: the simulated day is long before.
    assert page.is_visible("#report-empty")
    show(page, DAY, DAY)
    report = report_of(page, "hk-01", DAY, DAY)
    assert not page.is_visible("#report-empty")
    for group, key in (("services", "service"), ("counters", "counter"), ("officers", "officer")):
        rows = page.locator(f"[data-group='{group}'] tbody tr")
        assert rows.count() == len(report[group]) > 0, group
        for i, expected in enumerate(report[group]):
            row = rows.nth(i)
            assert row.get_attribute("data-key") == expected[key]
            for column in ("tickets", "served", "no_shows", "mean_wait_min", "p90_wait_min", "within_target_pct",
                           "mean_service_min", "ratings", "mean_rating"):
                shown = figure(row.locator(f"td[data-column='{column}']").inner_text())
                want = expected[column]
                assert (shown is None) == (want is None), (group, expected[key], column)
                if want is not None:
                    # The page shows minutes and shares to one decimal, ratings to two.
                    assert abs(shown - want) <= (0.005 if column == "mean_rating" else 0.05) + 1e-9, \
                        (group, expected[key], column, shown, want)
    total = page.locator("[data-group='services'] tfoot tr")
    assert figure(total.locator("td[data-column='tickets']").inner_text()) == report["total"]["tickets"]
    # Waits carry the target's colours.
    assert page.locator("td[data-column='mean_wait_min'].ok, td[data-column='mean_wait_min'].warn, "
                        "td[data-column='mean_wait_min'].bad").count() > 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "manager-reports-1920x1080.png"), full_page=True)

    href = page.get_attribute("#report-csv", "href")
    assert href == f"/api/v1/branches/hk-01/report.csv?from={DAY}&to={DAY}"
    csv = page.context.request.get(origin(page) + href)   # with the session's cookie, as a click
    assert csv.ok and csv.headers["content-type"].startswith("text/csv")
    assert csv.text().splitlines()[0].startswith("service,tickets,served,no_shows,mean_wait_min,p90_wait_min,")
    assert errors == []


def test_a_reversed_range_is_said_plainly_and_the_other_language_follows(open_section):
    page, errors = open_section("boss")
    show(page, NEXT, DAY)
    assert page.inner_text("#report-status") == catalogue("vi")["report.error.reversed_range"]
    assert page.locator("#report-tables table").count() == 0
    show(page, DAY, NEXT)
    page.click("#staff-lang")   # the top bar's language button
    expect(page.locator("[data-group='services'] h3")).to_have_text(catalogue("en")["report.by_service"])
    assert page.inner_text("#report-show") == catalogue("en")["report.show"]
    heads = page.locator("[data-group='services'] thead th").all_inner_texts()
    assert catalogue("en")["report.col.within_target_pct"].format(target="15.0") in heads or \
        catalogue("en")["report.col.within_target_pct"].format(target="15") in heads
    assert page.inner_text(".report h2") == catalogue("en")["report.title"]
    branches = page.context.request.get(origin(page) + "/api/v1/branches").json()
    english = {s["id"]: s["name"]["en"] for b in branches for s in b["services"]}
    first = page.locator("[data-group='services'] tbody tr").first
    assert first.locator("th").inner_text() == english[first.get_attribute("data-key")]
    page.set_viewport_size({"width": 1366, "height": 768})
    page.screenshot(path=str(SHOTS / "manager-reports-en-1366x768.png"), full_page=True)
    assert errors == []


def test_a_manager_of_another_branch_is_told_it_is_not_theirs_and_an_admin_switches(open_section):
    page, _ = open_section("boss")
    page.evaluate("document.getElementById('reports').dataset.branch = 'hk-02'")   # as if the page named it
    expect(page.locator("#report-status")).to_have_text(catalogue("vi")["report.error.forbidden"])
    assert "bad" in page.get_attribute("#report-status", "class")
    # An admin's page reports on the branch picked, and follows the pick.
    page, errors = open_section("root", "?branch=hk-02")
    show(page, DAY, DAY)
    assert page.locator("[data-group='services'] tbody tr").count() == len(report_of(page, "hk-02", DAY, DAY)["services"])
    hq = report_of(page, "hn-hq", DAY, DAY)
    assert hq["total"]["tickets"] != report_of(page, "hk-02", DAY, DAY)["total"]["tickets"]
    page.select_option("#branch", "hn-hq")
    expect(page.locator("[data-group='services'] tfoot td[data-column='tickets']")).to_have_text(
        str(hq["total"]["tickets"]))
    assert page.get_attribute("#report-csv", "href").startswith("/api/v1/branches/hn-hq/report.csv?")
    assert errors == []
