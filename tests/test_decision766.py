"""The quarter's counts under Decision 766/QĐ-TTg: the quarter and its refusals, the counts' rules, and the CSV and
PDF of a branch (per department) and of a department (per branch) recounted by hand from dossiers made through
the API, across the quarter's local-time edge."""
from __future__ import annotations

import csv
import io
import subprocess
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from motcua.core import decision766
from motcua.core.decision766 import Quarter, Received, Resolved, counts, parse_quarter, resolution
from motcua.core.model import Invalid

from conftest import MORNING, PASSWORD
# The department users' database and the helpers of the dossier API tests (fixtures included).
from test_dossier_routes import CITIZEN, config, department_template, move, opened, tokens  # noqa: F401

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = 24 * 3600


# ---- the quarter ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, first, last", [("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
                                               ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
                                               ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30)),
                                               ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31))])
def test_a_quarter_is_its_calendar_months(text, first, last):
    quarter = parse_quarter(text)
    assert (quarter.first, quarter.last) == (first, last)
    assert str(quarter) == text


@pytest.mark.parametrize("text", ["2026-Q5", "2026-Q0", "2026Q4", "Q4-2026", "2026-4", "1999-Q4", "2100-Q1",
                                  "", None, "２０２６-Q4", "2026-Q4;drop",
                                  " 2026-Q4", "2026-q4", "2026-Q4\n"])
def test_what_is_no_quarter_is_refused(text):
    with pytest.raises(Invalid) as refused:
        parse_quarter(text)
    assert refused.value.code == "bad_quarter"


def test_a_result_is_early_on_time_or_late_against_its_due_day():
    assert [resolution(day, "2026-11-27") for day in ("2026-11-26", "2026-11-27", "2026-11-28")] == [
        "early", "on_time", "late"]


def test_the_satisfaction_rate_comes_from_the_hook_and_is_none_without_evaluations():
    received = [Received("A", "finance", "in_person", True, 0), Received("B", "finance", "online", False, 2),
                Received("C", "justice", "post", True, 1)]
    resolved = [Resolved("finance", "early"), Resolved("justice", "late")]
    plain = counts(received, resolved, ["finance", "justice", "urban"])
    assert plain["total"]["satisfaction_rate"] is None and plain["total"]["evaluations"] == 0
    assert [r["group"] for r in plain["rows"]] == ["finance", "justice", "urban"]
    asked = []

    def hook(codes):
        asked.append(codes)
        return {"A": True, "B": False, "C": True}
    rated = counts(received, resolved, ["finance", "justice"], hook)
    assert asked == [["A", "B", "C"]]
    finance, justice = rated["rows"]
    assert (finance["evaluations"], finance["satisfied"], finance["satisfaction_rate"]) == (2, 1, 50.0)
    assert (justice["evaluations"], justice["satisfied"], justice["satisfaction_rate"]) == (1, 1, 100.0)
    assert rated["total"] == {"received": 3, "in_person": 1, "online": 1, "post": 1, "resolved": 2, "early": 1,
                              "on_time": 0, "late": 1, "digitised": 2, "reused_documents": 3, "evaluations": 3,
                              "satisfied": 2, "satisfaction_rate": 66.7}


# ---- the reports, through the API ---------------------------------------------------------------------

def local(*when) -> float:
    return datetime(*when, tzinfo=TZ).timestamp()


def sign_in(api, *names) -> None:
    """Fresh tokens for names (the clock has moved past the morning's)."""
    for name in names:
        answer = api.post("/auth/login", json={"username": name, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        api.tokens[name] = answer.json["token"]


def to_department(api, code) -> None:
    move(api, code, "off1", "digitized")
    move(api, code, "off1", "processing")


@pytest.fixture
def quarter_of_dossiers(app, api, clock):
    """Dossiers of Q3 and Q4 2026, their codes by name: A received in Q3 and resolved late in Q4; X received a
    minute before Q4 began (local time), Y a minute after; B (online) resolved early, C (post) on its due day,
    D (in person) untouched, F (Justice's) digitised with two documents reused; E received at hk-02."""
    made = {}
    clock.set(local(2026, 9, 10, 9, 0))
    sign_in(api, "off1")
    made["A"] = opened(api)["code"]
    to_department(api, made["A"])
    clock.set(local(2026, 9, 30, 23, 59))
    sign_in(api, "off1")
    made["X"] = opened(api)["code"]
    clock.set(local(2026, 10, 1, 0, 1))
    made["Y"] = opened(api)["code"]
    clock.set(MORNING)
    sign_in(api, "off1", "off2", "fin1", "mgr1")
    made["B"] = opened(api, channel="online")["code"]
    made["C"] = opened(api, channel="post")["code"]
    made["D"] = opened(api, channel="in_person")["code"]
    made["F"] = opened(api, procedure="HT-KS")["code"]
    made["E"] = opened(api, who="off2")["code"]
    move(api, made["A"], "fin1", "result_ready")              # due in September: late
    to_department(api, made["B"])
    move(api, made["B"], "fin1", "result_ready")              # the day received: early
    to_department(api, made["C"])
    move(api, made["F"], "off1", "digitized")
    rt = app.extensions["motcua"]
    rt.store.write(lambda db: db["dossier_documents"].insert_all(
        [{"dossier": made["F"], "sha256": sha, "kind": "id_card", "reused": 1, "attached_at": MORNING,
          "attached_by": "staff:off1"} for sha in ("a" * 64, "b" * 64)]))
    due = date.fromisoformat(api.get(f"/dossiers/{made['C']}/full", "off1").json["due_date"])
    clock.set(local(due.year, due.month, due.day, 15, 0))
    sign_in(api, "fin1", "mgr1", "admin", "off1")
    move(api, made["C"], "fin1", "result_ready")              # on its due day: on time
    return made


def csv_rows(answer) -> list[dict]:
    assert answer.status_code == 200, answer.text
    assert answer.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))


