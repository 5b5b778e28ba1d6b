"""schemathesis against /api/v1/openapi.json, on the app's WSGI interface as an admin: no answer is a 5xx,
and each fits what the document says of its operation and status."""
from __future__ import annotations

import itertools
from datetime import date

import jsonschema
import pytest
import schemathesis
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                                positive_data_acceptance, response_schema_conformance,
                                                status_code_conformance)

from motcua.config import load_config
from motcua.core.clock import FakeClock
from motcua.core.dossiers import Citizen
from motcua.documents import Actor
from motcua.web.app import create_app

from conftest import MORNING, PASSWORD

# Examples per operation: enough to try each body's edges, few enough that the module runs in seconds.
EXAMPLES = 8


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory, morning_template):
    """One app for the module, on the fake clock: the state the examples leave carries over between them."""
    db = morning_template.copy_to(tmp_path_factory.mktemp("schemathesis") / "motcua.db")
    app = create_app(load_config(server={"db": str(db), "async_mode": "threading"},
                                 dossiers={"documents": str(db.parent / "documents"),
                                            "document_key": Fernet.generate_key().decode()}), FakeClock(MORNING))
    yield app
    app.extensions["motcua"].store.close()


@pytest.fixture(scope="module")
def web_schema(fuzzed_app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzzed_app)


schema = schemathesis.pytest.from_fixture("web_schema")
# Made-up ids only reach the 404 of each call: every other example is aimed at a real branch, counter and
# ticket instead, so that its body reaches the code behind the lookup. The turn keeps the choice fixed.
TURN = itertools.count()


def real_ids(app, tokens: dict, wanted) -> dict:
    """Path parameters of hk-01: counter 1, a ticket issued by its kiosk, a dossier opened there and its document."""
    answer = app.test_client().post("/api/v1/branches/hk-01/tickets", json={"service": "civil"},
                                    headers={"Authorization": f"Bearer {tokens['kiosk1']}"})
    assert answer.status_code == 201, answer.text
    ids = {"b": "hk-01", "c": "1", "ticket_id": answer.json["id"], "number": answer.json["number"], "s": "civil",
           "username": "off2"}
    if "code" in wanted:
        citizen = Citizen("001090012345", "Nguyễn Văn An")
        ids["code"] = app.extensions["motcua"].dossiers.open("HT-KS", citizen, "hk-01", "staff:admin")["code"]
    # a procedure other than the one opened above: a fuzzed PATCH may retire it
    ids |= {"d": "justice", "id_number": "001090012345", "p": "HT-KH"}
    if "sha256" in wanted:
        # a real document of that dossier, so that a download reaches the file
        rt = app.extensions["motcua"]
        scan = f"%PDF-1.4 {ids['code']}\n%%EOF".encode()
        ids["sha256"] = rt.documents.upload(rt.dossiers.get(ids["code"]), scan, "id_card",
                                            Actor("staff:admin", None))["sha256"]
    if "message_id" in wanted:   # a message waiting in the outbox: handing it back is refused for its state (409)
        rt = app.extensions["motcua"]
        key = f"schemathesis-{next(TURN)}"
        rt.store.write(lambda db: rt.notifier.add(db, "result_ready", key, "0912345678", {"vi": key}, {}))
        ids["message_id"] = str(rt.store.query("select id from outbox where key = ?", [key])[0]["id"])
    if "device_id" in wanted:
        ids["device_id"] = app.extensions["motcua"].accounts.register_device("display", "hk-01")[0]["id"]
    return {name: ids[name] for name in wanted}


# No 5xx; each answer's status, type and body as documented; bodies the document allows are accepted (a
# refusal is then for the state: 404, 409) and those it forbids are refused.
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance,
          positive_data_acceptance, negative_data_rejection]
