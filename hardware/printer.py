"""The ticket printer driver: ESC/POS over any pyserial URL (/dev/ttyUSB0, socket://host:9100,
loop://), with a status check before and after every print and named errors.

Never hangs: each status byte is awaited at most `timeout_s`, writes at most
`write_timeout_s`. After a serial error the port is closed and reopened on the next call.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import serial

from motcua.hardware import escpos
from motcua.hardware.escpos import PrinterStatus
from motcua.hardware.ticket_layout import LayoutSettings, TicketData, ticket_bytes

from .serial_url import open_serial, split_address

__all__ = ["Printer", "PrinterStatus", "PrintResult", "PrinterError", "PaperOut", "PaperNearEnd",
           "CoverOpen", "PrinterOffline", "NoAnswer", "BadAnswer", "NotConnected", "BadUrl"]


class PrinterError(Exception):
    """A printer problem: `code` for programs, the message for people."""

    code = "printer_error"
    message = "printer error"

    def __init__(self, detail: str | None = None):
        self.detail = detail
        super().__init__(f"{self.message}: {detail}" if detail else self.message)


class PaperOut(PrinterError):
    code, message = "paper_out", "out of paper"


class PaperNearEnd(PrinterError):
    code, message = "paper_near_end", "paper roll near its end"


class CoverOpen(PrinterError):
    code, message = "cover_open", "printer cover open"


class PrinterOffline(PrinterError):
    code, message = "offline", "printer offline"


class NoAnswer(PrinterError):
    code, message = "no_answer", "no answer from the printer"


class BadAnswer(PrinterError):
    code, message = "bad_answer", "the printer's answer is not an ESC/POS status byte"


class NotConnected(PrinterError):
    code, message = "not_connected", "cannot open the printer port"


class BadUrl(PrinterError):
    code, message = "bad_url", "not a printer address pyserial understands"


@dataclass
class PrintResult:
    bytes_sent: int
    status_before: PrinterStatus | None = None
    status_after: PrinterStatus | None = None
    warnings: list[PrinterError] = field(default_factory=list)


def problems(status: PrinterStatus, strict: bool = False) -> list[PrinterError]:
    """The errors a status stands for, worst first; paper near end only when strict."""
    found: list[PrinterError] = []
    if status.cover_open:
        found.append(CoverOpen())
    if status.paper_out:
        found.append(PaperOut())
    if (status.offline or status.error) and not found:
        found.append(PrinterOffline())   # offline for a reason already named: name the reason
    if strict and status.paper_near_end:
        found.append(PaperNearEnd())
    return found


def warnings_of(status: PrinterStatus) -> list[PrinterError]:
    return [PaperNearEnd()] if status.paper_near_end else []


class Printer:
    """One ESC/POS printer. Thread-safe; usable as a context manager.

    check_status=False skips the DLE EOT checks, for printers wired to receive only.
    """

    def __init__(self, url: str, timeout_s: float = 2.0, settings: LayoutSettings | None = None,
                 write_timeout_s: float = 30.0, baudrate: int = 9600, check_status: bool = True):
        self.url = url
        self.timeout_s = timeout_s
        self.write_timeout_s = write_timeout_s
        self.baudrate = baudrate
        self.settings = settings or LayoutSettings()
        self.check_status = check_status
        self._port: serial.SerialBase | None = None
        self._lock = threading.RLock()

    # --- connection ---

    def open(self) -> "Printer":
        with self._lock:
            if self._port is None:
                try:
                    self._port = open_serial(self.url, self.baudrate, timeout=self.timeout_s,
                                             write_timeout=self.write_timeout_s)
                except ValueError as error:       # unknown scheme, malformed URL or setting
                    raise BadUrl(str(error)) from None
                except (serial.SerialException, OSError) as error:
                    raise NotConnected(str(error)) from None
            return self

    def close(self) -> None:
        with self._lock:
            if self._port is not None:
                try:
                    self._port.close()
                finally:
                    self._port = None

    def __enter__(self) -> "Printer":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    # --- status ---

    def status(self) -> PrinterStatus:
        """Ask DLE EOT 1, 2 and 4. Raises NoAnswer if a byte does not come within timeout_s."""
        with self._lock:
            printer, offline, paper = (self._ask(n) for n in
                                       (escpos.STATUS_PRINTER, escpos.STATUS_OFFLINE, escpos.STATUS_PAPER))
            return escpos.parse_status(printer, offline, paper)

    def require_ready(self, strict: bool = False) -> PrinterStatus:
        """The status, or the worst problem raised; strict also raises PaperNearEnd."""
        status = self.status()
        found = problems(status, strict)
        if found:
            raise found[0]
        return status

    def _ask(self, n: int) -> int:
        def exchange() -> bytes:
            # Drop stale bytes (a late answer to an earlier request) so this answer is ours.
            self._port.reset_input_buffer()
            self._port.write(escpos.status_request(n))
            self._port.flush()
            return self._port.read(1)

        answer = self._io(exchange)
        if not answer:
            raise NoAnswer(f"DLE EOT {n}: nothing within {self.timeout_s:g} s")
        if not escpos.is_status_byte(answer[0]):
            raise BadAnswer(f"DLE EOT {n}: 0x{answer[0]:02x}")
        return answer[0]

    # --- printing ---

    def print_ticket(self, ticket: TicketData, settings: LayoutSettings | None = None) -> PrintResult:
        """Print one queue ticket; see print_bytes."""
        return self.print_bytes(ticket_bytes(ticket, settings or self.settings))

    def print_bytes(self, data: bytes) -> PrintResult:
        """Check the printer, send data, check again.

        Raises CoverOpen, PaperOut, PrinterOffline, NoAnswer… before sending if the printer
        cannot print, and after sending if it stopped (the ticket may then be incomplete).
        Paper near end does not stop printing: it comes back in `warnings`.
        """
        with self._lock:
            result = PrintResult(bytes_sent=0)
            if self.check_status:
                result.status_before = self.require_ready()
            self._io(lambda: self._send(data))
            result.bytes_sent = len(data)
            if self.check_status:
                # DLE EOT is answered at once, so this sees the state when the data is sent.
                result.status_after = self.require_ready()
                result.warnings = warnings_of(result.status_after)
            return result

    def _send(self, data: bytes) -> None:
        # A slow line needs time in proportion: a raster ticket at 9,600 baud takes about a minute,
        # which must not pass for a printer that stopped taking data.
        _, baudrate = split_address(self.url, self.baudrate)
        line_s = len(data) * 10 / baudrate if "://" not in self.url else 0.0
        self._port.write_timeout = max(self.write_timeout_s, 1.5 * line_s + 5)
        self._port.write(data)
        self._port.flush()

    def _io(self, action):
        """Run action on the open port; a serial error closes it (reopened on the next call)."""
        self.open()
        try:
            return action()
        except serial.SerialTimeoutException:
            self.close()
            raise NoAnswer(f"the printer took no data for {self.write_timeout_s:g} s") from None
        except (serial.SerialException, OSError) as error:
            self.close()
            raise NotConnected(str(error)) from None
