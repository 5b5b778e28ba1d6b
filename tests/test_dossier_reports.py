"""The dossier report: its figures checked against a recount straight from the tables, its range and
who may read it, and the CSV beside the JSON."""
from __future__ import annotations

import csv
import io
import random
import sqlite3
from datetime import date, datetime
from zoneinfo import ZoneInfo

from motcua.core.dossiers import Citizen

from conftest import MORNING, PASSWORD
from test_intake import waived

DAY = 24 * 3600
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CITIZEN = Citizen("001090012345", "Trần Thị Bình")
COUNTER, DEPARTMENT = {"counter"}, {"department"}
# Procedures of hoan-kiem's five services, short and long: a fixed list, so that the seeded days below
# stay the same however the shipped catalogue grows.
PROCEDURES = ("HT-KS", "HT-KH", "HT-KT", "HT-TL", "HT-XNHN", "HT-NCMC", "HT-CC", "CT-BS", "CT-CK", "CT-HD", "CT-ND",
              "DD-CGCN", "DD-CN", "DD-CD", "DD-CMD", "KD-TL", "KD-TD", "KD-CD", "KD-RUOU", "XD-GP", "XD-GH", "XD-DC")
# Each dossier's path, cut short at random: where it stops is its status.
PATH = [("digitized", COUNTER), ("processing", COUNTER), ("supplement_requested", DEPARTMENT),
        ("processing", COUNTER), ("result_ready", DEPARTMENT), ("returned", COUNTER)]


def build(dossiers, clock, seed: int) -> None:
    """Dossiers at both branches over ten days from MORNING, each moved along its path with the days passing."""
    rng = random.Random(seed)
    for day in range(10):
        clock.set(MORNING + day * DAY)
        for _ in range(rng.randint(1, 4)):
            branch = rng.choice(["hk-01", "hk-02"])
            procedure = rng.choice(PROCEDURES)
            code = dossiers.open(procedure, CITIZEN, branch, "staff:off1")["code"]
            if rng.random() < 0.15:
                dossiers.move(code, "rejected", COUNTER, "staff:off1", branch, "thiếu giấy tờ")
                continue
            for to, side in PATH[:rng.randint(0, len(PATH))]:
                clock.advance(rng.choice([600, DAY, 3 * DAY]))
                dossiers.move(code, to, side, "staff:x", branch, "ghi chú", missing=waived(procedure))
            clock.set(MORNING + day * DAY)


def sign_in_again(rt, api) -> None:
    """The morning's tokens have expired days later: the manager and the admin sign in again."""
    for name in ("mgr1", "admin"):
        api.tokens[name] = rt.accounts.login(name, PASSWORD)[0]


def recount(db_path: str, branch: str, first: str, last: str, today: str) -> dict:
    """The figures from the tables by a way of their own: one query per dossier for its first ready day."""
    db = sqlite3.connect(db_path)
    total = {"received": 0, "on_time": 0, "late": 0, "overdue": 0, "returned": 0, "rejected": 0, "open": 0}
    by_department: dict[str, dict] = {}
    for code, department, status, due in db.execute(
            "select code, department, status, due_date from dossiers where branch = ? and day >= ? and day <= ?",
            [branch, first, last]):
        at = db.execute("select min(at) from events where dossier = ? and to_status in ('result_ready', 'returned') "
                        "and from_status <> to_status", [code]).fetchone()[0]
        ready = None if at is None else datetime.fromtimestamp(at, TZ).date().isoformat()
        settled = status in ("result_ready", "returned", "rejected")
        row = {"received": 1, "on_time": int(ready is not None and ready <= due),
               "late": int(ready is not None and ready > due), "overdue": int(not settled and today > due),
               "returned": int(status == "returned"), "rejected": int(status == "rejected"), "open": int(not settled)}
        for into in (total, by_department.setdefault(department, dict.fromkeys(total, 0))):
            for key, value in row.items():
                into[key] += value
    db.close()
    return {"total": total, "departments": by_department}


