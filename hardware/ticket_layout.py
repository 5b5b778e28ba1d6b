"""What goes on paper: printable blocks (text, a very large number, a QR code, space, a cut)
turned into ESC/POS bytes, and the queue ticket built from them.

Text is drawn with Pillow in the bundled DejaVu fonts and printed as 1-bit raster images by
default, because few printers print Vietnamese from a code page correctly; `text_mode =
"cp1258"` sends code-page bytes instead (far fewer bytes, for slow serial lines and printers
known to combine tone marks). Pure: the same blocks and settings always give the same bytes.

A dossier receipt can reuse the blocks: build a list of TextBlock / QrBlock / Space / Cut
and pass it to `render`.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Mapping, Union

from PIL import Image, ImageDraw, ImageFont

from motcua import i18n
from motcua.hardware import escpos
from motcua.hardware.qr import qr_matrix

FONTS = Path(__file__).resolve().parent / "fonts"
WIDTH_80MM = 576
WIDTH_58MM = 384
PAPER_WIDTHS = {"80mm": WIDTH_80MM, "58mm": WIDTH_58MM}

# Font A of an ESC/POS printer is 12 x 24 dots; cp1258 lines wrap on that grid.
CHAR_WIDTH = 12
CHAR_HEIGHT = 24

# Text sizes in dots (the font's em) on 80 mm paper; 8 dots are 1 mm at 203 dpi.
SMALL, NORMAL, LARGE, TITLE = 20, 26, 30, 40

Names = Union[str, Mapping[str, str]]


@dataclass(frozen=True)
class LayoutSettings:
    width_dots: int = WIDTH_80MM
    text_mode: str = "raster"          # "raster" (Pillow images) or "cp1258" (code-page bytes)
    qr_mode: str = "native"            # "native" (GS ( k) or "raster" (drawn here)
    code_page: int = 52                # ESC t n for CP1258: 52 on Epson, 27/94/35 on clones
    qr_module_dots: int = 6
    qr_error_level: str = "M"
    margin_dots: int = 16

    def __post_init__(self):
        if self.text_mode not in ("raster", "cp1258"):
            raise ValueError("text_mode is 'raster' or 'cp1258'")
        if self.qr_mode not in ("native", "raster"):
            raise ValueError("qr_mode is 'native' or 'raster'")
        if self.width_dots % 8 or not 128 <= self.width_dots <= 832:
            raise ValueError("width_dots is a multiple of 8 between 128 and 832")

    @classmethod
    def for_paper(cls, paper: str = "80mm", **options) -> "LayoutSettings":
        return cls(width_dots=PAPER_WIDTHS[paper], **options)

    def dots(self, size: int) -> int:
        """A text size scaled to the paper: 58 mm paper keeps 85% of it, enough to stay legible."""
        return round(size * max(0.85, min(1.0, self.width_dots / WIDTH_80MM)))


# --- Blocks ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    text: str
    size: int = NORMAL
    bold: bool = False
    align: str = "center"


@dataclass(frozen=True)
class TextBlock:
    lines: tuple[Line, ...]
    line_gap: int = 4


@dataclass(frozen=True)
class BigText:
    """One short text (the ticket number) as large as the paper allows, up to max_height dots."""

    text: str
    max_height: int = 200


@dataclass(frozen=True)
class QrBlock:
    data: str


@dataclass(frozen=True)
class Space:
    dots: int


@dataclass(frozen=True)
class Cut:
    extra_dots: int = 0


Block = Union[TextBlock, BigText, QrBlock, Space, Cut]


def render(blocks: list[Block], settings: LayoutSettings) -> bytes:
    """The whole document: reset the printer, then every block."""
    start = escpos.initialize()
    if settings.text_mode == "cp1258":
        start += escpos.code_page(settings.code_page)
    return start + b"".join(block_bytes(block, settings) for block in blocks)


def block_bytes(block: Block, settings: LayoutSettings) -> bytes:
    if isinstance(block, Space):
        # ESC J feeds at most 255 dots at a time.
        return b"".join(escpos.feed_dots(min(255, block.dots - done)) for done in range(0, block.dots, 255))
    if isinstance(block, Cut):
        return escpos.cut(block.extra_dots)
    if isinstance(block, QrBlock) and settings.qr_mode == "native":
        # The printer centres its own symbol only through the alignment (ESC a).
        return (escpos.align("center") + escpos.qr(block.data, settings.qr_module_dots, settings.qr_error_level)
                + escpos.align("left"))
    if settings.text_mode == "cp1258" and isinstance(block, TextBlock):
        return _text_cp1258(block, settings)
    if settings.text_mode == "cp1258" and isinstance(block, BigText):
        return _big_cp1258(block, settings)
    return escpos.raster(block_image(block, settings))


def block_image(block: Block, settings: LayoutSettings) -> Image.Image:
    """The 1-bit image a raster block prints, as wide as the paper (so alignment never matters)."""
    if isinstance(block, TextBlock):
        return text_image(block, settings)
    if isinstance(block, BigText):
        return big_text_image(block, settings)
    if isinstance(block, QrBlock):
        return qr_image(block.data, settings)
    raise TypeError(f"{type(block).__name__} has no image")


# --- Raster rendering -------------------------------------------------------------------------

@cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    # The basic layout engine: NFC Vietnamese needs no shaping, and raqm, when installed,
    # could place glyphs differently and break byte-for-byte determinism.
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONTS / name), size, layout_engine=ImageFont.Layout.BASIC)


def nfc(text: str) -> str:
    # Precomposed letters only: the renderer does not place combining marks.
    return unicodedata.normalize("NFC", text)


def text_image(block: TextBlock, settings: LayoutSettings) -> Image.Image:
    rows = []
    for line in block.lines:
        face = font(settings.dots(line.size), line.bold)
        for part in wrap(nfc(line.text), face, settings.width_dots - 2 * settings.margin_dots):
            rows.append(_line_image(part, face, line.align, settings))
    return _stack(rows, block.line_gap, settings.width_dots)


def wrap(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Word wrap to width dots, with lines of even length."""
    return balanced_wrap(text, face.getlength, width)