def figures(row: dict) -> dict:
    return {c: row[c] for c in decision766.COLUMNS}


def expected(received=0, in_person=0, online=0, post=0, resolved=0, early=0, on_time=0, late=0, digitised=0,
             reused_documents=0) -> dict:
    values = dict(received=received, in_person=in_person, online=online, post=post, resolved=resolved, early=early,
                  on_time=on_time, late=late, digitised=digitised, reused_documents=reused_documents)
    return {**{k: str(v) for k, v in values.items()}, "evaluations": "0", "satisfied": "0", "satisfaction_rate": "—"}


def test_a_branchs_quarter_per_department_as_csv(api, quarter_of_dossiers):
    rows = csv_rows(api.get("/branches/hk-01/decision766.csv?quarter=2026-Q4", "mgr1"))
    by = {r["department"]: r for r in rows}
    assert by["finance"]["name_vi"] and by["finance"]["name_en"]
    # Finance: B, C, D, Y received (X and A in Q3); A, B, C resolved; B and C digitised in the quarter.
    assert figures(by["finance"]) == expected(received=4, in_person=2, online=1, post=1, resolved=3, early=1,
                                              on_time=1, late=1, digitised=2)
    assert figures(by["justice"]) == expected(received=1, in_person=1, digitised=1, reused_documents=2)
    assert figures(by["total"]) == expected(received=5, in_person=3, online=1, post=1, resolved=3, early=1,
                                            on_time=1, late=1, digitised=3, reused_documents=2)
    assert all(figures(r) == expected() for d, r in by.items() if d not in ("finance", "justice", "total"))
    # The quarter before: A and X received, nothing resolved yet.
    q3 = {r["department"]: r for r in csv_rows(api.get("/branches/hk-01/decision766.csv?quarter=2026-Q3", "mgr1"))}
    assert figures(q3["total"]) == expected(received=2, in_person=2, digitised=1)


def test_a_departments_quarter_per_branch_as_csv(api, quarter_of_dossiers):
    for who in ("fin1", "admin"):
        rows = {r["branch"]: r for r in csv_rows(api.get("/departments/finance/decision766.csv?quarter=2026-Q4",
                                                         who))}
        assert figures(rows["hk-02"]) == expected(received=1, in_person=1)
        assert figures(rows["hk-01"]) == expected(received=4, in_person=2, online=1, post=1, resolved=3, early=1,
                                                  on_time=1, late=1, digitised=2)
        assert figures(rows["total"]) == expected(received=5, in_person=3, online=1, post=1, resolved=3, early=1,
                                                  on_time=1, late=1, digitised=2)


def test_the_satisfaction_figures_are_the_statutory_evaluations(api, quarter_of_dossiers):
    # B and C handed back and evaluated at the counter, B satisfied and C not: finance's rate is half.
    made = quarter_of_dossiers
    good = {"indicators": [2] * 9, "convenience": "satisfied"}
    for name, overall in (("B", "very_satisfied"), ("C", "dissatisfied")):
        move(api, made[name], "off1", "returned")
        answer = api.post(f"/dossiers/{made[name]}/evaluation", "off1", {**good, "overall": overall})
        assert answer.status_code == 201, answer.text
    by = {r["department"]: r for r in csv_rows(api.get("/branches/hk-01/decision766.csv?quarter=2026-Q4", "mgr1"))}
    assert (by["finance"]["evaluations"], by["finance"]["satisfied"], by["finance"]["satisfaction_rate"]) == (
        "2", "1", "50.0")
    assert by["justice"]["satisfaction_rate"] == "—"
    # A dossier received in the quarter before, evaluated now, counts in its own quarter: none in Q3 was.
    q3 = {r["department"]: r for r in csv_rows(api.get("/branches/hk-01/decision766.csv?quarter=2026-Q3", "mgr1"))}
    assert q3["total"]["evaluations"] == "0"


