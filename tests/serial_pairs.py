"""Serial cables for the hardware tests: two linked ptys from socat, the one way every test makes them.

.ci/run installs socat: a missing one is a failure, never a quiet skip.
"""
from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path


class SerialPair:
    """Two linked ptys at fixed paths (host end, device end), so that a replugged pair is the 'same cable'."""

    def __init__(self, folder: Path, name: str) -> None:
        self.host, self.device = folder / f"{name}-host", folder / f"{name}-device"
        self.proc = None
        self.plug()

    def plug(self) -> None:
        for link in (self.host, self.device):
            link.unlink(missing_ok=True)
        self.proc = subprocess.Popen(["socat", f"pty,raw,echo=0,link={self.host}",
                                      f"pty,raw,echo=0,link={self.device}"], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while not (self.host.exists() and self.device.exists()):
            assert self.proc.poll() is None and time.monotonic() < deadline, "socat made no ptys"
            time.sleep(0.01)

    def unplug(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=5)
