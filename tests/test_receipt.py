"""The dossier receipt (server/receipt.py): the PDF opens in poppler (pdftoppm, pdftotext) with its
Vietnamese right and its QR code decoding (zbarimg) to the lookup URL; the same receipt through the
ticket printer driver reaches the simulated printer over a socat pty pair."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import requests
from PIL import Image

from motcua import receipt as receipts
from motcua.core.dossier_codes import check_character
from motcua.hardware.printer import Printer
from motcua.hardware.printer_sim import PrinterSim
from motcua.hardware.ticket_layout import BigText, LayoutSettings, block_image

from conftest import PASSWORD
from test_printer import find_rows, zbar

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "test-output"
CODE = "000.00.12.H29-261201-0007"
CHECK = check_character(CODE)
URL = f"https://motcua.hanoi.gov.vn/d/{CODE}?check={CHECK}"

# A full dossier view as GET /dossiers/{code}/full gives it (the fields the receipt reads, and some it must not print).
DOSSIER = {
    "code": CODE, "check": CHECK, "procedure": "birth_registration", "status": "digitized", "lookup_url": URL,
    "procedure_name": {"vi": "Đăng ký khai sinh", "en": "Birth registration"},
    "department": "justice", "department_name": {"vi": "Phòng Tư pháp", "en": "Justice Division"},
    "branch": "hk-01", "officer": "off1", "ticket": None, "return_branch": "hk-02",
    "received_at": "2026-12-01T09:05:00+07:00", "due_date": "2026-12-04",
    "citizen": {"id_number": "001203004567", "name": "Nguyễn Thị Hồng Nhung", "phone": "0912345678"},
    "required_documents": [
        {"kind": "civil_form", "name": {"vi": "Tờ khai theo mẫu", "en": "Application form"}},
        {"kind": "id_card", "name": {"vi": "Thẻ căn cước / Căn cước công dân", "en": "Identity card"}},
        {"kind": "birth_notice", "name": {"vi": "Giấy chứng sinh", "en": "Birth notice from the hospital"}}],
    "documents": [
        {"sha256": "a" * 64, "kind": "civil_form", "mime": "application/pdf", "size": 1000, "reused": False},
        {"sha256": "b" * 64, "kind": "id_card", "mime": "image/jpeg", "size": 2000, "reused": True},
        {"sha256": "c" * 64, "kind": "birth_notice", "mime": "image/png", "size": 3000, "reused": False}],
}
BRANCHES = {"hk-01": {"vi": "Bộ phận Một cửa phường Hoàn Kiếm", "en": "Hoan Kiem one-stop office"},
            "hk-02": {"vi": "Bộ phận Một cửa phường Cửa Nam", "en": "Cua Nam one-stop office"}}
PERSONAL = ("001203004567", "0912345678")


def make(lang: str = "vi", **changes) -> receipts.Receipt:
    return receipts.receipt({**DOSSIER, **changes}, branches=BRANCHES, lang=lang)


def pdf_pages(pdf: bytes, folder: Path) -> list[Path]:
    """The PDF's pages as PNGs, rendered by poppler."""
    source = folder / "receipt.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "110", "-png", str(source), str(folder / "page")], check=True, timeout=30)
    return sorted(folder.glob("page-*.png"))


def pdf_text(pdf: bytes, folder: Path) -> str:
    source = folder / "text.pdf"
    source.write_bytes(pdf)
    done = subprocess.run(["pdftotext", "-layout", str(source), "-"], capture_output=True, text=True, check=True,
                          timeout=30)
    return done.stdout


def test_the_receipt_takes_the_full_view_and_leaves_out_the_id_number_and_phone():
    r = make()
    assert r.lookup_url == URL
    assert [d.reused for d in r.documents] == [False, True, False]
    assert r.documents[1].name["vi"] == "Thẻ căn cước / Căn cước công dân"
    assert r.received_at.strftime("%H:%M %d/%m/%Y") == "09:05 01/12/2026"
    view = r.view()
    assert not any(value in repr(view) for value in PERSONAL)
    assert receipts.Receipt.from_view(view) == r
    assert receipts.Receipt.from_view(view, "en").langs == ("en", "vi")
    # A kind the catalogue no longer names still prints, as its code.
    odd = make(documents=[{"kind": "old_kind", "reused": False}]).documents[0]
    assert odd.name == {"vi": "old_kind", "en": "old_kind"}


