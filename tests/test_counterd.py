"""Counter call pads and number displays: the frame format, a reader that survives anything,
and `motcua counterd` end to end through socat pty pairs against a real server."""
from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import serial
from hypothesis import given, settings
from hypothesis import strategies as st

from motcua.hardware import counterd
from motcua.hardware.device_sims import DisplaySim, PadSim
from motcua.hardware.frames import Frame, FrameError, FrameReader, crc16, encode

from conftest import PASSWORD


# ---- the frame ---------------------------------------------------------------------------------

def test_frames_are_the_documented_bytes():
    assert crc16(b"123456789") == 0x29B1  # CRC-16/CCITT-FALSE's check value
    assert encode(Frame(3, "S", "B007")) == b"\x02\x03S\x04B007\x1b\x4e\x03"   # from the bitwise definition
    body = bytes([3, ord("S"), 4]) + b"B007"
    check = crc16(body)
    assert encode(Frame(3, "S", "B007")) == b"\x02" + body + bytes([check >> 8, check & 0xFF]) + b"\x03"
    assert encode(Frame(0, "C")) == b"\x02\x00C\x00" + crc16(b"\x00C\x00").to_bytes(2, "big") + b"\x03"
    for bad in (Frame(248, "S", "1"), Frame(1, "SS", "1"), Frame(1, "1", ""), Frame(1, "S", "Số"),
                Frame(1, "S", "x" * 33), Frame(1, "S", "a\x02")):
        with pytest.raises(FrameError):
            encode(bad)


def test_reader_takes_frames_split_anywhere():
    stream = encode(Frame(1, "K", "N")) + encode(Frame(2, "K", "TB")) + encode(Frame(1, "A", "OK"))
    for cut in range(1, len(stream)):
        reader = FrameReader()
        assert reader.feed(stream[:cut]) + reader.feed(stream[cut:]) == [
            Frame(1, "K", "N"), Frame(2, "K", "TB"), Frame(1, "A", "OK")]


def test_a_half_frame_costs_only_itself():
    whole = encode(Frame(5, "K", "D"))
    reader = FrameReader()
    assert reader.feed(whole[:6] + whole + b"\xff\x02\x02" + whole) == [Frame(5, "K", "D"), Frame(5, "K", "D")]


FRAMES = st.builds(Frame, st.integers(0, 247), st.sampled_from("KASBC"),
                   st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=32))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=40), FRAMES), max_size=12), st.binary(max_size=40),
       st.lists(st.integers(1, 60), max_size=6))
def test_random_bytes_never_break_the_reader_and_valid_frames_are_still_found(pieces, tail, cuts):
    stream = b"".join(garbage + encode(frame) for garbage, frame in pieces) + tail
    reader = FrameReader()
    found, position = [], 0
    for size in cuts + [len(stream)]:  # arrive in arbitrary chunks
        found += reader.feed(stream[position:position + size])
        position += size
    found += reader.feed(stream[position:])
    wanted = [frame for _, frame in pieces]
    it = iter(found)
    assert all(any(frame == seen for seen in it) for frame in wanted), (wanted, found)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_pure_noise_never_crashes(noise):
    for frame in FrameReader().feed(noise):
        assert encode(frame) in noise  # anything found really was a whole, valid frame


# ---- a serial link lost by several threads at once ------------------------------------------

