"""The counter console's dossier panel in real headless Chromium under the real CSP: hk-01 opens a
dossier from the ticket at its counter, reuses the citizen's ID card digitised at hk-02 and uploads a scan,
opens the receipt and sends it on; the department page marks the result ready; hk-02, the branch
the citizen chose, finds it by ID number and hands it back; /d/{code} shows every step."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from motcua.config import load_config
from motcua.core import procedures
from motcua.core.dossier_codes import check_character
from motcua.i18n import catalogue

from conftest import PASSWORD, motcua
from test_intake import waived_for
from test_dossier_routes import CITIZEN, department_template, opened, tokens  # noqa: F401
from test_documents import ELF, pdf

SHOTS = Path(os.environ.get("MOTCUA_SHOTS", Path(__file__).resolve().parent.parent / "test-output"))
WAIT_MS = 5000   # an answer of the app, on a machine shared with other tests
PROCEDURE = "HT-XNHN"   # civil status: its documents are the form and the ID card
SIZES = ({"width": 1920, "height": 1080}, {"width": 1366, "height": 768})


@pytest.fixture
def config(tmp_path, department_template):  # noqa: F811 (this module's app keeps documents)
    return load_config(server={"db": str(department_template.copy_to(tmp_path / "motcua.db")),
                               "async_mode": "threading"},
                       dossiers={"documents": str(tmp_path / "documents"),
                                 "document_key": Fernet.generate_key().decode()})


@pytest.fixture
def browse(chromium, live_app):
    """open(who, path): a 1920×1080 page signed in with the session cookie; its errors, CSP refusals included."""
    contexts = []

    def open_as(who: str, path: str):
        context = chromium.new_context(viewport=SIZES[0])
        contexts.append(context)
        signed = context.request.post(live_app.api + "/auth/session", data={"username": who, "password": PASSWORD})
        assert signed.ok, signed.text()
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda m: page.errors.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(live_app.base + path)
        return page

    yield open_as
    for context in contexts:
        context.close()


def shoot(page, name: str) -> None:
    """The page at each desk size, as looked at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{size['width']}x{size['height']}.png"))
    page.set_viewport_size(SIZES[0])


def at_counter(browse, who: str, branch: str):
    """The console of the branch's counter serving civil status, signed in as who."""
    counter = next(c for c in browse.live_app.get(f"/branches/{branch}/state").json()["counters"]
                   if "civil" in c["services"])["id"]
    page = browse(who, f"/counter?branch={branch}&counter={counter}")
    page.wait_for_selector("#console:not([hidden])", timeout=WAIT_MS)
    return page, counter


def step_on_public_page(browse, code: str) -> str:
    """The status /d/{code} shows as current."""
    page = browse.public
    page.goto(f"{browse.live_app.base}/d/{code}?check={check_character(code)}")
    page.wait_for_selector("#dossier:not([hidden])", timeout=WAIT_MS)
    return page.get_attribute("#timeline li.current", "data-status")


