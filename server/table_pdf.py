"""A report table as a landscape A4 PDF (fpdf2, the receipt's DejaVu fonts): a title, a few lines under it,
a header row and the rows, the last one (the total) in bold; the header repeated on each page."""
from __future__ import annotations

from collections.abc import Sequence

from fpdf import FPDF

from motcua.hardware.ticket_layout import FONTS, nfc

FONT = "DejaVu"
INK = (17, 24, 39)
GREY = (90, 98, 112)
LINE = (160, 166, 176)
FIRST_COLUMN_SHARE = 0.24   # the row's name; the figures share the rest


def table_pdf(title: str, lines: Sequence[str], header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """The PDF's bytes: title, lines, then the table (its first column the rows' names, its last row bold)."""
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(10, 10, 10)
    pdf.add_page()
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(0, 7, nfc(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    pdf.set_text_color(*GREY)
    for line in lines:
        pdf.multi_cell(0, 5, nfc(line), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
    pdf.ln(3)
    first = pdf.epw * FIRST_COLUMN_SHARE
    widths = [first] + [(pdf.epw - first) / (len(header) - 1)] * (len(header) - 1)
    _header(pdf, header, widths)
    for n, row in enumerate(rows):
        if pdf.will_page_break(8):
            pdf.add_page()
            _header(pdf, header, widths)
        pdf.set_font(FONT, "B" if n == len(rows) - 1 else "", 8)
        for i, (cell, width) in enumerate(zip(row, widths)):
            pdf.cell(width, 8, nfc(_fit(pdf, str(cell), width)), border=1, align="L" if i == 0 else "R")
        pdf.ln(8)
    return bytes(pdf.output())


def _header(pdf: FPDF, header: Sequence[str], widths: Sequence[float]) -> None:
    """The header row: each name wrapped in its cell, all cells as tall as the tallest."""
    pdf.set_font(FONT, "B", 7)
    pdf.set_draw_color(*LINE)
    height = 3.6 * max(len(pdf.multi_cell(w - 1, 3.6, nfc(h), dry_run=True, output="LINES"))
                       for h, w in zip(header, widths)) + 1.5
    top, x = pdf.get_y(), pdf.l_margin
    for name, width in zip(header, widths):
        pdf.rect(x, top, width, height)
        pdf.set_xy(x + 0.5, top + 0.7)
        pdf.multi_cell(width - 1, 3.6, nfc(name), align="C")
        x += width
    pdf.set_xy(pdf.l_margin, top + height)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """text cut with … to fit a cell of width (a long department name)."""
    if pdf.get_string_width(text) <= width - 2:
        return text
    while text and pdf.get_string_width(text + "…") > width - 2:
        text = text[:-1]
    return text + "…"
