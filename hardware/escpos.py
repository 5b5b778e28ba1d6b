"""ESC/POS command bytes, as pure functions: no I/O here, so every command can be checked
against the bytes written out in the Epson ESC/POS reference.

Only the commands our tickets need, plus the real-time status requests (DLE EOT) and parsers
for their one-byte answers.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from PIL import Image

ESC = b"\x1b"
GS = b"\x1d"
DLE = b"\x10"
EOT = b"\x04"
LF = b"\n"

ALIGNMENTS = {"left": 0, "center": 1, "right": 2}
QR_ERROR_LEVELS = {"L": 0x30, "M": 0x31, "Q": 0x32, "H": 0x33}

# GS v 0 takes at most 2303 rows on common Epson models and cheap printers have small
# receive buffers, so tall images are sent as several bands.
RASTER_BAND_ROWS = 1024

# Vietnamese tone marks. CP1258 has letters with shape marks (â ă ê ô ơ ư đ) and five combining
# tone marks, but only a few letters with a tone mark precomposed; we always send the tone
# mark separately so every letter is encoded the same way.
TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def initialize() -> bytes:
    """ESC @: clear the print buffer and reset modes (alignment, code page, sizes)."""
    return ESC + b"@"


def align(where: str) -> bytes:
    """ESC a n: justification of the following lines (and of QR symbols); 0 left, 1 centre, 2 right."""
    return ESC + b"a" + bytes([ALIGNMENTS[where]])


def bold(on: bool) -> bytes:
    """ESC E n: emphasised (bold) text on or off."""
    return ESC + b"E" + bytes([1 if on else 0])


def char_size(width: int = 1, height: int = 1) -> bytes:
    """GS ! n: character magnification, 1–8 each; high nibble width - 1, low nibble height - 1."""
    if not (1 <= width <= 8 and 1 <= height <= 8):
        raise ValueError("character magnification is 1 to 8")
    return GS + b"!" + bytes([(width - 1) << 4 | (height - 1)])


def feed(lines: int = 1) -> bytes:
    """ESC d n: print the line buffer and feed n lines."""
    return ESC + b"d" + bytes([_byte(lines)])


def feed_dots(dots: int) -> bytes:
    """ESC J n: print the line buffer and feed n dots (n motion units, a dot on 203 dpi printers)."""
    return ESC + b"J" + bytes([_byte(dots)])


def cut(extra_dots: int | None = 0, full: bool = False) -> bytes:
    """GS V: cut the paper.

    With extra_dots (function B, GS V 65/66 n) the printer first feeds the last printed line
    past the cutter, which sits a centimetre or so above the print head, then n dots more;
    with None (function A, GS V 0/1) it cuts where the paper is. Partial cut by default: the
    ticket stays hanging on a thread instead of falling to the floor.
    """
    if extra_dots is None:
        return GS + b"V" + bytes([0 if full else 1])
    return GS + b"V" + bytes([65 if full else 66, _byte(extra_dots)])


def raster(image: Image.Image, band_rows: int = RASTER_BAND_ROWS) -> bytes:
    """GS v 0 0 xL xH yL yH d…: print a 1-bit image, in bands of at most band_rows rows.

    x is the width in bytes, y the height in dots; each byte holds 8 dots of a row with the
    most significant bit leftmost, and a 1 bit prints black. Rows narrower than a whole byte
    are padded with white.
    """
    image = image.convert("1")
    out = bytearray()
    for top in range(0, image.height, band_rows):
        band = image.crop((0, top, image.width, min(top + band_rows, image.height)))
        out += _raster_band(band)
    return bytes(out)


def _raster_band(image: Image.Image) -> bytes:
    width_bytes = (image.width + 7) // 8
    # Pillow packs mode "1" rows MSB first with 1 = white: pad with white, then invert.
    padded = Image.new("1", (width_bytes * 8, image.height), 1)
    padded.paste(image, (0, 0))
    data = bytes(b ^ 0xFF for b in padded.tobytes())
    return (GS + b"v0" + b"\x00" + _u16(width_bytes) + _u16(image.height) + data)


def qr(data: str | bytes, module_dots: int = 6, error_level: str = "M") -> bytes:
    """The printer's own QR code (GS ( k, cn = 49), printed where the alignment puts it.

    fn 65 selects model 2, fn 67 the module size in dots (1–16), fn 69 the error correction
    (0x30 L, 0x31 M, 0x32 Q, 0x33 H), fn 80 stores the data (pL pH = len(data) + 3, little
    endian, UTF-8), fn 81 prints the stored symbol.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if not 1 <= module_dots <= 16:
        raise ValueError("QR module size is 1 to 16 dots")
    return (_qr_fn(65, b"\x32\x00")
            + _qr_fn(67, bytes([module_dots]))
            + _qr_fn(69, bytes([QR_ERROR_LEVELS[error_level]]))
            + _qr_fn(80, b"\x30" + payload)
            + _qr_fn(81, b"\x30"))


def _qr_fn(fn: int, params: bytes) -> bytes:
    # pL pH count the bytes after themselves: cn, fn and the parameters.
    return GS + b"(k" + _u16(len(params) + 2) + bytes([49, fn]) + params


def code_page(page: int) -> bytes:
    """ESC t n: select a character code table. Numbering differs by maker: CP1258 is page 52
    on Epson, 27, 94 or 35 on clones, so it is a setting."""
    return ESC + b"t" + bytes([_byte(page)])


