"""Who may call what: every operation of the OpenAPI document × role × branch, the expected answer
written once in MATRIX below, checked against the app; no operation left out, none made up."""
from __future__ import annotations

import io
import itertools
import string
from datetime import date

import pytest
from cryptography.fernet import Fernet

from motcua.config import load_config
from motcua.core import administration, procedures
from motcua.core.cccd import link_ticket, parse_card
from motcua.core.clock import FakeClock
from motcua.core.dossiers import Citizen, check_character
from motcua.documents import Actor
from motcua.web.app import create_app

from test_intake import waived
from conftest import MORNING, PASSWORD, WORKING_MORNING

A, B = "hk-01", "hk-02"
# The columns of MATRIX: the token each role calls with (None: no token), of branch A where it has one.
ROLES = {"anonymous": None, "kiosk": "kiosk1", "display": "display1", "officer": "off1", "manager": "mgr1",
         "admin": "admin"}
# The vocabulary of a cell: "ok" lets the caller in (2xx, or 409 for the state of the ticket or counter);
# the rest are the refusal's status.
ALLOWED, REFUSALS = "ok", {"401": 401, "403": 403, "404": 404}

# One row per operation; each cell is "at A/at B". Staff and devices belong to A; admin to all.
#                                                  anonymous  kiosk     display   officer   manager   admin
MATRIX = {
    "GET /health":                                  "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "GET /openapi.json":                            "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    # Metrics go by the caller's address, not its token ([server] metrics_from): the test client is on loopback.
    "GET /metrics":                                 "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "POST /auth/login":                             "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "POST /auth/logout":                            "401/401  403/403   403/403   ok/ok     ok/ok     ok/ok",
    "POST /auth/session":                           "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    # A page's session is read from its cookie: a bearer token alone is no session.
    "GET /auth/session":                            "401/401  401/401   401/401   401/401   401/401   401/401",
    "DELETE /auth/session":                         "401/401  403/403   403/403   ok/ok     ok/ok     ok/ok",
    # Any token tells who it is (a kiosk checks it was not revoked); none is 401.
    "GET /auth/me":                                 "401/401  ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "GET /branches":                                "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "GET /branches/{b}/state":                      "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "GET /branches/{b}/services/{s}/availability":  "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "GET /tickets/{ticket_id}":                     "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "POST /tickets/{ticket_id}/rating":             "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "POST /branches/{b}/tickets":                   "401/401  ok/403    403/403   ok/403    ok/403    ok/ok",
    "POST /branches/{b}/tickets/{number}/rating":   "401/401  ok/403    403/403   ok/403    ok/403    ok/ok",
    "POST /tickets/{ticket_id}/redirect":           "401/401  ok/403    403/403   ok/403    ok/403    ok/ok",
    "POST /tickets/{ticket_id}/check-in":           "401/401  ok/403    403/403   ok/403    ok/403    ok/ok",
    # Remote tickets: anyone may find branches, take one and check it in by phone; a kiosk checks in by number.
    "GET /branches/nearby":                         "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "POST /branches/{b}/remote-tickets":            "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "POST /branches/{b}/remote-tickets/check-in":   "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "POST /branches/{b}/tickets/{number}/check-in": "401/401  ok/403    403/403   ok/403    ok/403    ok/ok",
    # Appointments: anyone may see slots, book, cancel and move (with the phone); a kiosk checks the holder in.
    "GET /branches/{b}/slots":                      "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "POST /appointments":                           "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "POST /appointments/{code}/cancel":             "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "POST /appointments/{code}/move":               "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "POST /branches/{b}/appointments/check-in":     "401/401  ok/403    403/403   ok/403    ok/403    ok/ok",
    # A kiosk offers a walk-in over the target a later slot, and books it (409 slot_full: none offered now).
    "GET /branches/{b}/later-slot":                 "401/401  ok/403    403/403   ok/403    ok/403    ok/ok",
    "POST /branches/{b}/later-slot":                "401/401  ok/403    403/403   ok/403    ok/403    ok/ok",
    # The code at a branch's door: its managers fetch it (and print or show its QR code).
    # A waiting ticket's holder takes the branch its page offers, with the ticket's code (409: none offered now).
    "POST /tickets/{ticket_id}/move":               "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "GET /branches/{b}/door":                       "401/401  403/403   403/403   403/403   ok/403    ok/ok",
    "POST /tickets/{ticket_id}/not-printed":        "401/401  ok/403    403/403   ok/403    ok/403    ok/ok",
    "GET /branches/{b}/counters/{c}":               "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "GET /branches/{b}/staff-state":                "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "POST /branches/{b}/counters/{c}/next":         "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "POST /branches/{b}/counters/{c}/call":         "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "POST /tickets/{ticket_id}/recall":             "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "POST /tickets/{ticket_id}/start":              "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "POST /tickets/{ticket_id}/done":               "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "POST /tickets/{ticket_id}/no-show":            "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "POST /tickets/{ticket_id}/requeue":            "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "POST /tickets/{ticket_id}/transfer":           "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "POST /branches/{b}/counters/{c}":              "401/401  403/403   403/403   403/403   ok/403    ok/ok",
    "GET /branches/{b}/recommendations":            "401/401  403/403   403/403   403/403   ok/403    ok/ok",
    "GET /branches/{b}/report.csv":                 "401/401  403/403   403/403   403/403   ok/403    ok/ok",
    "GET /branches/{b}/report.json":                "401/401  403/403   403/403   403/403   ok/403    ok/ok",
    "GET /branches/{b}/dossiers-report.csv":        "401/401  403/403   403/403   403/403   ok/403    ok/ok",
    "GET /branches/{b}/dossiers-report.json":       "401/401  403/403   403/403   403/403   ok/403    ok/ok",
    "GET /branches/{b}/decision766.csv":            "401/401  403/403   403/403   403/403   ok/403    ok/ok",
    "GET /branches/{b}/decision766.pdf":            "401/401  403/403   403/403   403/403   ok/403    ok/ok",
    "POST /branches/{b}/counters/{c}/pause":        "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "POST /branches/{b}/counters/{c}/resume":       "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "POST /branches/{b}/counters/{c}/take":         "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "POST /branches/{b}/counters/{c}/release":      "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "GET /branches/{b}/transfer-options":           "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "GET /admin/network":                           "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "PATCH /admin/branches/{b}":                    "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "POST /admin/services":                         "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "PATCH /admin/services/{s}":                    "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "POST /admin/branches/{b}/counters":            "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "PATCH /admin/branches/{b}/counters/{c}":       "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "DELETE /admin/branches/{b}/counters/{c}":      "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "GET /admin/users":                             "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "POST /admin/users":                            "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "PATCH /admin/users/{username}":                "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "POST /admin/users/{username}/password":        "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "POST /admin/branches":                         "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "GET /admin/catalogue":                         "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "POST /admin/departments":                      "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "PATCH /admin/departments/{d}":                 "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "POST /admin/document-kinds":                   "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "PUT /admin/catalogue":                         "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "POST /admin/procedures":                       "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "PATCH /admin/procedures/{p}":                  "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "GET /admin/devices":                           "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "POST /admin/devices":                          "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "DELETE /admin/devices/{device_id}":            "401/401  403/403   403/403   403/403   403/403   ok/ok",
    # The outbox is the city's, not a branch's: the same at A and B.
    "GET /admin/outbox":                            "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "POST /admin/outbox/{message_id}/retry":        "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "POST /branches/{b}/recommendations/apply":      "401/401  403/403   403/403   403/403   ok/403    ok/ok",
    "GET /branches/{b}/today":                      "401/401  403/403   403/403   403/403   ok/403    ok/ok",
    "GET /city":                                    "401/401  403/403   403/403   403/403   403/403   ok/ok",
    # Dossiers: "at B" is a dossier received at B (or opened there); the department role's cells are
    # DEPARTMENT_CELLS below.
    "GET /procedures":                              "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "GET /departments":                             "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "POST /dossiers":                               "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "GET /dossiers/{code}":                         "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "GET /dossiers/{code}/full":                    "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "POST /dossiers/{code}/status":                 "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "GET /departments/{d}/dossiers":                "401/401  403/403   403/403   403/403   403/403   ok/ok",
    # Taking a supplement in: the cells' dossiers wait for none (409 for those with a part in them, an ok cell);
    # an officer of another branch has a part only while one is awaited (test_a_supplement_... below).
    "POST /dossiers/{code}/supplement":             "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "GET /departments/{d}/decision766.csv":         "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "GET /departments/{d}/decision766.pdf":         "401/401  403/403   403/403   403/403   403/403   ok/ok",
    # The receipt: the receiving branch's staff and admins only (it carries the citizen's name).
    "GET /dossiers/{code}/receipt":                 "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "GET /dossiers/{code}/receipt.pdf":             "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    # Everyone on staff may ask; each sees only the dossiers of their own branch or department.
    "GET /citizens/{id_number}/dossiers":           "401/401  403/403   403/403   ok/ok     ok/ok     ok/ok",
    "GET /branches/{b}/dossiers":                   "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    # Documents: a dossier received and returned at the cell's branch; the citizen's list serves any
    # branch's counter.
    "POST /dossiers/{code}/documents":              "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "GET /dossiers/{code}/documents/{sha256}":      "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "GET /citizens/{id_number}/documents":          "401/401  403/403   403/403   ok/ok     ok/ok     ok/ok",
    # Intake: the branch's unfinished intakes, and what may be reused for a dossier (its branches' staff).
    "GET /branches/{b}/intakes":                    "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    "GET /dossiers/{code}/offers":                  "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
    # The satisfaction evaluation: the citizen's phone (no token), a kiosk, or the counter of the dossier's branch
    # (the cells' dossier is not returned yet: 409, an ok cell); the quarterly reports as the dossier reports.
    "POST /dossiers/{code}/evaluation":             "ok/ok    ok/ok     403/403   ok/403    ok/403    ok/ok",
    "GET /dossiers/{code}/evaluation":              "ok/ok    ok/ok     ok/ok     ok/ok     ok/ok     ok/ok",
    "GET /branches/{b}/evaluations-report.json":    "401/401  403/403   403/403   403/403   ok/403    ok/ok",
    "GET /branches/{b}/evaluations-report.csv":     "401/401  403/403   403/403   403/403   ok/403    ok/ok",
    "GET /branches/{b}/evaluations-report.pdf":     "401/401  403/403   403/403   403/403   ok/403    ok/ok",
    "GET /departments/{d}/evaluations-report.json": "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "GET /departments/{d}/evaluations-report.csv":  "401/401  403/403   403/403   403/403   403/403   ok/ok",
    "GET /departments/{d}/evaluations-report.pdf":  "401/401  403/403   403/403   403/403   403/403   ok/ok",
    # ID cards: any branch's staff read one at their counter; a kiosk asks what it gives and issues with it;
    # whose a card ticket is, only the ticket's branch learns.
    "POST /cards":                                  "401/401  403/403   403/403   ok/ok     ok/ok     ok/ok",
    "POST /branches/{b}/cards":                     "401/401  ok/403    403/403   ok/403    ok/403    ok/ok",
    "POST /branches/{b}/tickets/card":              "401/401  ok/403    403/403   ok/403    ok/403    ok/ok",
    "GET /tickets/{ticket_id}/card":                "401/401  403/403   403/403   ok/403    ok/403    ok/ok",
}