def test_the_figures_are_those_the_tables_hold(app, api, clock, config):
    rt = app.extensions["motcua"]
    build(rt.dossiers, clock, seed=14)
    clock.set(MORNING + 12 * DAY)
    sign_in_again(rt, api)
    first, last = "2026-11-25", "2026-12-01"
    answer = api.get(f"/branches/hk-01/dossiers-report.json?from={first}&to={last}", "mgr1")
    assert answer.status_code == 200, answer.text
    report = answer.json
    today = date.fromtimestamp(clock.now()).isoformat()
    assert report["today"] == today
    expected = recount(config.server.db, "hk-01", first, last, today)
    figures = {k: v for k, v in report["total"].items()}
    assert figures == expected["total"]
    # The scenario is rich enough to say something: every kind of figure is met.
    assert all(figures[c] > 0 for c in ("on_time", "late", "overdue", "returned", "rejected", "open")), figures
    met = {row["department"]: {k: v for k, v in row.items() if k != "department"}
           for row in report["departments"] if row["received"]}
    assert met == expected["departments"]
    # Every department and procedure of the catalogue has its row, zeros where none was received.
    assert [r["department"] for r in report["departments"]] == list(rt.dossiers.catalogue.departments)
    assert [r["procedure"] for r in report["procedures"]] == list(rt.dossiers.catalogue.procedures)
    assert sum(r["received"] for r in report["procedures"]) == figures["received"]


def test_on_time_late_and_overdue_of_single_dossiers(app, api, clock):
    rt = app.extensions["motcua"]
    # HT-KS has one working day: received on the holiday Tuesday 24 November, due Wednesday 25.
    codes = [rt.dossiers.open("HT-KS", CITIZEN, "hk-01", "staff:off1")["code"] for _ in range(3)]
    for code in codes[:2]:
        for to, side in PATH[:2]:
            rt.dossiers.move(code, to, side, "staff:off1", "hk-01", missing=waived("HT-KS"))
    clock.advance(DAY)
    rt.dossiers.move(codes[0], "result_ready", DEPARTMENT, "jus1", None)     # on the due day: on time
    clock.advance(DAY)
    rt.dossiers.move(codes[1], "result_ready", DEPARTMENT, "jus1", None)     # on the 26th: late
    sign_in_again(rt, api)
    total = api.get("/branches/hk-01/dossiers-report.json?from=2026-11-24&to=2026-11-24", "mgr1").json["total"]
    # The third, still received on the 26th, is past its due date.
    assert total == {"received": 3, "on_time": 1, "late": 1, "overdue": 1, "returned": 0, "rejected": 0, "open": 1}
    # Received at hk-01: nothing at hk-02.
    other = api.get("/branches/hk-02/dossiers-report.json?from=2026-11-24&to=2026-11-24", "admin").json["total"]
    assert other["received"] == 0


def test_the_csv_carries_the_json_figures(app, api, clock):
    rt = app.extensions["motcua"]
    build(rt.dossiers, clock, seed=3)
    clock.set(MORNING + 12 * DAY)
    sign_in_again(rt, api)
    query = "?from=2026-11-24&to=2026-12-03"
    report = api.get("/branches/hk-01/dossiers-report.json" + query, "mgr1").json
    answer = api.get("/branches/hk-01/dossiers-report.csv" + query, "mgr1")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "dossiers-hk-01-2026-11-24-2026-12-03.csv" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    total = next(r for r in rows if r["group"] == "total")
    assert {k: int(total[k]) for k in report["total"]} == report["total"]
    justice = next(r for r in rows if r["group"] == "department" and r["code"] == "justice")
    assert justice["name_vi"] and justice["name_en"]
    assert len([r for r in rows if r["group"] == "procedure"]) == len(report["procedures"])


def test_bad_ranges_and_callers_are_refused(api):
    base = "/branches/hk-01/dossiers-report.json"
    for query, code in (("?from=2026-11-30&to=2026-11-01", "reversed_range"), ("?from=20261101&to=2026-11-30",
                        "bad_date"), ("", "bad_date"), ("?from=2025-01-01&to=2026-11-30", "range_too_long")):
        answer = api.get(base + query, "mgr1")
        assert answer.status_code == 400 and answer.json["error"]["code"] == code, answer.text
    query = "?from=2026-11-01&to=2026-11-30"
    assert api.get(base + query, "off1").status_code == 403
    assert api.get("/branches/hk-02/dossiers-report.csv" + query, "mgr1").status_code == 403
    assert api.get("/branches/nowhere/dossiers-report.csv" + query, "admin").status_code == 404
    assert api.get(base + query).status_code == 401
