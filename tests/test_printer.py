"""ESC/POS ticket printer: command bytes against the spec, the ticket's golden bytes, and the
driver against the simulated printer through a socat pty pair (PNG, QR decoded by zbarimg,
the number's pixels, every fault state, the CLI helpers).

Regenerate the golden file after a deliberate layout change (or a Pillow/FreeType upgrade):
MOTCUA_REGEN_GOLDEN=1 python -m pytest tests/test_printer.py -k golden
"""
from __future__ import annotations

import io
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from motcua import i18n
from motcua.hardware import escpos, printer_cli
from motcua.hardware.printer import (BadUrl, CoverOpen, NoAnswer, NotConnected, PaperNearEnd, PaperOut,
                                     Printer, PrinterOffline)
from motcua.hardware.printer_sim import EscPosParser, PrinterSim, SimulatedPrinter
from motcua.hardware.qr import qr_matrix
from motcua.hardware.ticket_layout import (LARGE, SMALL, BigText, LayoutSettings, Line, TextBlock, TicketData,
                                           block_image, matrix_image, ticket_blocks, ticket_bytes)

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "data" / "ticket-B007-raster.bin"
OUTPUT = ROOT / "test-output"
URL = "http://127.0.0.1:8080/t/sample-B007"

TICKET = TicketData(
    branch={"vi": "Trung tâm Phục vụ hành chính công", "en": "Public Administration Service Center"},
    service={"vi": "Chứng thực", "en": "Certification"},
    number="B007", issued_at=datetime(2025, 1, 6, 8, 15), people_ahead=5, wait_min=12, wait_range=(8, 17),
    status_url=URL, rating_code="4821")

# .ci/run installs socat and zbar-tools: a missing one is a failure, never a quiet skip.


# --- (a) bytes against the ESC/POS reference -------------------------------------------------

def test_simple_commands():
    assert escpos.initialize() == b"\x1b\x40"
    assert escpos.align("left") == b"\x1b\x61\x00"
    assert escpos.align("center") == b"\x1b\x61\x01"
    assert escpos.align("right") == b"\x1b\x61\x02"
    assert escpos.feed(3) == b"\x1b\x64\x03"
    assert escpos.feed_dots(24) == b"\x1b\x4a\x18"
    assert escpos.code_page(52) == b"\x1b\x74\x34"
    assert escpos.char_size(8, 8) == b"\x1d\x21\x77"
    assert escpos.char_size(1, 2) == b"\x1d\x21\x01"


def test_cut():
    assert escpos.cut() == b"\x1d\x56\x42\x00"          # function B: feed to the cutter, partial cut
    assert escpos.cut(5) == b"\x1d\x56\x42\x05"
    assert escpos.cut(0, full=True) == b"\x1d\x56\x41\x00"
    assert escpos.cut(None) == b"\x1d\x56\x01"          # function A: partial cut where the paper is


def test_native_qr_bytes():
    data = URL.encode()
    assert len(data) == 35
    expected = (b"\x1d\x28\x6b\x04\x00\x31\x41\x32\x00"         # fn 65: model 2
                b"\x1d\x28\x6b\x03\x00\x31\x43\x06"             # fn 67: module 6 dots
                b"\x1d\x28\x6b\x03\x00\x31\x45\x31"             # fn 69: error correction M
                b"\x1d\x28\x6b\x26\x00\x31\x50\x30" + data +    # fn 80: store, pL = 35 + 3 = 0x26
                b"\x1d\x28\x6b\x03\x00\x31\x51\x30")            # fn 81: print
    assert escpos.qr(URL, module_dots=6, error_level="M") == expected


def test_raster_8x2():
    image = Image.new("1", (8, 2), 1)                  # white
    for x in (0, 7):
        image.putpixel((x, 0), 0)                      # row 0: 1000 0001
    for x in range(2, 6):
        image.putpixel((x, 1), 0)                      # row 1: 0011 1100
    assert escpos.raster(image) == b"\x1d\x76\x30\x00" b"\x01\x00" b"\x02\x00" b"\x81\x3c"