def test_the_pdf_opens_reads_in_vietnamese_and_its_qr_code_is_the_lookup_url(tmp_path):
    pdf = receipts.receipt_pdf(make())
    assert pdf.startswith(b"%PDF-")
    [page] = pdf_pages(pdf, tmp_path)          # one A4 page for an ordinary dossier
    with Image.open(page) as image:
        assert abs(image.height / image.width - 297 / 210) < 0.01
    assert zbar(page) == URL
    text = pdf_text(pdf, tmp_path)
    for shown in (CODE, f"Mã kiểm tra (để tra cứu): {CHECK}", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
                  "Đăng ký khai sinh", "Phòng Tư pháp",
                  "Nguyễn Thị Hồng Nhung", "04/12/2026", "09:05, ngày 01/12/2026",
                  "Bộ phận Một cửa phường Cửa Nam", "Giấy chứng sinh", "Dùng lại bản đã số hóa", URL):
        assert shown in text, shown
    assert text.count("Số hóa khi tiếp nhận") == 2 and text.count("Dùng lại bản đã số hóa") == 1
    assert not any(value in text for value in PERSONAL)
    OUTPUT.mkdir(exist_ok=True)
    shutil.copy(page, OUTPUT / "receipt-pdf.png")


def test_in_english_english_comes_first_and_many_documents_keep_the_signatures_with_the_footer(tmp_path):
    many = [{"kind": "id_card", "reused": n % 2 == 0} for n in range(14)]
    pdf = receipts.receipt_pdf(make("en", documents=many))
    pages = pdf_pages(pdf, tmp_path)
    assert len(pages) == 2 and zbar(pages[0]) == URL
    text = pdf_text(pdf, tmp_path)
    assert text.index("DOSSIER RECEIPT") < text.index("GIẤY TIẾP NHẬN")
    assert text.count("Reused, digitised before") == 7
    second = text.split("\f")[1]
    assert "Submitted by" in second and "Please bring this receipt" in second


def test_a_code_made_before_prints_no_check_beside_it(tmp_path):
    before = "HK01-261201-0007K"
    r = make(code=before, check=None, lookup_url=f"https://motcua.hanoi.gov.vn/d/{before}")
    assert r.check == "" and receipts.Receipt.from_view(r.view()) == r
    text = pdf_text(receipts.receipt_pdf(r), tmp_path)
    assert before in text and "Mã kiểm tra" not in text
    lines = [line.text for b in receipts.receipt_blocks(make()) for line in getattr(b, "lines", ())]
    assert f"Mã kiểm tra (để tra cứu): {CHECK}" in lines and f"Check (to look it up): {CHECK}" in lines
    assert not any("Mã kiểm tra" in line.text for b in receipts.receipt_blocks(r) for line in getattr(b, "lines", ()))


def test_no_documents_yet_is_said_so():
    r = make(documents=[])
    blocks = receipts.receipt_blocks(r)
    assert any("Chưa nhận giấy tờ nào" in line.text for b in blocks for line in getattr(b, "lines", ()))


# --- on the ticket printer ----------------------------------------------------------------------

@pytest.fixture
def ptys(serial_pair):
    """Two linked ptys: (simulator end, driver end)."""
    line = serial_pair("printer")
    return str(line.device), str(line.host)


@pytest.mark.parametrize("paper, qr_mode", [("80mm", "native"), ("58mm", "raster")])
def test_the_receipt_prints_on_the_simulated_printer(ptys, tmp_path, paper, qr_mode):
    settings = LayoutSettings.for_paper(paper, qr_mode=qr_mode)
    sim = PrinterSim(ptys[0], tmp_path / "out", width_dots=settings.width_dots).start()
    try:
        with Printer(ptys[1], timeout_s=2.0, settings=settings) as printer:
            result = printer.print_bytes(receipts.receipt_bytes(make(), settings))
        assert result.status_after.words == "ok"
        assert sim.wait_for(1, timeout=10), "no receipt came out"
    finally:
        sim.stop()
    [png] = sim.saved
    assert zbar(png) == URL
    code = next(b for b in receipts.receipt_blocks(make(), settings) if isinstance(b, BigText))
    assert code.text == CODE
    with Image.open(png) as page:
        assert find_rows(page, block_image(code, settings)) is not None, "the code is not on the receipt"
    OUTPUT.mkdir(exist_ok=True)
    shutil.copy(png, OUTPUT / f"receipt-printed-{paper}.png")


def test_a_reused_document_is_starred_on_paper_and_explained():
    lines = [line.text for b in receipts.receipt_blocks(make()) for line in getattr(b, "lines", ())]
    assert "2. Thẻ căn cước / Căn cước công dân *" in lines
    assert "1. Tờ khai theo mẫu" in lines
    assert any(text.startswith("* Giấy tờ đã số hóa trước đây") for text in lines)
    assert not any(value in text for text in lines for value in PERSONAL)
    assert replace(make(), lang="en").langs == ("en", "vi")


# --- through the API ------------------------------------------------------------------------------

CITIZEN = {"id_number": "001090012345", "name": "Trần Văn Bình", "phone": "0987654321"}


def open_dossier(api, who: str = "off1", **body) -> dict:
    answer = api.post("/dossiers", who, {"procedure": "HT-KS", "citizen": CITIZEN, "return_branch": "hk-02", **body})
    assert answer.status_code == 201, answer.text
    return answer.json


