"""The satisfaction evaluation's pages in real headless Chromium under the real CSP: the citizen's phone from the
public lookup (390x844, touches), and the counter's tablet facing the citizen (an officer's session); each sends one
evaluation, says so when the dossier is not returned or was evaluated, and lays out without overflow."""
from __future__ import annotations

import json

import pytest

from motcua.core.evaluations import INDICATORS
from motcua.i18n import text

from layout import problems
from test_dossier_pages import WAIT_MS, api_of, desk, phone, shoot  # noqa: F401  (fixtures)
from test_dossier_routes import config, department_template, opened, tokens  # noqa: F401  (fixtures)
from test_evaluation_routes import checked, returned

ANSWERS = [2, 1, 2, 0, 2, 2, 1, 2, 2]


def stored(live_app) -> list[dict]:
    return [dict(r) for r in live_app_store(live_app).query("select * from dossier_evaluations")]


def live_app_store(live_app):
    return live_app.app.extensions["motcua"].store


@pytest.fixture
def live(live_app, app):
    live_app.app = app
    return live_app


def answer_all(page, tap: bool) -> None:
    """Answer the nine indicators (ANSWERS), then convenience satisfied and overall very satisfied."""
    press = page.tap if tap else page.click
    for n, score in enumerate(ANSWERS, start=1):
        page.wait_for_selector(f"#step:has-text('Câu {n} / 11')", timeout=WAIT_MS)
        assert page.inner_text("#question-text .vi") == text("vi", f"evaluation.indicator.{INDICATORS[n - 1]}")
        press(f"#choices .choice[data-value='{score}']")
    page.wait_for_selector("#step:has-text('Câu 10 / 11')", timeout=WAIT_MS)
    press("#choices .choice[data-value='satisfied']")
    page.wait_for_selector("#step:has-text('Câu 11 / 11')", timeout=WAIT_MS)
    press("#choices .choice[data-value='very_satisfied']")
    page.wait_for_selector("#confirm:not([hidden])", timeout=WAIT_MS)


def test_a_citizen_evaluates_on_the_phone_from_the_lookup_once(live, phone):  # noqa: F811
    page, errors = phone
    api = api_of(live)
    waiting = opened(api)["code"]
    page.goto(f"{live.base}/d/{checked(waiting, '')}")
    page.wait_for_selector("#dossier:not([hidden])", timeout=WAIT_MS)
    assert page.is_hidden("#evaluate")   # not returned: nothing to evaluate yet
    page.goto(f"{live.base}/e/{checked(waiting, '')}")
    page.wait_for_selector("#problem:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#problem-title .vi") == text("vi", "evaluation.error.not_returned")

    code = returned(api)
    page.goto(f"{live.base}/d/{checked(code, '')}")   # the receipt's QR link
    page.wait_for_selector("#evaluate:not([hidden])", timeout=WAIT_MS)
    page.tap("#evaluate")
    page.wait_for_selector("#intro:not([hidden])", timeout=WAIT_MS)
    assert page.url == f"{live.base}/e/{checked(code, '')}" and page.inner_text("#code") == code
    assert page.is_hidden("#hand-over")
    shoot(page, "evaluation-phone-intro-390x844", full_page=False)
    page.tap("#start")
    page.wait_for_selector("#question:not([hidden])", timeout=WAIT_MS)
    # Each answer a big target, the whole width, no text cut off.
    boxes = page.eval_on_selector_all("#choices .choice", "els => els.map((e) => e.getBoundingClientRect())")
    assert len(boxes) == 3 and all(b["height"] >= 64 and b["width"] >= 300 for b in boxes)
    assert problems(page) == []
    shoot(page, "evaluation-phone-question-390x844", full_page=False)
    # The citizen goes back once and changes the first answer.
    page.tap("#choices .choice[data-value='0']")
    page.wait_for_selector("#step:has-text('Câu 2 / 11')", timeout=WAIT_MS)
    page.tap("#back")
    page.wait_for_selector("#step:has-text('Câu 1 / 11')", timeout=WAIT_MS)
    assert page.get_attribute("#choices .choice[data-value='0']", "aria-pressed") == "true"
    answer_all(page, tap=True)
    shoot(page, "evaluation-phone-question-overall-390x844", full_page=False)
    assert stored(live) == []
    page.tap("#send")
    page.wait_for_selector("#thanks:not([hidden])", timeout=WAIT_MS)
    shoot(page, "evaluation-phone-thanks-390x844", full_page=False)
    [row] = stored(live)
    assert (row["code"], row["channel"], json.loads(row["indicators"]), row["total"], row["convenience"],
            row["overall"]) == (code, "phone", ANSWERS, sum(ANSWERS), "satisfied", "very_satisfied")

    page.goto(f"{live.base}/e/{checked(code, '')}")   # the QR code scanned again
    page.wait_for_selector("#problem:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#problem-title .vi") == text("vi", "evaluation.error.already_evaluated")
    assert page.is_hidden("#problem-next")
    page.goto(f"{live.base}/e/{code[:-1]}{'0' if code[-1] != '0' else '1'}?check={checked(code, '')[-1]}")
    page.wait_for_selector("#problem:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#problem-title .vi") == text("vi", "dossier.error.bad_check")
    assert len(stored(live)) == 1
    assert not errors