# Administration refuses with 400 what JSON Schema cannot say: a name of only spaces or with hidden
# characters, a branch closing before it opens, a guessable password; dossiers an unknown procedure, an
# invalid ID number, a rejection without its reason, a code whose check character is wrong; an ID card's QR
# code that is none. Everything else is checked.
BEYOND_SCHEMA = {("PATCH", "/admin/branches/{b}"), ("POST", "/admin/services"), ("PATCH", "/admin/services/{s}"),
                 ("POST", "/admin/users"), ("POST", "/admin/users/{username}/password"), ("POST", "/dossiers"),
                 ("POST", "/dossiers/{code}/status"), ("GET", "/dossiers/{code}"), ("GET", "/dossiers/{code}/full"),
                 ("GET", "/dossiers/{code}/evaluation"), ("POST", "/dossiers/{code}/evaluation"),
                 ("GET", "/citizens/{id_number}/dossiers"),
                 # the catalogue and a new branch: names refused as the services' are, a branch closing before it opens
                 ("POST", "/admin/branches"), ("POST", "/admin/departments"), ("PATCH", "/admin/departments/{d}"),
                 ("POST", "/admin/document-kinds"), ("POST", "/admin/procedures"), ("PATCH", "/admin/procedures/{p}"),
                 # a file the document allows (any bytes) is refused unless its content is a PDF, JPEG or PNG
                 ("POST", "/dossiers/{code}/documents"), ("GET", "/dossiers/{code}/documents/{sha256}"),
                 ("GET", "/citizens/{id_number}/documents"),
                 # an imported catalogue's parts name each other: a department or kind it lacks, one listed twice
                 ("PUT", "/admin/catalogue"),
                 # an ID card's QR code: its ID number, its dates, its fields between pipes
                 ("POST", "/cards"), ("POST", "/branches/{b}/cards"), ("POST", "/branches/{b}/tickets/card")}


@schema.parametrize()
# derandomize: the same examples on every run, so a failure is never a matter of luck; no database, so an
# earlier run's examples do not change this one's.
@settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_every_answer_is_documented_and_never_a_server_error(case, fuzzed_app, morning_template):
    token = morning_template.tokens["admin"]
    if case.path_parameters and next(TURN) % 2:
        case.path_parameters = real_ids(fuzzed_app, morning_template.tokens, case.path_parameters)
    if case.path == "/auth/logout":
        # Logging out ends the token given: a fresh one each time keeps the admin's for the other examples.
        token = fuzzed_app.extensions["motcua"].accounts.login("admin", PASSWORD)[0]
    # A report's range reversed or over a year is refused 400 (tests/test_reports.py), as JSON Schema
    # cannot compare two parameters; every other check still holds for those examples.
    beyond = (case.method.upper(), case.path) in BEYOND_SCHEMA or outside_a_report(case)
    live = fuzzed_app.extensions["motcua"].catalogue
    kept = live.current
    try:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                               checks=[c for c in CHECKS if not (beyond and c is positive_data_acceptance)])
    finally:
        if live.current is not kept:   # an import accepted: the other examples find the catalogue they know
            live.replace(kept)
        reopen_closed_branches(fuzzed_app, morning_template.tokens["admin"])


def reopen_closed_branches(app, token: str) -> None:
    """A fuzzed PATCH that closed a branch accepted: the other examples find it open, as they know it."""
    for branch in app.extensions["motcua"].engine.all_branches():
        if branch.closed:
            answer = app.test_client().patch(f"/api/v1/admin/branches/{branch.id}", json={"closed": False},
                                             headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200, answer.text


def outside_a_report(case) -> bool:
    """Two dates the schema allows but a report refuses: reversed or over a year apart."""
    if not case.path.endswith(("/report.csv", "/report.json")):
        return False
    try:
        first, last = (date.fromisoformat(case.query[k]) for k in ("from", "to"))
    except (KeyError, TypeError, ValueError):
        return False
    return last < first or (last - first).days >= 366


# ---- what the checks found, kept found -------------------------------------------------------------

def test_a_score_written_as_4_0_is_the_score_4(api):
    """JSON Schema's integer 4 includes 4.0, so the document allows it: the server took it for a wrong type."""
    ticket = api.issue()
    assert api.post("/branches/hk-01/counters/1/next", "off1").json["ticket"]["id"] == ticket["id"]
    assert api.post(f"/tickets/{ticket['id']}/done", "off1").status_code == 200
    rated = api.post(f"/tickets/{ticket['id']}/rating", json={"score": 4.0})
    assert rated.status_code == 201 and rated.json["score"] == 4, rated.text
    assert api.post(f"/tickets/{api.issue()['id']}/rating", json={"score": 3.5}).status_code == 400


def test_the_document_refuses_the_counter_changes_the_server_refuses(api):
    """The server wants services or open, not null: the document said any object would do."""
    doc = api.get("/openapi.json").json
    body = doc["paths"]["/branches/{b}/counters/{c}"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    validator = jsonschema.Draft202012Validator({**body, "components": doc["components"]})
    for change in ({}, {"services": None}, {"open": None}, {"services": None, "open": None}):
        assert not validator.is_valid(change), change
        assert api.post("/branches/hk-01/counters/2", "mgr1", change).status_code == 400, change
    for change in ({"open": False}, {"services": ["civil"]}, {"services": ["civil"], "open": None}):
        assert validator.is_valid(change), change
        assert api.post("/branches/hk-01/counters/2", "mgr1", change).status_code == 200, change
