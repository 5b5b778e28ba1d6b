"""The command line as a technician uses it, and the demo as a visitor sees it."""
from __future__ import annotations

import subprocess
import sys
import time

import requests

from conftest import HOAN_KIEM, free_port, motcua


def run(*args, db):
    return subprocess.run([sys.executable, "-m", "motcua.cli", *args, "--db", str(db)],
                          capture_output=True, text=True, timeout=60)


def test_init_is_repeatable_and_devices_print_their_token_last(tmp_path):
    db = tmp_path / "m.db"
    assert "4 branches" in motcua("init", "--scenario", str(HOAN_KIEM), db=db)
    assert "4 branches" in motcua("init", "--scenario", str(HOAN_KIEM), db=db)  # upgrade in place
    out = motcua("device", "add", "--kind", "kiosk", "--branch", "hk-01", db=db)
    token = out.strip().splitlines()[-1]
    assert token.startswith("dev_") and len(token) > 30


def test_bad_input_is_a_clear_message_not_a_traceback(tmp_path):
    db = tmp_path / "m.db"
    motcua("init", "--scenario", str(HOAN_KIEM), db=db)
    cases = [
        (("device", "add", "--kind", "kiosk", "--branch", "nowhere"), "unknown branch"),
        (("user", "add", "--username", "a", "--password", "short", "--role", "officer", "--branch", "hk-01"),
         "at least 8"),
        (("user", "add", "--username", "a", "--password", "long-enough", "--role", "officer"), "--branch"),
        (("init", "--scenario", str(tmp_path / "missing.json")), "cannot read scenario"),
    ]
    for args, message in cases:
        done = run(*args, db=db)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_demo_serves_moving_queues(tmp_path):
    port = free_port()
    demo = subprocess.Popen([sys.executable, "-m", "motcua.cli", "demo", "--port", str(port), "--speed", "300",
                             "--duration", "60", "--db", str(tmp_path / "demo.db")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        api = f"http://127.0.0.1:{port}/api/v1"
        lines = []
        while not any("staff login" in line for line in lines):
            line = demo.stdout.readline()
            assert line, "demo ended early:\n" + "".join(lines)
            lines.append(line)
        assert any(f"{api}/branches/hk-01/state" in line for line in lines)
        deadline, called = time.monotonic() + 40, set()
        while time.monotonic() < deadline and len(called) < 5:
            for branch in ("hk-01", "hk-02", "hk-03", "hn-hq"):
                state = requests.get(f"{api}/branches/{branch}/state", timeout=5).json()
                called |= {c["ticket"] for c in state["recent_calls"]}
            time.sleep(0.5)
        assert len(called) >= 5, "the demo's counters called nobody"
    finally:
        demo.kill()
        demo.wait()