def test_the_counter_tablet_takes_the_citizens_evaluation(live, desk, chromium):  # noqa: F811
    api = api_of(live)
    code = returned(api)
    page, errors = desk("off1", "/counter/evaluate")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.wait_for_selector("#code-form:not([hidden])", timeout=WAIT_MS)
    page.fill("#code-input", code.lower())
    page.click("#open")
    page.wait_for_selector("#intro:not([hidden])", timeout=WAIT_MS)
    assert page.is_visible("#hand-over")
    shoot(page, "evaluation-counter-intro-1366x768", full_page=False)
    page.click("#start")
    answer_all(page, tap=False)
    page.click("#send")
    page.wait_for_selector("#thanks:not([hidden])", timeout=WAIT_MS)
    assert page.is_visible("#next-dossier")
    [row] = stored(live)
    assert (row["code"], row["channel"]) == (code, "counter")
    page.click("#next-dossier")   # the next citizen's dossier: the same one again is refused in words
    page.wait_for_selector("#code-form:not([hidden])", timeout=WAIT_MS)
    page.fill("#code-input", code)
    page.click("#open")
    page.wait_for_selector("#problem:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#problem-title .vi") == text("vi", "evaluation.error.already_evaluated")
    assert page.is_visible("#problem-next") and problems(page) == []
    assert not errors

    # Without a session the tablet's page sends to the sign-in, and nothing is sent as the counter's.
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    anonymous = context.new_page()
    anonymous.goto(f"{live.base}/counter/evaluate?code={code}")
    anonymous.wait_for_url("**/login?next=*", timeout=WAIT_MS)
    context.close()


def test_the_phone_evaluation_passes_axe_in_each_state(live, chromium):
    """No WCAG 2.1 A/AA violation (axe-core, injected: the context bypasses the CSP for it) in any state."""
    from axe import violations

    api = api_of(live)
    code, waiting = returned(api), opened(api)["code"]
    context = chromium.new_context(bypass_csp=True, viewport={"width": 390, "height": 844}, has_touch=True,
                                   is_mobile=True)
    page = context.new_page()
    try:
        page.goto(f"{live.base}/e/{checked(code, '')}")
        page.wait_for_selector("#intro:not([hidden])", timeout=WAIT_MS)
        found = {"intro": violations(page)}
        page.tap("#start")
        page.wait_for_selector("#question:not([hidden])", timeout=WAIT_MS)
        found["question"] = violations(page)
        answer_all(page, tap=True)
        found["confirm"] = violations(page)
        page.tap("#send")
        page.wait_for_selector("#thanks:not([hidden])", timeout=WAIT_MS)
        found["thanks"] = violations(page)
        page.goto(f"{live.base}/e/{checked(waiting, '')}")
        page.wait_for_selector("#problem:not([hidden])", timeout=WAIT_MS)
        found["not returned"] = violations(page)
        assert page.title() == text("vi", "evaluation.title")
    finally:
        context.close()
    assert found == {state: [] for state in found}


def test_the_quarterly_report_page_shows_the_grade_to_the_branch_and_the_department(live, desk):  # noqa: F811
    api = api_of(live)
    for scores, overall in (([2] * 9, "very_satisfied"), ([1] * 9, "dissatisfied")):
        code = returned(api)
        answer = live.post(f"/dossiers/{code}/evaluation", "kiosk1",
                           {"indicators": scores, "convenience": "satisfied", "overall": overall})
        assert answer.status_code == 201, answer.text
    page, errors = desk("mgr1", "/evaluations")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.wait_for_selector("#report:not([hidden])", timeout=WAIT_MS)
    assert page.input_value("#year") == "2026" and page.input_value("#quarter") == "4"   # this quarter first
    # (18 + 9) / 2 = 13.5 points a dossier: good.
    assert page.inner_text("#total") == text("vi", "evaluation.report.total_line", count="2", average="13,50",
                                             grade=text("vi", "evaluation.grade.good"))
    finance = page.locator("#groups tbody tr[data-key='finance'] td")
    assert finance.all_inner_texts()[1:] == ["2", "13,50", "Tốt", "1", "0", "1"]
    assert problems(page) == []
    shoot(page, "evaluations-report-1366x768", full_page=False)
    csv_text = page.context.request.get(live.base + page.get_attribute("#csv", "href")).text()
    assert csv_text.splitlines()[-1] == "total,,2,13.5,good,1,0,1"
    pdf = page.context.request.get(live.base + page.get_attribute("#pdf", "href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    assert not errors

    page, errors = desk("fin1", "/evaluations")
    page.wait_for_selector("#report:not([hidden])", timeout=WAIT_MS)
    assert page.locator("#groups tbody tr[data-key='hk-01'] td").all_inner_texts()[1:3] == ["2", "13,50"]
    page, errors = desk("off1", "/evaluations")   # an officer: the report is not theirs, said in words
    page.wait_for_selector("#refusal:not([hidden])", timeout=WAIT_MS)
    assert page.is_hidden("#report") and page.is_hidden("#csv")