def pdf_text(data: bytes, tmp_path) -> str:
    source = tmp_path / "report.pdf"
    source.write_bytes(data)
    done = subprocess.run(["pdftotext", "-layout", str(source), "-"], capture_output=True, text=True, check=True,
                          timeout=30)
    return done.stdout


def test_the_pdf_says_the_same_in_vietnamese_or_english(api, quarter_of_dossiers, tmp_path):
    answer = api.get("/branches/hk-01/decision766.pdf?quarter=2026-Q4", "mgr1")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf", answer.text
    assert 'filename="decision766-branch-hk-01-2026-Q4.pdf"' in answer.headers["Content-Disposition"]
    text = pdf_text(answer.data, tmp_path)
    branch = next(b for b in api.get("/branches").json if b["id"] == "hk-01")["name"]["vi"]
    assert f"Báo cáo theo Quyết định 766/QĐ-TTg: {branch}, quý 4/2026" in text
    assert "Từ ngày 01/10/2026 đến ngày 31/12/2026" in text
    finance = next(d for d in api.get("/departments").json if d["code"] == "finance")["name"]["vi"]
    total = next(line for line in text.splitlines() if line.strip().startswith("Tổng cộng"))
    assert total.split()[2:] == ["5", "3", "1", "1", "3", "1", "1", "1", "3", "2", "0", "0", "—"]
    line = next(line for line in text.splitlines() if line.strip().startswith(finance[:20]))
    assert line.split()[-13:] == ["4", "2", "1", "1", "3", "1", "1", "1", "2", "0", "0", "0", "—"]
    # The header's cells wrap: their first lines, in order, on the header's first line.
    header = next(line for line in text.splitlines() if "Cơ quan giải quyết" in line)
    assert header.split()[4:] == ["Tiếp", "Trực", "tiếp", "Trực", "Bưu", "Đã", "giải", "Trước", "Đúng", "Quá", "hạn",
                                  "Đã", "số", "Giấy", "tờ", "Lượt", "Hài", "lòng", "Tỷ", "lệ", "hài"]
    english = pdf_text(api.get("/branches/hk-01/decision766.pdf?quarter=2026-Q4&lang=en", "mgr1").data, tmp_path)
    assert "Report under Decision 766/QĐ-TTg" in english and "Satisfaction" in english
    department = api.get("/departments/finance/decision766.pdf?quarter=2026-Q4", "fin1")
    assert department.status_code == 200
    assert "Nơi tiếp nhận" in pdf_text(department.data, tmp_path)
    pages = tmp_path / "page"
    (tmp_path / "shown.pdf").write_bytes(answer.data)
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(tmp_path / "shown.pdf"), str(pages)], check=True, timeout=30)
    assert len(list(tmp_path.glob("page-*.png"))) == 1


@pytest.mark.parametrize("query", ["", "?quarter=", "?quarter=2026-Q5", "?quarter=2026Q4", "?quarter=1999-Q1",
                                   "?quarter=2026-Q4&lang=fr"])
@pytest.mark.parametrize("path", ["/branches/hk-01/decision766.csv", "/branches/hk-01/decision766.pdf",
                                  "/departments/finance/decision766.csv"])
def test_a_bad_quarter_is_a_400_in_json(api, path, query):
    if "lang" in query and not path.endswith(".pdf"):
        return
    who = "fin1" if path.startswith("/departments") else "mgr1"
    answer = api.get(path + query, who)
    assert answer.status_code == 400 and answer.is_json
    assert answer.json["error"]["code"] in ("bad_quarter", "bad_lang")


@pytest.mark.parametrize("path, who, status", [
    ("/branches/hk-01/decision766.csv", "off1", 403), ("/branches/hk-01/decision766.csv", "fin1", 403),
    ("/branches/hk-02/decision766.pdf", "mgr1", 403), ("/branches/hk-01/decision766.csv", None, 401),
    ("/departments/finance/decision766.csv", "jus1", 403), ("/departments/finance/decision766.pdf", "off1", 403),
    ("/departments/nowhere/decision766.csv", "admin", 404), ("/branches/hk-01/decision766.pdf", "admin", 200)])
def test_who_may_read_the_reports(api, path, who, status):
    assert api.get(path + "?quarter=2026-Q4", who).status_code == status


def test_a_dossier_records_its_channel_in_person_unless_told(api):
    assert opened(api)["channel"] == "in_person"
    online = opened(api, channel="online")
    assert api.get(f"/dossiers/{online['code']}/full", "off1").json["channel"] == "online"
    refused = api.post("/dossiers", "off1", {"procedure": "KD-TL", "citizen": CITIZEN, "channel": "fax"})
    assert refused.status_code == 400 and refused.json["error"]["code"]
