"""The quarter's counts under Decision 766/QĐ-TTg as CSV and PDF: a branch's per department (its manager, admin),
a department's per branch (its staff, admin). motcua.core.decision766 says what each counts.
"""
from __future__ import annotations

import io
import json
import re
from typing import Literal

from flask import Blueprint, Response, request
from pydantic import BaseModel, Field

from motcua import i18n
from motcua.core import decision766, evaluations
from motcua.core.clock import LocalTime
from motcua.core.model import Invalid
from motcua.core.text import csv_writer
from motcua.table_pdf import table_pdf
from .dossier_routes import department_of_path, require_department
from .guards import Caller, at_branch, staff
from .openapi import operation
from .report_routes import CSV_CELLS, off_the_hub
from .runtime import runtime

bp = Blueprint("decision766", __name__, url_prefix="/api/v1")

# A place's dossiers received by the quarter's end, and their moves that the counts read, in order.
PLACE = {"branch": "d.branch = :place", "department": "d.department = :place"}
DOSSIERS = "select d.code, d.branch, d.department, d.day, d.channel, d.due_date from dossiers d where {place} " \
           "and d.day <= :last"
EVENTS = ("select e.dossier, e.from_status, e.to_status, e.at from events e join dossiers d on d.code = e.dossier "
          "where {place} and d.day <= :last and e.to_status in (select value from json_each(:moves)) order by e.id")
REUSED = ("select dd.dossier, count(*) as n from dossier_documents dd join dossiers d on d.code = dd.dossier "
          "where {place} and d.day between :first and :last and dd.reused group by dd.dossier")
MOVES = json.dumps([decision766.DIGITIZED, *decision766.READY])
DESCRIBED = ("; ?quarter=YYYY-Qn, a calendar quarter in local time (400 bad_quarter). Received (in person, online, "
             "by post), resolved in the quarter early / on time / late, digitised, documents reused, and the "
             "satisfaction rate of the statutory evaluations (— when none); README \"Decision 766 report\"")
MANAGER = staff("manager", at_branch)
DEPARTMENT = Caller(roles=("department", "admin"), of="department", place=department_of_path,
                    admits=require_department)


class QuarterQuery(BaseModel):
    quarter: str = Field(pattern=decision766.QUARTER.pattern,
                         description="a calendar quarter in local time, YYYY-Qn, such as 2026-Q4")


class QuarterPdfQuery(QuarterQuery):
    lang: Literal[i18n.LANGUAGES] = Field(default=i18n.LANGUAGES[0], description="the language of the PDF")


def satisfaction_of(store) -> decision766.Satisfaction:
    """Whether each evaluated dossier's citizen was satisfied, read from store's statutory evaluations."""
    return lambda codes: evaluations.satisfied_by_code(store, codes)


def work_out(store, place_kind: str, place: str, quarter: decision766.Quarter, groups: list[str],
             timezone: str, satisfaction: decision766.Satisfaction) -> dict:
    """The counts of the place's dossiers (on the read executor: it reads the database only)."""
    params = {"place": place, "first": quarter.first.isoformat(), "last": quarter.last.isoformat(), "moves": MOVES}
    where = PLACE[place_kind]

    def reused(db) -> dict[str, int]:
        if not db["dossier_documents"].exists():
            return {}
        return {r["dossier"]: r["n"] for r in db.query(REUSED.format(place=where), params)}
    return decision766.report(store.query(DOSSIERS.format(place=where), params),
                              store.query(EVENTS.format(place=where), params), store.read(reused), quarter,
                              grouped(place_kind), groups, LocalTime(timezone).day, satisfaction)


def grouped(place_kind: str) -> str:
    """What a place's report has a row for: a branch's, each department; a department's, each branch."""
    return "department" if place_kind == "branch" else "branch"


def figures(place_kind: str, place: str) -> tuple[dict, decision766.Quarter]:
    rt = runtime()
    quarter = decision766.parse_quarter(request.args.get("quarter"))
    groups = list(names(grouped(place_kind)))
    return off_the_hub(work_out, rt.store, place_kind, place, quarter, groups, rt.dossiers.rules.timezone,
                       satisfaction_of(rt.store)), quarter