def balanced_wrap(text: str, measure, width: int) -> list[str]:
    """Greedy wrap, then the narrowest width that needs no more lines: no lone last word."""
    lines = _greedy_wrap(text, measure, width)
    if len(lines) < 2:
        return lines
    low, high = 1, width
    while low < high:
        middle = (low + high) // 2
        if len(_greedy_wrap(text, measure, middle)) <= len(lines):
            high = middle
        else:
            low = middle + 1
    return _greedy_wrap(text, measure, low)


def _greedy_wrap(text: str, measure, width: int) -> list[str]:
    # A word longer than the line is left to overflow.
    lines: list[str] = []
    for word in text.split():
        if lines and measure(lines[-1] + " " + word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _line_image(text: str, face: ImageFont.FreeTypeFont, align: str, settings: LayoutSettings) -> Image.Image:
    ascent, descent = face.getmetrics()
    _, top, _, bottom = face.getbbox(text, anchor="ls")
    # Stacked marks on capitals (Ở, Ấ) can rise above the font's ascent.
    above, below = max(ascent, -top), max(descent, bottom)
    image = Image.new("1", (settings.width_dots, above + below), 1)
    length = round(face.getlength(text))
    x = {"left": settings.margin_dots,
         "center": (settings.width_dots - length) // 2,
         "right": settings.width_dots - settings.margin_dots - length}[align]
    ImageDraw.Draw(image).text((x, above), text, font=face, fill=0, anchor="ls")
    return image


def _stack(images: list[Image.Image], gap: int, width: int) -> Image.Image:
    height = sum(image.height for image in images) + gap * max(0, len(images) - 1)
    out = Image.new("1", (width, max(1, height)), 1)
    y = 0
    for image in images:
        out.paste(image, (0, y))
        y += image.height + gap
    return out


def big_text_image(block: BigText, settings: LayoutSettings) -> Image.Image:
    """The text in bold, as large as fits the printable width and max_height, cropped to its ink."""
    text = nfc(block.text)
    room = settings.width_dots - 4 * settings.margin_dots   # a wider white border sets it apart
    size = block.max_height * 2
    while size > 8:
        left, top, right, bottom = font(size, True).getbbox(text, anchor="ls")
        if right - left <= room and bottom - top <= block.max_height:
            break
        size -= 2
    face = font(size, True)
    left, top, right, bottom = face.getbbox(text, anchor="ls")
    image = Image.new("1", (settings.width_dots, bottom - top), 1)
    x = (settings.width_dots - (right - left)) // 2 - left
    ImageDraw.Draw(image).text((x, -top), text, font=face, fill=0, anchor="ls")
    return image


def qr_image(data: str, settings: LayoutSettings) -> Image.Image:
    """The QR symbol drawn here, centred, no quiet zone (the layout leaves white around it)."""
    matrix = qr_matrix(data, settings.qr_error_level)
    return matrix_image(matrix, settings.qr_module_dots, settings.width_dots, "center", settings.margin_dots)


def matrix_image(matrix, module_dots: int, width: int, align: str = "center", margin: int = 0) -> Image.Image:
    """A QR matrix (rows of 0/1) as a 1-bit image width dots wide; shared with the simulator."""
    side = len(matrix) * module_dots
    image = Image.new("1", (width, side), 1)
    x0 = {"left": margin, "center": (width - side) // 2, "right": width - margin - side}[align]
    draw = ImageDraw.Draw(image)
    for row, cells in enumerate(matrix):
        for col, dark in enumerate(cells):
            if dark:
                x, y = x0 + col * module_dots, row * module_dots
                draw.rectangle((x, y, x + module_dots - 1, y + module_dots - 1), fill=0)
    return image


# --- Code-page text ---------------------------------------------------------------------------

def _text_cp1258(block: TextBlock, settings: LayoutSettings) -> bytes:
    out = bytearray()
    for line in block.lines:
        mult = max(1, min(8, round(line.size / CHAR_HEIGHT)))
        per_line = max(1, settings.width_dots // (CHAR_WIDTH * mult))
        out += escpos.align(line.align) + escpos.bold(line.bold) + escpos.char_size(mult, mult)
        # NFC to count letters, not code points: the printer stacks each tone mark on its letter.
        for part in balanced_wrap(nfc(line.text), len, per_line):
            out += escpos.text_line(part)
    return bytes(out + escpos.char_size(1, 1) + escpos.bold(False) + escpos.align("left"))


def _big_cp1258(block: BigText, settings: LayoutSettings) -> bytes:
    room = settings.width_dots - 2 * settings.margin_dots
    mult = max(1, min(8, room // (CHAR_WIDTH * max(1, len(block.text))), block.max_height // CHAR_HEIGHT))
    return (escpos.align("center") + escpos.bold(True) + escpos.char_size(mult, mult)
            + escpos.text_line(block.text) + escpos.char_size(1, 1) + escpos.bold(False) + escpos.align("left"))


# --- The queue ticket -------------------------------------------------------------------------

@dataclass(frozen=True)
class TicketData:
    branch: Names                      # a name, or names by language {"vi": ..., "en": ...}
    service: Names
    number: str
    issued_at: datetime | str
    people_ahead: int
    wait_min: int | None
    wait_range: tuple[int, int] | None
    status_url: str
    lang: str = "vi"                   # the citizen's language, printed first and larger
    rating_code: str | None = None     # rates the ticket at a kiosk with its number; only the paper carries it


@dataclass(frozen=True)
class _Texts:
    """Catalogue text in the ticket's language first, then the others smaller."""

    langs: tuple[str, ...] = ("vi", "en")

    def lines(self, key: str, size: int = NORMAL, bold: bool = False, **values) -> tuple[Line, ...]:
        first, *others = self.langs
        return ((Line(i18n.text(first, key, **values), size, bold),)
                + tuple(Line(i18n.text(lang, key, **values), SMALL) for lang in others))

    def names(self, names: Names, size: int, bold: bool = False) -> tuple[Line, ...]:
        if isinstance(names, str):
            return (Line(names, size, bold),)
        first, *others = [names[lang] for lang in self.langs if names.get(lang)]
        return (Line(first, size, bold),) + tuple(Line(other, SMALL) for other in others)


def ticket_blocks(ticket: TicketData, settings: LayoutSettings | None = None) -> list[Block]:
    settings = settings or LayoutSettings()
    texts = _Texts((ticket.lang,) + tuple(lang for lang in i18n.LANGUAGES if lang != ticket.lang))
    quiet_zone = 4 * settings.qr_module_dots  # white the QR standard asks for around the symbol
    return [
        TextBlock(texts.names(ticket.branch, LARGE, bold=True)),
        Space(20),
        TextBlock(texts.names(ticket.service, TITLE, bold=True)),
        Space(16),
        TextBlock(texts.lines("ticket.your_number")),
        Space(12),
        BigText(ticket.number, max_height=settings.dots(180)),
        Space(24),
        TextBlock(_issued_lines(ticket, texts)),
        Space(10),
        TextBlock(_ahead_lines(ticket, texts)),
        Space(10),
        TextBlock(_wait_lines(ticket, texts)),
        Space(quiet_zone),
        QrBlock(ticket.status_url),
        Space(quiet_zone),
        TextBlock(texts.lines("ticket.scan_qr", SMALL + 2)),
        Space(16),
        *_rating_code_blocks(ticket, texts),
        TextBlock(texts.lines("ticket.footer", SMALL + 2)),
        Cut(),
    ]


def ticket_bytes(ticket: TicketData, settings: LayoutSettings | None = None) -> bytes:
    settings = settings or LayoutSettings()
    return render(ticket_blocks(ticket, settings), settings)


def _rating_code_blocks(ticket: TicketData, texts: _Texts) -> list[Block]:
    """The rating code and what it is for; nothing for a ticket without one (a sample, an old ticket)."""
    if not ticket.rating_code:
        return []
    return [TextBlock(texts.lines("ticket.rating_code", LARGE, bold=True, code=ticket.rating_code)),
            Space(6),
            TextBlock(texts.lines("ticket.rating_code_hint", SMALL + 2)),
            Space(16)]


def _issued_lines(ticket: TicketData, texts: _Texts) -> tuple[Line, ...]:
    when = ticket.issued_at
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when)
        except ValueError:
            return (Line(when),)
    return texts.lines("ticket.issued_at", time=when.strftime("%H:%M"), date=when.strftime("%d/%m/%Y"))


def _ahead_lines(ticket: TicketData, texts: _Texts) -> tuple[Line, ...]:
    if ticket.people_ahead <= 0:
        return texts.lines("ticket.you_are_next", bold=True)
    return texts.lines("ticket.people_ahead", bold=True, count=ticket.people_ahead)


def _wait_lines(ticket: TicketData, texts: _Texts) -> tuple[Line, ...]:
    if ticket.wait_min is None:
        return texts.lines("ticket.wait_unknown")
    if ticket.wait_min < 1:
        return texts.lines("ticket.wait_soon")
    if ticket.wait_range:
        low, high = ticket.wait_range
        return texts.lines("ticket.wait_range", min=ticket.wait_min, low=low, high=high)
    return texts.lines("ticket.wait", min=ticket.wait_min)