# The department role, a user of Justice (the {code} cells' dossiers are Justice's HT-KS): it may do what
# anyone may, and is refused (403) wherever a token is needed, except in these cells.
DEPARTMENT_USER, DEPARTMENT_OF = "jus1", "justice"
DEPARTMENT_CELLS = {
    "POST /auth/logout": "ok/ok", "DELETE /auth/session": "ok/ok",
    "GET /auth/session": "401/401",   # a bearer token alone is no session, whoever's
    "GET /auth/me": "ok/ok",
    "GET /dossiers/{code}/full": "ok/ok",
    "POST /dossiers/{code}/status": "403/403",   # the cells' move, to digitized, is the counter's
    "GET /departments/{d}/dossiers": "ok/ok",
    "POST /dossiers/{code}/supplement": "ok/ok",   # its department takes a supplement in (409 here: none awaited)
    "GET /departments/{d}/decision766.csv": "ok/ok", "GET /departments/{d}/decision766.pdf": "ok/ok",
    "GET /citizens/{id_number}/dossiers": "ok/ok",
    "POST /dossiers/{code}/evaluation": "403/403",   # a department evaluates nothing
    "GET /departments/{d}/evaluations-report.json": "ok/ok",
    "GET /departments/{d}/evaluations-report.csv": "ok/ok",
    "GET /departments/{d}/evaluations-report.pdf": "ok/ok",
    "GET /dossiers/{code}/documents/{sha256}": "ok/ok",   # its department reads the dossier's documents
}

