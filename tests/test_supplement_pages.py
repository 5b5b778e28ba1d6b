"""The supplement loop end to end, in real headless Chromium under the real CSP against the app served on a real
port (on the fake clock, so that days pass): the department asks for a supplement on its page; the notice waits in
the outbox in the citizen's language, committed; /d/{code} says what, by when and where; an officer of ANOTHER
branch finds the dossier at their counter, attaches the scan and sends it back; the department sees it in
processing again, its due date moved back by the working days waited."""
from __future__ import annotations

import json
import signal
import sqlite3

import pytest
import requests
from cryptography.fernet import Fernet

from motcua.core.dossier_codes import lookup_check
from motcua.i18n import catalogue

from axe import violations
from conftest import MORNING, PASSWORD, make_server, motcua
from layout import problems
from test_counter_dossier import SIZES, _Api, at_counter, browse, config, shoot  # noqa: F401
from test_documents import pdf
from test_intake import waived_for
from test_dossier_routes import CITIZEN, DAY, department_template, opened, tokens  # noqa: F401

WAIT_MS = 5000   # an answer of the app, on a machine shared with other tests
NOTE = "Bring the hospital's birth notice, signed"
VI = catalogue("vi")


def ask(department, code: str, shot: str | None = None) -> None:
    """On the department's page: ask for the supplement NOTE of the dossier, the birth notice ticked."""
    department.click(f"#queue tr[data-code='{code}'] button.open", timeout=WAIT_MS)
    department.click("#actions button[data-move='supplement_requested']", timeout=WAIT_MS)
    department.fill("#note", NOTE)
    department.check("#note-kinds-list input[value='birth_notice']")
    if shot:
        shoot(department, shot)
    department.click("#note-send")
    department.wait_for_selector("#d-supplement:not([hidden]) .supplement-asked", timeout=WAIT_MS)


def take_in(counter, code: str, scan, shot: str | None = None) -> None:
    """At a counter's supplement dialog: the dossier found by its code as typed, the scan attached, sent back."""
    counter.click("#supplement-open")
    counter.fill("#s-code", code)
    counter.click("#s-find")   # an official code alone: the check beside it on the receipt is asked for
    counter.wait_for_selector(f"#s-message:has-text('{VI['dossier.error.check_needed'].split('.')[0]}')",
                              timeout=WAIT_MS)
    assert counter.is_hidden("#s-found")
    counter.fill("#s-check", lookup_check(code.upper()).lower())
    counter.click("#s-find")
    counter.wait_for_selector("#s-found:not([hidden]) .supplement-asked", timeout=WAIT_MS)
    assert NOTE in counter.inner_text("#s-asked")
    assert counter.input_value("#s-kind") == "birth_notice"   # the kind asked for comes first
    scan.write_bytes(pdf(scan.stem))
    counter.set_input_files("#s-file", str(scan))   # chosen: uploaded at once
    counter.wait_for_selector("#s-attached li", timeout=WAIT_MS)
    if shot:
        shoot(counter, shot)
    counter.click("#s-back")
    counter.wait_for_selector(f"#s-message:text-is('{VI['supplement.sent_back']}')", timeout=WAIT_MS)
    assert counter.inner_text("#s-status") == VI["dossier.status.processing"]


def notices(app) -> list[dict]:
    """The supplement notices in the outbox, read from a connection of their own: what is committed."""
    return app.extensions["motcua"].store.query("select * from outbox where kind = 'supplement_requested'")


