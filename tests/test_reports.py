"""Reports: after a simulated city day written through the engine into the database, every figure of
report.json and report.csv equals what this test works out itself, in SQL, from the events, tickets
and ratings tables; the range and who may ask."""
from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, timedelta

import pytest
import requests

from motcua.config import load_config
from motcua.core import reports
from motcua.core.simulator import SIM_DAY
from motcua.store import Store
from motcua.web.app import create_app

from conftest import PASSWORD, Api
from report_city import DAY, NEXT, OFFICERS_PER_BRANCH, build_city
from test_openapi import check

ISSUE_COLUMNS = ["service", "tickets", "served", "no_shows", "mean_wait_min", "p90_wait_min", "within_target_pct",
                 "mean_service_min", "ratings", "mean_rating"]
TARGET_MIN = 15.0

@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """The app on the simulated city's database, with its manager's and admin's tokens."""
    path = tmp_path_factory.mktemp("reports") / "motcua.db"
    clock = build_city(path)
    app = create_app(load_config(server={"db": str(path), "async_mode": "threading"}), clock)
    app.config["TESTING"] = True
    accounts = app.extensions["motcua"].accounts
    tokens = {name: accounts.login(name, PASSWORD)[0] for name in ("boss", "root")}
    yield Api(app.test_client(), tokens), app.extensions["motcua"].store
    app.extensions["motcua"].store.close()


# ---- the figures, worked out again from the tables ------------------------------------------------

# One row per ticket of the branch and days, from the events (and the ticket's service and due_at,
# which no event carries), then grouped by service, counter or officer.
FACTS = """
with t as (select id, service, due_at from tickets where branch = :branch and day between :first and :last),
ev as (select e.* from events e join t on t.id = e.ticket),
born as (select ticket, at from ev where from_status is null),
calls as (select ticket, min(at) as first_at, max(id) as last_id from ev where to_status = 'called' group by ticket),
last_call as (select c.ticket, c.first_at, e.at as last_at, e.counter
              from calls c join ev e on e.id = c.last_id),
acted as (select e.ticket, max(e.id) as id from ev e join calls c on c.ticket = e.ticket
          where e.id >= c.last_id and e.actor like 'staff:%'
            and (e.to_status = 'called' or e.from_status in ('called', 'serving')) group by e.ticket),
officers as (select a.ticket, substr(e.actor, 7) as officer from acted a join ev e on e.id = a.id),
done as (select ticket, at from ev where to_status = 'done'),
began as (select ticket, max(at) as at from ev where to_status = 'serving' group by ticket),
final as (select ticket, from_status, to_status from ev e where id = (select max(id) from ev x where x.ticket = e.ticket)),
facts as (
  select t.service, lc.counter,
         o.officer,
         max(0, lc.first_at - max(born.at, coalesce(t.due_at, born.at))) / 60.0 as wait,
         case when done.at is not null then (done.at - max(lc.last_at, coalesce(began.at, 0))) / 60.0 end as service_min,
         done.at is not null as served,
         final.to_status = 'no_show' or (final.to_status = 'expired' and final.from_status = 'no_show') as no_show,
         final.to_status = 'expired' and final.from_status != 'no_show' as expired,
         final.to_status = 'transferred' as transferred,
         r.score
  from t join born on born.ticket = t.id join final on final.ticket = t.id
  left join last_call lc on lc.ticket = t.id left join officers o on o.ticket = t.id
  left join done on done.ticket = t.id
  left join began on began.ticket = t.id left join ratings r on r.ticket = t.id)
select {key} as key, count(*) as tickets, sum(served) as served, sum(no_show) as no_shows,
       avg(wait) as mean_wait_min, 100.0 * sum(wait <= :target) / count(wait) as within_target_pct,
       avg(service_min) as mean_service_min, count(score) as ratings, avg(score) as mean_rating,
       sum(expired) as expired, sum(transferred) as transferred, json_group_array(wait) as waits
from facts where {key} is not null group by {key}
"""