# The kiosk of each branch, to issue the tickets the calls act on.
KIOSK_OF = {A: "kiosk1", B: "kiosk2"}
FRESH = itertools.count()  # names of what the administration cells add, each new
OTHER = {A: B, B: A}
CITIZEN = Citizen("001090012345", "Nguyễn Văn An")
CARD = f"{CITIZEN.id_number}||{CITIZEN.name}|15031990"


def cells() -> list[tuple[str, str, str, str]]:
    """(operation, role, branch, expected) for every cell of MATRIX."""
    found = []
    for op, row in MATRIX.items():
        for role, cell in zip(ROLES, row.split(), strict=True):
            at_a, at_b = cell.split("/")
            found += [(op, role, A, at_a), (op, role, B, at_b)]
        anyone = row.split()[0] == "ok/ok"
        at_a, at_b = DEPARTMENT_CELLS.get(op, "ok/ok" if anyone else "403/403").split("/")
        found += [(op, "department", A, at_a), (op, "department", B, at_b)]
    return found


@pytest.fixture(scope="module")
def matrix_app(tmp_path_factory, morning_template):
    """One app for the whole matrix: each cell acts on tickets of its own, so cells do not meet."""
    db = morning_template.copy_to(tmp_path_factory.mktemp("matrix") / "motcua.db")
    # Both login routes sign in once per cell, from one address: more than a minute's limit allows.
    app = create_app(load_config(server={"db": str(db), "async_mode": "threading"},
                                 auth={"login_per_minute_per_address": 1000},
                                 remote={"tickets_per_minute_per_address": 1000,
                                         "tickets_per_hour_per_address": 1000},
                                 appointments={"requests_per_minute_per_address": 1000,
                                               "requests_per_hour_per_address": 1000},
                                 dossiers={"documents": str(db.parent / "documents"), "holidays": WORKING_MORNING,
                                           "document_key": Fernet.generate_key().decode()}), FakeClock(MORNING))
    app.config["TESTING"] = True
    app.extensions["motcua"].accounts.add_user(DEPARTMENT_USER, PASSWORD, "department", None,
                                               department=DEPARTMENT_OF)
    yield app
    app.extensions["motcua"].store.close()