def test_a_supplement_asked_by_the_department_is_brought_to_another_branch(app, live_app, browse, chromium, tmp_path):
    browse.live_app = live_app
    api = _Api(live_app)
    # Received at hk-01 on Tuesday 24 November 2026 (a day off): HT-KS takes one working day, due Wednesday 25.
    view = opened(api, procedure="HT-KS", citizen={**CITIZEN, "lang": "en"})
    code = view["code"]
    for status in ("digitized", "processing"):
        body = {"status": status, "missing": waived_for(view) if status == "digitized" else []}
        assert live_app.post(f"/dossiers/{code}/status", "off1", body).status_code == 200

    # The department asks, naming a document kind, on its page.
    department = browse("jus1", "/department")
    department.set_viewport_size(SIZES[1])
    ask(department, code, "supplement-ask")
    assert department.inner_text("#d-status") == VI["dossier.status.supplement_requested"]
    # 15 working days ([dossiers] supplement_days) after the 24th: 25-27 Nov, 30 Nov-4 Dec, 7-11 Dec, 14-15 Dec.
    assert "15/12/2026" in department.inner_text("#d-supplement")

    [notice] = notices(app)
    assert (notice["recipient"], notice["lang"]) == (CITIZEN["phone"], "en")
    said = json.loads(notice["texts"])
    for part in (code, NOTE, "Birth notice", "15/12/2026", "any branch", "Justice"):
        assert part in said["en"], part
    assert NOTE in said["vi"] and "15/12/2026" in said["vi"]

    # The citizen's page says what, by when and where, instead of "read the notice".
    public = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    public.goto(f"{live_app.base}/d/{code}?check={lookup_check(code)}")
    public.wait_for_selector("#supplement:not([hidden])", timeout=WAIT_MS)
    assert public.inner_text("#supplement-note") == NOTE
    assert public.inner_text("#supplement-kinds .vi") == "Giấy chứng sinh"
    assert public.inner_text("#supplement-due .vi") == "Thứ ba, 15/12/2026"
    assert "bất kỳ chi nhánh" in public.inner_text("#supplement-where .vi")
    assert public.is_hidden("#supplement-lapsed") and public.is_hidden("#overdue")
    assert "thông báo đã gửi" not in public.inner_text("#next")
    shoot_phone(public, "supplement-public-390x844")

    # Monday 30 November, past the first due date: not overdue while the citizen was awaited.
    live_app.clock.set(MORNING + 6 * DAY)
    public.reload()
    public.wait_for_selector("#supplement:not([hidden])", timeout=WAIT_MS)
    assert public.is_hidden("#overdue")

    # hk-02's officer, of another branch, takes it in at their counter.
    counter, _ = at_counter(browse, "off2", "hk-02")
    counter.set_viewport_size(SIZES[1])
    take_in(counter, code.lower(), tmp_path / "giay-bao-sinh.pdf", "supplement-counter")

    # The department (signed in again: the morning's session has ended) sees it back in processing, the scan
    # attached by hk-02, due four working days later.
    assert department.errors == []
    department = browse("jus1", "/department")
    department.set_viewport_size(SIZES[1])
    department.click(f"#queue tr[data-code='{code}'] button.open", timeout=WAIT_MS)
    department.wait_for_selector(f"#d-status:text-is('{VI['dossier.status.processing']}')", timeout=WAIT_MS)
    assert department.is_hidden("#d-supplement")
    assert department.inner_text("#d-due") == "01/12/2026"   # 25 Nov + 26, 27, 30 Nov and 1 Dec
    assert "Giấy chứng sinh" in department.inner_text("#d-documents")
    live_app.tokens["jus1"] = live_app.login("jus1")
    full = requests.get(f"{live_app.api}/dossiers/{code}/full", headers=live_app.auth("jus1"), timeout=10).json()
    assert (full["status"], full["due_date"], full["waited_days"]) == ("processing", "2026-12-01", 4)
    assert [d["kind"] for d in full["documents"]] == ["birth_notice"]
    back = ("supplement_requested", "processing")
    taken = [e["branch"] for e in full["events"] if (e["from_status"], e["status"]) == back]
    assert taken == ["hk-02"]
    public.reload()
    public.wait_for_selector("#waited:not([hidden])", timeout=WAIT_MS)
    assert public.inner_text("#due .vi") == "Thứ ba, 01/12/2026" and "4" in public.inner_text("#waited .vi")
    assert public.is_hidden("#supplement")
    shoot_phone(public, "supplement-back-390x844")
    assert department.errors == [] and counter.errors == []


def test_the_department_attaches_a_supplement_brought_to_it_and_sees_one_lapsed(app, live_app, browse, tmp_path):
    browse.live_app = live_app
    view = opened(_Api(live_app), procedure="HT-KS")
    code = view["code"]
    for who, status, note in (("off1", "digitized", None), ("off1", "processing", None),
                              ("jus1", "supplement_requested", "Bring the birth notice")):
        body = {"status": status, "note": note, "missing": waived_for(view) if status == "digitized" else []}
        assert live_app.post(f"/dossiers/{code}/status", who, body).status_code == 200
    live_app.clock.set(MORNING + 30 * DAY)   # past the supplement's 15 working days: lapsed
    department = browse("jus1", "/department")
    department.set_viewport_size(SIZES[1])
    row = f"#queue tr[data-code='{code}']"
    department.wait_for_selector(f"{row} td.due .pill:text-is('{VI['supplement.lapsed']}')", timeout=WAIT_MS)
    department.click(f"{row} button.open")
    department.wait_for_selector("#d-supplement .lapsed", timeout=WAIT_MS)
    shoot(department, "supplement-lapsed")
    scan = tmp_path / "bao-sinh.pdf"
    scan.write_bytes(pdf("Bao sinh"))
    department.set_input_files("#su-file", str(scan))
    department.wait_for_selector("#d-documents a", timeout=WAIT_MS)
    department.click("#actions button[data-move='processing']")
    department.wait_for_selector(f"#d-status:text-is('{VI['dossier.status.processing']}')", timeout=WAIT_MS)
    assert department.errors == []


