"""The statutory satisfaction evaluation under /api/v1: a citizen evaluates a returned dossier once (from the phone,
a kiosk or a counter tablet), and the quarterly report per branch and department (motcua.core.evaluations)."""
from __future__ import annotations

import io
import re
from datetime import date
from typing import Annotated, Literal

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, Field

from motcua import evaluation_pdf
from motcua.core import evaluations
from motcua.core.dossiers import ADMIN, COUNTER
from motcua.core.evaluations import ANSWERS, CHANNELS, INDICATORS, SCORES, Answers
from motcua.core.text import csv_writer
from motcua.i18n import LANGUAGES
from . import schemas
from .bodies import json_body, query_args
from .dossier_routes import LOOKUP_LIMITS, LookupQuery, department_of_path, uncounted_lookup, require_department, sides
from .errors import Forbidden
from .guards import ANYONE_TOKEN_CHECKED, Caller, at_branch, caller, staff
from .openapi import operation
from .remote_routes import json_only
from .report_routes import CSV_CELLS, off_the_hub
from .runtime import runtime

bp = Blueprint("evaluations", __name__, url_prefix="/api/v1")

Answer = Literal[ANSWERS]
Grade = Literal[tuple(name for _, name, _ in evaluations.GRADES) + (evaluations.WEAK,)]
LIMITED = ("Without a staff or kiosk token it is limited per address as the public lookup is (429 with Retry-After; "
           "[dossiers] lookups_per_minute_per_address, lookups_per_hour_per_address). ")
CSV_COLUMNS = ("group", "code", "evaluated", "average", "grade", *ANSWERS)


class NewEvaluation(schemas.Body):
    indicators: list[Annotated[int, Field(ge=min(SCORES), le=max(SCORES))]] = Field(
        min_length=len(INDICATORS), max_length=len(INDICATORS),
        description="the nine indicators' scores, 0, 1 or 2, in order: " + ", ".join(INDICATORS))
    convenience: Answer = Field(description="how convenient: very_satisfied (Rất hài lòng), satisfied (Hài lòng), "
                                            "dissatisfied (Không hài lòng)")
    overall: Answer = Field(description="how satisfied overall, as convenience")


class Evaluated(schemas.Answer):
    code: str
    indicators: list[int]
    total: int = Field(description="the nine scores' sum, 0 to 18")
    convenience: Answer
    overall: Answer
    channel: Literal[CHANNELS] = Field(description="where it was made: phone (no token), kiosk, counter (staff)")


class EvaluationState(schemas.Answer):
    code: str
    returned: bool = Field(description="the result is handed back: the dossier may be evaluated")
    evaluated: bool


class QuarterQuery(BaseModel):
    year: int = Field(ge=2000, le=2100)
    quarter: int = Field(ge=1, le=4, description="1 (January-March) to 4")
    lang: Literal[LANGUAGES] = Field(default=LANGUAGES[0], description="the PDF's language, printed first")


class Figures(schemas.Answer):
    """One row of the report; server/core/evaluations.py says exactly what each counts."""

    evaluated: int
    average: float | None = Field(description="the nine indicators' total averaged per dossier, 0 to 18")
    grade: Grade | None = Field(description="excellent (Xuất sắc) above 15, good (Tốt) from 12 to 15, fair (Khá) "
                                            "from 9 to under 12, average (Trung bình) from 6 to under 9, weak (Yếu) "
                                            "under 6")
    very_satisfied: int
    satisfied: int
    dissatisfied: int


class BranchFigures(Figures):
    branch: str


class DepartmentFigures(Figures):
    department: str


class EvaluationReport(schemas.Answer):
    scope: str = Field(description="branch:{b} or department:{d}")
    year: int
    quarter: int
    start: str = Field(alias="from")
    end: str = Field(alias="to")
    branches: list[BranchFigures]
    departments: list[DepartmentFigures]
    total: Figures


# ---- the citizen's evaluation -----------------------------------------------------------------

NO_PLACE = "an evaluation comes from the citizen's phone, a kiosk, or the counter that returned the result"


def channel_of(who, row: dict) -> str:
    """Where the evaluation is made, from who sends it: the citizen's phone (no token), a kiosk, or a counter
    tablet (an officer of the receiving or returning branch, or an admin); 403 for any other token."""
    if who is None:
        return "phone"
    if who.kind == "device" and who.role == "kiosk":
        return "kiosk"
    if sides(who, row) & {COUNTER, ADMIN}:
        return "counter"
    raise Forbidden(NO_PLACE, "not_your_dossier")


@bp.post("/dossiers/<code>/evaluation")
@operation("the citizen's statutory satisfaction evaluation of a dossier (the body as application/json): the nine "
           "indicators scored 0, 1 or 2, then convenience and overall; once the result is returned (409 not_returned "
           "before), once per dossier (409 already_evaluated). Anyone holding the dossier's code may send it, as "
           "anyone holding it may look the dossier up (an official code with ?check=, as the lookup: a mistyped code "
           "answers 400); staff and kiosks name it by its code alone; a kiosk's token makes it a "
           "kiosk's, an officer's of the receiving or returning branch a counter's, any other token 403. " + LIMITED,
           Evaluated, status=201, body=NewEvaluation, caller=ANYONE_TOKEN_CHECKED, conflict=True,
           errors=(403, 404, 415, 429), query=LookupQuery)