@pytest.fixture(scope="module")
def doc(matrix_app) -> dict:
    return matrix_app.test_client().get("/api/v1/openapi.json").json


def documented(doc: dict) -> set[str]:
    return {f"{method.upper()} {path}" for path, ops in doc["paths"].items() for method in ops
            if method in ("get", "post", "put", "patch", "delete")}


def test_the_matrix_has_a_row_for_every_documented_operation_and_no_other(doc):
    assert set(MATRIX) == documented(doc)
    for op, row in MATRIX.items():
        assert len(row.split()) == len(ROLES), op
        assert all(c in (ALLOWED, *REFUSALS) for cell in row.split() for c in cell.split("/")), op


class Caller:
    """Flask's test client on /api/v1 with the tokens of the template, making what a cell's path needs."""

    def __init__(self, app, tokens: dict):
        # No cookie jar: a session cookie one cell signs in with would speak for the cells after it.
        self.app, self.client, self.tokens = app, app.test_client(use_cookies=False), tokens

    def call(self, method: str, path: str, token: str | None, json=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.open("/api/v1" + path, method=method, json=json, headers=headers)

    def ticket(self, branch: str) -> dict:
        """A new waiting ticket of branch, issued by its kiosk."""
        answer = self.call("POST", f"/branches/{branch}/tickets", self.tokens[KIOSK_OF[branch]], {"service": "civil"})
        assert answer.status_code == 201, answer.text
        return answer.json

    def token(self, op: str, role: str) -> str | None:
        accounts = self.app.extensions["motcua"].accounts
        name = ROLES.get(role, DEPARTMENT_USER)
        if op in ("POST /auth/logout", "DELETE /auth/session") and name in ("off1", "mgr1", "admin", DEPARTMENT_USER):
            # Logging out ends the token: the cell ends a fresh one, so the other cells keep theirs.
            return accounts.login(name, PASSWORD)[0]
        if name == DEPARTMENT_USER and name not in self.tokens:   # not in the template: signed in once here
            self.tokens[name] = accounts.login(name, PASSWORD)[0]
        return self.tokens[name] if name else None

    def request(self, op: str, branch: str) -> tuple[str, str, dict | None]:
        """The method, the path with real ids of branch, and a minimal valid body."""
        method, template = op.split(" ")
        if template.startswith("/admin/"):
            return self.admin_request(method, template, branch)
        if template.endswith("/later-slot"):
            path = template.replace("{b}", branch)
            if method == "GET":
                return method, path + "?service=civil", None
            return method, path, {"service": "civil", "start": "2026-11-24T10:00:00+07:00"}
        if "/appointments" in template or template.endswith("/slots"):
            return self.appointment_request(template, branch)
        ticket = self.ticket(branch) if "{ticket_id}" in template or "{number}" in template else None
        path = template.replace("{b}", branch).replace("{c}", "1").replace("{s}", "civil")
        if "/documents" in template:
            return self.document_request(method, path, branch)
        path = path.replace("{d}", "justice").replace("{id_number}", CITIZEN.id_number)
        if "{code}" in path:
            rt = self.app.extensions["motcua"]
            code = rt.dossiers.open("HT-KS", CITIZEN, branch, "staff:admin")["code"]
            path = path.replace("{code}", code)
            if template in ("/dossiers/{code}", "/dossiers/{code}/evaluation"):   # an official code: with its check
                path += f"?check={check_character(code)}"
        if "evaluations-report." in template:
            path += "?year=2026&quarter=4"
        elif "report." in template:
            path += "?from=2026-11-01&to=2026-11-30"
        if "decision766." in template:
            path += "?quarter=2026-Q4"
        if template == "/branches/nearby":
            path += "?lat=21.02&lon=105.85&service=civil"
        phone = f"09{next(FRESH):08d}"   # each cell a phone of its own
        if template.endswith("/remote-tickets/check-in"):
            self.app.extensions["motcua"].journeys.issue_remote(branch, "civil", phone)
        if ticket:
            path = path.replace("{ticket_id}", ticket["id"]).replace("{number}", ticket["number"])
        if template == "/tickets/{ticket_id}/card":   # a ticket taken with a card: else 404 no_card
            link_ticket(self.app.extensions["motcua"].store, ticket["id"], parse_card(CARD), 0.0)
        body = {
            "/auth/login": {"username": "off1", "password": PASSWORD},
            "/auth/session": {"username": "off1", "password": PASSWORD},
            "/tickets": {"service": "civil"},
            "{number}/rating": {"score": 4, "code": ticket["rating_code"]} if ticket else None,
            "/rating": {"score": 4},
            "/remote-tickets": {"service": "civil", "phone": phone},
            "/remote-tickets/check-in": {"phone": phone,
                                         "code": self.app.extensions["motcua"].journeys.door_code(branch)},
            "/redirect": {"branch": OTHER[branch]},
            "/move": {"branch": OTHER[branch], "code": ticket["rating_code"]} if ticket else None,
            "/not-printed": {"problem": "paper_out"},
            "/call": {"ticket": self.ticket(branch)["id"]} if template.endswith("/call") else None,
            "/transfer": {"service": "cert"},
            "/counters/{c}": {"open": True},
            "/pause": {"reason": "break"},
            "/take": {},
            "/dossiers": {"procedure": "HT-KS", "branch": branch,
                          "citizen": {"id_number": CITIZEN.id_number, "name": CITIZEN.name}},
            "/status": {"status": "digitized"},
            "/evaluation": {"indicators": [2] * 9, "convenience": "satisfied", "overall": "satisfied"},
            "/recommendations/apply": {},
            "/cards": {"card": CARD},
            "/tickets/card": {"service": "civil", "card": CARD},
        }
        found = next((b for end, b in body.items() if template.endswith(end)), None)
        return method, path, found if method == "POST" else None


    def appointment_request(self, template: str, branch: str) -> tuple[str, str, dict | None]:
        """An appointment call at branch: slots and bookings of tomorrow, check-ins of today's first slot
        (checked in, or too early: 409), each cell with a phone of its own."""
        rt, phone = self.app.extensions["motcua"], f"09{next(FRESH):08d}"
        path = template.replace("{b}", branch)
        if template.endswith("/slots"):
            return "GET", path + "?service=civil&date=2026-11-25", None
        if template.endswith("/check-in"):
            slot = rt.bookings.slots(branch, "civil", date(2026, 11, 24))[0]
            return "POST", path, {"code": rt.bookings.book(branch, "civil", slot.start, phone).code}
        first, second = rt.bookings.slots(branch, "civil", date(2026, 11, 25))[:2]
        if template == "/appointments":
            return "POST", path, {"branch": branch, "service": "civil", "start": rt.engine.local.iso(first.start),
                                  "phone": phone}
        path = path.replace("{code}", rt.bookings.book(branch, "civil", first.start, phone).code)
        return "POST", path, {"phone": phone, "start": rt.engine.local.iso(second.start)}

    def document_request(self, method: str, path: str, branch: str) -> tuple[str, str, dict | None]:
        """A document call on a new dossier of branch, its citizen holding a document from an earlier one."""
        rt = self.app.extensions["motcua"]
        earlier, dossier = (rt.dossiers.open("HT-KS", CITIZEN, branch, "staff:off1") for _ in range(2))
        scan = f"%PDF-1.4 {next(FRESH)}\n%%EOF".encode()   # each cell a document of its own
        sha = rt.documents.upload(earlier, scan, "id_card", Actor("staff:off1", branch))["sha256"]
        if method == "GET":
            rt.documents.reuse(dossier, sha, Actor("staff:off1", branch))
        path = path.replace("{code}", dossier["code"]).replace("{sha256}", sha)
        path = path.replace("{id_number}", CITIZEN.id_number)
        return method, path, {"reuse": sha} if method == "POST" else None

    def admin_request(self, method: str, template: str, branch: str) -> tuple[str, str, dict | None]:
        """An administration call: what it adds is new each time, what it removes is made for it."""
        rt, n = self.app.extensions["motcua"], next(FRESH)
        fresh = f"m{n}"
        path = template.replace("{b}", branch).replace("{s}", "civil").replace("{username}", "off2")
        path = path.replace("{d}", "justice").replace("{p}", "HT-KH")
        if method == "DELETE" and "{c}" in path:
            path = path.replace("{c}", administration.add_counter(rt.engine, branch, fresh, ["civil"]).id)
        if "{device_id}" in path:
            path = path.replace("{device_id}", rt.accounts.register_device("display", branch)[0]["id"])
        path = path.replace("{c}", "1")
        if "{message_id}" in path:   # a message pending: handing it back is refused for its state (409), an ok cell
            rt.store.write(lambda db: rt.notifier.add(db, "result_ready", fresh, "0912345678", {"vi": fresh}, {}))
            message_id = rt.store.query("select id from outbox where key = ?", [fresh])[0]["id"]
            path = path.replace("{message_id}", str(message_id))
        bodies = {
            "PATCH /admin/branches/{b}": {"open": "07:30"},
            "POST /admin/services": {"id": fresh, "name": {"vi": fresh, "en": fresh}, "mean_min": 10,
                                     # two letters no scenario service has: Z and one more per call
                                     "letter": "Z" + string.ascii_uppercase[n % 26]},
            "PATCH /admin/services/{s}": {"mean_min": 9},
            "POST /admin/branches/{b}/counters": {"id": fresh, "services": ["civil"]},
            "PATCH /admin/branches/{b}/counters/{c}": {"open": True},
            "POST /admin/users": {"username": fresh, "password": PASSWORD, "role": "officer", "branch": branch},
            "PATCH /admin/users/{username}": {"disabled": False},
            "POST /admin/users/{username}/password": {"password": PASSWORD},
            "POST /admin/devices": {"kind": "display", "branch": branch},
            "POST /admin/branches": {"id": fresh, "name": {"vi": fresh, "en": fresh},
                                     "location": {"lat": 21.0, "lon": 105.8}},
            "POST /admin/departments": {"code": fresh, "name": {"vi": fresh, "en": fresh}},
            "PATCH /admin/departments/{d}": {"name": {"en": "Justice Division"}},
            "POST /admin/document-kinds": {"kind": fresh, "name": {"vi": fresh, "en": fresh}, "reusable": False},
            "POST /admin/procedures": {"code": fresh.upper(), "name": {"vi": fresh, "en": fresh},
                                       "field": "civil_status", "department": "justice", "statutory_days": 3},
            "PATCH /admin/procedures/{p}": {"statutory_days": 5},
            "PUT /admin/catalogue": procedures.to_data(rt.catalogue.current),   # the same catalogue, again
        }
        return method, path, bodies.get(f"{method} {template}")


@pytest.fixture(scope="module")
def caller(matrix_app, morning_template) -> Caller:
    return Caller(matrix_app, dict(morning_template.tokens))


@pytest.mark.parametrize("op", list(MATRIX))
def test_each_cell_of_the_matrix_holds_against_the_app(caller, op):
    wrong = []
    for row_op, role, branch, expected in cells():
        if row_op != op:
            continue
        method, path, body = caller.request(op, branch)
        answer = caller.call(method, path, caller.token(op, role), body)
        status = answer.status_code
        holds = (200 <= status < 300 or status == 409) if expected == ALLOWED else status == REFUSALS[expected]
        if not holds:
            wrong.append(f"{role} at {branch}: expected {expected}, got {status} {answer.get_data(as_text=True)[:120]}")
    assert not wrong, "\n".join(wrong)


# Cells where the caller is let in but the action itself is refused whoever asks: a department moves a
# dossier only along the department's own steps, and the cells' move (to digitized) is the counter's.
# A department attaches documents only while a supplement is awaited, which the cells' dossiers do not.
REFUSED_BY_THE_ACTION = {("POST /dossiers/{code}/status", "department"),
                         ("POST /dossiers/{code}/documents", "department")}
# Calls anyone may make without a token, where a token given says where the call comes from, and the tokens that
# are no such place are refused, as the operation's description says: the evaluation is the citizen's (no token),
# a kiosk's or the returning counter's.
TOKEN_SAYS_WHERE = {("POST /dossiers/{code}/evaluation", role): cell for role, cell in (
    ("display", "403/403"), ("officer", "ok/403"), ("manager", "ok/403"), ("department", "403/403"))}


def declared_cell(described: dict, role: str) -> str:
    """The cell ("at A/at B") the document's declared caller of an operation gives a role, its token of branch A
    (a department user's of the department the cells' dossiers go to)."""
    caller = described.get("x-caller")
    if "security" not in described or {} in described["security"]:
        # Anyone may call, or anyone from the addresses of a setting: the test client is on loopback, let in.
        assert caller is None or set(caller) == {"addresses"}, "a call without a token declares no roles"
        return "ok/ok"
    if role == "anonymous" or caller.get("session"):   # a bearer token alone is no page's session
        return "401/401"
    if role not in caller["roles"]:
        return "403/403"
    if role == "admin" or "of" not in caller or (role == "department" and caller["of"] in ("dossier", "department")):
        return "ok/ok"
    return "403/403" if role == "department" else "ok/403"


def test_each_operation_s_declared_caller_is_the_one_the_app_lets_in(doc):
    """The document's `security` and `x-caller` of each operation say the same as MATRIX, which the app
    is held to above: what a route declares of its caller is what it enforces."""
    wrong = []
    for (op, role, branch, expected) in cells():
        method, path = op.split(" ")
        cell = declared_cell(doc["paths"][path][method.lower()], role)
        if (op, role) in REFUSED_BY_THE_ACTION:
            cell = "403/403"
        cell = TOKEN_SAYS_WHERE.get((op, role), cell)
        declared = cell.split("/")[branch == B]
        if declared != expected:
            wrong.append(f"{op} {role} at {branch}: declared {declared}, matrix {expected}")
    assert not wrong, "\n".join(wrong)


def test_every_operation_that_needs_a_token_declares_its_caller(doc):
    for path, item in doc["paths"].items():
        for method, described in item.items():
            if "x-caller" in described and "security" not in described:
                assert set(described["x-caller"]) == {"addresses"} and "403" in described["responses"], (method, path)
            if method != "parameters" and described.get("security") == [{"bearer": []}]:
                caller = described.get("x-caller")
                assert caller is not None and set(caller) <= {"roles", "of", "session"}, (method, path)
                assert set(caller["roles"]) <= {*ROLES, "department"} - {"anonymous"}, (method, path)


# ---- a supplement awaited at another branch ----------------------------------------------------------------------

def test_an_officer_of_another_branch_takes_a_supplement_in_and_does_nothing_else(matrix_app, caller):
    """A dossier of B waiting for a supplement: A's officer sees its public view, attaches a scan and sends it back
    to processing; the citizen, the documents and every other move stay B's and the department's."""
    rt = matrix_app.extensions["motcua"]
    code = rt.dossiers.open("HT-KS", CITIZEN, B, "staff:off2")["code"]
    rt.dossiers.move(code, "digitized", ["counter"], "staff:off2", B, missing=waived("HT-KS"))
    rt.dossiers.move(code, "processing", ["counter"], "staff:off2", B)
    rt.dossiers.move(code, "supplement_requested", ["department"], "staff:jus1", None, "Bring the birth notice.")
    officer, department = caller.token("", "officer"), caller.token("", "department")
    scan = {"kind": "birth_notice", "file": (io.BytesIO(f"%PDF-1.4 {next(FRESH)}\n%%EOF".encode()), "s.pdf")}

    def call(method, path, token, **kw):
        return caller.client.open(f"/api/v1/dossiers/{code}{path}", method=method,
                                   headers={"Authorization": f"Bearer {token}"}, **kw)

    assert call("GET", "/full", officer).status_code == 403
    assert call("POST", "/status", officer, json={"status": "rejected", "note": "x"}).status_code == 403
    attached = call("POST", "/documents", officer, data=scan, content_type="multipart/form-data")
    assert attached.status_code == 201, attached.text
    assert call("GET", f"/documents/{attached.json['sha256']}", officer).status_code == 403
    taken = call("POST", "/supplement", officer)
    assert taken.status_code == 200 and taken.json["status"] == "processing" and "citizen" not in taken.json
    # Waiting no more: A's officer has no part in the dossier again, nor the department in its documents.
    scan["file"] = (io.BytesIO(f"%PDF-1.4 {next(FRESH)}\n%%EOF".encode()), "t.pdf")
    assert call("POST", "/documents", officer, data=scan, content_type="multipart/form-data").status_code == 403
    assert call("POST", "/supplement", officer).status_code == 403
    scan["file"] = (io.BytesIO(f"%PDF-1.4 {next(FRESH)}\n%%EOF".encode()), "u.pdf")
    assert call("POST", "/documents", department, data=scan, content_type="multipart/form-data").status_code == 403


def test_the_department_attaches_a_supplement_brought_to_it(matrix_app, caller):
    rt = matrix_app.extensions["motcua"]
    code = rt.dossiers.open("HT-KS", CITIZEN, A, "staff:off1")["code"]
    rt.dossiers.move(code, "digitized", ["counter"], "staff:off1", A, missing=waived("HT-KS"))
    rt.dossiers.move(code, "processing", ["counter"], "staff:off1", A)
    rt.dossiers.move(code, "supplement_requested", ["department"], "staff:jus1", None, "Bring the birth notice.")
    headers = {"Authorization": f"Bearer {caller.token('', 'department')}"}
    scan = {"kind": "birth_notice", "file": (io.BytesIO(f"%PDF-1.4 {next(FRESH)}\n%%EOF".encode()), "s.pdf")}
    answer = caller.client.post(f"/api/v1/dossiers/{code}/documents", headers=headers, data=scan,
                                content_type="multipart/form-data")
    assert answer.status_code == 201, answer.text
    assert caller.client.post(f"/api/v1/dossiers/{code}/supplement", headers=headers).json["status"] == "processing"