def test_a_dossier_received_at_one_branch_is_handed_back_at_another(live_app, browse, chromium, tmp_path):
    browse.live_app = live_app
    browse.public = chromium.new_context(viewport={"width": 390, "height": 844}).new_page()
    # hk-01 numbers its dossiers under its official unit code (dots and all).
    assert requests.patch(f"{live_app.api}/admin/branches/hk-01", json={"unit_code": "000.00.12.H29"},
                          headers=live_app.auth("admin"), timeout=10).status_code == 200
    # The citizen's ID card was digitised for an earlier dossier at hk-02: hk-01 reuses it for the citizen at
    # its counter, come with a ticket called there.
    earlier = opened(_Api(live_app), who="off2", procedure=PROCEDURE)["code"]
    card = live_app.post(f"/dossiers/{earlier}/documents", "off2",
                         files={"file": ("cccd.pdf", pdf("CCCD"), "application/pdf")}, data={"kind": "id_card"})
    assert card.status_code == 201, card.text

    issued = live_app.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"})
    assert issued.status_code == 201, issued.text
    ticket = issued.json()
    page, counter = at_counter(browse, "off1", "hk-01")
    page.click(f"#waiting-rows tr[data-ticket='{ticket['id']}'] button[data-do='call']", timeout=WAIT_MS)
    page.wait_for_selector(f"#current-number:text-is('{ticket['number']}')", timeout=WAIT_MS)

    # A new dossier from the ticket: its service suggests the civil-status procedures only.
    page.click("#dossier-new")
    page.wait_for_selector(f"#d-procedure option[value='{PROCEDURE}']", state="attached", timeout=WAIT_MS)
    offered = page.eval_on_selector_all("#d-procedure option", "os => os.map((o) => o.value)")
    civil = {p.code for p in procedures.load().for_service("civil")}
    assert offered and set(offered) <= civil and PROCEDURE in offered and "DD-CN" not in offered
    assert page.inner_text("#d-ticket") == f"cho số {ticket['number']}"
    page.select_option("#d-procedure", PROCEDURE)
    page.fill("#d-id", "00109001234")   # one digit short: refused in words, nothing sent
    page.click("#d-open")
    assert page.inner_text("#d-message").startswith("Số định danh cá nhân phải gồm 12 chữ số")
    page.fill("#d-id", CITIZEN["id_number"])
    assert page.is_hidden("#d-message")   # the refusal goes once the officer types again
    page.fill("#d-name", CITIZEN["name"])
    page.fill("#d-phone", CITIZEN["phone"])
    page.select_option("#d-return", "hk-02")
    assert page.eval_on_selector_all("#d-lang option", "os => os.map((o) => o.textContent)") == ["Tiếng Việt", "English"]
    page.select_option("#d-lang", "en")   # the citizen reads English: their messages will be in it
    shoot(page, "new-dossier")
    page.click("#d-open")
    page.wait_for_selector("#d-received:not([hidden])", timeout=WAIT_MS)
    code = page.inner_text("#d-code")
    full = full_view(live_app, code)
    assert code.startswith("000.00.12.H29-")
    assert page.inner_text("#d-check") == f"Mã kiểm tra (để tra cứu): {check_character(code)}"
    assert (full["ticket"], full["return_branch"], full["citizen"]["name"]) == (ticket["id"], "hk-02", CITIZEN["name"])
    assert full["citizen"]["lang"] == "en"
    year, month, day = full["due_date"].split("-")
    assert page.inner_text("#d-due") == f"Hẹn trả: {day}/{month}/{year}"
    assert step_on_public_page(browse, code) == "received"

    shoot(page, "dossier-documents")
    # One click reuses the ID card; the form is uploaded as a scan.
    page.click("#d-documents li[data-kind='id_card'] button[data-do='reuse']")
    page.wait_for_selector("#d-documents li[data-kind='id_card'].attached", timeout=WAIT_MS)
    assert not page.is_visible("#d-documents li[data-kind='civil_form'] button[data-do='reuse']")
    renamed = tmp_path / "to-khai-that.pdf"   # an executable called a PDF: refused in words, nothing attached
    renamed.write_bytes(ELF)
    page.set_input_files("#d-documents li[data-kind='civil_form'] input[type=file]", str(renamed))
    page.wait_for_selector("#d-message.bad", timeout=WAIT_MS)
    assert page.inner_text("#d-message") == catalogue("vi")["document.error.unsupported_document"]
    huge = tmp_path / "so-do-11MB.pdf"   # an 11 MB scan, past the 10 MiB limit: refused in the officer's words
    huge.write_bytes(pdf("So do")[:-6] + b"\x00" * 11_000_000 + b"%%EOF\n")
    page.set_input_files("#d-documents li[data-kind='civil_form'] input[type=file]", str(huge))
    page.wait_for_selector("#d-message.bad:has-text('10 MB')", timeout=WAIT_MS)
    assert page.inner_text("#d-message") == catalogue("vi")["document.error.document_too_large"].replace("{max_mib}", "10")
    shoot(page, "dossier-scan-too-large")
    scan = tmp_path / "to-khai.pdf"
    scan.write_bytes(pdf("To khai"))
    page.set_input_files("#d-documents li[data-kind='civil_form'] input[type=file]", str(scan))
    page.wait_for_selector("#d-documents li[data-kind='civil_form'].attached", timeout=WAIT_MS)
    attached = {d["kind"]: d["reused"] for d in full_view(live_app, code)["documents"]}
    assert attached == {"id_card": True, "civil_form": False}

    # The receipt opens as the PDF to print.
    with page.expect_popup() as opening:
        page.click("#d-receipt")
    assert opening.value.url.endswith(f"/api/v1/dossiers/{code}/receipt.pdf")
    receipt = page.request.get(opening.value.url)
    assert receipt.ok and receipt.body().startswith(b"%PDF-")
    page.click("#d-send")
    page.wait_for_selector("#d-status:text-is('Đang giải quyết')", timeout=WAIT_MS)
    shoot(page, "dossier-received")
    assert step_on_public_page(browse, code) == "processing"

    # The competent department marks the result ready.
    department = browse("jus1", "/department")
    department.click(f"#queue tr[data-code='{code}'] button.open", timeout=WAIT_MS)
    department.click("#actions button[data-move='result_ready']", timeout=WAIT_MS)
    department.wait_for_selector("#d-status:text-is('Đã có kết quả, mời nhận')", timeout=WAIT_MS)
    assert step_on_public_page(browse, code) == "result_ready"

    # hk-02: the result waits there; the citizen is found by ID number and handed it.
    back, _ = at_counter(browse, "off2", "hk-02")
    back.wait_for_selector("#ready-count:text-is('1')", timeout=WAIT_MS)   # one result waits to be collected here
    back.click("#dossier-return")
    back.wait_for_selector(f"#r-rows tr[data-code='{code}']", timeout=WAIT_MS)
    back.fill("#r-query", CITIZEN["id_number"])
    back.click("#r-find")
    # this dossier and the citizen's earlier one of hk-02's, whose ID card was reused
    back.wait_for_selector(f"#r-title:text-is('Hồ sơ tìm thấy: 2')", timeout=WAIT_MS)
    shoot(back, "return")
    back.click(f"#r-rows tr[data-code='{code}'] button[data-do='return']")
    back.wait_for_selector(f"#r-message:text-is('Đã trả kết quả hồ sơ {code}.')", timeout=WAIT_MS)
    assert live_app.get(f"/dossiers/{code}?check={check_character(code)}").json()["status"] == "returned"
    back.wait_for_selector("#ready-count", state="hidden", timeout=WAIT_MS)
    # Handed back: the counter's tablet asks the citizen the statutory evaluation of this dossier.
    ask = back.locator(f"#r-rows tr[data-code='{code}'] a[data-do='evaluate']")
    assert ask.get_attribute("href") == f"/counter/evaluate?code={code}"
    shoot(back, "returned-evaluate")
    assert step_on_public_page(browse, code) == "returned"
    # An official code is found as typed; a mistyped one is said in words.
    back.fill("#r-query", code.lower())
    back.click("#r-find")
    back.wait_for_selector(f"#r-title:text-is('Hồ sơ tìm thấy: 1')", timeout=WAIT_MS)
    back.fill("#r-query", code[:-1] + ("A" if code[-1] != "A" else "B"))
    back.click("#r-find")
    back.wait_for_selector("#r-message.bad", timeout=WAIT_MS)
    assert page.errors == [] and back.errors == [] and department.errors == []


