"""Simulated counter display and call pad, on a serial port (a socat pty end, or any pyserial
URL): what tests and demos run against, and what a technician uses to check a line."""
from __future__ import annotations

import threading
import time

import serial

from .frames import Frame, FrameReader, encode


class DisplaySim:
    """A counter's number display: shows what `S` says, blinks on `B`, blanks on `C`."""

    def __init__(self, url: str, address: int, on_change=None) -> None:
        self.port = serial.serial_for_url(url, timeout=0.1)
        self.address = address
        self.text, self.blinking = "", False
        self.history: list[Frame] = []
        self.on_change = on_change or (lambda display: None)
        self._stop = threading.Event()

    def run(self) -> None:
        reader = FrameReader()
        while not self._stop.is_set():
            try:
                chunk = self.port.read(self.port.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError):  # TypeError: closed under our feet
                return
            for frame in reader.feed(chunk):
                if frame.address == self.address and frame.command in "SBC":
                    self.history.append(frame)
                    self.text = "" if frame.command == "C" else frame.data
                    self.blinking = frame.command == "B"
                    self.on_change(self)

    def start(self) -> "DisplaySim":
        threading.Thread(target=self.run, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.port.close()


class PadSim:
    """A counter's call pad: sends keys, hears the answers."""

    def __init__(self, url: str, address: int) -> None:
        self.port = serial.serial_for_url(url, timeout=0.1)
        self.address = address
        self.reader = FrameReader()

    def press(self, key: str, wait_s: float = 15.0) -> str | None:
        """Send a key; the answer (OK, NONE, ERR) or None if none came within wait_s."""
        self.port.write(encode(Frame(self.address, "K", key)))
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            for frame in self.reader.feed(self.port.read(self.port.in_waiting or 1)):
                if frame.address == self.address and frame.command == "A":
                    return frame.data
        return None

    def send_raw(self, data: bytes) -> None:
        """Bytes as a broken line might carry them."""
        self.port.write(data)

    def close(self) -> None:
        self.port.close()


def display_sim(port: str, address: int) -> int:
    """`motcua hw display-sim`: print what the display shows, as it changes."""
    def show(display: DisplaySim) -> None:
        state = "blinking" if display.blinking else "steady"
        print(f"display {display.address}: {display.text or '(blank)'} [{state}]", flush=True)

    sim = DisplaySim(port, address, on_change=show)
    try:
        sim.run()
    except KeyboardInterrupt:
        sim.stop()
    return 0


def pad_sim(port: str, address: int, keys: list[str] | None = None) -> int:
    """`motcua hw pad-sim`: press the given keys, or keys typed one per line (N, R, X, D, TB)."""
    pad = PadSim(port, address)
    source = keys if keys else (line.strip().upper() for line in iter(input, None))
    try:
        for key in source:
            if key:
                print(f"pad {address}: {key} → {pad.press(key) or 'no answer'}", flush=True)
    except (EOFError, KeyboardInterrupt):
        pass
    pad.close()
    return 0
