"""The statutory evaluation through the API: once the result is returned, once per dossier, from the phone (no token),
a kiosk or the returning counter; bad bodies and codes refused in JSON; limited per address as the public lookup;
the quarterly report per branch and department as JSON, CSV and PDF for the right roles."""
from __future__ import annotations

import csv
import io

import pytest

from motcua.core.evaluations import satisfaction
from motcua.config import load_config

from motcua.core.dossier_codes import check_character
from test_dossier_routes import department_template, opened  # noqa: F401  (fixtures)
from test_intake import waived_for

GOOD = {"indicators": [2, 2, 2, 1, 2, 2, 2, 1, 2], "convenience": "satisfied", "overall": "very_satisfied"}


@pytest.fixture
def config(tmp_path, department_template):  # noqa: F811
    return load_config(server={"db": str(department_template.copy_to(tmp_path / "motcua.db")),
                               "async_mode": "threading"},
                       dossiers={"lookups_per_minute_per_address": 5, "lookups_per_hour_per_address": 50})


@pytest.fixture
def tokens(department_template) -> dict:  # noqa: F811
    return dict(department_template.tokens)


def returned(api, who="off1", **body) -> str:
    """A dossier opened at hk-01 and taken to returned (an admin makes the department's moves)."""
    view = opened(api, who, **body)
    code = view["code"]
    for status, by in (("digitized", who), ("processing", who), ("result_ready", "admin"), ("returned", who)):
        answer = api.post(f"/dossiers/{code}/status", by, {"status": status, "missing": waived_for(view)
                                                          if status == "digitized" else []})
        assert answer.status_code == 200, answer.text
    return code


def checked(code: str, tail: str = "/evaluation") -> str:
    """The evaluation's address as the citizen's phone names it: the code with the check printed beside it."""
    return f"{code}{tail}?check={check_character(code.upper())}"


def evaluate(api, code, body=None, who=None, **kwargs):
    """As the phone sends it (no token: the code with its check), or with who's token (the code alone)."""
    return api.post(f"/dossiers/{checked(code) if who is None else code + '/evaluation'}", who,
                    GOOD if body is None else body, **kwargs)


def test_a_citizen_evaluates_a_returned_dossier_once_from_the_phone(api):
    code = returned(api)
    assert api.get(f"/dossiers/{checked(code)}").json == {"code": code, "returned": True,
                                                                      "evaluated": False}
    answer = evaluate(api, code.lower())
    assert answer.status_code == 201, answer.text
    assert answer.json == {"code": code, "indicators": GOOD["indicators"], "total": 16, "convenience": "satisfied",
                           "overall": "very_satisfied", "channel": "phone"}
    assert api.get(f"/dossiers/{checked(code)}").json["evaluated"] is True
    again = evaluate(api, code, {**GOOD, "overall": "dissatisfied"})
    assert again.status_code == 409 and again.json["error"]["code"] == "already_evaluated"


def test_before_the_result_is_returned_it_is_refused(api):
    code = opened(api)["code"]
    assert api.get(f"/dossiers/{checked(code)}").json["returned"] is False
    answer = evaluate(api, code)
    assert answer.status_code == 409 and answer.json["error"]["code"] == "not_returned"


@pytest.mark.parametrize("who, channel", [("kiosk2", "kiosk"), ("off1", "counter"), ("admin", "counter")])
def test_the_channel_is_who_sends_it(api, who, channel):
    code = returned(api)
    answer = evaluate(api, code, who=who)
    assert answer.status_code == 201 and answer.json["channel"] == channel


@pytest.mark.parametrize("who", ["off2", "fin1", "display1"])
def test_another_branch_a_department_or_a_display_may_not_send_it(api, who):
    code = returned(api)
    answer = evaluate(api, code, who=who)
    assert answer.status_code == 403 and answer.json["error"]["code"] in ("not_your_dossier", "forbidden")


@pytest.mark.parametrize("body", [
    {**GOOD, "indicators": [2] * 8}, {**GOOD, "indicators": [2] * 10}, {**GOOD, "indicators": [2] * 8 + [3]},
    {**GOOD, "indicators": [2] * 8 + [True]}, {**GOOD, "indicators": [2] * 8 + ["2"]}, {**GOOD, "indicators": None},
    {**GOOD, "convenience": "happy"}, {**GOOD, "overall": ""}, {"indicators": GOOD["indicators"]}, [], "x", 7])
def test_bad_bodies_get_a_json_400(api, body):
    code = returned(api)
    answer = evaluate(api, code, body)
    assert answer.status_code == 400 and answer.json["error"]["code"]
    assert api.get(f"/dossiers/{checked(code)}").json["evaluated"] is False


