"""The dossier receipt the citizen keeps: a PDF page (fpdf2) and the same receipt on the ticket printer.

Both are made from one `Receipt`, built by `receipt()` from the API's own shapes: the full
dossier view (`GET /dossiers/{code}/full`) and the branches' names (`GET /branches`). So the
server (the PDF route) and a counter machine (`motcua hw print-receipt`, through the API) lay
out the very same receipt.

What is printed: the code and, beside an official code, its check (which its public lookup asks for, so that
a mistyped code never shows another dossier; README "Dossiers"), the procedure and its department, the citizen's name, when, where
and by whom the dossier was received, the documents (those reused from earlier dossiers
marked), the due date, the return branch and a QR code of the public lookup `/d/{code}`. Not
the ID number nor the phone: a lost receipt must not give away what finds a citizen's other
dossiers and documents (the lookup it points to shows no personal data either). The name
stays, as on the official form, so that the citizen and the returning officer can tell whose
receipt it is.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Mapping

from fpdf import FPDF
from PIL import Image

from motcua import i18n
from motcua.hardware.qr import qr_matrix
from motcua.hardware.ticket_layout import (FONTS, LARGE, NORMAL, SMALL, BigText, Block, Cut, LayoutSettings, Line,
                                           QrBlock, Space, TextBlock, font, nfc, render)

Names = Mapping[str, str]


@dataclass(frozen=True)
class ReceivedDocument:
    name: Names
    reused: bool


@dataclass(frozen=True)
class Receipt:
    """Everything a receipt shows, names in every language; the layouts choose the order."""

    code: str
    procedure: Names
    department: Names
    citizen_name: str
    received_at: datetime
    receiving_branch: Names
    officer: str
    due_date: date
    return_branch: Names
    documents: tuple[ReceivedDocument, ...]
    lookup_url: str
    lang: str = "vi"
    check: str = ""   # printed beside an official code: its public lookup asks for it (a code made before: none)

    def view(self) -> dict:
        """The receipt as JSON (GET /dossiers/{code}/receipt), for a counter machine to print."""
        return {"code": self.code, "procedure": dict(self.procedure), "department": dict(self.department),
                "citizen_name": self.citizen_name, "received_at": self.received_at.isoformat(timespec="seconds"),
                "receiving_branch": dict(self.receiving_branch), "officer": self.officer,
                "due_date": self.due_date.isoformat(), "return_branch": dict(self.return_branch),
                "documents": [{"name": dict(d.name), "reused": d.reused} for d in self.documents],
                "lookup_url": self.lookup_url, "check": self.check or None}

    @classmethod
    def from_view(cls, view: Mapping, lang: str = "vi") -> "Receipt":
        """The receipt of its JSON view, in the citizen's language lang."""
        return cls(code=view["code"], procedure=view["procedure"], department=view["department"],
                   citizen_name=view["citizen_name"], received_at=datetime.fromisoformat(view["received_at"]),
                   receiving_branch=view["receiving_branch"], officer=view["officer"],
                   due_date=date.fromisoformat(view["due_date"]), return_branch=view["return_branch"],
                   documents=tuple(ReceivedDocument(d["name"], bool(d["reused"])) for d in view["documents"]),
                   lookup_url=view["lookup_url"], lang=_language(lang), check=view.get("check") or "")

    @property
    def langs(self) -> tuple[str, ...]:
        """The citizen's language first, then the others."""
        return (self.lang,) + tuple(lang for lang in i18n.LANGUAGES if lang != self.lang)


def receipt(dossier: Mapping, *, branches: Mapping[str, Names], lang: str = "vi") -> Receipt:
    """The receipt of a full dossier view (GET /dossiers/{code}/full, whose lookup_url the QR code carries)."""
    kinds = {kind["kind"]: kind["name"] for kind in dossier.get("required_documents", ())}
    documents = tuple(ReceivedDocument(kinds.get(d["kind"], _same(d["kind"])), bool(d.get("reused")))
                      for d in dossier.get("documents", ()))
    return Receipt(
        code=dossier["code"],
        procedure=dossier.get("procedure_name") or _same(dossier["procedure"]),
        department=dossier.get("department_name") or _same(dossier.get("department", "")),
        citizen_name=(dossier.get("citizen") or {}).get("name", ""),
        received_at=datetime.fromisoformat(dossier["received_at"]),
        receiving_branch=branches.get(dossier["branch"], _same(dossier["branch"])),
        officer=(dossier.get("officer") or "").removeprefix("staff:"),   # an actor, "staff:off1": the username
        due_date=date.fromisoformat(dossier["due_date"]),
        return_branch=branches.get(dossier["return_branch"], _same(dossier["return_branch"])),
        documents=documents,
        lookup_url=dossier["lookup_url"],
        lang=_language(lang),
        check=dossier.get("check") or "")


