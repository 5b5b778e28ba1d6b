"""Command-line helpers for the ticket printer: a test print, the printer's status in words,
and the simulated printer. Each returns an exit code; `motcua hw …` wires them up, and
`python -m motcua.hardware.printer_cli` runs them on their own.

Exit codes: 0 done / ready, 1 the printer has a problem, 2 a bad printer address.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from motcua import i18n
from motcua.hardware.printer import BadUrl, Printer, PrinterError, problems
from motcua.hardware.printer_sim import STATES, PrinterSim
from motcua.hardware.ticket_layout import PAPER_WIDTHS, LayoutSettings, TicketData

SCENARIOS = Path(i18n.__file__).resolve().parent / "data" / "scenarios"
SAMPLE_SCENARIO = SCENARIOS / "single-branch.json"
SAMPLE_SERVICE = "cert"     # "Chứng thực"
SAMPLE_NUMBER = "B007"
SAMPLE_URL = "http://127.0.0.1:8080/t/sample-B007"
SAMPLE_CODE = "4821"


def sample_ticket(scenario: str | Path | None = None, service: str | None = None,
                  number: str = SAMPLE_NUMBER, issued_at: datetime | None = None) -> TicketData:
    """A ticket with real Vietnamese names: from the scenario's first branch when one is given
    (else the catalogue's generic centre name), and its service `service` (else "Chứng thực")."""
    data = json.loads(Path(scenario or SAMPLE_SCENARIO).read_text(encoding="utf-8"))
    services = {s["id"]: s["name"] for s in data["services"]}
    wanted = service or (SAMPLE_SERVICE if SAMPLE_SERVICE in services else next(iter(services)))
    if wanted not in services:
        raise KeyError(f"no service {wanted!r} in the scenario (it has {', '.join(services)})")
    branch = data["branches"][0]["name"] if scenario else i18n.both("ticket.sample_branch")
    return TicketData(branch=branch, service=services[wanted], number=number,
                      issued_at=issued_at or datetime.now().replace(second=0, microsecond=0),
                      people_ahead=5, wait_min=12, wait_range=(8, 17), status_url=SAMPLE_URL,
                      rating_code=SAMPLE_CODE)


def test_print(printer_url: str, *, paper: str = "80mm", text_mode: str = "raster", qr_mode: str = "native",
               code_page: int = 52, scenario: str | None = None, service: str | None = None,
               timeout_s: float = 2.0, out=None) -> int:
    """Print a sample ticket and say how it went."""
    out = out or sys.stdout
    try:
        ticket = sample_ticket(scenario, service)
        settings = LayoutSettings.for_paper(paper, text_mode=text_mode, qr_mode=qr_mode, code_page=code_page)
    except (OSError, KeyError, ValueError) as error:
        print(f"test-print: {error}", file=out)
        return 2
    return print_job(printer_url, settings, timeout_s, lambda printer: printer.print_ticket(ticket),
                     f"ticket {ticket.number}", out)


def print_job(printer_url: str, settings: LayoutSettings, timeout_s: float, send, what: str, out) -> int:
    """Open the printer, send(printer) one job, say how it went: the exit codes of this module."""
    try:
        with Printer(printer_url, timeout_s=timeout_s, settings=settings) as printer:
            result = send(printer)
    except BadUrl as error:
        print(f"{printer_url}: {error}", file=out)
        return 2
    except PrinterError as error:
        print(f"{printer_url}: not printed: {error}", file=out)
        return 1
    warning = "; ".join(str(w) for w in result.warnings)
    print(f"{printer_url}: printed {what} ({result.bytes_sent} bytes)" + (f", but {warning}" if warning else ""),
          file=out)
    return 0


test_print.__test__ = False   # the name starts with "test": keep pytest from collecting it


def status(printer_url: str, *, timeout_s: float = 2.0, out=None) -> int:
    """Print the printer's status in words: ok, paper near end, paper out, cover open,
    offline, no answer. Exit 0 when it can print (paper near end included), 1 when not."""
    out = out or sys.stdout
    try:
        with Printer(printer_url, timeout_s=timeout_s) as printer:
            state = printer.status()
    except BadUrl as error:
        print(f"{printer_url}: {error}", file=out)
        return 2
    except PrinterError as error:
        print(f"{printer_url}: {error.code.replace('_', ' ')} ({error})", file=out)
        return 1
    print(f"{printer_url}: {state.words}", file=out)
    return 1 if problems(state) else 0


def printer_sim(port: str, out_dir: str, *, state: str = "ok", count: int | None = None, paper: str = "80mm",
                cp1258_pages: tuple[int, ...] = (52,), out=None) -> int:
    """Run the simulated printer on port until Ctrl-C (or count tickets), saving PNGs in out_dir."""
    out = out or sys.stdout

    def say(message: str) -> None:
        print(message, file=out, flush=True)

    try:
        sim = PrinterSim(port, out_dir, state=state, width_dots=PAPER_WIDTHS[paper],
                         cp1258_pages=cp1258_pages, log=say).open()
    except (ValueError, KeyError) as error:
        say(f"printer-sim: {error}")
        return 2
    except OSError as error:    # serial.SerialException is an OSError
        say(f"printer-sim: cannot open {port}: {error}")
        return 1
    say(f"printer-sim: on {port}, state {state}, {paper} paper, tickets into {out_dir} (Ctrl-C stops)")
    try:
        sim.run(count)
    except KeyboardInterrupt:
        pass
    say(f"printer-sim: {len(sim.saved)} ticket(s)")
    return 0


# --- argparse ---------------------------------------------------------------------------

def add_arguments(test_print_parser: argparse.ArgumentParser, status_parser: argparse.ArgumentParser,
                  sim_parser: argparse.ArgumentParser) -> None:
    """Every argument of the three commands; each parser gets `run_printer_command(args) -> int`
    as a default, so the caller does `return args.run_printer_command(args)`."""
    for parser in (test_print_parser, status_parser):
        parser.add_argument("--printer", required=True, metavar="URL",
                            help="pyserial URL: /dev/ttyUSB0, socket://HOST:9100, loop://")
        parser.add_argument("--timeout", type=float, default=2.0, dest="timeout_s",
                            help="seconds to wait for each status byte (default 2)")
    test_print_parser.add_argument("--paper", choices=tuple(PAPER_WIDTHS), default="80mm")
    test_print_parser.add_argument("--text-mode", choices=("raster", "cp1258"), default="raster",
                                   help="text as images (default) or CP1258 code-page bytes")
    test_print_parser.add_argument("--qr-mode", choices=("native", "raster"), default="native",
                                   help="the printer's own QR command (default) or a QR image")
    test_print_parser.add_argument("--code-page", type=int, default=52,
                                   help="ESC t page of CP1258 on this printer (Epson 52; clones 27, 94 or 35)")
    test_print_parser.add_argument("--scenario", help="scenario JSON to take the branch and service names from")
    test_print_parser.add_argument("--service", help="service id in the scenario (default: cert)")
    sim_parser.add_argument("port", help="serial port or pyserial URL (e.g. one end of a socat pty pair)")
    sim_parser.add_argument("--out", required=True, dest="out_dir", help="folder for ticket-NNNN.png")
    sim_parser.add_argument("--state", choices=STATES, default="ok", help="what DLE EOT answers (default ok)")
    sim_parser.add_argument("--count", type=int, help="stop after this many tickets")
    sim_parser.add_argument("--paper", choices=tuple(PAPER_WIDTHS), default="80mm")
    sim_parser.add_argument("--cp1258-page", type=int, action="append", dest="cp1258_pages",
                            help="ESC t page decoded as CP1258 (repeatable; default 52)")
    test_print_parser.set_defaults(run_printer_command=lambda a: test_print(
        a.printer, paper=a.paper, text_mode=a.text_mode, qr_mode=a.qr_mode, code_page=a.code_page,
        scenario=a.scenario, service=a.service, timeout_s=a.timeout_s))
    status_parser.set_defaults(run_printer_command=lambda a: status(a.printer, timeout_s=a.timeout_s))
    sim_parser.set_defaults(run_printer_command=lambda a: printer_sim(
        a.port, a.out_dir, state=a.state, count=a.count, paper=a.paper, cp1258_pages=tuple(a.cp1258_pages or (52,))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m motcua.hardware.printer_cli",
                                     description="ESC/POS ticket printer tools")
    commands = parser.add_subparsers(dest="command", required=True)
    add_arguments(commands.add_parser("test-print", help="print a sample ticket"),
                  commands.add_parser("status", help="the printer's status in words"),
                  commands.add_parser("printer-sim", help="a simulated printer writing PNGs"))
    args = parser.parse_args(argv)
    return args.run_printer_command(args)


if __name__ == "__main__":
    sys.exit(main())
