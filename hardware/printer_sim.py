"""A simulated ESC/POS receipt printer: reads the byte stream from a serial port (a socat pty,
or any pyserial URL), answers DLE EOT status requests from a chosen state, and writes what it
would have printed, at every cut, as a PNG (white paper, black dots): ticket-0001.png, …

Three layers: `EscPosParser` splits bytes into commands (pure), `SimulatedPrinter` applies
them to paper and answers status requests (pure), `PrinterSim` moves bytes between a serial
port and the printer and saves the tickets.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import serial
from PIL import Image, ImageDraw

from motcua.hardware import escpos
from motcua.hardware.qr import qr_matrix
from motcua.hardware.ticket_layout import font, matrix_image

# Status answers (DLE EOT 1, 2, 4) per state; bits as in escpos' parsers. Missing: no answer.
OK_BYTE = escpos.STATUS_FIXED_BITS
STATE_ANSWERS: dict[str, dict[int, int]] = {
    "ok": {1: OK_BYTE, 2: OK_BYTE, 3: OK_BYTE, 4: OK_BYTE},
    "paper_near_end": {1: OK_BYTE, 2: OK_BYTE, 3: OK_BYTE, 4: OK_BYTE | 0x0C},
    "paper_out": {1: OK_BYTE | 0x08, 2: OK_BYTE | 0x20, 3: OK_BYTE, 4: OK_BYTE | 0x0C | 0x60},
    "cover_open": {1: OK_BYTE | 0x08, 2: OK_BYTE | 0x04, 3: OK_BYTE, 4: OK_BYTE},
    "offline": {1: OK_BYTE | 0x08, 2: OK_BYTE, 3: OK_BYTE, 4: OK_BYTE},
    "silent": {},
}
STATES = tuple(STATE_ANSWERS)
# In these states a real printer stops printing; the simulator drops what it is sent.
NOT_PRINTING = {"paper_out", "cover_open", "offline"}

LINE_DOTS = 30          # default line spacing (ESC 2): 1/6 inch
CHAR_HEIGHT = 24        # font A cell height
TEXT_FONT_SIZE = 20     # DejaVu size that fills a 12 x 24 cell about as font A does
PAPER_MARGIN = 16       # white above and below each saved ticket
LINGER_S = 0.3          # quiet time before stopping after the last of `count` tickets

# Commands with a fixed number of parameter bytes that the simulator ignores.
ESC_IGNORED = {ord(c): n for c, n in {"-": 1, "2": 0, "3": 1, "M": 1, "G": 1, "R": 1, "{": 1, "V": 1,
                                       " ": 1, "U": 1, "c": 2, "$": 2, "\\": 2, "p": 3, "B": 2,
                                       "=": 1, "r": 1, "%": 1, "?": 1, "L": 0, "S": 0, "T": 1}.items()}
GS_IGNORED = {ord(c): n for c, n in {"B": 1, "H": 1, "f": 1, "h": 1, "w": 1, "a": 1, "r": 1, "b": 1,
                                      "I": 1, "L": 2, "W": 2, "$": 2, "P": 2, "\\": 2, "T": 1}.items()}
MAX_RASTER_WIDTH_BYTES = 128
MAX_RASTER_ROWS = 4095
MAX_GS_PAREN_LENGTH = 8192   # a QR store holds at most 7089 bytes


# --- Parsing -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Command:
    name: str           # init, align, bold, size, mode, code_page, lf, feed_lines, feed_dots, text,
                        # raster, qr, cut, status, skip
    args: tuple = ()


class EscPosParser:
    """Splits an ESC/POS byte stream into Commands. A command cut across two reads waits for
    the rest; unknown commands and stray bytes become `skip` so the stream stays in step."""

    def __init__(self):
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[Command]:
        self.buffer += data
        commands, pos = [], 0
        while pos < len(self.buffer):
            parsed = self._one(pos)
            if parsed is None:      # incomplete: wait for more bytes
                break
            command, pos = parsed
            commands.append(command)
        del self.buffer[:pos]
        return commands

    def _one(self, pos: int) -> tuple[Command, int] | None:
        buf, byte = self.buffer, self.buffer[pos]
        if byte == 0x0A:
            return Command("lf"), pos + 1
        if byte >= 0x20 and byte != 0x7F:
            end = pos
            while end < len(buf) and buf[end] >= 0x20 and buf[end] != 0x7F:
                end += 1
            return Command("text", (bytes(buf[pos:end]),)), end
        if byte == 0x1B:
            return self._esc(pos)
        if byte == 0x1D:
            return self._gs(pos)
        if byte == 0x10:
            return self._dle(pos)
        return Command("skip", (bytes([byte]),)), pos + 1

    def _need(self, pos: int, count: int) -> bool:
        return pos + count <= len(self.buffer)

    def _unknown(self, pos: int) -> tuple[Command, int]:
        # If the byte after the prefix starts a command itself, skip only the prefix.
        follower = self.buffer[pos + 1]
        step = 1 if follower in (0x1B, 0x1D, 0x1C, 0x10) else 2
        return Command("skip", (bytes(self.buffer[pos:pos + step]),)), pos + step

    def _esc(self, pos: int):
        if not self._need(pos, 2):
            return None
        op = chr(self.buffer[pos + 1])
        if op == "@":
            return Command("init"), pos + 2
        simple = {"a": "align", "E": "bold", "t": "code_page", "d": "feed_lines", "J": "feed_dots", "!": "mode"}
        if op in simple:
            if not self._need(pos, 3):
                return None
            return Command(simple[op], (self.buffer[pos + 2],)), pos + 3
        if op == "*":   # ESC * m nL nH d…: column bit image, skipped
            if not self._need(pos, 5):
                return None
            m, columns = self.buffer[pos + 2], self.buffer[pos + 3] | self.buffer[pos + 4] << 8
            end = pos + 5 + columns * (1 if m in (0, 1) else 3)
            return (Command("skip", (b"ESC *",)), end) if self._need(end, 0) else None
        if ord(op) in ESC_IGNORED:
            end = pos + 2 + ESC_IGNORED[ord(op)]
            return (Command("skip", (bytes(self.buffer[pos:end]),)), end) if self._need(end, 0) else None
        return self._unknown(pos)

    def _gs(self, pos: int):
        if not self._need(pos, 2):
            return None
        op = chr(self.buffer[pos + 1])
        if op == "v":
            return self._raster(pos)
        if op == "(":
            return self._paren(pos)
        if op == "V":
            if not self._need(pos, 3):
                return None
            m = self.buffer[pos + 2]
            if m in (0, 1, 48, 49):
                return Command("cut", (m,)), pos + 3
            if m in (65, 66, 97, 98, 103, 104):
                return (Command("cut", (m,)), pos + 4) if self._need(pos, 4) else None
            return self._unknown(pos)
        if op == "!":
            return (Command("size", (self.buffer[pos + 2],)), pos + 3) if self._need(pos, 3) else None
        if ord(op) in GS_IGNORED:
            end = pos + 2 + GS_IGNORED[ord(op)]
            return (Command("skip", (bytes(self.buffer[pos:end]),)), end) if self._need(end, 0) else None
        return self._unknown(pos)

    def _raster(self, pos: int):
        """GS v 0 m xL xH yL yH d1…dk, k = x * y."""
        if not self._need(pos, 8):
            return None
        b = self.buffer
        m, width, rows = b[pos + 3], b[pos + 4] | b[pos + 5] << 8, b[pos + 6] | b[pos + 7] << 8
        if b[pos + 2] != 0x30 or m not in (0, 1, 2, 3, 48, 49, 50, 51) \
                or not 0 < width <= MAX_RASTER_WIDTH_BYTES or not 0 < rows <= MAX_RASTER_ROWS:
            return self._unknown(pos)   # garbage: a real header has these ranges
        end = pos + 8 + width * rows
        if not self._need(end, 0):
            return None
        return Command("raster", (m & 3, width, rows, bytes(b[pos + 8:end]))), end

    def _paren(self, pos: int):
        """GS ( x pL pH …: every function of this family carries its own length."""
        if not self._need(pos, 5):
            return None
        b = self.buffer
        length = b[pos + 3] | b[pos + 4] << 8
        if length > MAX_GS_PAREN_LENGTH:
            return self._unknown(pos)
        end = pos + 5 + length
        if not self._need(end, 0):
            return None
        body = bytes(b[pos + 5:end])
        if chr(b[pos + 2]) == "k" and len(body) >= 2 and body[0] == 49:   # cn 49: QR code
            return Command("qr", (body[1], body[2:])), end
        return Command("skip", (bytes(b[pos:end]),)), end

    def _dle(self, pos: int):
        if not self._need(pos, 2):
            return None
        if self.buffer[pos + 1] == 0x04:
            if not self._need(pos, 3):
                return None
            n = self.buffer[pos + 2]
            if n in (1, 2, 3, 4):
                return Command("status", (n,)), pos + 3
        if self.buffer[pos + 1] == 0x14:   # DLE DC4 fn a b: real-time pulse etc.
            return (Command("skip", (bytes(self.buffer[pos:pos + 5]),)), pos + 5) if self._need(pos, 5) else None
        return self._unknown(pos)


# --- Paper ---------------------------------------------------------------------------------

@dataclass
class _Style:
    align: int = 0
    bold: bool = False
    width: int = 1
    height: int = 1
    code_page: int = 0


@dataclass
class Paper:
    """The strip of paper since the last cut: images stacked top to bottom."""

    width: int
    strips: list[Image.Image] = field(default_factory=list)
    line: list[tuple[str, _Style]] = field(default_factory=list)

    def add_text(self, text: str, style: _Style) -> None:
        self.line.append((text, _Style(**vars(style))))

    def newline(self) -> None:
        """Print the line buffer (or feed one empty line)."""
        if not self.line:
            self.feed(LINE_DOTS)
            return
        self.strips.append(_text_line_image(self.line, self.width))
        self.line = []

    def flush_line(self) -> None:
        if self.line:
            self.newline()

    def feed(self, dots: int) -> None:
        if dots:
            self.strips.append(Image.new("1", (self.width, dots), 1))

    def image(self, image: Image.Image, align: int) -> None:
        self.flush_line()
        if image.width >= self.width:
            self.strips.append(image.crop((0, 0, self.width, image.height)))
            return
        strip = Image.new("1", (self.width, image.height), 1)
        strip.paste(image, ((self.width - image.width) * align // 2, 0))
        self.strips.append(strip)

    def take(self) -> Image.Image | None:
        """The printed strip, with a little white around it, or None if nothing was printed."""
        self.flush_line()
        strips, self.strips = self.strips, []
        if not any(strip.getextrema()[0] == 0 for strip in strips):   # no black dot
            return None
        out = Image.new("1", (self.width, sum(s.height for s in strips) + 2 * PAPER_MARGIN), 1)
        y = PAPER_MARGIN
        for strip in strips:
            out.paste(strip, (0, y))
            y += strip.height
        return out


def _text_line_image(segments: list[tuple[str, _Style]], width: int) -> Image.Image:
    """A line of code-page text in DejaVu, each segment at its own magnification."""
    tallest = max(style.height for _, style in segments)
    height = max(LINE_DOTS, CHAR_HEIGHT * tallest)
    pieces = [_segment_image(text, style, height) for text, style in segments]
    total = sum(piece.width for piece in pieces)
    if total > width:   # the printer would wrap; squeezing keeps the simulator simple
        pieces = [p.resize((max(1, p.width * width // total), p.height)) for p in pieces]
        total = sum(piece.width for piece in pieces)
    line = Image.new("1", (width, height), 1)
    x = (width - total) * segments[0][1].align // 2
    for piece in pieces:
        line.paste(piece, (x, 0))
        x += piece.width
    return line


def _segment_image(text: str, style: _Style, height: int) -> Image.Image:
    face = font(TEXT_FONT_SIZE * style.height, style.bold)
    ascent, _ = face.getmetrics()
    length = max(1, round(face.getlength(text)))
    image = Image.new("1", (length, height), 1)
    # Baseline near the bottom of the cell, like a printer's font A.
    ImageDraw.Draw(image).text((0, height - CHAR_HEIGHT * style.height // 5), text, font=face, fill=0, anchor="ls")
    if style.width != style.height:
        image = image.resize((max(1, length * style.width // style.height), height))
    return image


def raster_image(mode: int, width_bytes: int, rows: int, data: bytes) -> Image.Image:
    """GS v 0 data as a 1-bit image (bit 1 = black, MSB leftmost), scaled as mode asks
    (1 double width, 2 double height, 3 both)."""
    inverted = bytes(b ^ 0xFF for b in data)   # Pillow's mode "1" raw data has 1 = white
    image = Image.frombytes("1", (width_bytes * 8, rows), inverted)
    scale_x, scale_y = (2 if mode & 1 else 1), (2 if mode & 2 else 1)
    if scale_x > 1 or scale_y > 1:
        image = image.resize((image.width * scale_x, image.height * scale_y), Image.NEAREST)
    return image


# --- The printer ----------------------------------------------------------------------------

class SimulatedPrinter:
    """Applies commands to paper; `feed` returns the bytes the printer answers (DLE EOT)."""

    def __init__(self, width_dots: int = 576, state: str = "ok", cp1258_pages=(52,)):
        if state not in STATE_ANSWERS:
            raise ValueError(f"state is one of {', '.join(STATES)}")
        self.width = width_dots
        self.state = state
        self.cp1258_pages = set(cp1258_pages)
        self.parser = EscPosParser()
        self.paper = Paper(width_dots)
        self.style = _Style()
        self.qr = {"module": 3, "level": "L", "data": b""}
        self.tickets: list[Image.Image] = []
        self.dropped = 0    # commands not printed because of the state
        self.skipped = 0    # unknown commands and stray bytes

    def feed(self, data: bytes) -> bytes:
        answers = bytearray()
        for command in self.parser.feed(data):
            answers += self.apply(command)
        return bytes(answers)

    def apply(self, command: Command) -> bytes:
        if command.name == "status":   # real-time: answered in every state but silent
            answer = STATE_ANSWERS[self.state].get(command.args[0])
            return b"" if answer is None else bytes([answer])
        if command.name == "skip":
            self.skipped += 1
            return b""
        if self.state in NOT_PRINTING and command.name not in ("init", "align", "bold", "size", "mode", "code_page"):
            self.dropped += 1
            return b""
        try:
            getattr(self, "_" + command.name)(*command.args)
        except ValueError:   # e.g. QR data too long for any symbol: a printer prints nothing
            self.skipped += 1
        return b""

    def _init(self):
        self.paper.line = []
        self.style = _Style()

    def _align(self, n):
        self.style.align = min(n - 48 if n >= 48 else n, 2)   # 0/48 left, 1/49 centre, 2/50 right

    def _bold(self, n):
        self.style.bold = bool(n & 1)

    def _size(self, n):
        self.style.width, self.style.height = (n >> 4 & 7) + 1, (n & 7) + 1

    def _mode(self, n):   # ESC ! n: bit 3 bold, bit 4 double height, bit 5 double width
        self.style.bold = bool(n & 0x08)
        self.style.height, self.style.width = (2 if n & 0x10 else 1), (2 if n & 0x20 else 1)

    def _code_page(self, n):
        self.style.code_page = n

    def _lf(self):
        self.paper.newline()

    def _feed_lines(self, n):
        self.paper.flush_line()
        self.paper.feed(n * LINE_DOTS)

    def _feed_dots(self, n):
        self.paper.flush_line()
        self.paper.feed(n)

    def _text(self, data: bytes):
        self.paper.add_text(self.decode(data), self.style)

    def decode(self, data: bytes) -> str:
        """Text bytes in the selected code page: CP1258 on its page, else CP437 (page 0)."""
        if self.style.code_page in self.cp1258_pages:
            return escpos.decode_cp1258(data)
        return data.decode("cp437", errors="replace")

    def _raster(self, mode, width_bytes, rows, data):
        self.paper.image(raster_image(mode, width_bytes, rows, data), self.style.align)

    def _qr(self, fn: int, params: bytes):
        if fn == 67 and params:
            self.qr["module"] = max(1, min(16, params[0]))
        elif fn == 69 and params:
            self.qr["level"] = {0x30: "L", 0x31: "M", 0x32: "Q", 0x33: "H"}.get(params[0], "L")
        elif fn == 80 and params:
            self.qr["data"] = params[1:]
        elif fn == 81 and self.qr["data"]:
            self.paper.image(self._qr_image(), self.style.align)

    def _qr_image(self) -> Image.Image:
        matrix = qr_matrix(self.qr["data"].decode("utf-8", errors="replace"), self.qr["level"])
        side = len(matrix) * self.qr["module"]
        return matrix_image(matrix, self.qr["module"], side)

    def _cut(self, m):
        ticket = self.paper.take()
        if ticket is not None:
            self.tickets.append(ticket)


# --- Serial port ------------------------------------------------------------------------------

class PrinterSim:
    """The simulated printer on a serial port; saves each ticket as out_dir/ticket-NNNN.png."""

    def __init__(self, port: str, out_dir: str | Path, state: str = "ok", width_dots: int = 576,
                 cp1258_pages=(52,), log=None):
        self.port = port
        self.out_dir = Path(out_dir)
        self.printer = SimulatedPrinter(width_dots, state, cp1258_pages)
        self.saved: list[Path] = []
        self.log = log
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._serial = None
        self._changed = threading.Condition()

    @property
    def state(self) -> str:
        return self.printer.state

    @state.setter
    def state(self, value: str) -> None:
        if value not in STATE_ANSWERS:
            raise ValueError(f"state is one of {', '.join(STATES)}")
        self.printer.state = value

    def open(self) -> "PrinterSim":
        """Open the port now (before the driver opens the other end: opening flushes input)."""
        if self._serial is None:
            self._serial = serial.serial_for_url(self.port, timeout=0.05)
        return self

    def run(self, count: int | None = None) -> int:
        """Serve until stop() or until count tickets are saved; returns the number saved."""
        self.open()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        quiet_since = time.monotonic()
        try:
            while not self._stop.is_set():
                data = self._serial.read(max(1, self._serial.in_waiting))
                if data:
                    self._handle(data)
                    quiet_since = time.monotonic()
                # After the last ticket, keep answering until the line is quiet: the driver
                # checks the status once more after printing.
                elif count is not None and len(self.saved) >= count and time.monotonic() - quiet_since > LINGER_S:
                    break
        except serial.SerialException as error:   # the other end went away
            self._say(f"printer-sim: port closed ({error})")
        finally:
            self._serial.close()
            self._serial = None
        return len(self.saved)

    def _handle(self, data: bytes) -> None:
        answer = self.printer.feed(data)
        if answer:
            self._serial.write(answer)
        while len(self.saved) < len(self.printer.tickets):
            self._save(self.printer.tickets[len(self.saved)])

    def _save(self, ticket: Image.Image) -> None:
        path = self.out_dir / f"ticket-{_next_number(self.out_dir):04d}.png"
        ticket.save(path)
        with self._changed:
            self.saved.append(path)
            self._changed.notify_all()
        self._say(f"printer-sim: {path}")

    def start(self, count: int | None = None) -> "PrinterSim":
        """Run in a background thread (the port is opened before this returns)."""
        self.open()
        self._thread = threading.Thread(target=self.run, args=(count,), daemon=True, name="printer-sim")
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until count tickets are saved."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.saved) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def _say(self, message: str) -> None:
        if self.log:
            self.log(message)


def _next_number(folder: Path) -> int:
    """One past the highest ticket-NNNN.png already there: never overwrite an earlier run."""
    numbers = [int(m.group(1)) for p in folder.glob("ticket-*.png") if (m := re.fullmatch(r"ticket-(\d+)\.png", p.name))]
    return max(numbers, default=0) + 1