def full_view(live_app, code: str) -> dict:
    answer = requests.get(f"{live_app.api}/dossiers/{code}/full", headers=live_app.auth("off1"), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


class _Api:
    """The dossier helpers' `api` (post with who), on the live app."""

    def __init__(self, live_app):
        self.live_app = live_app

    def post(self, path, who=None, json=None):
        answer = self.live_app.post(path, who, json)
        answer.json = answer.json()
        return answer


def test_the_returning_branch_s_console_hears_a_result_is_ready(server, chromium):
    """Against the real server, Socket.IO included: the department's result_ready reaches hk-02's console at once."""
    motcua("user", "add", "--username", "jus9", "--password", PASSWORD, "--role", "department",
           "--department", "justice", db=server.db)
    server.tokens["jus9"] = server.login("jus9")
    context = chromium.new_context(viewport=SIZES[1])
    try:
        assert context.request.post(server.api + "/auth/session", data={"username": "off2", "password": PASSWORD}).ok
        page = context.new_page()
        page.goto(f"{server.base}/counter?branch=hk-02&counter=1")
        page.wait_for_selector("#console:not([hidden])", timeout=WAIT_MS)
        assert page.is_hidden("#ready-count")
        # A ticket issued now shows only through the staff room: once it does, the console is listening.
        issued = server.post("/branches/hk-02/tickets", "kiosk2", {"service": "civil"})
        assert issued.status_code == 201, issued.text
        page.wait_for_selector(f"#waiting-rows tr[data-ticket='{issued.json()['id']}']", timeout=WAIT_MS)
        made = server.post("/dossiers", "off1", {"procedure": PROCEDURE, "citizen": CITIZEN, "return_branch": "hk-02"})
        assert made.status_code == 201, made.text
        code = made.json()["code"]
        for who, status in (("off1", "digitized"), ("off1", "processing"), ("jus9", "result_ready")):
            moved = server.post(f"/dossiers/{code}/status", who, {"status": status, "missing": waived_for(made.json())})
            assert moved.status_code == 200, moved.text
        page.wait_for_selector("#ready-count:text-is('1')", timeout=WAIT_MS)
    finally:
        context.close()