def test_a_mistyped_or_unknown_code_and_a_form_post_are_refused(api):
    code = returned(api)
    # A digit of the sequence mistyped: the check no longer agrees, so it never reaches another's dossier.
    mistyped = code[:-1] + ("0" if code[-1] != "0" else "1")
    refused = api.post(f"/dossiers/{mistyped}/evaluation?check={check_character(code)}", None, GOOD)
    assert refused.status_code == 400 and refused.json["error"]["code"] == "bad_check"
    alone = api.post(f"/dossiers/{code}/evaluation", None, GOOD)   # the phone without the check
    assert alone.status_code == 400 and alone.json["error"]["code"] == "check_needed"
    assert evaluate(api, code[:-4] + "9999").status_code == 404
    form = api.client.post(f"/api/v1/dossiers/{checked(code)}", data="indicators=2")
    assert form.status_code == 415 and form.json["error"]["code"] == "unsupported_media_type"


def test_anonymous_evaluations_are_limited_per_address_but_not_a_kiosks(api):
    code = returned(api)
    answers = [evaluate(api, code, {**GOOD, "overall": "x"}).status_code for _ in range(6)]
    assert answers[:5] == [400] * 5 and answers[5] == 429
    assert evaluate(api, code, who="kiosk1").status_code == 201


def quarter(api, path, who):
    return api.client.get("/api/v1" + path + "?year=2026&quarter=4", headers=api.headers(who))


def test_the_quarterly_report_per_branch_and_department(api, app):
    scores = [[2] * 9, [2] * 8 + [0], [1] * 9]
    overall = ["very_satisfied", "satisfied", "dissatisfied"]
    for indicators, said in zip(scores, overall):
        evaluate(api, returned(api), {**GOOD, "indicators": indicators, "overall": said}, who="kiosk1")
    branch = quarter(api, "/branches/hk-01/evaluations-report.json", "mgr1")
    assert branch.status_code == 200, branch.text
    total = branch.json["total"]
    assert total == {"evaluated": 3, "average": 14.33, "grade": "good", "very_satisfied": 1, "satisfied": 1,
                     "dissatisfied": 1}
    finance = {r["department"]: r for r in branch.json["departments"]}["finance"]
    assert finance["evaluated"] == 3 and branch.json["from"] == "2026-10-01" and branch.json["to"] == "2026-12-31"
    department = quarter(api, "/departments/finance/evaluations-report.json", "fin1")
    assert {r["branch"]: r["evaluated"] for r in department.json["branches"]}["hk-01"] == 3
    rows = list(csv.reader(io.StringIO(quarter(api, "/branches/hk-01/evaluations-report.csv", "mgr1").text)))
    assert rows[0] == ["group", "code", "evaluated", "average", "grade", "very_satisfied", "satisfied", "dissatisfied"]
    assert rows[-1] == ["total", "", "3", "14.33", "good", "1", "1", "1"]
    pdf = quarter(api, "/departments/finance/evaluations-report.pdf", "fin1")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    # The rate the Decision 766 counts take: the same evaluations, two of three satisfied.
    store = app.extensions["motcua"].store
    assert satisfaction(store, branch="hk-01", start="2026-10-01", end="2026-12-31") == \
        {"evaluated": 3, "satisfied_share": 2 / 3}


@pytest.mark.parametrize("path, who, status", [
    ("/branches/hk-01/evaluations-report.json", "off1", 403), ("/branches/hk-01/evaluations-report.json", "fin1", 403),
    ("/branches/hk-02/evaluations-report.csv", "mgr1", 403), ("/branches/hk-01/evaluations-report.pdf", "admin", 200),
    ("/departments/finance/evaluations-report.json", "jus1", 403),
    ("/departments/finance/evaluations-report.csv", "mgr1", 403),
    ("/departments/justice/evaluations-report.pdf", "jus1", 200),
    ("/branches/hk-01/evaluations-report.json", None, 401)])
def test_the_report_is_for_the_branchs_managers_the_departments_staff_and_admins(api, path, who, status):
    assert quarter(api, path, who).status_code == status


@pytest.mark.parametrize("query", ["year=2026&quarter=5", "year=2026", "year=x&quarter=1", ""])
def test_a_bad_quarter_is_a_json_400(api, query):
    answer = api.client.get(f"/api/v1/branches/hk-01/evaluations-report.json?{query}", headers=api.headers("mgr1"))
    assert answer.status_code == 400 and answer.json["error"]["code"] == "bad_query"
