"""The OpenAPI document: it describes every route, every real answer and live event fits it, and
the bodies it describes are the ones the server accepts, refusing the rest in words."""
from __future__ import annotations

import queue
import time
from datetime import date

import flask
import jsonschema
import pytest
import requests
import socketio
from openapi_spec_validator import validate

from motcua.config import load_config
from motcua.core.clock import FakeClock, LocalTime
from motcua.i18n import LANGUAGES, catalogue, rating_reasons
from motcua.web.app import create_app
from motcua.web.app import API

from conftest import HOAN_KIEM, PASSWORD, motcua


def strict(schema):
    """The schema with every object closed: a field the document does not list fails the check."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {k: strict(v) for k, v in schema.items()}
    if "properties" in closed:
        closed.setdefault("additionalProperties", False)
    return closed


def check(doc: dict, schema: dict, value) -> None:
    root = strict({**schema, "components": doc["components"]})
    jsonschema.Draft202012Validator(root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(value)


def fits(doc: dict, method: str, path: str, answer):
    """The answer (requests' or Flask's) fits what the document says of that path and status; its JSON."""
    status, body = answer.status_code, answer.json() if callable(answer.json) else answer.json
    responses = doc["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method} {path} answered {status}: {body}"
    check(doc, responses[str(status)]["content"]["application/json"]["schema"], body)
    return body


@pytest.fixture(scope="module")
def doc(server):
    return server.get("/openapi.json").json()


def test_the_document_describes_every_route_of_the_app(doc):
    probe = flask.Flask("probe")
    for blueprint in API:
        probe.register_blueprint(blueprint)
    served = set()
    for rule in probe.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = rule.rule[len("/api/v1"):].replace("<", "{").replace(">", "}")
            served |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    described = {(path, method) for path, item in doc["paths"].items() for method in item if method != "parameters"}
    assert served == described


# Reads that may answer 503 all the same: the documents part is off without its key, a download
# writes its read event before it answers, /health answers 503 when the server cannot serve, and a
# report read on the read executor past its limit answers 503 read_timed_out.
READS_WITH_503 = {("get", "/citizens/{id_number}/documents"), ("get", "/dossiers/{code}/documents/{sha256}"),
                  ("get", "/dossiers/{code}/offers"),   # the citizen's documents: none when documents are off
                  ("get", "/health"), *(("get", f"/branches/{{b}}/{report}.{form}")
                                        for report in ("report", "dossiers-report") for form in ("json", "csv")),
                  *(("get", f"/{place}/decision766.{form}") for place in ("branches/{b}", "departments/{d}")
                    for form in ("csv", "pdf")),
                  *((("get", f"/{scope}/evaluations-report.{form}") for scope in ("branches/{b}", "departments/{d}")
                     for form in ("json", "csv", "pdf")))}


def test_every_write_lists_the_storage_fault_and_no_read_does(doc):
    for path, item in doc["paths"].items():
        for method, described in item.items():
            if method != "parameters":
                expected = method != "get" or (method, path) in READS_WITH_503
                assert ("503" in described["responses"]) == expected, (method, path)


def test_the_document_is_valid_openapi_3_1(doc):
    assert doc["openapi"].startswith("3.1")
    validate(doc)
    ticket = doc["components"]["schemas"]["Ticket"]["properties"]
    assert {"estimated_wait_range_min", "issued_at", "called_at", "transferred_to", "rated", "priority"} <= set(ticket)


def test_real_answers_fit_the_document(fresh_server):
    server = fresh_server
    doc = server.get("/openapi.json").json()
    fits(doc, "get", "/openapi.json", server.get("/openapi.json"))
    fits(doc, "get", "/health", server.get("/health"))
    fits(doc, "get", "/branches", server.get("/branches"))
    fits(doc, "post", "/auth/login", server.post("/auth/login", json={"username": "mgr1", "password": PASSWORD}))
    fits(doc, "get", "/branches/{b}/state", server.get("/branches/hk-01/state"))

    issued = fits(doc, "post", "/branches/{b}/tickets", server.post("/branches/hk-01/tickets", "kiosk1",
                                                                      {"service": "civil", "lang": "en"}))
    fits(doc, "get", "/tickets/{ticket_id}", server.get(f"/tickets/{issued['id']}"))
    fits(doc, "post", "/branches/{b}/counters/{c}/next", server.post("/branches/hk-01/counters/6/next", "off1"))
    fits(doc, "get", "/branches/{b}/counters/{c}", requests.get(
        server.api + "/branches/hk-01/counters/6", headers=server.auth("off1"), timeout=10))
    called = fits(doc, "post", "/branches/{b}/counters/{c}/next", server.post("/branches/hk-01/counters/2/next", "off1"))
    assert called["ticket"]["id"] == issued["id"]
    state = fits(doc, "get", "/branches/{b}/state", server.get("/branches/hk-01/state"))
    assert state["recent_calls"] and any(c["serving"] for c in state["counters"])
    for action in ("recall", "start", "done"):
        fits(doc, "post", f"/tickets/{{ticket_id}}/{action}", server.post(f"/tickets/{issued['id']}/{action}", "off1"))
    fits(doc, "post", "/tickets/{ticket_id}/rating",
         server.post(f"/tickets/{issued['id']}/rating", json={"score": 3, "reasons": ["clear"], "comment": "ok"}))
    rated = fits(doc, "get", "/tickets/{ticket_id}", server.get(f"/tickets/{issued['id']}"))
    assert rated["rated"] and rated["called_at"]
    fits(doc, "post", "/tickets/{ticket_id}/rating", server.post(f"/tickets/{issued['id']}/rating", json={"score": 3}))
    fits(doc, "post", "/tickets/{ticket_id}/rating", requests.post(
        f"{server.api}/tickets/{issued['id']}/rating", data="{}", headers={"Content-Type": "text/plain"}, timeout=10))

    second = fits(doc, "post", "/branches/{b}/tickets", server.post("/branches/hk-01/tickets", "kiosk1",
                                                                      {"service": "cert"}))
    fits(doc, "post", "/tickets/{ticket_id}/not-printed",
         server.post(f"/tickets/{second['id']}/not-printed", "kiosk1", {"problem": "paper_out"}))
    fits(doc, "post", "/branches/{b}/counters/{c}/call",
         server.post("/branches/hk-01/counters/3/call", "off1", {"ticket": second["id"]}))
    fits(doc, "post", "/tickets/{ticket_id}/done", server.post(f"/tickets/{second['id']}/done", "off1"))
    wrong = f"{(int(second['rating_code']) + 1) % 10000:04d}"
    fits(doc, "post", "/branches/{b}/tickets/{number}/rating",
         server.post(f"/branches/hk-01/tickets/{second['number']}/rating", "kiosk1", {"score": 4, "code": wrong}))
    fits(doc, "post", "/branches/{b}/tickets/{number}/rating", server.post(
        f"/branches/hk-01/tickets/{second['number']}/rating", "kiosk1", {"score": 4, "code": second["rating_code"]}))
    third = server.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).json()
    moved = fits(doc, "post", "/tickets/{ticket_id}/transfer", server.post(
        f"/tickets/{third['id']}/transfer", "off1", {"service": "cert", "branch": "hk-02"}))
    assert moved["status"] == "waiting" and moved["branch"] == "hk-02"
    assert fits(doc, "get", "/tickets/{ticket_id}", server.get(f"/tickets/{third['id']}"))["transferred_to"]
    fits(doc, "post", "/branches/{b}/counters/{c}", server.post("/branches/hk-01/counters/5", "mgr1", {"open": True}))
    fits(doc, "get", "/branches/{b}/recommendations", requests.get(
        server.api + "/branches/hk-01/recommendations", headers=server.auth("mgr1"), timeout=10))

    # Refusals carry the error shape.

    fits(doc, "get", "/tickets/{ticket_id}", server.get("/tickets/nope"))
    fits(doc, "post", "/branches/{b}/tickets", server.post("/branches/hk-01/tickets", None, {"service": "civil"}))
    fits(doc, "post", "/branches/{b}/tickets", server.post("/branches/hk-01/tickets", "kiosk1", {"service": 3}))


def test_a_redirect_answer_fits_the_document(tmp_path):
    """In the process, on a clock at 09:00: offers depend on the hour (none near closing time)."""
    db = tmp_path / "motcua.db"
    motcua("init", "--scenario", str(HOAN_KIEM), db=db)
    token = motcua("device", "add", "--kind", "kiosk", "--branch", "hk-02", db=db).split()[-1]
    config = load_config(server={"db": str(db), "async_mode": "threading"})
    clock = FakeClock(LocalTime(config.queue.timezone).epoch(date.today(), "09:00"))
    client = create_app(config, clock=clock).test_client()
    kiosk = {"Authorization": f"Bearer {token}"}
    doc = client.get("/api/v1/openapi.json").json
    for _ in range(12):
        client.post("/api/v1/branches/hk-02/tickets", headers=kiosk, json={"service": "land"})
    crowded = fits(doc, "post", "/branches/{b}/tickets", client.post("/api/v1/branches/hk-02/tickets", headers=kiosk,
                                                                       json={"service": "land"}))
    assert crowded["alternatives"], "12 land tickets ahead at one land counter, and nothing offered"
    offered = crowded["alternatives"][0]
    moved = fits(doc, "post", "/tickets/{ticket_id}/redirect", client.post(
        f"/api/v1/tickets/{crowded['id']}/redirect", headers=kiosk, json={"branch": offered["branch"]}))
    assert moved["branch"] == offered["branch"] and moved["issued_at"] == crowded["issued_at"]


class Events:
    """A Socket.IO client that keeps every event it hears."""

    def __init__(self, server) -> None:
        self.heard: queue.Queue = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        for name in ("queue", "called", "ticket", "kiosk", "error", "staff_queue"):
            self.client.on(name, lambda data, name=name: self.heard.put((name, data)))
        self.client.connect(server.base, transports=["websocket"], wait_timeout=10)

    def next(self, name: str, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event, data = self.heard.get(timeout=left)
            except queue.Empty:
                break
            if event == name:
                return data
        raise AssertionError(f"no {name} event within {timeout} s")


def test_live_events_fit_the_document(fresh_server):
    server = fresh_server
    doc = server.get("/openapi.json").json()
    live = doc["x-socketio"]
    sent = lambda name, data: check(doc, live["server"][name]["payload"], data)  # noqa: E731
    asked = lambda name, data: check(doc, live["client"][name]["payload"], data)  # noqa: E731
    ticket = server.post("/branches/hk-01/tickets", "kiosk1", {"service": "cert"}).json()
    display, phone, staff = Events(server), Events(server), Events(server)
    try:
        for events, room in ((display, {"branch": "hk-01"}), (phone, {"ticket": ticket["id"]})):
            asked("subscribe", room)
            check(doc, live["client"]["subscribe"]["ack"], events.client.call("subscribe", room, timeout=10))
        staff_room = {"branch": "hk-01", "token": server.tokens["off1"]}
        asked("subscribe_staff", staff_room)
        check(doc, live["client"]["subscribe_staff"]["ack"], staff.client.call("subscribe_staff", staff_room, timeout=10))
        sent("queue", display.next("queue"))
        sent("ticket", phone.next("ticket"))
        sent("staff_queue", staff.next("staff_queue"))
        assert server.post("/branches/hk-01/counters/3/next", "off1").status_code == 200
        # Each room hears the payload the document gives it: the branch's without the ticket's id.
        by_room = live["server"]["called"]["payloads"]
        check(doc, by_room["branch:{branch}"], display.next("called"))
        check(doc, by_room["ticket:{ticket}"], phone.next("called"))
        check(doc, by_room["staff:{branch}"], staff.next("called"))
        sent("ticket", phone.next("ticket"))
        assert server.post(f"/tickets/{ticket['id']}/not-printed", "kiosk1", {"problem": "cover_open"}).ok
        sent("kiosk", staff.next("kiosk"))
        refused = display.client.call("subscribe", {"room": "hk-01"}, timeout=10)
        check(doc, live["client"]["subscribe"]["ack"], refused)
        assert refused["ok"] is False
        sent("error", display.next("error"))
    finally:
        for events in (display, phone, staff):
            events.client.disconnect()


@pytest.mark.parametrize("path, who, body, code, named", [
    ("/branches/hk-01/tickets", "kiosk1", {"service": "civil", "lang": "fr"}, "bad_value", "lang"),
    ("/branches/hk-01/tickets", "kiosk1", {"service": "civil", "priority": 1}, "wrong_type", "priority"),
    ("/branches/hk-01/tickets", "kiosk1", {"priority": True}, "missing_field", "service"),
    ("/tickets/{ticket}/rating", None, {"score": 5}, "bad_value", "score"),
    ("/tickets/{ticket}/rating", None, {"score": True}, "wrong_type", "score"),
    ("/tickets/{ticket}/rating", None, {"score": 4, "reasons": ["rude"]}, "bad_value", "reasons"),
    ("/tickets/{ticket}/rating", None, {"score": 4, "reasons": ["fast", "fast"]}, "bad_value", "reasons"),
    ("/tickets/{ticket}/rating", None, {"score": 4, "comment": "x" * 1001}, "bad_value", "comment"),
    ("/tickets/{ticket}/not-printed", "kiosk1", {"problem": "no paper!"}, "bad_value", "problem"),
    ("/tickets/{ticket}/transfer", "off1", {"service": ["cert"]}, "wrong_type", "service"),
    ("/branches/hk-01/counters/1", "mgr1", {"services": ["civil", 7]}, "wrong_type", "services"),
    ("/branches/hk-01/counters/1", "mgr1", {"open": None}, "missing_field", "services"),
])
def test_every_400_says_which_field_is_wrong(server, doc, path, who, body, code, named):
    ticket = server.post("/branches/hk-01/tickets", "kiosk1", {"service": "land"}).json()
    answer = server.post(path.format(ticket=ticket["id"]), who, body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and named in error["message"]
    check(doc, {"$ref": "#/components/schemas/Error"}, answer.json())


def test_null_stands_for_a_field_left_out(server):
    issued = server.post("/branches/hk-01/tickets", "kiosk1", {"service": "land", "priority": None, "lang": None})
    assert issued.status_code == 201 and issued.json()["priority"] is False and issued.json()["lang"] == "vi"


def test_rating_reasons_are_the_catalogues_and_only_those(doc):
    reasons = rating_reasons()
    assert reasons == ("fast", "friendly", "clear", "slow", "documents_twice", "hard_to_find")
    for lang in LANGUAGES:
        assert all(catalogue(lang)[f"rating.reasons.{r}"] for r in reasons)
        assert [k for k in catalogue(lang) if k.startswith("rating.reasons.")] == [f"rating.reasons.{r}" for r in reasons]
    described = doc["components"]["schemas"]["NewRating"]["properties"]["reasons"]
    assert described["items"]["enum"] == list(reasons)