class FakePort:
    """A pyserial port that can be unplugged; closing it twice fails as os.close on a closed fd does."""

    def __init__(self, opened: list) -> None:
        self.unplugged, self.closes, self.written = False, 0, []
        self.in_waiting = 0
        opened.append(self)

    def read(self, size: int) -> bytes:
        if self.unplugged or self.closes:
            raise serial.SerialException("device reports readiness to read but returned no data")
        time.sleep(0.001)  # a real read waits for its timeout when nothing comes
        return b""

    def write(self, data: bytes) -> None:
        if self.unplugged or self.closes:
            raise OSError(errno.EIO, "Input/output error")
        self.written.append(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closes += 1
        if self.closes > 1:
            raise OSError(errno.EBADF, "Bad file descriptor")
        time.sleep(0.002)  # a real close takes a moment: room for another thread to try too


def test_a_port_lost_under_several_writers_is_closed_once_by_its_owner_and_reopened(monkeypatch):
    opened: list[FakePort] = []
    monkeypatch.setattr(counterd, "open_serial", lambda *args, **kwargs: FakePort(opened))
    link = counterd.SerialLink("/dev/fake", "display")
    reopened = threading.Event()
    link.on_open = lambda: len(opened) > 1 and reopened.set()
    failures, stop = [], threading.Event()

    def guarded(work):
        def run():
            try:
                while not stop.is_set():
                    work()
            except BaseException as error:  # noqa: BLE001  (a thread's death is what this test looks for)
                failures.append(error)
        return threading.Thread(target=run)

    owner = guarded(link.read)
    writers = [guarded(lambda: link.write(b"\x02frame\x03")) for _ in range(6)]
    owner.start()
    wait_for(lambda: opened, what="the owner to open the port")
    for writer in writers:
        writer.start()
    opened[0].unplugged = True
    assert reopened.wait(5), failures
    stop.set()
    for thread in [owner, *writers]:
        thread.join(5)
    assert failures == []
    assert [port.closes for port in opened[:-1]] == [1] * (len(opened) - 1)  # each lost port closed once
    assert opened[-1].closes == 0 and link.write(b"again") and opened[-1].written[-1] == b"again"


def test_a_write_before_the_owner_opened_the_port_says_so():
    link = counterd.SerialLink("/dev/nothing-here", "display")
    assert link.write(b"x") is False and not link.is_open


# ---- counterd through socat pty pairs ------------------------------------------------------

def wait_for(condition, seconds=8.0, what="condition", log: Path | None = None):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            tail = log.read_text()[-3000:] if log else ""
            raise AssertionError(f"timed out waiting for {what}\n--- counterd log ---\n{tail}")
        time.sleep(0.05)


def start_counterd(server, pad_line, display_line, log: Path, *options: str) -> subprocess.Popen:
    """`motcua counterd` for counter 2 of hk-01 as off1, its output in log."""
    return subprocess.Popen(
        [sys.executable, "-m", "motcua.cli", "counterd", "--server", server.base, "--branch", "hk-01",
         "--counter", "2", "--username", "off1", "--pad", str(pad_line.host), "--display", str(display_line.host),
         *options],
        env={**os.environ, "MOTCUA_PASSWORD": PASSWORD}, stdout=open(log, "w"), stderr=subprocess.STDOUT)


@pytest.fixture
def counter_rig(fresh_server, serial_pair, tmp_path):
    pad_line, display_line = serial_pair("pad"), serial_pair("display")
    display = DisplaySim(str(display_line.device), 2).start()
    pad = PadSim(str(pad_line.device), 2)
    daemon = start_counterd(fresh_server, pad_line, display_line, tmp_path / "counterd.log")
    rig = {"server": fresh_server, "pad": pad, "display": display, "pad_line": pad_line,
           "display_line": display_line, "log": tmp_path / "counterd.log"}
    try:
        # Up and answering (nobody waits yet). Keys sent before counterd opened its end are lost:
        # pyserial flushes input on open, as a real pad's presses are lost while nobody listens.
        wait_for(lambda: pad.press("N", wait_s=1) == "NONE", seconds=20, what="counterd to answer")
        yield rig
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)
        rig["display"].stop()
        rig["pad"].close()


def ticket_state(server, ticket_id):
    return server.get(f"/tickets/{ticket_id}").json()


def holder_of(server, counter: str) -> str | None:
    answer = requests.get(f"{server.api}/branches/hk-01/counters/{counter}", headers=server.auth("mgr1"), timeout=10)
    return answer.json()["holder"]