def test_raster_pads_rows_with_white_and_splits_bands():
    image = Image.new("1", (10, 1), 0)                 # ten black dots: 1111 1111, 11 then 6 white
    assert escpos.raster(image) == b"\x1d\x76\x30\x00\x02\x00\x01\x00\xff\xc0"
    tall = Image.new("1", (8, 3), 0)
    assert escpos.raster(tall, band_rows=2) == (b"\x1d\x76\x30\x00\x01\x00\x02\x00\xff\xff"
                                                b"\x1d\x76\x30\x00\x01\x00\x01\x00\xff")


def test_status_requests_and_parsers():
    assert [escpos.status_request(n) for n in (1, 2, 4)] == [b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x04"]
    assert escpos.parse_status(0x12, 0x12, 0x12) == escpos.PrinterStatus()
    assert escpos.parse_printer_status(0x1A)["offline"]                  # bit 3
    assert escpos.parse_offline_cause(0x16)["cover_open"]                # bit 2
    assert escpos.parse_offline_cause(0x32)["paper_end_stop"]            # bit 5
    assert escpos.parse_paper_status(0x1E) == {"near_end": True, "paper_out": False}   # bits 2-3
    assert escpos.parse_paper_status(0x72) == {"near_end": False, "paper_out": True}   # bits 5-6
    assert escpos.parse_paper_status(0x7E) == {"near_end": True, "paper_out": True}
    cover = escpos.parse_status(0x1A, 0x16, 0x12)
    assert (cover.cover_open, cover.offline, cover.ready, cover.words) == (True, True, False, "cover open")
    near_end = escpos.parse_status(0x12, 0x12, 0x1E)
    assert (near_end.ready, near_end.words) == (True, "paper near end")
    for not_status in (0x00, 0xFF, 0x13, 0x92, ord("A")):
        with pytest.raises(ValueError):
            escpos.parse_paper_status(not_status)


def test_cp1258_keeps_tone_marks_and_round_trips_through_the_simulator():
    # ư is one CP1258 byte (0xFD); the tone marks follow as combining bytes: acute 0xEC, dot below 0xF2.
    encoded = escpos.encode_cp1258("Chứng thực")
    assert encoded == b"\x43\x68\xfd\xec\x6e\x67\x20\x74\x68\xfd\xf2\x63"
    assert escpos.encode_cp1258("Đất đai") == b"\xd0\xe2\xec\x74\x20\xf0\x61\x69"
    printer = SimulatedPrinter()
    printer.feed(escpos.initialize() + escpos.code_page(52) + encoded)
    assert printer.paper.line[0][0] == "Chứng thực"
    assert escpos.decode_cp1258(escpos.encode_cp1258("Trung tâm Phục vụ hành chính công, người, phút")) \
        == "Trung tâm Phục vụ hành chính công, người, phút"


# --- (a) the ticket ------------------------------------------------------------------------

def test_ticket_bytes_are_deterministic_and_match_the_golden_file():
    data = ticket_bytes(TICKET)
    assert data == ticket_bytes(TICKET)
    if os.environ.get("MOTCUA_REGEN_GOLDEN") or not GOLDEN.exists():
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_bytes(data)
        if not os.environ.get("MOTCUA_REGEN_GOLDEN"):
            pytest.fail(f"{GOLDEN} was missing and has been written: check it in")
    assert data == GOLDEN.read_bytes()


@pytest.mark.parametrize("level", "LMQH")
def test_a_qr_matrix_decodes_at_every_error_level(level, tmp_path):
    matrix = qr_matrix(URL, level, border=4)
    assert len(matrix) == len(qr_matrix(URL, level)) + 8 and not any(matrix[0])  # the quiet zone
    path = tmp_path / f"qr-{level}.png"
    matrix_image(matrix, 4, len(matrix) * 4).save(path)
    assert zbar(path) == URL


def test_ticket_structure():
    data = ticket_bytes(TICKET)
    assert data.startswith(escpos.initialize())
    assert data.endswith(escpos.cut())
    assert escpos.align("center") + escpos.qr(URL) + escpos.align("left") in data
    raster_qr = ticket_bytes(TICKET, LayoutSettings(qr_mode="raster"))
    assert b"\x1d(k" not in raster_qr and URL.encode() not in raster_qr
    cp1258 = ticket_bytes(TICKET, LayoutSettings(text_mode="cp1258", code_page=27))
    assert cp1258.startswith(escpos.initialize() + escpos.code_page(27))
    assert escpos.encode_cp1258("Chứng thực") in cp1258
    assert len(cp1258) < len(data) / 20          # the point of code-page text: few bytes


def code_block(code: str, first: str = "vi", then: str = "en") -> TextBlock:
    """The rating code as the ticket prints it: in the citizen's language, large and bold, then the other."""
    return TextBlock((Line(i18n.text(first, "ticket.rating_code", code=code), LARGE, True),
                      Line(i18n.text(then, "ticket.rating_code", code=code), SMALL)))


def test_the_ticket_prints_its_rating_code_for_its_holder_alone():
    settings = LayoutSettings()
    assert escpos.raster(block_image(code_block("4821"), settings)) in ticket_bytes(TICKET)
    english = ticket_bytes(replace(TICKET, lang="en"))
    assert escpos.raster(block_image(code_block("4821", "en", "vi"), settings)) in english
    cp1258 = ticket_bytes(TICKET, LayoutSettings(text_mode="cp1258"))
    assert escpos.encode_cp1258(i18n.text("vi", "ticket.rating_code", code="4821")) in cp1258
    # A ticket without a code (an old ticket) prints none, and says nothing of one.
    without = ticket_bytes(replace(TICKET, rating_code=None), LayoutSettings(text_mode="cp1258"))
    assert escpos.encode_cp1258(i18n.text("vi", "ticket.rating_code", code="")) not in without


def test_ticket_text_follows_the_language():
    english_first = replace(TICKET, lang="en", people_ahead=0, wait_min=0)
    texts = [line.text for block in ticket_blocks(english_first) for line in getattr(block, "lines", ())]
    assert texts[texts.index("Certification") + 1] == "Chứng thực"
    assert "You are next" in texts and "Your turn is coming soon" in texts


# --- (a) the simulator on its own ------------------------------------------------------------

def test_simulator_survives_garbage_and_split_reads():
    clean = SimulatedPrinter()
    clean.feed(ticket_bytes(TICKET))
    [expected] = clean.tickets
    hostile = (b"\x1b\x7e\x01"                          # unknown ESC command
               b"\x1d\x28\x6b\xff\xff\x31"             # GS ( k announcing 65,535 bytes: not a QR store
               b"\x1d\x76\x30\x09\xff\xff\xff\xff"     # GS v 0 with an impossible mode and size
               b"\x10\x04\x09\x00\x01\x02\x1c\x1b")    # DLE EOT 9, control bytes, FS, a lone ESC
    garbage = random.Random(5).randbytes(3000)
    printer = SimulatedPrinter()
    # The garbage prints as garbage (a printer would too) up to the cut; the ticket after it is whole.
    stream = hostile + garbage + escpos.cut() + ticket_bytes(TICKET)
    rng, pos = random.Random(7), 0
    while pos < len(stream):                          # arrive in reads of 1 to 700 bytes
        step = rng.randint(1, 700)
        printer.feed(stream[pos:pos + step])
        pos += step
    assert printer.skipped > 0
    assert printer.tickets and printer.tickets[-1].tobytes() == expected.tobytes()


def test_simulator_answers_status_from_its_state():
    printer = SimulatedPrinter(state="cover_open")
    assert printer.feed(b"\x10\x04\x01\x10\x04\x02\x10\x04\x04") == b"\x1a\x16\x12"
    printer.state = "silent"
    assert printer.feed(b"\x10\x04\x01") == b""
    parser = EscPosParser()
    assert parser.feed(b"\x1d\x76\x30\x00\x01\x00\x02") == []     # header incomplete: waits
    assert [c.name for c in parser.feed(b"\x00\x81\x3c\n")] == ["raster", "lf"]


# --- (b) end to end through a socat pty pair -----------------------------------------------------

@pytest.fixture
def ptys(serial_pair):
    """Two linked ptys: (simulator end, driver end)."""
    line = serial_pair("printer")
    return [str(line.device), str(line.host)]


@pytest.fixture
def start_sim(ptys, tmp_path):
    """Starts the simulated printer; its port is open before the driver's (opening flushes input)."""
    started = []

    def start(**options) -> PrinterSim:
        started.append(PrinterSim(ptys[0], tmp_path / "tickets", **options).start())
        return started[-1]

    yield start
    for simulator in started:
        simulator.stop()


@pytest.fixture
def sim(start_sim):
    return start_sim()


@pytest.fixture
def driver_url(ptys):
    return ptys[1]


def zbar(path: Path) -> str:
    done = subprocess.run(["zbarimg", "--raw", "-q", str(path)], capture_output=True, text=True, timeout=10)
    return done.stdout.strip()


def find_rows(page: Image.Image, block: Image.Image) -> int | None:
    """The row where block appears in page pixel for pixel (same width), or None."""
    page_dots, block_dots = np.array(page.convert("1")), np.array(block.convert("1"))
    assert page_dots.shape[1] == block_dots.shape[1]
    for top in range(page_dots.shape[0] - block_dots.shape[0] + 1):
        if np.array_equal(page_dots[top:top + block_dots.shape[0]], block_dots):
            return top
    return None


@pytest.mark.parametrize("paper, qr_mode", [("80mm", "native"), ("80mm", "raster"), ("58mm", "native")])
def test_ticket_end_to_end(start_sim, driver_url, paper, qr_mode):
    settings = LayoutSettings.for_paper(paper, qr_mode=qr_mode)
    sim = start_sim(width_dots=settings.width_dots)
    with Printer(driver_url, timeout_s=2.0, settings=settings) as printer:
        result = printer.print_ticket(TICKET)
    assert result.warnings == [] and result.status_after.words == "ok"
    assert sim.wait_for(1, timeout=10), "no ticket PNG"
    [png] = sim.saved
    assert png.name == "ticket-0001.png"
    assert zbar(png) == URL
    page = Image.open(png)
    number = next(b for b in ticket_blocks(TICKET, settings) if isinstance(b, BigText))
    assert find_rows(page, block_image(number, settings)) is not None, "the number is not on the ticket"
    assert find_rows(page, block_image(code_block("4821"), settings)) is not None, "the rating code is not on it"
    OUTPUT.mkdir(exist_ok=True)
    if qr_mode == "native":
        shutil.copy(png, OUTPUT / ("ticket-B007.png" if paper == "80mm" else f"ticket-B007-{paper}.png"))


def test_two_tickets_make_two_files_and_reconnect_after_a_serial_error(sim, driver_url):
    with Printer(driver_url, timeout_s=2.0) as printer:
        printer.print_ticket(TICKET)
        printer._port.close()                            # the port breaks under the driver
        with pytest.raises(NotConnected):
            printer.status()
        assert printer.status().ready                    # the next call reopens it
        printer.print_ticket(TICKET, LayoutSettings(text_mode="cp1258"))
    assert sim.wait_for(2, timeout=10)
    assert [p.name for p in sim.saved] == ["ticket-0001.png", "ticket-0002.png"]


# --- (c) fault states -----------------------------------------------------------------------

@pytest.mark.parametrize("state, error", [("paper_out", PaperOut), ("cover_open", CoverOpen),
                                          ("offline", PrinterOffline), ("silent", NoAnswer)])
def test_fault_states_raise_their_error_and_print_nothing(sim, driver_url, state, error):
    sim.state = state
    timeout = 0.5
    started = time.monotonic()
    with Printer(driver_url, timeout_s=timeout) as printer, pytest.raises(error) as raised:
        printer.print_ticket(TICKET)
    assert time.monotonic() - started < timeout + 1.5     # never hangs
    assert raised.value.code == state.replace("silent", "no_answer")
    assert str(raised.value)
    time.sleep(0.2)
    assert sim.saved == [] and sim.printer.tickets == []


def test_paper_near_end_is_a_warning_that_still_prints(sim, driver_url):
    sim.state = "paper_near_end"
    with Printer(driver_url, timeout_s=1.0) as printer:
        result = printer.print_ticket(TICKET)
        assert [type(w) for w in result.warnings] == [PaperNearEnd]
        assert printer.require_ready().paper_near_end
        with pytest.raises(PaperNearEnd):
            printer.require_ready(strict=True)
    assert sim.wait_for(1, timeout=10)


def test_bad_url_and_missing_port():
    with pytest.raises(BadUrl):
        Printer("nosuchscheme://x").status()
    with pytest.raises(NotConnected):
        Printer("/dev/does-not-exist-motcua").status()


# --- (d) the CLI helpers ------------------------------------------------------------------------

def test_cli_status_and_test_print(sim, driver_url):
    out = io.StringIO()
    assert printer_cli.status(driver_url, out=out) == 0
    assert out.getvalue().strip() == f"{driver_url}: ok"
    out = io.StringIO()
    assert printer_cli.test_print(driver_url, out=out) == 0
    assert "printed ticket B007" in out.getvalue()
    assert sim.wait_for(1, timeout=10)
    for state, words, code in [("paper_near_end", "paper near end", 0), ("paper_out", "paper out", 1),
                               ("cover_open", "cover open", 1), ("offline", "offline", 1),
                               ("silent", "no answer", 1)]:
        sim.state = state
        out = io.StringIO()
        assert printer_cli.status(driver_url, timeout_s=0.3, out=out) == code, state
        assert words in out.getvalue()
    out = io.StringIO()
    assert printer_cli.test_print(driver_url, timeout_s=0.3, out=out) == 1
    assert "not printed: no answer" in out.getvalue()
    assert printer_cli.status("nosuchscheme://x", out=io.StringIO()) == 2


def test_cli_module_runs_the_simulator_and_a_test_print(ptys, tmp_path):
    sim = subprocess.Popen([sys.executable, "-m", "motcua.cli", "hw", "printer-sim", ptys[0],
                            "--out", str(tmp_path), "--count", "1", "--paper", "58mm"],
                           stdout=subprocess.PIPE, text=True)
    try:
        assert "printer-sim: on" in sim.stdout.readline()        # its port is open
        done = subprocess.run([sys.executable, "-m", "motcua.cli", "hw", "test-print",
                               "--printer", ptys[1], "--paper", "58mm", "--scenario",
                               str(ROOT / "server" / "data" / "scenarios" / "hoan-kiem.json"), "--service", "land"],
                              capture_output=True, text=True, timeout=20)
        assert done.returncode == 0, done.stdout + done.stderr
        assert sim.wait(10) == 0
    finally:
        sim.kill() if sim.poll() is None else None
    png = tmp_path / "ticket-0001.png"
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True).stdout.strip()
    assert "/t/" in decoded


def test_a_baud_rate_on_a_device_path_is_read_not_taken_for_a_file_name():
    from motcua.hardware.serial_url import split_address

    assert split_address("/dev/ttyUSB0?baudrate=19200") == ("/dev/ttyUSB0", 19200)
    assert split_address("/dev/ttyUSB0") == ("/dev/ttyUSB0", 9600)
    assert split_address("socket://10.0.0.5:9100") == ("socket://10.0.0.5:9100", 9600)
    assert split_address("loop://?logging=debug") == ("loop://?logging=debug", 9600)  # pyserial's own
    with pytest.raises(ValueError):
        split_address("/dev/ttyS0?baudrate=fast")


def test_printing_through_a_pty_with_a_baud_rate_in_its_address(sim, driver_url):
    with Printer(driver_url + "?baudrate=19200") as printer:
        assert printer.print_ticket(TICKET).bytes_sent > 0
    assert sim.wait_for(1, 10)
