"""Intake that cannot go wrong, in real headless Chromium: an officer of hk-01 opens a marriage registration,
sees only the ID card offered for reuse (not the birth registration's form), reuses it and presses Esc; the
intake is listed at the branch's counters (and under "Trả kết quả" with a way back in); another officer at
another counter of hk-01 resumes it where it was left, is stopped from sending it with documents missing,
gives the reason for the one not brought and sends it; the department sees that reason."""
from __future__ import annotations

from cryptography.fernet import Fernet  # noqa: F401  (the config fixture's documents key)

from motcua.core import intake
from motcua.i18n import catalogue

from conftest import PASSWORD
from test_counter_dossier import WAIT_MS, at_counter, browse, config, full_view, shoot  # noqa: F401  (fixtures)
from test_dossier_routes import CITIZEN, department_template, tokens  # noqa: F401  (fixtures)
from test_documents import pdf

VI = catalogue("vi")
MARRIAGE = "HT-KH"   # the form, the ID card and the certificate of marital status


def test_an_intake_left_open_is_resumed_at_another_counter_and_sent_only_with_reasons(live_app, browse, app,
                                                                                       tmp_path):
    browse.live_app = live_app
    app.extensions["motcua"].accounts.add_user("off3", PASSWORD, "officer", "hk-01")
    # The citizen's birth registration at hk-01 holds their form and their ID card.
    birth = live_app.post("/dossiers", "off1", {"procedure": "HT-KS", "citizen": CITIZEN})
    assert birth.status_code == 201, birth.text
    for kind in ("civil_form", "id_card"):
        scan = live_app.post(f"/dossiers/{birth.json()['code']}/documents", "off1",
                             files={"file": (f"{kind}.pdf", pdf(kind), "application/pdf")}, data={"kind": kind})
        assert scan.status_code == 201, scan.text
    for status in ("digitized", "processing"):   # sent on long ago: no unfinished intake
        sent = live_app.post(f"/dossiers/{birth.json()['code']}/status", "off1",
                             {"status": status, "missing": [{"kind": "birth_notice", "reason": "held_earlier"}]})
        assert sent.status_code == 200, sent.text

    page, counter = at_counter(browse, "off1", "hk-01")
    page.click("#dossier-new")
    page.wait_for_selector(f"#d-procedure option[value='{MARRIAGE}']", state="attached", timeout=WAIT_MS)
    page.select_option("#d-procedure", MARRIAGE)
    page.fill("#d-id", CITIZEN["id_number"])
    page.fill("#d-name", CITIZEN["name"])
    page.click("#d-open")
    page.wait_for_selector("#d-received:not([hidden])", timeout=WAIT_MS)
    code = page.inner_text("#d-code")
    # Only the ID card is offered: the birth registration's form served that dossier only.
    assert page.is_visible("#d-documents li[data-kind='id_card'] button[data-do='reuse']")
    assert page.locator("#d-documents button[data-do='reuse']").count() == 1
    page.click("#d-documents li[data-kind='id_card'] button[data-do='reuse']")
    page.wait_for_selector("#d-documents li[data-kind='id_card'].attached", timeout=WAIT_MS)
    page.keyboard.press("Escape")
    page.wait_for_selector("#new-dialog", state="hidden", timeout=WAIT_MS)

    # Under "Trả kết quả" the intake is no dead row: it offers to resume, not to hand back.
    page.click("#dossier-return")
    page.fill("#r-query", CITIZEN["id_number"])
    page.click("#r-find")
    page.wait_for_selector(f"#r-rows tr[data-code='{code}'] button[data-do='resume']", timeout=WAIT_MS)
    assert page.locator(f"#r-rows tr[data-code='{code}'] button[data-do='return']").count() == 0
    page.keyboard.press("Escape")

    # Another officer, at another counter of the branch, finds it among the unfinished intakes.
    other = next(c["id"] for c in live_app.get("/branches/hk-01/state").json()["counters"] if c["id"] != counter)
    resumed = browse("off3", f"/counter?branch=hk-01&counter={other}")
    resumed.wait_for_selector("#console:not([hidden])", timeout=WAIT_MS)
    resumed.wait_for_selector("#intake-count:text-is('1')", timeout=WAIT_MS)
    resumed.click("#intake-open")
    resumed.wait_for_selector(f"#i-rows tr[data-code='{code}']", timeout=WAIT_MS)
    shoot(resumed, "intake-unfinished")
    resumed.click(f"#i-rows tr[data-code='{code}'] button[data-do='resume']")
    resumed.wait_for_selector("#new-dialog #d-received:not([hidden])", timeout=WAIT_MS)
    assert resumed.inner_text("#d-code") == code
    resumed.wait_for_selector("#d-documents li[data-kind='id_card'].attached", timeout=WAIT_MS)
    options = resumed.eval_on_selector("select[data-reason='marital_status']",
                                       "s => [...s.options].map((o) => o.value).filter(Boolean)")
    assert options == list(intake.REASONS)

    # Sent with two documents missing and no reason: stopped, naming them; nothing moves.
    resumed.click("#d-send")
    resumed.wait_for_selector("#d-message.bad", timeout=WAIT_MS)
    names = ["Tờ khai theo mẫu", "Giấy xác nhận tình trạng hôn nhân"]
    assert resumed.inner_text("#d-message") == VI["intake.missing_reasons"].replace("{kinds}", ", ".join(names))
    assert full_view(live_app, code)["status"] == "received"
    # The form is filled in at the desk and scanned; the certificate is looked up in the population database.
    form = tmp_path / "to-khai.pdf"
    form.write_bytes(pdf("To khai ket hon"))
    resumed.select_option("select[data-reason='marital_status']", "other")
    resumed.wait_for_selector("input[data-reason-note='marital_status']", timeout=WAIT_MS)
    resumed.set_input_files("#d-documents li[data-kind='civil_form'] input[type=file]", str(form))
    resumed.wait_for_selector("#d-documents li[data-kind='civil_form'].attached", timeout=WAIT_MS)
    # what was picked outlives the list drawn again after the upload
    assert resumed.eval_on_selector("select[data-reason='marital_status']", "s => s.value") == "other"
    resumed.click("#d-send")   # "other" without words: still stopped
    resumed.wait_for_selector("#d-message.bad", timeout=WAIT_MS)
    resumed.select_option("select[data-reason='marital_status']", "population_database")
    shoot(resumed, "intake-reasons")
    resumed.click("#d-send")
    resumed.wait_for_selector("#d-status:text-is('Đang giải quyết')", timeout=WAIT_MS)
    full = full_view(live_app, code)
    assert [(m["kind"], m["reason"], m["actor"]) for m in full["missing_documents"]] == [
        ("marital_status", "population_database", "staff:off3")]
    assert {d["kind"] for d in full["documents"]} == {"id_card", "civil_form"}
    resumed.wait_for_selector("#intake-count", state="hidden", timeout=WAIT_MS)

    # The department sees why the certificate is not there.
    department = browse("jus1", "/department")
    department.click(f"#queue tr[data-code='{code}'] button.open", timeout=WAIT_MS)
    why = department.wait_for_selector("#d-documents li[data-kind='marital_status'] .missing-reason", timeout=WAIT_MS)
    assert why.inner_text() == VI["intake.reason.population_database"]
    shoot(department, "intake-department")
    assert page.errors == [] and resumed.errors == [] and department.errors == []