def test_the_pdf_route_serves_the_receiving_branch_and_admins(api, tmp_path):
    dossier = open_dossier(api)
    answer = api.get(f"/dossiers/{dossier['code']}/receipt.pdf", "off1")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert answer.headers["Cache-Control"] == "no-store"
    assert f'filename="receipt-{dossier["code"]}.pdf"' in answer.headers["Content-Disposition"]
    [page] = pdf_pages(answer.data, tmp_path)
    assert zbar(page) == dossier["lookup_url"] == f"http://localhost/d/{dossier['code']}?check={dossier['check']}"
    text = pdf_text(answer.data, tmp_path)
    for shown in (dossier["code"], f"Mã kiểm tra (để tra cứu): {dossier['check']}", "Đăng ký khai sinh", "Trần Văn Bình", "Phòng Tư pháp",
                  "Chưa nhận giấy tờ nào", date.fromisoformat(dossier["due_date"]).strftime("%d/%m/%Y")):
        assert shown in text, shown
    assert CITIZEN["id_number"] not in text and CITIZEN["phone"] not in text
    OUTPUT.mkdir(exist_ok=True)
    shutil.copy(page, OUTPUT / "receipt-pdf-api.png")
    assert api.get(f"/dossiers/{dossier['code']}/receipt.pdf", "admin").status_code == 200
    english = pdf_text(api.get(f"/dossiers/{dossier['code']}/receipt.pdf?lang=en", "off1").data, tmp_path)
    assert english.index("DOSSIER RECEIPT") < english.index("GIẤY TIẾP NHẬN")


@pytest.mark.parametrize("path", ["receipt", "receipt.pdf"])
def test_the_receipt_is_refused_to_others_and_for_bad_codes(api, path):
    code = open_dossier(api)["code"]
    assert api.get(f"/dossiers/{code}/{path}").status_code == 401
    for who in ("off2", "kiosk1"):      # off2 works at the returning branch: the receipt is given where received
        refused = api.get(f"/dossiers/{code}/{path}", who)
        assert refused.status_code == 403 and refused.json["error"]["code"], who
    wrong = code[:-1] + ("A" if code[-1] != "A" else "B")
    assert api.get(f"/dossiers/{wrong}/{path}", "off1").json["error"]["code"] == "bad_code"
    assert api.get(f"/dossiers/{code.replace('-0001', '-0099')}/{path}", "off1").status_code == 404


def test_a_language_the_receipt_has_not_is_refused(api):
    code = open_dossier(api)["code"]
    answer = api.get(f"/dossiers/{code}/receipt.pdf?lang=fr", "off1")
    assert answer.status_code == 400 and answer.json["error"]["code"] == "bad_lang"


def test_the_json_receipt_is_what_the_pdf_shows_and_no_personal_number(api):
    dossier = open_dossier(api)
    view = api.get(f"/dossiers/{dossier['code']}/receipt", "mgr1").json
    assert view["code"] == dossier["code"] and view["lookup_url"] == dossier["lookup_url"]
    assert view["check"] == dossier["check"] == check_character(dossier["code"])
    assert view["procedure"] == {"vi": "Đăng ký khai sinh", "en": "Birth registration"}
    assert view["receiving_branch"]["vi"] and view["return_branch"]["vi"] != view["receiving_branch"]["vi"]
    assert view["citizen_name"] == CITIZEN["name"] and view["officer"] == "off1"
    assert CITIZEN["id_number"] not in repr(view) and CITIZEN["phone"] not in repr(view)


def test_the_counter_prints_the_receipt_through_the_api(live_app, ptys, tmp_path, capsys):
    from motcua.hardware.receipt_cli import print_receipt

    code = requests.post(live_app.base + "/api/v1/dossiers", json={"procedure": "HT-KS", "citizen": CITIZEN},
                         headers={"Authorization": f"Bearer {live_app.tokens['off1']}"}, timeout=10).json()["code"]
    sim = PrinterSim(ptys[0], tmp_path / "out").start()
    try:
        assert print_receipt(live_app.base, code, ptys[1], username="off1", password=PASSWORD) == 0
        assert sim.wait_for(1, timeout=10), "no receipt came out"
    finally:
        sim.stop()
    assert f"printed the receipt of {code}" in capsys.readouterr().out
    [png] = sim.saved
    assert zbar(png) == f"{live_app.base}/d/{code}?check={check_character(code)}"
    OUTPUT.mkdir(exist_ok=True)
    shutil.copy(png, OUTPUT / "receipt-printed-via-api.png")
    # Another branch's officer is told why, and nothing is printed.
    assert print_receipt(live_app.base, code, ptys[1], username="off2", password=PASSWORD) == 3
    assert "403" in capsys.readouterr().out
    assert print_receipt(live_app.base, code[:-1] + "?", ptys[1], username="off1", password=PASSWORD) == 3