def test_counterd_takes_its_counter_and_another_officer_s_only_when_told_to(fresh_server, serial_pair, tmp_path):
    assert fresh_server.post("/branches/hk-01/counters/2/take", "mgr1", {}).ok   # someone works counter 2 already
    pad_line, display_line = serial_pair("pad"), serial_pair("display")
    display, pad = DisplaySim(str(display_line.device), 2).start(), PadSim(str(pad_line.device), 2)
    log = tmp_path / "counterd.log"
    try:
        daemon = start_counterd(fresh_server, pad_line, display_line, log)
        try:
            wait_for(lambda: pad.press("N", wait_s=1) == "ERR", seconds=20, what="counterd refused", log=log)
            wait_for(lambda: "counter 2 is worked by mgr1" in log.read_text(), what="the log naming the holder", log=log)
            assert holder_of(fresh_server, "2") == "mgr1"
        finally:
            daemon.terminate()
            daemon.wait(timeout=10)
        daemon = start_counterd(fresh_server, pad_line, display_line, log, "--take-over")
        try:
            wait_for(lambda: pad.press("N", wait_s=1) == "NONE", seconds=20, what="counterd taking over", log=log)
            assert holder_of(fresh_server, "2") == "off1" and "took counter 2 over from mgr1" in log.read_text()
            refused = fresh_server.post("/branches/hk-01/counters/2/next", "mgr1")
            assert (refused.status_code, refused.json()["error"]["details"]["holder"]) == (409, "off1")
        finally:
            daemon.terminate()
            daemon.wait(timeout=10)
    finally:
        display.stop()
        pad.close()


def test_keys_drive_the_counter_and_the_display_follows(counter_rig):
    server, pad, display = counter_rig["server"], counter_rig["pad"], counter_rig["display"]
    ticket = server.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).json()
    assert holder_of(server, "2") == "off1"      # counterd signed in at its counter: it is off1's
    assert pad.press("N") == "OK"
    wait_for(lambda: display.text == ticket["number"], what="the number on the display")
    assert ticket_state(server, ticket["id"])["status"] == "called"
    assert ticket_state(server, ticket["id"])["counter"] == "2"
    assert pad.press("R") == "OK"
    wait_for(lambda: display.blinking, what="blinking on recall")
    pad.send_raw(b"\x02\x02garbage\x02\x02\x10" + encode(Frame(2, "K", "D"))[:5])  # noise and a half frame
    assert pad.press("D") == "OK"
    assert ticket_state(server, ticket["id"])["status"] == "done"
    assert pad.press("N") == "NONE"
    # A call made elsewhere (an officer's screen) reaches the display too.
    other = server.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).json()
    server.post("/branches/hk-01/counters/2/next", "off1")
    wait_for(lambda: display.text == other["number"], what="a call made from the API")


def test_unplugged_cables_and_a_server_restart_are_survived(counter_rig):
    server, pad_line, display_line = counter_rig["server"], counter_rig["pad_line"], counter_rig["display_line"]
    first = server.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).json()
    counter_rig["pad"].close()
    pad_line.unplug()          # the pad's cable is pulled…
    pad_line.plug()            # …and put back
    pad = counter_rig["pad"] = PadSim(str(pad_line.device), 2)
    # Recall with nothing called changes nothing: a probe for when counterd hears the pad again.
    log = counter_rig["log"]
    wait_for(lambda: pad.press("R", wait_s=1) == "NONE", seconds=20, what="counterd to reopen the pad", log=log)
    assert pad.press("N") == "OK", log.read_text()[-3000:]
    counter_rig["display"].stop()
    display_line.unplug()      # the display's cable too
    display_line.plug()
    display = counter_rig["display"] = DisplaySim(str(display_line.device), 2).start()
    wait_for(lambda: display.text == first["number"], what="the display shown again after replugging", log=log)
    server.kill(signal.SIGKILL)
    server.start()
    second = server.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).json()
    assert pad.press("N", wait_s=20) == "OK", log.read_text()[-3000:]
    wait_for(lambda: display.text == second["number"], seconds=15, what="the display after a server restart", log=log)
    assert ticket_state(server, first["id"])["status"] == "done"
