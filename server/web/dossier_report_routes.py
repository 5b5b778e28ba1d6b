"""A branch's dossier figures over a range of local days, as CSV and as JSON (manager of the branch, or admin).

Worked out by motcua.core.dossier_reports from the committed dossiers and their events, with the
ticket report's range rules (motcua.web.report_routes) and off the hub as it is.
"""
from __future__ import annotations

import io
import json
import re

from flask import Blueprint, Response, jsonify, request
from pydantic import Field

from motcua.core import dossier_reports, reports
from motcua.core.clock import LocalTime
from motcua.core.model import Invalid
from motcua.core.text import csv_writer
from . import schemas
from .openapi import operation
from .report_routes import CSV_CELLS, RANGE_MESSAGES, off_the_hub
from .guards import at_branch, staff
from .runtime import runtime

bp = Blueprint("dossier_reports", __name__, url_prefix="/api/v1")

# The CSV's rows: what they group by (department, procedure, or total), the key, the figures, the names.
CSV_COLUMNS = ("group", "code", *dossier_reports.COLUMNS, "name_vi", "name_en")

# The dossiers received at the branch on the days, and their moves to result ready or returned, in order.
DOSSIERS = ("select code, department, procedure, status, due_date, supplement_asked_on from dossiers "
            "where branch = :branch and day between :first and :last")
EVENTS = ("select e.dossier, e.from_status, e.to_status, e.at from events e "
          "join dossiers d on d.code = e.dossier where d.branch = :branch and d.day between :first and :last "
          "and e.to_status in (select value from json_each(:ready)) order by e.id")


class DossierFigures(schemas.Answer):
    """One row of a dossier report; server/core/dossier_reports.py says exactly what each counts."""

    received: int
    on_time: int = Field(description="result ready (or returned) on or before the due date")
    late: int = Field(description="result ready after the due date")
    overdue: int = Field(description="still open past the due date today")
    returned: int
    rejected: int
    open: int = Field(description="not yet result ready, returned nor rejected")


class DepartmentFigures(DossierFigures):
    department: str


class ProcedureFigures(DossierFigures):
    procedure: str


class DossierReport(schemas.Answer):
    branch: str
    start: str = Field(alias="from")
    end: str = Field(alias="to")
    timezone: str
    today: str
    departments: list[DepartmentFigures]
    procedures: list[ProcedureFigures]
    total: DossierFigures


def report(branch_id: str) -> tuple[dict, tuple[str, str]]:
    """Check the range and work the figures out, for the manager its Caller let in."""
    rt = runtime()
    try:
        first, last = reports.day_range(request.args.get("from"), request.args.get("to"))
    except reports.BadRange as error:
        raise Invalid(RANGE_MESSAGES[error.code], error.code) from None
    return off_the_hub(work_out, rt.store, rt.dossiers, branch_id, first, last), (first, last)


def work_out(store, dossiers, branch_id: str, first: str, last: str) -> dict:
    params = {"branch": branch_id, "first": first, "last": last, "ready": json.dumps(dossier_reports.READY)}
    facts = dossier_reports.dossier_facts(store.query(DOSSIERS, params), store.query(EVENTS, params),
                                          LocalTime(dossiers.rules.timezone).day, dossiers.today())
    catalogue = dossiers.catalogue
    return dossier_reports.branch_report(facts, catalogue.departments, catalogue.procedures)


@bp.get("/branches/<b>/dossiers-report.json")
@operation("a branch's dossier figures over local days, per department and procedure (manager); a read longer "
           "than [server] read_limit_s is answered 503 read_timed_out", DossierReport,
           query=schemas.ReportRange, caller=staff("manager", at_branch), errors=(503,))
def dossiers_report_json(b):
    figures, (first, last) = report(b)
    rt = runtime()
    return jsonify({"branch": b, "from": first, "to": last, "timezone": rt.dossiers.rules.timezone,
                    "today": rt.dossiers.today().isoformat(), **figures})


@bp.get("/branches/<b>/dossiers-report.csv")
@operation("the same dossier figures as CSV, per department, per procedure and in all (manager)" + CSV_CELLS,
           None, query=schemas.ReportRange, caller=staff("manager", at_branch), media="text/csv", errors=(503,))
def dossiers_report_csv(b):
    figures, (first, last) = report(b)
    catalogue = runtime().dossiers.catalogue
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for group, known in (("department", catalogue.departments), ("procedure", catalogue.procedures)):
        for row in figures[group + "s"]:
            named = known.get(row[group])
            names = (named.name_vi, named.name_en) if named else ("", "")
            writer.writerow([group, row[group], *(row[c] for c in dossier_reports.COLUMNS), *names])
    writer.writerow(["total", "", *(figures["total"][c] for c in dossier_reports.COLUMNS), "", ""])
    name = re.sub(r"[^A-Za-z0-9_-]", "_", b)   # as the ticket report's file name
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="dossiers-{name}-{first}-{last}.csv"'})
