"""Kiosk touch → ticket fully written to the printer port, at 19,200 baud.

Starts `motcua serve` on a fresh database, the simulated printer on a socat pty pair, and the real
Kivy kiosk under Xvfb (tests/kiosk_driver.py, scenario `bench`). The driver touches a service,
then "yes, priority" (priority tickets are never offered another branch, so every touch prints at
once), waits for the print result and touches "Done"; N times. The driver stamps the finger lifting
off "yes"; this process stamps the last byte of each ticket arriving at the simulator (the cut).
Both clocks are this machine's wall clock.

A pty moves bytes at memory speed whatever its baud rate, so the wall time is what the software
costs; the same bytes on a real 19,200-baud line take bytes × 10 / 19,200 s (8N1: 10 bits a byte),
printed alongside. The printer port is opened at 19,200 baud (the driver builds the Printer with
baudrate=19200: pyserial does not read `?baudrate=` on a device path). One run per [kiosk]
printer_text: `raster` (the text drawn as pictures) and `cp1258` (the printer's own font).

    python bench/kiosk.py [--tickets 50] [--printer-text raster cp1258]
"""
from __future__ import annotations

import argparse
import json
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from display_latency import wait_healthy  # noqa: E402
from load import free_port, percentile, start_motcua  # noqa: E402

from motcua.hardware.printer_sim import PrinterSim  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DRIVER = ROOT / "tests" / "kiosk_driver.py"
BAUD = 19200
BITS_PER_BYTE = 10


class TimedPrinterSim(PrinterSim):
    """The simulator, noting when each ticket's last byte arrived and how many bytes it took."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.done_at: list[float] = []
        self.sizes: list[int] = []
        self._bytes = 0

    def _handle(self, data: bytes) -> None:
        arrived = time.time()
        self._bytes += len(data)
        before = len(self.printer.tickets)
        super()._handle(data)
        if len(self.printer.tickets) > before:          # this chunk held the cut: the ticket is complete
            self.done_at.append(arrived)
            self.sizes.append(self._bytes)
            self._bytes = 0


def socat_pair() -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen(["socat", "-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"], stderr=subprocess.PIPE,
                            text=True)
    paths: list[str] = []
    while len(paths) < 2:
        line = proc.stderr.readline()
        if not line:
            raise RuntimeError("socat made no ptys")
        if match := re.search(r"PTY is (\S+)", line):
            paths.append(match.group(1))
    return proc, paths


def run_kiosk(base: str, token: str, port: str, tickets: int, text_mode: str) -> list[float]:
    command = ["xvfb-run", "-a", "-s", "-screen 0 1080x1920x24", sys.executable, str(DRIVER), "--server", base,
               "--token", token, "--printer", port, "--baudrate", str(BAUD), "--printer-text", text_mode,
               "--scenario", "bench", "--count", str(tickets), "--service", "cert", "--shots", tempfile.gettempdir()]
    print("$", shlex.join(command))
    done = subprocess.run(command, capture_output=True, text=True, timeout=60 + tickets * 10)
    for line in done.stdout.splitlines():
        if line.startswith("KIOSK-DRIVER "):
            outcome = json.loads(line[len("KIOSK-DRIVER "):])
            if "result" in outcome:
                return outcome["result"]["touched"]
            raise RuntimeError(outcome.get("error"))
    raise RuntimeError("the kiosk driver gave no result:\n" + done.stderr[-3000:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=50)
    parser.add_argument("--printer-text", nargs="+", default=["raster", "cp1258"], choices=("raster", "cp1258"),
                        help="the kiosk's [kiosk] printer_text: one run each")
    args = parser.parse_args()
    print("$ python bench/kiosk.py --tickets", args.tickets, "--printer-text", *args.printer_text)
    for text_mode in args.printer_text:
        print(f"\n== printer_text = {text_mode}")
        bench(args.tickets, text_mode)


def bench(tickets: int, text_mode: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        socat, (sim_end, kiosk_end) = socat_pair()
        sim = TimedPrinterSim(sim_end, Path(folder) / "tickets").start()
        port = free_port()
        server, token = start_motcua(Path(folder), port)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base)
            touched = run_kiosk(base, token, kiosk_end, tickets, text_mode)
            sim.wait_for(tickets, timeout=10)
        finally:
            server.terminate()
            server.wait(timeout=10)
            sim.stop()
            socat.terminate()
    count = min(len(touched), len(sim.done_at))
    wall = [(sim.done_at[i] - touched[i]) * 1000 for i in range(count)]
    wire = [size * BITS_PER_BYTE / BAUD * 1000 for size in sim.sizes[:count]]
    total = [w + l for w, l in zip(wall, wire)]
    print(f"{count} tickets; bytes per ticket: p50 {percentile(sim.sizes, 0.5)}  max {max(sim.sizes)}")
    for name, values in (("touch → last byte written (pty, wall clock)", wall),
                         (f"those bytes on a real {BAUD}-baud line (bytes × 10 / {BAUD})", wire),
                         ("sum: expected on a real 19,200-baud printer", total)):
        print(f"  {name} (ms):")
        print(f"    p50 {percentile(values, 0.5):.0f}   p99 {percentile(values, 0.99):.0f}   max {max(values):.0f}"
              f"   mean {statistics.fmean(values):.0f}")


if __name__ == "__main__":
    main()
