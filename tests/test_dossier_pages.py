"""The public dossier lookup /d/{code} on a phone and the department's page /department, in real
headless Chromium under the real CSP, against the app on the fake clock (so that a dossier can
fall overdue): no personal data on the public page, a mistyped code answered in words, and a
department moving its work along."""
from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
import requests

from motcua.core.dossiers import check_character, make_code

from conftest import MORNING, PASSWORD
from layout import problems, scrolls_inside
# The department users' database and the helpers of the dossier API tests (fixtures included).
from test_dossier_routes import (CITIZEN, DAY, PUBLIC_FIELDS, config, department_template, move, opened,  # noqa: F401
                                 tokens)

SHOTS = Path(os.environ.get("MOTCUA_SHOTS", Path(__file__).resolve().parent.parent / "test-output"))
WAIT_MS = 5000   # an answer of the app, on a machine shared with other tests


def shoot(page, name: str, full_page: bool = True) -> None:
    """The page as looked at: a phone's whole scroll, a desk's one screen."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


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
    public = live_app.get(f"/dossiers/{code}?check={check_character(code)}")
    assert public.status_code == 200 and set(public.json()) == PUBLIC_FIELDS
    for secret in (CITIZEN["name"], CITIZEN["id_number"], CITIZEN["phone"], "Bình"):
        assert secret not in public.text

    page.goto(f"{live_app.base}/d/{code}?check={check_character(code)}")   # as the receipt's QR link
    page.wait_for_selector("#dossier:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#code") == code
    assert page.inner_text("#status .vi") == "Đang giải quyết"
    assert page.inner_text("#due .vi") == "Thứ sáu, 27/11/2026"   # three working days past the holiday of the 24th
    assert page.is_hidden("#overdue")
    steps = page.eval_on_selector_all("#timeline li", "items => items.map((li) => [li.dataset.status, li.className])")
    assert steps == [["received", "done"], ["digitized", "done"], ["processing", "done"],
                     ["supplement_requested", "done"], ["processing", "done current"],
                     ["result_ready", "later"], ["returned", "later"]]
    assert page.inner_text("#timeline li:nth-child(2) time") == "24/11/2026"   # the day, never the hour
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
    shoot(page, "dossier-overdue-first-screen-390x844", full_page=False)

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
    opened(api_of(live_app))   # the next number is someone's too
    check = check_character(code)
    wrong = code[:-1] + ("2" if code[-1] != "2" else "3")
    page.goto(f"{live_app.base}/d/{wrong}?check={check}")
    page.wait_for_selector("#problem:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#problem-title .vi") == ("Mã hồ sơ và mã kiểm tra không khớp nhau. Vui lòng kiểm tra lại "
                                                     "cả hai trên giấy biên nhận.")
    assert page.is_hidden("#dossier")
    assert (page.input_value("#code-input"), page.input_value("#check-input")) == (wrong, check)
    shoot(page, "dossier-mistyped-390x844")

    # Typed by hand without the check: asked for it, in words.
    page.goto(f"{live_app.base}/d/")
    page.fill("#code-input", code)
    page.click("#look-up")
    page.wait_for_selector("#problem:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#problem-title .vi") == "Vui lòng nhập cả mã kiểm tra in cạnh mã hồ sơ."
    assert "mã QR" in page.inner_text("#problem-hint .vi")
    shoot(page, "dossier-check-needed-390x844")

    # Typed again, in lower case with a space, as people do, with the check: found.
    page.fill("#code-input", " " + code.lower())
    page.fill("#check-input", check.lower())
    page.click("#look-up")
    page.wait_for_selector("#dossier:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#code") == code

    page.goto(f"{live_app.base}/d/{code[:-1]}X")   # no code at all
    page.wait_for_selector("#problem:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#problem-title .vi") == "Mã hồ sơ không đúng. Vui lòng kiểm tra lại mã trên giấy biên nhận."

    nobody = make_code("HK-01", date(2026, 11, 24), 9999)
    page.goto(f"{live_app.base}/d/{nobody}?check={check_character(nobody)}")
    page.wait_for_selector("#problem:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#problem-title .vi") == "Không tìm thấy hồ sơ có mã này."
    page.goto(f"{live_app.base}/d/%3C!--%3Cscript%3E")   # nothing a code is made of: no request, the same words
    page.wait_for_selector("#problem:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#problem-title .vi").startswith("Mã hồ sơ không đúng")
    assert page.input_value("#code-input") == ""
    page.goto(f"{live_app.base}/d/")
    page.wait_for_selector("#empty:not([hidden])", timeout=WAIT_MS)
    assert page.is_hidden("#problem") and page.is_hidden("#dossier")
    assert not errors


# ---- the department's page ------------------------------------------------------------------------

@pytest.fixture
def desk(chromium, live_app):
    """A 1920×1080 page signed in (session cookie, as /login makes it) as the named user."""
    contexts = []

    def open_as(who: str, path: str = "/department"):
        context = chromium.new_context(viewport={"width": 1920, "height": 1080})
        contexts.append(context)
        signed = context.request.post(live_app.api + "/auth/session", data={"username": who, "password": PASSWORD})
        assert signed.ok, signed.text()
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(live_app.base + path)
        return page, errors

    yield open_as
    for context in contexts:
        context.close()


def at_department(api, clock, when: float, procedure: str, name: str) -> str:
    """A dossier received at `when` and sent on to its department by the counter; its code."""
    clock.set(when)
    code = opened(api, procedure=procedure, citizen={**CITIZEN, "name": name})["code"]
    move(api, code, "off1", "digitized")
    move(api, code, "off1", "processing")
    return code


def queue_codes(page) -> list[str]:
    return page.eval_on_selector_all("#queue tbody tr", "rows => rows.map((r) => r.dataset.code)")


def test_a_department_works_its_queue_oldest_due_first(live_app, desk, clock):
    api = api_of(live_app)
    late = at_department(api, clock, MORNING - 8 * DAY, "KD-TL", "Nguyễn Văn An")      # due Thu 19: overdue
    soon = at_department(api, clock, MORNING - DAY, "KD-TD", "Lê Thị Cúc")             # due Fri 27
    later = at_department(api, clock, MORNING, "KD-CD", "Phạm Đức Dũng")               # due Fri 27, received after
    other = at_department(api, clock, MORNING, "HT-KH", "Hoàng Minh Em")               # Justice's
    clock.set(MORNING + 600)
    waiting = opened(api, procedure="KD-TL")["code"]                                   # still at the counter

    page, errors = desk("fin1")
    page.wait_for_selector("#queue tbody tr", timeout=WAIT_MS)
    assert queue_codes(page) == [late, soon, later]
    assert page.get_attribute(f"#queue tr[data-code='{late}']", "class") == "overdue"
    assert page.inner_text(f"#queue tr[data-code='{late}'] .due .pill") == "Quá hạn"
    assert page.inner_text("#count") == "Đang chờ: 3 hồ sơ · quá hạn: 1"
    assert "Phòng Tài chính – Kế hoạch" in page.inner_text("#staff-who")

    # The full view, personal data included (the competent department sees it).
    page.click(f"#queue tr[data-code='{late}'] button.open")
    page.wait_for_selector(f"#d-code:text-is('{late}')", timeout=WAIT_MS)
    assert page.inner_text("#d-name") == "Nguyễn Văn An" and page.inner_text("#d-id") == CITIZEN["id_number"]
    assert page.is_visible("#d-overdue") and page.inner_text("#d-due") == "19/11/2026"
    moves = page.eval_on_selector_all("#actions button", "bs => bs.map((b) => b.dataset.move)")
    assert moves == ["supplement_requested", "result_ready", "rejected"]
    shoot(page, "department-1920x1080", full_page=False)

    # A supplement needs a note: refused in words without one, sent with it.
    page.click("#actions button[data-move='supplement_requested']")
    page.click("#note-send")
    page.wait_for_selector("#action-error:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#action-error") == "Vui lòng ghi rõ lý do hoặc giấy tờ cần bổ sung."
    shoot(page, "department-note-refused-1920x1080", full_page=False)
    page.fill("#note", "Bản sao hợp đồng thuê địa điểm")
    page.click("#note-send")
    page.wait_for_selector("#d-status:text-is('Cần bổ sung giấy tờ')", timeout=WAIT_MS)
    assert page.is_hidden("#action-error") and page.is_hidden("#note-form")
    events = api_full(live_app, late)["events"]
    assert (events[-1]["status"], events[-1]["note"], events[-1]["actor"]) == (
        "supplement_requested", "Bản sao hợp đồng thuê địa điểm", "staff:fin1")
    page.wait_for_selector(f"#queue tr[data-code='{late}'] .pill.warn", timeout=WAIT_MS)

    # The supplement came: back to processing, then the result is ready and the dossier leaves the queue.
    page.click("#actions button[data-move='processing']")
    page.wait_for_selector("#d-status:text-is('Đang giải quyết')", timeout=WAIT_MS)
    page.click("#actions button[data-move='result_ready']")
    page.wait_for_selector("#d-status:text-is('Đã có kết quả, mời nhận')", timeout=WAIT_MS)
    # A locator's wait, not wait_for_function: the page's CSP refuses the eval that one may need.
    page.wait_for_selector(f"#queue tr[data-code='{late}']", state="detached", timeout=WAIT_MS)
    assert queue_codes(page) == [soon, later]
    assert page.inner_text("#message") == f"Hồ sơ {late}: Đã có kết quả, mời nhận."
    assert live_app.get(f"/dossiers/{late}?check={check_character(late)}").json()["status"] == "result_ready"
    assert page.eval_on_selector_all("#actions button", "bs => bs.length") == 0

    # In English: a rejection without a reason is refused in English, then made with one.
    page.click("#staff-lang")
    assert page.inner_text("#department-name") == "Finance and Planning Division"
    page.click(f"#queue tr[data-code='{later}'] button.open")
    page.wait_for_selector(f"#d-code:text-is('{later}')", timeout=WAIT_MS)
    page.click("#actions button[data-move='rejected']")
    assert page.inner_text("#note-label") == "Reason for rejection (sent to the citizen)"
    page.click("#note-send")
    page.wait_for_selector("#action-error:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#action-error") == "Please write the reason, or the documents to bring."
    page.fill("#note", "Not within the department's competence")
    page.click("#note-send")
    page.wait_for_selector("#d-status:text-is('Rejected')", timeout=WAIT_MS)
    assert page.inner_text("#d-reason") == "Reason for rejection: Not within the department's competence"
    assert queue_codes(page) == [soon]
    shoot(page, "department-rejected-en-1920x1080", full_page=False)

    # Moved by a colleague meanwhile: the page says so and shows where the dossier stands now.
    page.click(f"#queue tr[data-code='{soon}'] button.open")
    page.wait_for_selector(f"#d-code:text-is('{soon}')", timeout=WAIT_MS)
    move(api, soon, "fin2", "result_ready")
    page.click("#actions button[data-move='result_ready']")
    page.wait_for_selector("#action-error:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#action-error") == "The dossier is in another state now and cannot move this way. Please reload."
    page.wait_for_selector("#d-status:text-is('Result ready for collection')", timeout=WAIT_MS)
    page.wait_for_selector("#queue-empty:not([hidden])", timeout=WAIT_MS)

    # Sent on by the counter: there after a refresh; another department's dossier never is.
    move(api, waiting, "off1", "digitized")
    move(api, waiting, "off1", "processing")
    page.click("#refresh")
    page.wait_for_selector(f"#queue tr[data-code='{waiting}']", timeout=WAIT_MS)
    assert other not in queue_codes(page)
    assert not errors


def api_full(live_app, code: str) -> dict:
    """The dossier's full view as the department's staff reads it through the API."""
    answer = requests.get(f"{live_app.api}/dossiers/{code}/full", headers=live_app.auth("fin1"), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_admin_picks_the_department_and_an_officer_is_sent_elsewhere(app, live_app, desk, clock):
    api = api_of(live_app)
    justice = at_department(api, clock, MORNING, "HT-KH", "Hoàng Minh Em")
    # A read of a document, as the documents part records it: an event that changes no status.
    rt = app.extensions["motcua"]
    sha = "ab" * 32
    rt.store.write(lambda db: rt.dossiers.record(db, justice, "staff:jus1", None, f"document_read:{sha}"))
    page, errors = desk("admin", "/department?department=justice")
    page.wait_for_selector(f"#queue tr[data-code='{justice}']", timeout=WAIT_MS)
    assert page.input_value("#department-select") == "justice"
    page.click(f"#queue tr[data-code='{justice}'] button.open")
    page.wait_for_selector("#d-events tbody tr", timeout=WAIT_MS)
    newest = page.eval_on_selector_all("#d-events tbody tr:first-child td", "tds => tds.map((td) => td.textContent)")
    assert newest[1:] == ["Xem giấy tờ", "jus1", sha[:12]]
    page.select_option("#department-select", "finance")
    page.wait_for_selector("#queue-empty:not([hidden])", timeout=WAIT_MS)
    officer, more = desk("off1")
    officer.wait_for_selector("#refusal:not([hidden])", timeout=WAIT_MS)
    assert officer.inner_text("#refusal").startswith("Trang này dành cho cán bộ các cơ quan giải quyết")
    assert officer.is_hidden("#work") and officer.inner_text("#staff-who") == "off1 · Cán bộ · hk-01"
    assert page.inner_text("#staff-who") == "admin · Quản trị · Phòng Tài chính – Kế hoạch"
    assert not errors and not more


def test_a_department_user_signs_in_from_the_start_page_to_their_page_and_citizens_find_the_lookup(
        chromium, live_app, phone):
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    try:
        page = context.new_page()
        page.goto(live_app.base + "/")
        shoot(page, "start-page-1366x768")
        page.click("a[href='/login']")
        page.fill("#username", "fin1")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(live_app.base + "/department", timeout=WAIT_MS)
    finally:
        context.close()

    # The start page leads a citizen to the public lookup of a dossier by its code.
    citizen, errors = phone
    citizen.goto(live_app.base + "/")
    shoot(citizen, "start-page-390x844")
    link = citizen.locator("a[href='/d/']")
    box = link.bounding_box()
    assert box and 0 <= box["x"] and box["x"] + box["width"] <= 390   # on the phone's screen, not beside it
    link.click()
    citizen.wait_for_selector("#code-input", timeout=WAIT_MS)
    assert citizen.url == live_app.base + "/d/"
    assert not errors


def test_a_long_department_queue_fits_its_card_at_each_desk_size(live_app, desk, clock):
    """Thirty dossiers, some overdue: no column cut off ("Hẹn trả" included), the list scrolls inside its card."""
    api = api_of(live_app)
    codes = [at_department(api, clock, MORNING - (n % 12) * DAY, ("KD-TL", "KD-TD", "KD-CD")[n % 3],
                           "Nguyễn Thị Phương Thảo Hoàng") for n in range(30)]
    clock.set(MORNING + 600)
    page, errors = desk("fin1")
    page.wait_for_selector(f"#queue tr[data-code='{codes[-1]}']", state="attached", timeout=WAIT_MS)
    for size in ({"width": 1920, "height": 1080}, {"width": 1366, "height": 768}):
        page.set_viewport_size(size)
        page.click(f"#queue tr[data-code='{codes[0]}'] button.open")
        page.wait_for_selector(f"#d-code:text-is('{codes[0]}')", timeout=WAIT_MS)
        shoot(page, f"department-long-queue-{size['width']}x{size['height']}", full_page=False)
        assert problems(page, "main") == [], size
        assert scrolls_inside(page, ".queue")
        due = page.locator("#queue thead th").last
        assert due.bounding_box()["x"] + due.bounding_box()["width"] <= page.locator(".queue").bounding_box()["x"] + \
            page.locator(".queue").bounding_box()["width"]
    assert not errors
