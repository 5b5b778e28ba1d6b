"""A 2D scanner reading citizens' ID cards (CCCD) at the kiosk, as `[kiosk] card_scanner` names it: one that types
(keys into the kiosk's window, ending with Enter) or one on a serial line (a pyserial URL). Either hands each scanned
line to `on_scan`; the server reads the card, the kiosk never does. A dossier receipt's QR link is handed on too
(kiosk/receiptscan.py reads it). Nothing here imports Kivy: the app feeds the
keys it gets from its window.
"""
from __future__ import annotations

import logging
import re
import threading

from .receiptscan import receipt_code

log = logging.getLogger("motcua.kiosk")
KEYBOARD = "keyboard"
# What a card's code begins with (its ID number, then the first separator): other keys are nobody's scan.
CARD_START = re.compile(r"^[0-9]{12}\|")
MAX_LINE = 1024          # a card's code is far shorter: a line past it is noise, dropped
RETRY_S = (1, 2, 5, 10)  # waits before opening a serial line again after it failed


class KeyedScans:
    """Keys typed by a scanner into the window: the line so far, handed on at Enter when it is a card's start or a
    receipt's lookup link."""

    def __init__(self, on_scan) -> None:
        self.on_scan = on_scan
        self.typed = ""

    def text(self, text: str) -> None:
        self.typed = (self.typed + text)[-MAX_LINE:]

    def enter(self) -> None:
        line, self.typed = self.typed.strip(), ""
        if CARD_START.match(line) or receipt_code(line):
            self.on_scan(line)


class SerialScans:
    """A scanner on a serial line: each line it sends (CR, LF or both) handed on, read on a thread of its own,
    the line opened again when it fails (a scanner unplugged and plugged back)."""

    def __init__(self, address: str, on_scan) -> None:
        self.address, self.on_scan = address, on_scan
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="kiosk-card-scanner")

    def start(self) -> "SerialScans":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(3)

    def _run(self) -> None:
        from motcua.hardware.serial_url import open_serial   # noqa: PLC0415  (only a serial scanner needs pyserial)

        failures = 0
        while not self.stopped.is_set():
            try:
                line = open_serial(self.address, timeout=0.2)
            except Exception as error:  # noqa: BLE001  (a scanner not plugged in yet: tried again)
                log.warning("card scanner %s: %s", self.address, error)
                self.stopped.wait(RETRY_S[min(failures, len(RETRY_S) - 1)])
                failures += 1
                continue
            failures = 0
            try:
                self._read(line)
            except Exception as error:  # noqa: BLE001
                log.warning("card scanner %s: %s", self.address, error)
            finally:
                line.close()

    def _read(self, line) -> None:
        pending = b""
        while not self.stopped.is_set():
            pending += line.read(line.in_waiting or 1)
            *lines, pending = re.split(rb"[\r\n]", pending)
            pending = pending[-MAX_LINE:]
            for raw in lines:
                text = raw.decode("utf-8", errors="replace").strip()
                if text:
                    self.on_scan(text)