def p90(values: list[float]) -> float | None:
    """The 90th percentile, linearly between the order statistics at (n - 1) × 0.9."""
    if not values:
        return None
    ordered = sorted(values)
    h = (len(ordered) - 1) * 0.9
    low = math.floor(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


def worked_out(store: Store, branch: str, first: str, last: str, key: str) -> dict:
    """The figures by key (service, counter or officer; "1" for the whole branch), from SQL."""
    rows = store.query(FACTS.format(key=key), {"branch": branch, "first": first, "last": last, "target": TARGET_MIN})
    found = {}
    for row in rows:
        waits = [w for w in json.loads(row.pop("waits")) if w is not None]
        found[str(row.pop("key"))] = {**row, "p90_wait_min": p90(waits)}
    return found


COUNTS = ("tickets", "served", "no_shows", "ratings", "expired", "transferred")


def same(reported: dict, expected: dict, where: str) -> None:
    """Counts equal; means, percentiles and shares equal to the report's two decimals."""
    for column in reports.COLUMNS:
        got, want = reported[column], expected[column]
        if column in COUNTS or want is None:
            assert got == want, f"{where} {column}: reported {got}, worked out {want}"
        else:
            assert got is not None and abs(got - want) <= 0.005 + 1e-9, f"{where} {column}: {got}, worked out {want}"


GROUPS = {"services": ("service", "service"), "counters": ("counter", "counter"), "officers": ("officer", "officer")}


@pytest.mark.parametrize("branch", ["hk-01", "hk-02", "hk-03", "hn-hq"])
def test_every_figure_of_the_report_is_the_one_worked_out_from_the_tables(city, branch):
    api, store = city
    answer = api.get(f"/branches/{branch}/report.json?from={DAY}&to={DAY}", "root")
    assert answer.status_code == 200, answer.text
    report = answer.json
    assert (report["branch"], report["from"], report["to"], report["target_wait_min"]) == (branch, DAY, DAY, TARGET_MIN)
    for group, (field, key) in GROUPS.items():
        expected = worked_out(store, branch, DAY, DAY, key)
        reported = {row[field]: row for row in report[group] if row["tickets"]}
        assert set(reported) == set(expected), group
        for name, row in reported.items():
            same(row, expected[name], f"{group} {name}")
    same(report["total"], worked_out(store, branch, DAY, DAY, "1")["1"], "total")
    # Services nobody took a ticket for still have their row, empty.
    for row in report["services"]:
        if not row["tickets"]:
            assert row["mean_wait_min"] is None and row["served"] == row["ratings"] == 0


def test_the_day_met_every_case_the_report_defines(city):
    """The figures above are worth comparing: the day had each kind of ticket and of wait."""
    api, store = city
    total = api.get(f"/branches/hk-01/report.json?from={DAY}&to={DAY}", "boss").json["total"]
    assert total["no_shows"] >= 1 and total["expired"] >= 3 and total["transferred"] >= 1 and total["ratings"] >= 10
    assert 0 < total["within_target_pct"] < 100
    sent_in = store.query("select count(*) as n from tickets where day = ? and origin is not null and due_at is not null",
                          [DAY])[0]["n"]
    assert sent_in > 0
    # A ticket finished by an officer who took the counter over from its caller (credited to the first).
    relieved = store.query("select count(*) as n from events d join events c on c.ticket = d.ticket "
                           "and c.to_status = 'called' where d.to_status = 'done' and d.actor like 'staff:%' "
                           "and c.actor like 'staff:%' and c.actor != d.actor", [])[0]["n"]
    assert relieved >= 1
    officers = api.get(f"/branches/hk-01/report.json?from={DAY}&to={DAY}", "boss").json["officers"]
    assert {o["officer"] for o in officers} >= {f"hk-01-o{i}" for i in range(OFFICERS_PER_BRANCH)} | {"evening"}


def test_the_csv_has_the_published_columns_and_the_json_s_figures(city):
    api, _ = city
    answer = api.get(f"/branches/hk-01/report.csv?from={DAY}&to={DAY}", "boss")
    assert answer.status_code == 200, answer.text
    assert answer.mimetype == "text/csv"
    assert f"report-hk-01-{DAY}-{DAY}.csv" in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0][:len(ISSUE_COLUMNS)] == ISSUE_COLUMNS
    services = api.get(f"/branches/hk-01/report.json?from={DAY}&to={DAY}", "boss").json["services"]
    assert [r[0] for r in rows[1:]] == [s["service"] for s in services]
    for line, service in zip(rows[1:], services, strict=True):
        row = dict(zip(rows[0], line, strict=True))
        for column in reports.COLUMNS:
            want = service[column]
            assert row[column] == ("" if want is None else str(want)), (service["service"], column)
        assert row["name_vi"]


