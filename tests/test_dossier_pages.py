"""The public dossier lookup /d/{code} on a phone and the department's page /department, in real
headless Chromium under the real CSP, against the app on the fake clock (so that a dossier can
fall overdue): no personal data on the public page, a mistyped code answered in words, and a
department moving its work along."""
from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from motcua.core.dossiers import make_code

from conftest import MORNING, PASSWORD
# The department users' database and the helpers of the dossier API tests (fixtures included).
from test_dossier_routes import CITIZEN, DAY, config, department_template, move, opened, tokens  # noqa: F401

SHOTS = Path(os.environ.get("MOTCUA_SHOTS", Path(__file__).resolve().parent.parent / "test-output"))
WAIT_MS = 5000   # an answer of the app, on a machine shared with other tests
PUBLIC_FIELDS = {"code", "procedure", "status", "received_at", "due_date", "overdue", "history", "return_branch"}


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def phone(chromium, live_app):
    """A phone-sized page under the real CSP; the errors and CSP refusals it met, to assert none."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
                                   device_scale_factor=2)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None)
    yield page, errors
    context.close()


def api_of(live_app):
    """The dossier helpers' `api` (post with who), on the live app."""
    class Api:
        def post(self, path, who=None, json=None):
            answer = live_app.post(path, who, json)
            answer.json = answer.json()
            answer.status_code = answer.status_code
            return answer
    return Api()


def test_the_public_page_shows_the_path_and_due_date_without_personal_data(live_app, phone, clock):
    page, errors = phone
    api = api_of(live_app)
    code = opened(api, return_branch="hk-02")["code"]
    for who, status, note in (("off1", "digitized", None), ("off1", "processing", None),
                              ("fin1", "supplement_requested", "Hợp đồng thuê nhà của ông Bình"),
                              ("off1", "processing", None)):
        clock.advance(1800)
        move(api, code, who, status, note)
    public = live_app.get(f"/dossiers/{code}")
    assert public.status_code == 200 and set(public.json()) == PUBLIC_FIELDS
    for secret in (CITIZEN["name"], CITIZEN["id_number"], CITIZEN["phone"], "Bình"):
        assert secret not in public.text

    page.goto(f"{live_app.base}/d/{code}")
    page.wait_for_selector("#dossier:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#code") == code
    assert page.inner_text("#status .vi") == "Đang giải quyết"
    assert page.inner_text("#due .vi") == "Thứ sáu, 27/11/2026"   # three working days past the holiday of the 24th
    assert page.is_hidden("#overdue")
    steps = page.eval_on_selector_all("#timeline li", "items => items.map((li) => [li.dataset.status, li.className])")
    assert steps == [["received", "done"], ["digitized", "done"], ["processing", "done"],
                     ["supplement_requested", "done"], ["processing", "done current"],
                     ["result_ready", "later"], ["returned", "later"]]
    assert page.inner_text("#timeline li:nth-child(2) time") == "24/11/2026 08:30"
    shown = page.content() + page.inner_text("body")
    for secret in (CITIZEN["name"], CITIZEN["id_number"], CITIZEN["phone"], "Bình", "Hợp đồng"):
        assert secret not in shown
    shoot(page, "dossier-processing-390x844")

    # Past the due date and not settled: said in words, with the date.
    clock.set(MORNING + 6 * DAY)
    page.reload()
    page.wait_for_selector("#overdue:not([hidden])", timeout=WAIT_MS)
    assert "quá hạn" in page.inner_text("#overdue .vi") and "27/11/2026" in page.inner_text("#overdue .vi")
    assert "past its due date" in page.inner_text("#overdue .en")
    shoot(page, "dossier-overdue-390x844")

    live_app.tokens["fin1"] = live_app.login("fin1")   # the morning's token has expired by now
    move(api, code, "fin1", "result_ready")
    page.reload()
    page.wait_for_selector("#status[data-status='result_ready']", timeout=WAIT_MS)
    assert page.is_hidden("#overdue")
    hk02 = next(b for b in live_app.get("/branches").json() if b["id"] == "hk-02")
    assert hk02["name"]["vi"] in page.inner_text("#next .vi") and hk02["name"]["vi"] in page.inner_text("#return-branch")
    shoot(page, "dossier-result-ready-390x844")
    assert not errors


def test_a_mistyped_or_unknown_code_is_answered_in_words(live_app, phone):
    page, errors = phone
    code = opened(api_of(live_app))["code"]
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    page.goto(f"{live_app.base}/d/{wrong}")
    page.wait_for_selector("#problem:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#problem-title .vi") == "Mã hồ sơ không đúng. Vui lòng kiểm tra lại mã trên giấy biên nhận."
    assert page.is_hidden("#dossier")
    assert page.input_value("#code-input") == wrong
    shoot(page, "dossier-mistyped-390x844")

    # Typed again, in lower case with a space, as people do: found.
    page.fill("#code-input", " " + code.lower())
    page.click("#look-up")
    page.wait_for_selector("#dossier:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#code") == code

    nobody = make_code("HK-01", date(2026, 11, 24), 9999)
    page.goto(f"{live_app.base}/d/{nobody}")
    page.wait_for_selector("#problem:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#problem-title .vi") == "Không tìm thấy hồ sơ có mã này."
    page.goto(f"{live_app.base}/d/")
    page.wait_for_selector("#empty:not([hidden])", timeout=WAIT_MS)
    assert page.is_hidden("#problem") and page.is_hidden("#dossier")
    assert not errors