def names(group_kind: str) -> dict[str, dict[str, str]]:
    """Each department's or branch's names by language."""
    rt = runtime()
    things = rt.dossiers.catalogue.departments.values() if group_kind == "department" else rt.engine.all_branches()
    return {getattr(t, "code", None) or t.id: {"vi": t.name_vi, "en": t.name_en} for t in things}


def cell(row: dict, column: str) -> str | int:
    value = row[column]
    return "—" if value is None else value


def csv_answer(place_kind: str, place: str) -> Response:
    report, quarter = figures(place_kind, place)
    group_kind = grouped(place_kind)
    named = names(group_kind)
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\r\n")
    writer.writerow([group_kind, "name_vi", "name_en", *decision766.COLUMNS])
    for row in report["rows"]:
        name = named.get(row["group"], {"vi": "", "en": ""})
        writer.writerow([row["group"], name["vi"], name["en"], *(cell(row, c) for c in decision766.COLUMNS)])
    writer.writerow(["total", "", "", *(cell(report["total"], c) for c in decision766.COLUMNS)])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{file_name(place_kind, place, quarter)}.csv"'})


def pdf_answer(place_kind: str, place: str) -> Response:
    report, quarter = figures(place_kind, place)
    lang = request.args.get("lang", i18n.LANGUAGES[0])
    if lang not in i18n.LANGUAGES:
        raise Invalid(f"lang is one of {', '.join(i18n.LANGUAGES)}", "bad_lang")
    group_kind = grouped(place_kind)
    named = names(group_kind)
    place_name = names(place_kind).get(place, {}).get(lang, place)

    def say(key: str, **values) -> str:
        return i18n.text(lang, key, **values)
    header = [say(f"d766.group.{group_kind}"), *(say(f"d766.column.{c}") for c in decision766.COLUMNS)]
    rows = [[named.get(r["group"], {}).get(lang) or r["group"], *(_shown(r, c) for c in decision766.COLUMNS)]
            for r in report["rows"]]
    rows.append([say("d766.total"), *(_shown(report["total"], c) for c in decision766.COLUMNS)])
    title = say("d766.title", place=place_name, quarter=quarter.number, year=quarter.year)
    lines = [say("d766.period", first=quarter.first.strftime("%d/%m/%Y"), last=quarter.last.strftime("%d/%m/%Y")),
             say("d766.note")]
    return Response(table_pdf(title, lines, header, rows), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{file_name(place_kind, place, quarter)}.pdf"'})


def _shown(row: dict, column: str) -> str:
    value = row[column]
    if value is None:
        return "—"
    return f"{value:.1f} %" if column == "satisfaction_rate" else str(value)


def file_name(place_kind: str, place: str, quarter: decision766.Quarter) -> str:
    return f"decision766-{place_kind}-{re.sub(r'[^A-Za-z0-9_-]', '_', place)}-{quarter}"


def _routes(place_kind: str, rule: str, caller, rows: str, who: str) -> None:
    """The place's CSV and PDF routes: `{rule}.csv` and `{rule}.pdf`."""
    for form, answer, query, media, summary in (
            ("csv", csv_answer, QuarterQuery, "text/csv",
             f"the {place_kind}'s quarter under Decision 766/QĐ-TTg as CSV, a row per {rows} and the total ({who})"
             + DESCRIBED + CSV_CELLS),
            ("pdf", pdf_answer, QuarterPdfQuery, "application/pdf",
             f"the same as a PDF, ?lang=en for English ({who})" + DESCRIBED)):
        def view(answer=answer, **path):
            [place] = path.values()
            return answer(place_kind, place)
        view.__name__ = f"{place_kind}_{form}"
        bp.add_url_rule(f"{rule}.{form}", view_func=operation(summary, None, query=query, caller=caller, media=media,
                                                              errors=(503,))(view))


_routes("branch", "/branches/<b>/decision766", MANAGER, "department", "manager")
_routes("department", "/departments/<d>/decision766", DEPARTMENT, "receiving branch", "its staff, admin")
