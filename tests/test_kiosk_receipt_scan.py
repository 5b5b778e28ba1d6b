"""A dossier receipt's QR code scanned at the kiosk, for real: the Kivy app under Xvfb (tests/kiosk_driver.py) with
`[kiosk] card_scanner` on one end of a socat pty pair, the test as the scanner on the other end sending the lookup
link the receipt's QR code carries (`…/d/{code}?check={K}`, GET /dossiers/{code}/full's lookup_url) of a returned
dossier; the kiosk shows that dossier's lookup result as if its code had been typed, and one touch on "Đánh giá"
reaches the evaluation's first question. Then the link's parser alone, and the typing scanner's filter."""
from __future__ import annotations

import pytest
import requests
import serial

from motcua.core.dossier_codes import check_character
from motcua.core.evaluations import INDICATORS
from motcua.i18n import text
from motcua.kiosk.cardscan import KeyedScans
from motcua.kiosk.receiptscan import receipt_code

from test_kiosk import drive, shot
from test_kiosk_evaluation import RETURNED
from test_kiosk_lookup import opened

UNIT = "000.00.12.H29"


@pytest.mark.parametrize("where", ["home", "lookup_code"])
def test_a_receipts_qr_scanned_at_the_kiosk_shows_its_dossier_and_leads_to_the_evaluation(
        live_app, serial_pair, tmp_path, where):
    # hk-01 numbers its dossiers under its official unit code: the link carries the check beside the code.
    assert requests.patch(f"{live_app.api}/admin/branches/hk-01", json={"unit_code": UNIT},
                          headers=live_app.auth("admin"), timeout=10).status_code == 200
    code = opened(live_app, *RETURNED)["code"]
    link = requests.get(f"{live_app.api}/dossiers/{code}/full", headers=live_app.auth("off1"),
                        timeout=10).json()["lookup_url"]                      # what the receipt's QR holds
    assert code.startswith(UNIT) and link.endswith(f"/d/{code}?check={check_character(code)}")
    scanner = serial_pair("scanner")

    def on_event(message, proc):
        if message["event"] == "scan":          # the kiosk is home: the citizen holds the receipt to the scanner
            with serial.Serial(str(scanner.device), 9600) as line:
                line.write((link + "\r\n").encode("utf-8"))
                line.flush()

    suffix = "" if where == "home" else "-at-lookup"
    result = drive(live_app, "receipt_scan", tmp_path, suffix=suffix, on_event=on_event, where=where,
                   mistyped="K0", **{"card-scanner": str(scanner.host)})
    assert result["before"] == where
    assert result["found"] == code
    assert code in result["shown"]
    assert text("vi", "dossier.status.returned") in result["shown"]
    assert result["question"] == 0                   # one touch on "Đánh giá": the first question
    assert text("vi", f"evaluation.indicator.{INDICATORS[0]}") in result["asked"]
    shot("receipt-scan-result" + suffix)


def test_a_receipt_link_gives_the_code_with_its_check_glued_on_as_the_kiosk_types_it():
    official = "000.00.12.H29-261207-0003"
    glued = official + check_character(official)
    assert receipt_code(f"https://motcua.hanoi.gov.vn/d/{official}?check={check_character(official)}") == glued
    assert receipt_code(f"http://10.0.0.5:8080/d/{official}?check={check_character(official)}\r") == glued
    assert receipt_code(f"  HTTPS://MOTCUA.EXAMPLE/D/{official}?CHECK={check_character(official)}  \r\n") == glued
    assert receipt_code(f"https://motcua.example/d/{official.lower()}?check={check_character(official).lower()}") \
        == glued
    assert receipt_code(f"https://x.example/portal/d/{official}?lang=en&check={check_character(official)}") == glued
    assert receipt_code(f"https://x.example/d/{official}/?check={check_character(official)}#top") == glued
    made_before = "HK-01-261207-00027"                     # a code made before: its check its own, no param
    assert receipt_code(f"https://motcua.example/d/{made_before}") == made_before
    assert receipt_code(f"https://motcua.example/d/{made_before.lower()}?check=") == made_before
    for other in ("", "   ", "001040012345||Trần Văn Bảy|01011940|Nam|Hà Nội|10052021", "hello",
                  f"/d/{official}", f"ftp://x.example/d/{official}", "https://x.example/", "https://x.example/d/",
                  f"https://x.example/t/{made_before}", f"https://x.example/d/{official}/evaluation",
                  f"https://x.example/d/{official}?check=AB", "https://x.example/d/ab cd",
                  f"https://x.example/d/{official}?check=%", "https://x.example/d/%3Cscript%3E",
                  f"https://x.example/e/{official}?check=K"):
        assert receipt_code(other) is None, other


def test_a_scanner_typing_into_the_window_hands_on_a_receipt_link_too():
    scans = []
    keys = KeyedScans(scans.append)
    link = "https://motcua.example/d/HK-01-261207-00027"
    for typed in ("hello", link, "https://motcua.example/about"):   # stray keys, a receipt, another link
        for char in typed:
            keys.text(char)
        keys.enter()
    assert scans == [link]
