"""A citizen's ID card (CCCD) scanned at the kiosk, for real: the Kivy app under Xvfb (tests/kiosk_driver.py) with
`[kiosk] card_scanner` on one end of a socat pty pair, the test as the scanner on the other end sending the card's
QR code as a line; a real server, the simulated printer. A citizen born in 1940 gets a priority ticket with no
question asked, one born in 1990 is asked as everyone; the counter learns whose ticket it is, and neither the
kiosk's screens nor the printed ticket show the ID number or the name."""
from __future__ import annotations

import pytest
import requests
import serial

from motcua.i18n import text

from test_kiosk import drive, printer, shot, zbar  # noqa: F401

ELDER = ("001040012345", "Trần Văn Bảy", "01011940")
YOUNGER = ("001090054321", "Lê Thị Hoa", "15031990")


def qr(id_number: str, name: str, born: str) -> str:
    return f"{id_number}||{name}|{born}|Nam|Số 5 Hàng Đào, Hoàn Kiếm, Hà Nội|10052021"


@pytest.mark.parametrize("citizen, priority", [(ELDER, True), (YOUNGER, False)])
def test_a_card_scanned_on_the_serial_line_makes_an_elderly_citizens_ticket_priority(
        fresh_server, printer, serial_pair, tmp_path, citizen, priority):  # noqa: F811
    sim, port = printer
    scanner = serial_pair("scanner")
    id_number, name, _ = citizen

    def on_event(message, proc):
        if message["event"] == "scan":       # the kiosk is home: the citizen holds the card to the scanner
            with serial.Serial(str(scanner.device), 9600) as line:
                line.write((qr(*citizen) + "\r\n").encode("utf-8"))
                line.flush()

    result = drive(fresh_server, "card", tmp_path, printer=port, service="cert", on_event=on_event,
                   suffix="-elder" if priority else "", **{"card-scanner": str(scanner.host)})
    ticket = result["ticket"]
    assert result["asked"] is not priority          # the card answered the question for the elderly citizen
    assert ticket["priority"] is priority
    assert text("vi", "kiosk.card_read") in result["card_texts"]
    assert (text("vi", "kiosk.card_priority") in result["card_texts"]) is priority
    held = fresh_server.get(f"/tickets/{ticket['id']}").json()
    assert held["priority"] is priority
    linked = requests.get(f"{fresh_server.api}/tickets/{ticket['id']}/card", headers=fresh_server.auth("off1"),
                          timeout=10)
    assert linked.status_code == 200, linked.text
    assert (linked.json()["id_number"], linked.json()["name"]) == (id_number, name)
    # What the public sees: the kiosk's screens, the printed ticket, the ticket's public view, the wall.
    seen = [*result["texts"], *result["card_texts"], repr(held),
            repr(fresh_server.get("/branches/hk-01/state").json())]
    assert not [s for s in seen if id_number in s or name in s]
    assert sim.wait_for(1, 15), "the printer got no ticket"
    assert zbar(sim.saved[0]) == ticket["status_url"]
    shot("ticket-card" + ("-elder" if priority else ""))


def test_a_scanner_typing_into_the_window_hands_on_only_a_cards_line():
    from motcua.kiosk.cardscan import KeyedScans

    scans = []
    keys = KeyedScans(scans.append)
    for typed in ("hello", qr(*ELDER)):       # stray keys, then a card, each ended with Enter
        for char in typed:
            keys.text(char)
        keys.enter()
    assert scans == [qr(*ELDER)]


def test_a_serial_scanner_hands_on_each_line_it_sends():
    from motcua.kiosk.cardscan import SerialScans

    class Line:
        """A scanner's line that sends two cards in pieces, CR LF and LF ended, then nothing."""

        def __init__(self):
            self.chunks = [qr(*ELDER).encode()[:10], qr(*ELDER).encode()[10:] + b"\r\n" + qr(*YOUNGER).encode(),
                           b"\n"]
            self.in_waiting = 0

        def read(self, size):
            if self.chunks:
                return self.chunks.pop(0)
            reader.stopped.set()
            return b""

    scans = []
    reader = SerialScans("loop://", scans.append)
    reader._read(Line())
    assert scans == [qr(*ELDER), qr(*YOUNGER)]
