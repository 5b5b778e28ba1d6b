"""The dossier figures in the manager's Reports section (display/report.js) in real headless Chromium,
against `motcua serve`: the tables per department and per procedure carry the JSON's figures, the CSV
link names the same range, the other language."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from motcua.core import procedures
from motcua.i18n import catalogue
from motcua.core.clock import FakeClock
from motcua.core.dossiers import Dossiers
from motcua.store import Store

from conftest import MORNING, PASSWORD, Server, free_port
from test_dossier_reports import build

SHOTS = Path(os.environ.get("MOTCUA_SHOTS", Path(__file__).resolve().parent.parent / "test-output"))
WAIT_MS = 5000
FIRST, LAST = "2026-11-24", "2026-11-30"


@pytest.fixture(scope="module")
def site(tmp_path_factory, morning_template):
    """A real server on the morning's database with ten days of dossiers."""
    folder = tmp_path_factory.mktemp("dreports-page")
    db = morning_template.copy_to(folder / "motcua.db")
    store = Store(db)
    clock = FakeClock(MORNING)
    build(Dossiers(store, clock, procedures.load()), clock, seed=14)
    store.close()
    server = Server(db, free_port(), folder / "server.log")
    server.start()
    yield server
    server.kill(signal.SIGTERM)


def typed(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


@pytest.fixture
def page(chromium, site):
    context = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN",
                                   timezone_id="Asia/Ho_Chi_Minh")
    signed = context.request.post(site.api + "/auth/session", data={"username": "mgr1", "password": PASSWORD})
    assert signed.ok, signed.text()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{site.base}/manager#reports")
    page.wait_for_selector("#reports.report:not([aria-busy])", timeout=WAIT_MS)
    # Days typed as the page writes them (day/month/year), whatever the browser's locale.
    page.fill("#report-from", typed(FIRST))
    page.fill("#report-to", typed(LAST))
    page.click("#report-show")
    page.wait_for_selector("#reports:not([aria-busy])", timeout=WAIT_MS)
    # The fills' own changes ask for other ranges first: wait for the tables of the range asked.
    page.wait_for_selector(f"#dreports-tables[data-range='{FIRST}..{LAST}'] tfoot", timeout=WAIT_MS)
    yield page
    assert not errors, errors
    context.close()


def cells(row) -> dict:
    return {c.get_attribute("data-column"): int(c.inner_text().replace(".", "")) for c in row.locator("td").all()}


def test_the_dossier_tables_carry_the_report(page):
    report = page.context.request.get(
        f"{page.evaluate('location.origin')}/api/v1/branches/hk-01/dossiers-report.json?from={FIRST}&to={LAST}").json()
    assert report["total"]["received"] > 0
    total = page.locator("#dreports-tables [data-group='dossier-departments'] tfoot tr")
    assert cells(total) == report["total"]
    for group, kind, shown in (("departments", "department", lambda r: True),
                               ("procedures", "procedure", lambda r: r["received"] > 0)):
        rows = page.locator(f"#dreports-tables [data-group='dossier-{group}'] tbody tr")
        expected = [r for r in report[group] if shown(r)]
        assert rows.count() == len(expected) > 0
        for i, r in enumerate(expected):
            assert rows.nth(i).get_attribute("data-key") == r[kind]
            assert cells(rows.nth(i)) == {k: v for k, v in r.items() if k != kind}
    # Names from the catalogue, Vietnamese first; a procedure also by its code.
    justice = page.locator("#dreports-tables tr[data-key='justice'] th").inner_text()
    assert justice and justice != "justice"
    href = page.get_attribute("#dreports-csv", "href")
    assert href == f"/api/v1/branches/hk-01/dossiers-report.csv?from={FIRST}&to={LAST}"
    csv = page.context.request.get(page.evaluate("location.origin") + href)
    assert csv.ok and csv.text().startswith("group,code,received")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#dreports").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "dreports-1920x1080.png"), full_page=True)
    # The other language: the headings and names drawn again in it.
    page.click("#staff-lang")
    page.wait_for_function("document.documentElement.lang === 'en'", timeout=WAIT_MS)
    assert page.inner_text("#dreports h2") == catalogue("en")["dreports.title"]
    assert page.inner_text("#dreports-tables tr[data-key='justice'] th") != justice
    page.screenshot(path=str(SHOTS / "dreports-en-1920x1080.png"), full_page=True)
