"""A citizen's ID card (CCCD) scanned at the counter, in real headless Chromium: the scanner is simulated as
keystrokes at a scanner's speed (Playwright's keyboard), anywhere on the intake form; the form gets the citizen
and what the centre holds for them, typing by hand is left alone. And a ticket taken with a card at the kiosk
shows its citizen on the console."""
from __future__ import annotations

from motcua.i18n import catalogue

from test_counter_dossier import PROCEDURE, WAIT_MS, _Api, at_counter, browse, config, full_view, shoot  # noqa: F401
from test_documents import pdf
from test_dossier_routes import CITIZEN, department_template, opened, tokens  # noqa: F401

CARD = "001090012345|123456789|Trần Thị Bình|15031990|Nữ|Số 5 Hàng Đào, Phường Hàng Đào, Hoàn Kiếm, Hà Nội|01072021"
SCANNER_MS = 4     # between two keys of a 2D scanner typing as a keyboard
HAND_MS = 150      # between two keys typed by a person


def scan(page, text: str) -> None:
    page.keyboard.type(text, delay=SCANNER_MS)
    page.keyboard.press("Enter")


def new_dossier(browse, live_app, ticket):
    page, _ = at_counter(browse, "off1", "hk-01")
    page.click(f"#waiting-rows tr[data-ticket='{ticket['id']}'] button[data-do='call']", timeout=WAIT_MS)
    page.wait_for_selector(f"#current-number:text-is('{ticket['number']}')", timeout=WAIT_MS)
    page.click("#dossier-new")
    page.wait_for_selector(f"#d-procedure option[value='{PROCEDURE}']", state="attached", timeout=WAIT_MS)
    return page


def test_a_card_scanned_anywhere_on_the_form_fills_the_citizen_and_finds_their_papers(live_app, browse):
    browse.live_app = live_app
    earlier = opened(_Api(live_app), who="off1", procedure=PROCEDURE)["code"]   # the citizen came before
    card = live_app.post(f"/dossiers/{earlier}/documents", "off1",
                         files={"file": ("cccd.pdf", pdf("CCCD"), "application/pdf")}, data={"kind": "id_card"})
    assert card.status_code == 201, card.text
    ticket = live_app.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).json()
    page = new_dossier(browse, live_app, ticket)
    page.select_option("#d-procedure", PROCEDURE)

    # Typed by hand, even the start of a card's code, is the officer's own.
    page.click("#d-name")
    page.keyboard.type("001090012345|", delay=HAND_MS)
    assert page.input_value("#d-name") == "001090012345|"
    page.fill("#d-name", "")
    page.click("#d-phone")
    page.keyboard.type(CITIZEN["phone"], delay=HAND_MS)

    # Scanned while the phone field has the focus: the card's keys do not land there.
    scan(page, CARD)
    page.wait_for_selector("#d-history:not([hidden])", timeout=WAIT_MS)
    assert page.input_value("#d-phone") == CITIZEN["phone"]
    assert (page.input_value("#d-id"), page.input_value("#d-name"), page.input_value("#d-birth"),
            page.input_value("#d-address")) == ("001090012345", "Trần Thị Bình", "1990-03-15",
                                                "Số 5 Hàng Đào, Phường Hàng Đào, Hoàn Kiếm, Hà Nội")
    assert page.inner_text("#d-message") == "Đã đọc thẻ căn cước của Trần Thị Bình."
    history = page.inner_text("#d-history")
    assert "Hồ sơ đã nộp: 1" in history and earlier in history
    assert "Giấy tờ đã số hoá: 1" in history
    shoot(page, "counter-cccd-scanned")

    # What is not a card is said in words, and the form keeps what it had.
    page.focus("#d-procedure")   # the focus on no text field at all
    scan(page, "001090012345||Trần Thị Bình|31021990")
    page.wait_for_selector("#d-message.bad", timeout=WAIT_MS)
    assert page.inner_text("#d-message") == catalogue("vi")["dossier.error.bad_card"]
    assert page.input_value("#d-procedure") == PROCEDURE and page.input_value("#d-name") == "Trần Thị Bình"

    page.click("#d-open")
    page.wait_for_selector("#d-received:not([hidden])", timeout=WAIT_MS)
    citizen = full_view(live_app, page.inner_text("#d-code"))["citizen"]
    assert (citizen["id_number"], citizen["name"], citizen["phone"], citizen["birth_date"], citizen["address"]) == (
        "001090012345", "Trần Thị Bình", CITIZEN["phone"], "1990-03-15",
        "Số 5 Hàng Đào, Phường Hàng Đào, Hoàn Kiếm, Hà Nội")
    assert page.errors == []


def test_a_ticket_taken_with_a_card_shows_its_citizen_at_the_counter(live_app, browse):
    browse.live_app = live_app
    answer = live_app.post("/branches/hk-01/tickets/card", "kiosk1",
                           {"service": "civil", "card": "001040012345||Nguyễn Văn Cả|02011940|Nam|Hà Nội"})
    assert answer.status_code == 201, answer.text
    ticket = answer.json()
    assert ticket["priority"] is True
    page = new_dossier(browse, live_app, ticket)
    # The dialog is opened for the ticket's citizen: known from the card.
    page.wait_for_function("document.getElementById('d-id').value === '001040012345'", timeout=WAIT_MS)
    assert (page.input_value("#d-name"), page.input_value("#d-birth")) == ("Nguyễn Văn Cả", "1940-01-02")
    page.keyboard.press("Escape")
    assert page.inner_text("#current-citizen") == "Nguyễn Văn Cả · CCCD 001040012345"
    shoot(page, "counter-cccd-ticket")
    plain = live_app.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).json()
    page.click("button[data-action='start']")
    page.wait_for_selector("#current.serving", timeout=WAIT_MS)
    page.click("button[data-action='done']")
    page.wait_for_selector("#current-none:not([hidden])", timeout=WAIT_MS)
    page.click("button[data-action='next']")     # the next citizen came without a card
    page.wait_for_selector(f"#current-number:text-is('{plain['number']}')", timeout=WAIT_MS)
    page.wait_for_selector("#current-citizen", state="hidden", timeout=WAIT_MS)
    assert page.errors == []