def test_days_are_local_and_both_ends_count(city):
    api, store = city

    def tickets(first, last):
        answer = api.get(f"/branches/hk-01/report.json?from={first}&to={last}", "boss")
        assert answer.status_code == 200, answer.text
        return answer.json["total"]["tickets"]

    on_the_day = store.query("select count(*) as n from tickets where branch = 'hk-01' and day = ?", [DAY])[0]["n"]
    assert tickets(DAY, DAY) == on_the_day
    assert tickets(NEXT, NEXT) == 1
    assert tickets(DAY, NEXT) == on_the_day + 1
    assert tickets("2025-12-01", (SIM_DAY - timedelta(days=1)).isoformat()) == 0


@pytest.mark.parametrize("query, code", [
    ("", "bad_date"),
    (f"from={DAY}", "bad_date"),
    (f"from={DAY}&to=tomorrow", "bad_date"),
    ("from=2026-02-30&to=2026-03-01", "bad_date"),
    ("from=20260105&to=20260106", "bad_date"),
    ("from=2026-W02-1&to=2026-01-06", "bad_date"),
    (f"from={NEXT}&to={DAY}", "reversed_range"),
    ("from=2025-01-01&to=2026-01-02", "range_too_long"),
])
@pytest.mark.parametrize("form", ["csv", "json"])
def test_bad_or_reversed_dates_are_refused_400_in_json(city, query, code, form):
    api, _ = city
    answer = api.get(f"/branches/hk-01/report.{form}?{query}", "boss")
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == code


def test_a_year_is_the_longest_range(city):
    api, _ = city
    first = date(2025, 1, 6)
    assert api.get(f"/branches/hk-01/report.json?from={first}&to={first + timedelta(days=365)}", "boss").status_code == 200
    assert api.get(f"/branches/hk-01/report.json?from={first}&to={first + timedelta(days=366)}", "boss").status_code == 400


def test_a_manager_sees_only_their_branch(city):
    api, _ = city
    answer = api.get(f"/branches/hk-02/report.csv?from={DAY}&to={DAY}", "boss")
    assert answer.status_code == 403 and answer.json["error"]["code"] == "other_branch"
    assert api.get(f"/branches/nowhere/report.csv?from={DAY}&to={DAY}", "boss").status_code == 404
    assert api.get(f"/branches/hk-01/report.csv?from={DAY}&to={DAY}", None).status_code == 401


def test_a_served_report_is_worked_out_off_the_gevent_hub_and_answers(server):
    """`motcua serve` (gevent): the report runs on a thread of its own, and still answers."""
    token = server.login("mgr1")
    answer = requests.get(f"{server.api}/branches/hk-01/report.json?from={DAY}&to={DAY}",
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["total"]["tickets"] == 0 and len(answer.json()["services"]) > 0
    csv_answer = requests.get(f"{server.api}/branches/hk-01/report.csv?from={DAY}&to={NEXT}",
                              headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert csv_answer.status_code == 200 and csv_answer.text.startswith(",".join(ISSUE_COLUMNS))


def test_the_report_fits_the_document(city):
    api, _ = city
    doc = api.get("/openapi.json").json
    answer = api.get(f"/branches/hk-01/report.json?from={DAY}&to={NEXT}", "boss")
    schema = doc["paths"]["/branches/{b}/report.json"]["get"]["responses"]["200"]["content"]["application/json"]
    check(doc, schema["schema"], answer.json)
    refused = api.get(f"/branches/hk-01/report.json?from={NEXT}&to={DAY}", "boss")
    check(doc, doc["paths"]["/branches/{b}/report.json"]["get"]["responses"]["400"]["content"]["application/json"]
          ["schema"], refused.json)
    csv_doc = doc["paths"]["/branches/{b}/report.csv"]["get"]
    assert list(csv_doc["responses"]["200"]["content"]) == ["text/csv"]
    assert [(p["name"], p["in"], p["required"]) for p in csv_doc["parameters"]] == [("from", "query", True),
                                                                                    ("to", "query", True)]