def _language(lang: str) -> str:
    return lang if lang in i18n.LANGUAGES else i18n.LANGUAGES[0]


def _same(code: str) -> dict[str, str]:
    # A code missing from the names (a city's catalogue edited since): the code itself in every language.
    return {lang: code for lang in i18n.LANGUAGES}


def _date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _texts(r: Receipt, key: str, **values) -> list[str]:
    return [i18n.text(lang, key, **values) for lang in r.langs]


def _names(r: Receipt, names: Names) -> list[str]:
    return list(dict.fromkeys(nfc(names[lang]) for lang in r.langs if names.get(lang)))


# --- the PDF ----------------------------------------------------------------------------------

FONT = "DejaVu"
INK, GREY, RULE = (0, 0, 0), (90, 90, 90), (170, 170, 170)
LABEL_W = 52          # mm: the labels' column; the values take the rest of the line
QR_MM = 38
SIGNATURES_MM = 26   # room to sign under the two headings


def receipt_pdf(r: Receipt) -> bytes:
    """The receipt on one A4 page (more when the documents are many), Vietnamese set in DejaVu."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(18, 12, 18)
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(nfc(f"{i18n.text(r.lang, 'receipt.title')} {r.code}"))
    pdf.set_creator("motcua")
    pdf.add_page()
    _pdf_header(pdf, r)
    _pdf_code_and_qr(pdf, r)
    _pdf_fields(pdf, r)
    _pdf_documents(pdf, r)
    _pdf_footer(pdf, r)
    return bytes(pdf.output())


def _pdf_header(pdf: FPDF, r: Receipt) -> None:
    half = pdf.epw / 2
    top = pdf.get_y()
    pdf.set_font(FONT, "B", 10)
    _para(pdf, half - 4, 5, nfc(r.receiving_branch.get(r.lang) or next(iter(r.receiving_branch.values()))),
                   align="C")
    left_bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin + half, top)
    pdf.set_font(FONT, "B", 10)
    _para(pdf, half, 5, nfc(i18n.text("vi", "receipt.nation")), align="C")
    pdf.set_x(pdf.l_margin + half)
    pdf.set_font(FONT, "B", 10)
    _para(pdf, half, 5, nfc(i18n.text("vi", "receipt.motto")), align="C")
    pdf.set_y(max(left_bottom, pdf.get_y()) + 6)
    first, *others = _texts(r, "receipt.title")
    pdf.set_font(FONT, "B", 15)
    _para(pdf, 0, 7.5, nfc(first), align="C")
    pdf.set_text_color(*GREY)
    for other in others:
        pdf.set_font(FONT, "", 10)
        _para(pdf, 0, 5.5, nfc(other), align="C")
    pdf.set_text_color(*INK)
    pdf.ln(3)


def _pdf_code_and_qr(pdf: FPDF, r: Receipt) -> None:
    """The code large on the left, the QR code on the right, the lookup address under both."""
    top = pdf.get_y()
    pdf.image(qr_png(r.lookup_url), x=pdf.w - pdf.r_margin - QR_MM, y=top, w=QR_MM, h=QR_MM)
    pdf.set_font(FONT, "", 10)
    pdf.cell(pdf.epw - QR_MM - 4, 6, nfc(" / ".join(_texts(r, "receipt.code"))), new_x="LMARGIN", new_y="NEXT")
    # 22 pt: an official code (25 characters) keeps clear of the QR code.
    pdf.set_font(FONT, "B", 22)
    pdf.cell(pdf.epw - QR_MM - 4, 14, r.code, new_x="LMARGIN", new_y="NEXT")
    if r.check:
        pdf.set_font(FONT, "B", 12)
        pdf.cell(pdf.epw - QR_MM - 4, 7, nfc(" / ".join(_texts(r, "receipt.check", check=r.check))),
                 new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    pdf.set_text_color(*GREY)
    for line in _texts(r, "receipt.scan_qr"):
        _para(pdf, pdf.epw - QR_MM - 6, 4.5, nfc(line))
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, "", 10)
    pdf.cell(pdf.epw - QR_MM - 4, 6, r.lookup_url, link=r.lookup_url, new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), top + QR_MM) + 3)


def _pdf_fields(pdf: FPDF, r: Receipt) -> None:
    when = i18n.text(r.lang, "receipt.received_at", time=r.received_at.strftime("%H:%M"),
                     date=_date(r.received_at.date()))
    rows = [
        ("receipt.procedure", _names(r, r.procedure), True),
        ("receipt.department", _names(r, r.department), False),
        ("receipt.citizen", [nfc(r.citizen_name)] if r.citizen_name else [], True),
        ("receipt.received", [when, _names(r, r.receiving_branch)[0]], False),
        ("receipt.received_by", [r.officer] if r.officer else [], False),
        ("receipt.due", [_date(r.due_date)], True),
        ("receipt.return_branch", _names(r, r.return_branch), True),
    ]
    _rule(pdf)
    for key, values, strong in rows:
        if values:
            _pdf_row(pdf, r, key, values, strong)
    _rule(pdf)


def _pdf_row(pdf: FPDF, r: Receipt, key: str, values: list[str], strong: bool) -> None:
    """A label (its first language bold, the others grey under it) beside its value."""
    top = pdf.get_y()
    label, *others = _texts(r, key)
    pdf.set_font(FONT, "B", 10)
    _para(pdf, LABEL_W, 5.5, nfc(label))
    pdf.set_font(FONT, "", 8)
    pdf.set_text_color(*GREY)
    for other in others:
        _para(pdf, LABEL_W, 4, nfc(other))
    pdf.set_text_color(*INK)
    label_bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin + LABEL_W, top)
    first, *rest = values
    pdf.set_font(FONT, "B" if strong else "", 12 if strong else 11)
    _para(pdf, 0, 6, first)
    pdf.set_font(FONT, "", 9)
    pdf.set_text_color(*GREY)
    for value in rest:
        pdf.set_x(pdf.l_margin + LABEL_W)
        _para(pdf, 0, 4.5, value)
    pdf.set_text_color(*INK)
    pdf.set_y(max(label_bottom, pdf.get_y()) + 1.5)


def _pdf_documents(pdf: FPDF, r: Receipt) -> None:
    pdf.ln(2)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 7, nfc(" / ".join(_texts(r, "receipt.documents"))), new_x="LMARGIN", new_y="NEXT")
    if not r.documents:
        pdf.set_font(FONT, "", 10)
        pdf.cell(0, 6, nfc(i18n.text(r.lang, "receipt.documents_none")), new_x="LMARGIN", new_y="NEXT")
        return
    pdf.set_draw_color(*RULE)
    with pdf.table(col_widths=(10, 100, 50), text_align=("CENTER", "LEFT", "LEFT"), line_height=5.5,
                   padding=1.5, first_row_as_headings=True) as table:
        pdf.set_font(FONT, "", 10)
        table.row([nfc(i18n.text(r.lang, f"receipt.document_{k}")) for k in ("number", "name", "source")])
        for n, document in enumerate(r.documents, 1):
            names = _names(r, document.name)
            mark = i18n.text(r.lang, "receipt.reused" if document.reused else "receipt.scanned")
            table.row([str(n), "\n".join(names[:1]), nfc(("* " if document.reused else "") + mark)])
    pdf.set_draw_color(*INK)
    if any(document.reused for document in r.documents):
        pdf.ln(1.5)
        pdf.set_font(FONT, "", 9)
        _para(pdf, 0, 4.5, nfc(i18n.text(r.lang, "receipt.reused_note")))


def _pdf_footer(pdf: FPDF, r: Receipt) -> None:
    pdf.ln(4)
    if pdf.get_y() + SIGNATURES_MM + 12 > pdf.page_break_trigger:
        pdf.add_page()    # the signatures and the footer stay together
    half = pdf.epw / 2
    top = pdf.get_y()
    for column, key in enumerate(("receipt.signature_citizen", "receipt.signature_officer")):
        pdf.set_xy(pdf.l_margin + column * half, top)
        pdf.set_font(FONT, "B", 10)
        pdf.cell(half, 5.5, nfc(i18n.text(r.lang, key)), align="C", new_x="LEFT", new_y="NEXT")
        pdf.set_font(FONT, "", 8)
        pdf.cell(half, 4.5, nfc(i18n.text(r.lang, "receipt.signature_hint")), align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_y(top + SIGNATURES_MM)
    pdf.set_font(FONT, "B", 10)
    for line in _texts(r, "receipt.footer"):
        _para(pdf, 0, 5.5, nfc(line), align="C")
        pdf.set_font(FONT, "", 9)


def _para(pdf: FPDF, width: float, height: float, text: str, **options) -> None:
    """A wrapped paragraph at the current x; the next one starts at the left margin, on the next line."""
    pdf.multi_cell(width, height, text, new_x="LMARGIN", new_y="NEXT", **options)


def _rule(pdf: FPDF) -> None:
    pdf.set_draw_color(*RULE)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.set_draw_color(*INK)
    pdf.ln(3)


def qr_png(data: str, module_px: int = 8) -> io.BytesIO:
    """The QR code as a PNG with its quiet zone, sharp at any size (one colour per module)."""
    matrix = qr_matrix(data, "M", border=4)
    side = len(matrix)
    image = Image.new("L", (side, side), 255)
    image.putdata([0 if dark else 255 for row in matrix for dark in row])
    out = io.BytesIO()
    image.resize((side * module_px, side * module_px), Image.NEAREST).save(out, format="PNG")
    out.seek(0)
    return out


# --- the ticket printer ----------------------------------------------------------------------

def receipt_blocks(r: Receipt, settings: LayoutSettings | None = None) -> list[Block]:
    """The receipt as the ticket printer's blocks (motcua.hardware.ticket_layout): text, code, QR, cut."""
    settings = settings or LayoutSettings()
    quiet_zone = 4 * settings.qr_module_dots
    when = i18n.text(r.lang, "receipt.received_at", time=r.received_at.strftime("%H:%M"),
                     date=_date(r.received_at.date()))
    blocks: list[Block] = [
        TextBlock(_lines(_names(r, r.receiving_branch), NORMAL, bold=True)),
        Space(14),
        TextBlock(_lines(_texts(r, "receipt.title"), NORMAL + 2, bold=True)),
        Space(16),
        TextBlock(_lines(_texts(r, "receipt.code"), SMALL + 2)),
        BigText(r.code, max_height=settings.dots(70)),
        *([Space(8), TextBlock(_lines(_texts(r, "receipt.check", check=r.check), NORMAL, bold=True))]
          if r.check else []),
        Space(18),
        *_field(r, "receipt.procedure", _names(r, r.procedure), bold=True),
        *_field(r, "receipt.department", _names(r, r.department)[:1]),
        *(_field(r, "receipt.citizen", [nfc(r.citizen_name)], bold=True) if r.citizen_name else []),
        *_field(r, "receipt.received", [when, _names(r, r.receiving_branch)[0]] + ([r.officer] if r.officer else [])),
        *_field(r, "receipt.due", [_date(r.due_date)], size=LARGE, bold=True),
        *_field(r, "receipt.return_branch", _names(r, r.return_branch)[:1], bold=True),
        TextBlock(_lines(_texts(r, "receipt.documents")[:1], NORMAL, bold=True, align="left")),
        Space(6),
        TextBlock(_document_lines(r)),
        Space(quiet_zone),
        QrBlock(r.lookup_url),
        Space(quiet_zone),
        TextBlock(_lines(_texts(r, "receipt.scan_qr"), SMALL) + _url_lines(r.lookup_url, settings)),
        Space(16),
        TextBlock(_lines(_texts(r, "receipt.footer"), SMALL + 2)),
        Cut(),
    ]
    return blocks