def evaluate(code):
    with current_app.extensions[LOOKUP_LIMITS]:
        rt = runtime()
        row = evaluated(code, sender())
        channel = channel_of(caller(), row)
        json_only()
        body = json_body()
        found = rt.evaluations.record(row["code"], Answers(tuple(body.indicators), body.convenience, body.overall),
                                      channel)
        return jsonify({k: found[k] for k in ("code", "indicators", "total", "convenience", "overall",
                                              "channel")}), 201


@bp.get("/dossiers/<code>/evaluation")
@operation("whether a dossier may be evaluated (its result returned) and whether it has been (anyone holding the "
           "code, as the public lookup). " + LIMITED, EvaluationState, errors=(400, 404, 429), query=LookupQuery)
def evaluation_state(code):
    with current_app.extensions[LOOKUP_LIMITS]:
        return jsonify(runtime().evaluations.state(evaluated(code, uncounted_lookup())["code"]))


def evaluated(code: str, by_code: bool) -> dict:
    """The dossier an evaluation names. The citizen's phone names it as the public lookup does (an official code
    with its check: a mistyped code never reaches another's dossier); staff and the centre's kiosks (by_code),
    which found it by that lookup or see whose it is, by its code."""
    dossiers = runtime().dossiers
    return dossiers.get(code) if by_code else dossiers.public(code, request.args.get("check"))


def sender() -> bool:
    """True when the evaluation is sent by staff or a kiosk (named by its code); 403 for a token that is no place."""
    who = caller()
    if who is not None and not (who.kind == "staff" or who.role == "kiosk"):
        raise Forbidden(NO_PLACE, "not_your_dossier")
    return who is not None


# ---- the quarterly report ---------------------------------------------------------------------

def quarter_report(scope: str, branch: str | None = None, department: str | None = None) -> dict:
    """The quarter's figures of one branch (per department) or one department (per branch)."""
    query = query_args()
    rt = runtime()
    first, last = evaluations.quarter_days(query.year, query.quarter)
    catalogue = rt.dossiers.catalogue
    branches = [branch] if branch else [b.id for b in rt.engine.all_branches()]
    departments = [department] if department else list(catalogue.departments)
    figures = off_the_hub(work_out, rt.evaluations, rt.dossiers.rules.timezone, first, last, branch, department,
                          branches, departments)
    return {"scope": scope, "year": query.year, "quarter": query.quarter, "from": first.isoformat(),
            "to": last.isoformat(), **figures}


def work_out(found, timezone: str, first: date, last: date, branch, department, branches, departments) -> dict:
    rows = [r for r in found.between(*evaluations.bounds(first, last, timezone))
            if branch in (None, r["branch"]) and department in (None, r["department"])]
    return evaluations.quarter_report(rows, branches, departments)


def as_csv(report: dict) -> Response:
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for group, rows in (("branch", report["branches"]), ("department", report["departments"])):
        for row in rows:
            writer.writerow([group, row[group], *(row[c] for c in CSV_COLUMNS[2:])])
    writer.writerow(["total", "", *(report["total"][c] for c in CSV_COLUMNS[2:])])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{file_name(report)}.csv"'})


def as_pdf(report: dict) -> Response:
    rt = runtime()
    departments = rt.dossiers.catalogue.departments.values()
    names = {"branch": {b.id: {"vi": b.name_vi, "en": b.name_en} for b in rt.engine.all_branches()},
             "department": {d.code: {"vi": d.name_vi, "en": d.name_en} for d in departments}}
    return Response(evaluation_pdf.report_pdf(report, names, query_args().lang),
                    mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{file_name(report)}.pdf"'})


def file_name(report: dict) -> str:
    scope = re.sub(r"[^A-Za-z0-9_-]", "_", report["scope"])
    return f"evaluations-{scope}-{report['year']}-q{report['quarter']}"


# Each report, three ways: (what the summary adds, the answer's model, its media type, how the report is sent).
FORMS = {"json": ("", EvaluationReport, "application/json", jsonify),
         "csv": (" as CSV" + CSV_CELLS, None, "text/csv", as_csv),
         "pdf": (" as a PDF page, ?lang=en for English first", None, "application/pdf", as_pdf)}
BY_AT = ("; over the evaluations made in the quarter's local days; a read longer than [server] read_limit_s is "
         "answered 503 read_timed_out")


def add_reports(kind: str, rule: str, caller: Caller, grouped: str, who: str) -> None:
    """GET {rule}/evaluations-report.{json,csv,pdf}: the quarter's report of one branch or department."""
    for form, (said, answer, media, send) in FORMS.items():
        def view(send=send, **path):
            (key,) = path.values()
            return send(quarter_report(f"{kind}:{key}", **{kind: key}))
        view.__name__ = f"{kind}_report_{form}"
        summary = f"a {kind}'s quarterly satisfaction evaluation report{said}, {grouped}{BY_AT} ({who})"
        bp.add_url_rule(f"{rule}/evaluations-report.{form}", view_func=operation(
            summary, answer, query=QuarterQuery, caller=caller, media=media, errors=(503,))(view))


add_reports("branch", "/branches/<b>", staff("manager", at_branch),
            "per department of the dossiers received at the branch, graded, with each overall answer's count",
            "manager, admin")
add_reports("department", "/departments/<d>", Caller(roles=("department", "admin"), of="department",
                                                     place=department_of_path, admits=require_department),
            "per receiving branch of the department's dossiers, graded, with each overall answer's count",
            "its staff, admin")