def encode_cp1258(text: str) -> bytes:
    """Vietnamese text as CP1258 bytes: base letters (with â ă ê ô ơ ư đ precomposed) and the
    tone mark as a separate combining byte, which is how CP1258 spells most Vietnamese letters
    (Python's codec cannot encode "ứ" as one character). Characters CP1258 lacks become "?"."""
    out = bytearray()
    for cluster in _clusters(unicodedata.normalize("NFD", text)):
        base = "".join(ch for ch in cluster if ch not in TONE_MARKS)
        tones = "".join(ch for ch in cluster if ch in TONE_MARKS)
        out += (unicodedata.normalize("NFC", base) + tones).encode("cp1258", errors="replace")
    return bytes(out)


def decode_cp1258(data: bytes) -> str:
    """CP1258 bytes back to NFC text (what a printer that combines tone marks shows)."""
    return unicodedata.normalize("NFC", data.decode("cp1258", errors="replace"))


def _clusters(text: str) -> list[str]:
    """Split NFD text into base characters, each with its combining marks."""
    clusters: list[str] = []
    for ch in text:
        if clusters and unicodedata.combining(ch):
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return clusters


def text_line(text: str) -> bytes:
    """One line of text in the selected code page (select CP1258 first with code_page)."""
    return encode_cp1258(text) + LF


# --- Real-time status (DLE EOT n) -------------------------------------------------------
#
# Every answer is one byte whose bits 0 and 7 are 0 and bits 1 and 4 are 1 (0x12 when
# nothing is set); the printer answers even when offline or with its buffer full.

STATUS_PRINTER = 1      # printer status
STATUS_OFFLINE = 2      # offline cause
STATUS_ERROR = 3        # error cause
STATUS_PAPER = 4        # roll paper sensor
STATUS_FIXED_MASK = 0x93
STATUS_FIXED_BITS = 0x12


def status_request(n: int) -> bytes:
    """DLE EOT n: ask for status byte n (1 printer, 2 offline cause, 3 error cause, 4 paper)."""
    if n not in (1, 2, 3, 4):
        raise ValueError("DLE EOT n is 1 to 4")
    return DLE + EOT + bytes([n])


def is_status_byte(value: int) -> bool:
    """True when value has the fixed bits of every DLE EOT answer."""
    return value & STATUS_FIXED_MASK == STATUS_FIXED_BITS


def parse_printer_status(value: int) -> dict[str, bool]:
    """Answer to DLE EOT 1. Bit 2: drawer kick connector pin 3 high; bit 3: offline;
    bit 5: waiting for online recovery; bit 6: paper feed button pressed."""
    _check(value)
    return {"offline": bool(value & 0x08), "waiting_recovery": bool(value & 0x20),
            "feed_button": bool(value & 0x40)}


def parse_offline_cause(value: int) -> dict[str, bool]:
    """Answer to DLE EOT 2. Bit 2: cover open; bit 3: paper being fed by the feed button;
    bit 5: printing stopped because the paper ran out; bit 6: an error occurred."""
    _check(value)
    return {"cover_open": bool(value & 0x04), "feeding": bool(value & 0x08),
            "paper_end_stop": bool(value & 0x20), "error": bool(value & 0x40)}


def parse_paper_status(value: int) -> dict[str, bool]:
    """Answer to DLE EOT 4. Bits 2–3: roll paper near end; bits 5–6: paper out. Epson sets
    both bits of a pair together; either one counts, as clones differ."""
    _check(value)
    return {"near_end": bool(value & 0x0C), "paper_out": bool(value & 0x60)}


@dataclass(frozen=True)
class PrinterStatus:
    """What DLE EOT 1, 2 and 4 said, in one place."""

    offline: bool = False
    cover_open: bool = False
    paper_out: bool = False
    paper_near_end: bool = False
    error: bool = False

    @property
    def ready(self) -> bool:
        """Can print now (paper near end still prints)."""
        return not (self.offline or self.cover_open or self.paper_out or self.error)

    @property
    def words(self) -> str:
        """The status as an operator reads it; the worst problem first."""
        if self.cover_open:
            return "cover open"
        if self.paper_out:
            return "paper out"
        if self.offline or self.error:
            return "offline"
        if self.paper_near_end:
            return "paper near end"
        return "ok"


def parse_status(printer: int, offline_cause: int, paper: int) -> PrinterStatus:
    """The three answer bytes (DLE EOT 1, 2, 4) as one PrinterStatus."""
    p, o, r = parse_printer_status(printer), parse_offline_cause(offline_cause), parse_paper_status(paper)
    return PrinterStatus(offline=p["offline"], cover_open=o["cover_open"],
                         paper_out=r["paper_out"] or o["paper_end_stop"],
                         paper_near_end=r["near_end"], error=o["error"])


def _check(value: int) -> None:
    if not is_status_byte(value):
        raise ValueError(f"not a DLE EOT answer: 0x{value:02x}")


def _u16(value: int) -> bytes:
    if not 0 <= value <= 0xFFFF:
        raise ValueError("parameter out of range")
    return bytes([value & 0xFF, value >> 8])


def _byte(value: int) -> int:
    if not 0 <= value <= 255:
        raise ValueError("parameter is 0 to 255")
    return value
