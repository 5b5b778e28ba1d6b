"""The serial frame spoken by counter number displays and call pads (one RS-485 line may carry
several of them).

    STX  ADDR  CMD  LEN  DATA…  CRC_HI  CRC_LO  ETX
    0x02 1 B   1 B  1 B  LEN B  CRC-16/CCITT-FALSE over ADDR..DATA   0x03

- ADDR: the device's address on the line, 1–247 (0 is "every device"); a counter's pad and
  display are set to the counter's number by default.
- CMD: one ASCII letter. To a display: `S` show DATA (the number called), `B` show DATA and
  blink (a recall), `C` clear. From a pad: `K` a key, DATA = `N` next, `R` recall, `X` no-show,
  `D` done, `T` + a service letter (transfer, e.g. `TB`). To a pad: `A` the answer to its last
  key, DATA = `OK`, `NONE` (nobody waiting), `ERR`.
- LEN: 0–32; DATA is printable ASCII (0x20–0x7E), so it never holds STX or ETX.
- CRC-16 makes a frame that garbage happens to fake very unlikely (2⁻¹⁶, and the ETX must be in
  place too). A reader that meets a bad frame drops its STX and looks again from the next byte:
  half frames, line noise and bytes from a device that was unplugged mid-frame cost nothing more
  than the frames they touched.
"""
from __future__ import annotations

import binascii
from dataclasses import dataclass

STX, ETX = 0x02, 0x03
MAX_DATA = 32
BROADCAST = 0
HEADER = 4          # STX ADDR CMD LEN
TRAILER = 3         # CRC CRC ETX


class FrameError(ValueError):
    """A frame that cannot be built (bad address, command or data)."""


@dataclass(frozen=True)
class Frame:
    address: int
    command: str
    data: str = ""


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF (check value of b"123456789": 0x29B1)."""
    return binascii.crc_hqx(data, 0xFFFF)


def encode(frame: Frame) -> bytes:
    if not 0 <= frame.address <= 247:
        raise FrameError(f"address {frame.address} is outside 0-247")
    if len(frame.command) != 1 or not frame.command.isascii() or not frame.command.isalpha():
        raise FrameError(f"command {frame.command!r} must be one ASCII letter")
    data = frame.data.encode("ascii", errors="strict") if frame.data.isascii() else None
    if data is None or len(data) > MAX_DATA or any(not 0x20 <= b <= 0x7E for b in data):
        raise FrameError(f"data {frame.data!r} must be at most {MAX_DATA} printable ASCII characters")
    body = bytes([frame.address, ord(frame.command), len(data)]) + data
    check = crc16(body)
    return bytes([STX]) + body + bytes([check >> 8, check & 0xFF, ETX])


class FrameReader:
    """Turns a byte stream, garbage and all, into the valid frames in it, in order."""

    def __init__(self, limit: int = 4096) -> None:
        self._buffer = bytearray()
        self._limit = limit

    def feed(self, chunk: bytes) -> list[Frame]:
        self._buffer += chunk
        frames = []
        while True:
            start = self._buffer.find(STX)
            if start < 0:
                self._buffer.clear()
                break
            del self._buffer[:start]
            outcome = self._frame_at_start()
            if outcome is None:  # not all there yet: wait for more bytes
                break
            if outcome is False:  # not a frame: look again from the next byte
                del self._buffer[:1]
                continue
            frame, size = outcome
            frames.append(frame)
            del self._buffer[:size]
        if len(self._buffer) > self._limit:  # a stream of nonsense must not grow without end
            del self._buffer[:-MAX_DATA - HEADER - TRAILER]
        return frames

    def _frame_at_start(self):
        """(frame, size) if the buffer starts with a valid frame, None if too short to tell, else False."""
        buffer = self._buffer
        if len(buffer) < HEADER:
            return None if len(buffer) < 3 or _plausible_command(buffer[2]) else False
        length = buffer[3]
        if buffer[1] > 247 or not _plausible_command(buffer[2]) or length > MAX_DATA:
            return False
        size = HEADER + length + TRAILER
        # Check what has come so far at once: a frame cut short by a newer one must not make
        # the reader wait, with the newer frame's bytes taken for its data.
        if any(not 0x20 <= b <= 0x7E for b in buffer[HEADER:min(len(buffer), HEADER + length)]):
            return False
        if len(buffer) < size:
            return None
        body, check = bytes(buffer[1:HEADER + length]), buffer[HEADER + length:HEADER + length + 2]
        if buffer[size - 1] != ETX or crc16(body) != (check[0] << 8 | check[1]):
            return False
        return Frame(body[0], chr(body[1]), body[3:].decode("ascii")), size


def _plausible_command(byte: int) -> bool:
    return 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A  # an ASCII letter

