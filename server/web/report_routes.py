"""A branch's report over a range of local days, as CSV and as JSON (manager of the branch, or admin).

The figures are worked out by motcua.core.reports from the committed tickets, events and ratings:
what the journal holds, not the engine's memory, which keeps only today.
"""
from __future__ import annotations

import io
import re

from flask import Blueprint, Response, jsonify, request

from motcua.core import reports
from motcua.core.model import CALLED, EXPIRED, SERVING, Invalid
from motcua.core.text import csv_writer
from motcua.reads import ReadTimedOut, reads
from . import schemas
from .openapi import operation
from .errors import STATUS_OF
from .guards import at_branch, staff
from .runtime import runtime

STATUS_OF.update({ReadTimedOut: 503})

bp = Blueprint("reports", __name__, url_prefix="/api/v1")

# The CSV's columns: the service, its figures, then its names for a person reading the file.
CSV_COLUMNS = ("service", *reports.COLUMNS, "name_vi", "name_en")
# Said of every CSV in the document: the rule of motcua.core.text.csv_cell.
CSV_CELLS = "; a text cell that would start a formula (= + - @, tab, CR) is written with a leading '"
RANGE_MESSAGES = {
    "bad_date": "'from' and 'to' must be local dates written YYYY-MM-DD",
    "reversed_range": "'to' must not be before 'from'",
    "range_too_long": f"a report covers at most {reports.MAX_DAYS} days",
}


def report(branch_id: str) -> tuple[dict, tuple[str, str]]:
    """Check the range and work the report out, for the manager its Caller let in."""
    rt = runtime()
    branch = rt.engine.branch(branch_id)
    try:
        first, last = reports.day_range(request.args.get("from"), request.args.get("to"))
    except reports.BadRange as error:
        raise Invalid(RANGE_MESSAGES[error.code], error.code) from None
    figures = off_the_hub(work_out, rt.store, branch_id, first, last, branch.services,
                          rt.config.staffing.target_wait_min)
    return figures, (first, last)


def work_out(store, branch_id: str, first: str, last: str, services, target_min: float) -> dict:
    facts = reports.ticket_facts(*load(store, branch_id, first, last))
    return reports.branch_report(facts, services, target_min)


def off_the_hub(fn, *args):
    """fn(*args) on the read executor (motcua.reads): a year of a busy branch is read and summed in a
    second or more, which on the hub would stall every wall display and counter; past the configured
    limit it is answered 503 read_timed_out."""
    return reads(runtime().config.server.read_limit_s).run(fn, *args)


# The branch's tickets of the days, their calls, expiries and what was done at a counter in order, their ratings.
TICKETS = ("select id, service, status, created_at, due_at, first_called_at, called_at, started_at, ended_at "
           "from tickets where branch = :branch and day between :first and :last")
EVENTS = ("select e.ticket, e.from_status, e.to_status, e.counter, e.actor from events e "
          "join tickets t on t.id = e.ticket where t.branch = :branch and t.day between :first and :last "
          "and (e.to_status in (:called, :expired) or e.from_status in (:called, :serving)) order by e.id")
RATINGS = ("select r.ticket, r.score from ratings r join tickets t on t.id = r.ticket "
           "where t.branch = :branch and t.day between :first and :last")


def load(store, branch_id: str, first: str, last: str) -> tuple[list[dict], list[dict], list[dict]]:
    """The rows motcua.core.reports works from, for the branch and days."""
    params = {"branch": branch_id, "first": first, "last": last, "called": CALLED, "expired": EXPIRED, "serving": SERVING}
    return store.query(TICKETS, params), store.query(EVENTS, params), store.query(RATINGS, params)


@bp.get("/branches/<b>/report.json")
@operation("a branch's figures over local days, per service, counter and officer (manager); a read longer "
           "than [server] read_limit_s is answered 503 read_timed_out", schemas.Report,
           query=schemas.ReportRange, caller=staff("manager", at_branch), errors=(503,))
def report_json(b):
    figures, (first, last) = report(b)
    rt = runtime()
    return jsonify({"branch": b, "from": first, "to": last, "timezone": rt.config.queue.timezone,
                    "target_wait_min": rt.config.staffing.target_wait_min, **figures})


@bp.get("/branches/<b>/report.csv")
@operation("the same report's services as CSV, one row per service (manager)" + CSV_CELLS, None,
           query=schemas.ReportRange, caller=staff("manager", at_branch), media="text/csv", errors=(503,))
def report_csv(b):
    figures, (first, last) = report(b)
    services = {s.id: s for s in runtime().engine.all_services()}
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in figures["services"]:
        known = services.get(row["service"])
        names = (known.name_vi, known.name_en) if known else ("", "")
        writer.writerow([row["service"], *("" if row[c] is None else row[c] for c in reports.COLUMNS), *names])
    # The branch's id as the file's name, with anything a header or a file system might mind replaced.
    name = re.sub(r"[^A-Za-z0-9_-]", "_", b)
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="report-{name}-{first}-{last}.csv"'})
