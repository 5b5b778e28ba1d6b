"""The quarterly satisfaction evaluation report as a PDF (fpdf2, DejaVu for Vietnamese), from the report's JSON
(motcua.web.evaluation_routes): per branch and per department, the evaluations, the average points, the grade and
each overall answer's count."""
from __future__ import annotations

from fpdf import FPDF

from motcua import i18n
from motcua.core.evaluations import ANSWERS
from motcua.hardware.ticket_layout import FONTS, nfc

FONT = "DejaVu"
GREY = (90, 90, 90)
NAME_W = 0.34   # the share of the line the unit's name takes; the figures share the rest
ROW_H = 7
GROUPS = {"branch": "branches", "department": "departments"}   # the report's list of each group


def report_pdf(report: dict, names: dict, lang: str = "vi") -> bytes:
    """The report on A4 pages; names: {"branch": {id: {vi, en}}, "department": {code: {vi, en}}}."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(15, 14, 15)
    pdf.set_auto_page_break(True, margin=14)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    say = lambda key, **values: nfc(i18n.text(lang, key, **values))   # noqa: E731
    pdf.set_title(say("evaluation.report.title"))
    pdf.set_creator("motcua")
    pdf.add_page()
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(0, 7, say("evaluation.report.title"), align="C", new_x="LMARGIN", new_y="NEXT")
    kind, _, key = report["scope"].partition(":")
    pdf.set_font(FONT, "", 11)
    pdf.multi_cell(0, 6, say(f"evaluation.report.scope_{kind}", name=_name(names[kind], key, lang)), align="C",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 6, say("evaluation.report.period", quarter=report["quarter"], year=report["year"],
                             start=_day(report["from"]), end=_day(report["to"])), align="C",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    # A branch's report groups by department, a department's by branch; the scope's own row is the total.
    other = "department" if kind == "branch" else "branch"
    _table(pdf, say, say(f"evaluation.report.by_{other}"),
           [(_name(names[other], r[other], lang), r) for r in report[GROUPS[other]]])
    _table(pdf, say, say("evaluation.report.total"), [(say("evaluation.report.total"), report["total"])])
    pdf.set_font(FONT, "", 9)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(0, 5, say("evaluation.report.grades"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _table(pdf: FPDF, say, title: str, rows: list[tuple[str, dict]]) -> None:
    heads = [say("evaluation.report.col.name"), say("evaluation.report.col.evaluated"),
             say("evaluation.report.col.average"), say("evaluation.report.col.grade"),
             *(say(f"evaluation.answer.{a}") for a in ANSWERS)]
    name_w = pdf.epw * NAME_W
    widths = [name_w] + [(pdf.epw - name_w) / (len(heads) - 1)] * (len(heads) - 1)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 8)
    with pdf.table(col_widths=widths, line_height=ROW_H - 2, text_align=("LEFT",) + ("CENTER",) * (len(heads) - 1),
                   first_row_as_headings=True) as table:
        table.row(heads)
        pdf.set_font(FONT, "", 9)
        for name, figures in rows:
            average = "" if figures["average"] is None else f"{figures['average']:.2f}"
            graded = say(f"evaluation.grade.{figures['grade']}") if figures["grade"] else ""
            table.row([nfc(name), str(figures["evaluated"]), average, graded,
                       *(str(figures[a]) for a in ANSWERS)])
    pdf.ln(4)


def _name(known: dict, key: str, lang: str) -> str:
    found = known.get(key)
    return f"{found.get(lang) or found.get('vi')} ({key})" if found else key


def _day(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"