def test_the_supplement_s_states_pass_axe(app, live_app, chromium):
    """The public page, the counter's dialog and the department's dossier while a supplement is awaited: no WCAG
    2.1 A/AA violation, nothing clipped or overlapping (axe is injected: these contexts bypass the CSP)."""
    view = opened(_Api(live_app), procedure="HT-KS")
    code = view["code"]
    for who, status, note, kinds in (("off1", "digitized", None, None), ("off1", "processing", None, None),
                                     ("jus1", "supplement_requested", NOTE, ["birth_notice", "id_card"])):
        answer = live_app.post(f"/dossiers/{code}/status", who, {
            "status": status, "note": note, "kinds": kinds, "missing": waived_for(view) if status == "digitized" else []})
        assert answer.status_code == 200, answer.text
    found = {}

    def audit(page, name: str, scope: str = "html") -> None:
        broken = violations(page, scope) + problems(page, "body" if scope == "html" else scope)
        if broken:
            found[name] = broken

    public = chromium.new_context(bypass_csp=True, viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    public.goto(f"{live_app.base}/d/{code}?check={lookup_check(code)}")
    public.wait_for_selector("#supplement:not([hidden])", timeout=WAIT_MS)
    audit(public, "public")
    for who, path in (("off2", "/counter?branch=hk-02&counter=1"), ("jus1", "/department")):
        context = chromium.new_context(bypass_csp=True, viewport=SIZES[1])
        assert context.request.post(live_app.api + "/auth/session", data={"username": who, "password": PASSWORD}).ok
        page = context.new_page()
        page.goto(live_app.base + path)
        if who == "off2":
            page.wait_for_selector("#console:not([hidden])", timeout=WAIT_MS)
            page.click("#supplement-open")
            page.fill("#s-code", code)
            page.fill("#s-check", lookup_check(code))
            page.click("#s-find")
            page.wait_for_selector("#s-found:not([hidden]) .supplement-asked", timeout=WAIT_MS)
            audit(page, "counter", "#supplement-dialog")
        else:
            page.click(f"#queue tr[data-code='{code}'] button.open", timeout=WAIT_MS)
            page.wait_for_selector("#d-supplement:not([hidden])", timeout=WAIT_MS)
            audit(page, "department")
            page.click("#actions button[data-move='rejected']")   # the note form, kinds not offered for a rejection
            assert page.is_hidden("#note-kinds")
        context.close()
    assert found == {}


def shoot_phone(page, name: str) -> None:
    from test_counter_dossier import SHOTS
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def documents_server(tmp_path, real_template):
    """A real server (its own process, the wall's clock) that keeps documents, with a Justice user."""
    srv = make_server(tmp_path, real_template, f'[dossiers]\ndocument_key = "{Fernet.generate_key().decode()}"\n')
    motcua("user", "add", "--username", "jus9", "--password", PASSWORD, "--role", "department",
           "--department", "justice", db=srv.db)
    srv.tokens["jus9"] = srv.login("jus9")
    yield srv
    srv.kill(signal.SIGTERM)


def test_the_round_trip_on_a_real_server(documents_server, chromium, tmp_path):
    """The same loop against `motcua serve` in its own process, gevent and the outbox's sender included: the
    notice is committed in the citizen's language, hk-02 takes the supplement in, the department sees the dossier
    in processing, and a supplement brought the day it was asked for moves the due date by nothing."""
    server = documents_server
    made = server.post("/dossiers", "off1", {"procedure": "HT-KS", "citizen": {**CITIZEN, "lang": "en"}})
    assert made.status_code == 201, made.text
    code, due = made.json()["code"], made.json()["due_date"]
    for status in ("digitized", "processing"):
        body = {"status": status, "missing": waived_for(made.json()) if status == "digitized" else []}
        assert server.post(f"/dossiers/{code}/status", "off1", body).status_code == 200
    pages = []

    def signed_in(who: str, path: str):
        context = chromium.new_context(viewport=SIZES[1])
        assert context.request.post(server.api + "/auth/session", data={"username": who, "password": PASSWORD}).ok
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda m: page.errors.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(server.base + path)
        pages.append(page)
        return page

    try:
        department = signed_in("jus9", "/department")
        ask(department, code)
        with sqlite3.connect(server.db) as db:   # what the server committed, read by another process
            rows = db.execute("select recipient, lang, texts from outbox "
                              "where kind = 'supplement_requested'").fetchall()
        [(recipient, lang, texts)] = rows
        assert (recipient, lang) == (CITIZEN["phone"], "en")
        assert code in json.loads(texts)["en"] and NOTE in json.loads(texts)["en"]

        counter = signed_in("off2", "/counter?branch=hk-02&counter=1")
        counter.wait_for_selector("#console:not([hidden])", timeout=WAIT_MS)
        take_in(counter, code, tmp_path / "giay-chung-sinh.pdf")

        department.click("#refresh")
        department.wait_for_selector(f"#d-status:text-is('{VI['dossier.status.processing']}')", timeout=WAIT_MS)
        assert "Giấy chứng sinh" in department.inner_text("#d-documents")
        full = requests.get(f"{server.api}/dossiers/{code}/full", headers=server.auth("jus9"), timeout=10).json()
        assert (full["status"], full["due_date"], full["waited_days"]) == ("processing", due, 0)
        assert all(page.errors == [] for page in pages)
    finally:
        for page in pages:
            page.context.close()