def receipt_bytes(r: Receipt, settings: LayoutSettings | None = None) -> bytes:
    """The ESC/POS bytes of the receipt, ready for Printer.print_bytes."""
    settings = settings or LayoutSettings()
    return render(receipt_blocks(r, settings), settings)


def _lines(texts: list[str], size: int, bold: bool = False, align: str = "center") -> tuple[Line, ...]:
    """The first text at size, the others (the other languages) smaller."""
    first, *others = texts
    return (Line(first, size, bold, align),) + tuple(Line(other, SMALL, False, align) for other in others)


def _field(r: Receipt, key: str, values: list[str], size: int = NORMAL, bold: bool = False) -> list[Block]:
    """A label in the citizen's language, its values under it, left aligned: a receipt reads as a form."""
    label = Line(i18n.text(r.lang, key) + ":", SMALL + 2, False, "left")
    first, *rest = values
    lines = (label, Line(first, size, bold, "left")) + tuple(Line(v, SMALL + 2, False, "left") for v in rest)
    return [TextBlock(lines, line_gap=3), Space(12)]


def _url_lines(url: str, settings: LayoutSettings) -> tuple[Line, ...]:
    """The lookup address; broken before its /d/ when too wide, since wrapping breaks only at spaces."""
    room = settings.width_dots - 2 * settings.margin_dots
    if font(settings.dots(SMALL)).getlength(url) <= room or "/d/" not in url:
        return (Line(url, SMALL),)
    base, _, code = url.rpartition("/d/")
    return Line(base, SMALL), Line(f"/d/{code}", SMALL)


def _document_lines(r: Receipt) -> tuple[Line, ...]:
    if not r.documents:
        return (Line(i18n.text(r.lang, "receipt.documents_none"), SMALL + 2, False, "left"),)
    lines = tuple(Line(f"{n}. {_names(r, d.name)[0]}" + (" *" if d.reused else ""), SMALL + 2, False, "left")
                  for n, d in enumerate(r.documents, 1))
    if any(d.reused for d in r.documents):
        lines += (Line(i18n.text(r.lang, "receipt.reused_note"), SMALL, False, "left"),)
    return lines
