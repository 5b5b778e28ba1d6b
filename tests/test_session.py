"""Staff sessions for the pages: an HttpOnly, SameSite=Strict cookie, CSRF on every change, the
staff room that hears what the public room must not, and the sign-in page in a real Chromium."""
from __future__ import annotations

import re
import signal
from urllib.parse import urlsplit

import pytest
import requests

from motcua.config import load_config, override
from motcua.web.app import create_app
from motcua.web.events import EXTENSION
from motcua.web.events import socketio as io

from conftest import PASSWORD, TOKEN_TTL_HOURS, Api, Server, free_port, screenshot

LOGIN = {"username": "off1", "password": PASSWORD}


def sign_in(client, who: str = "off1"):
    answer = client.post("/api/v1/auth/session", json={"username": who, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return answer


def test_signing_in_sets_an_httponly_strict_cookie_and_answers_the_csrf_token(client):
    answer = sign_in(client)
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("motcua_session=stf_")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path", "max-age"} <= attributes and "secure" not in attributes
    assert "SameSite=Strict" in cookie
    assert int(re.search(r"Max-Age=(\d+)", cookie).group(1)) == TOKEN_TTL_HOURS * 3600
    session = answer.json
    assert session["username"] == "off1" and session["role"] == "officer" and session["branch"] == "hk-01"
    assert "token" not in session  # the page never holds the token itself
    assert client.get("/api/v1/auth/session").json == session


def test_the_cookie_is_secure_when_the_server_is_reached_over_https(tmp_path, morning_template, clock):
    db = morning_template.copy_to(tmp_path / "motcua.db")
    config = load_config(server={"db": str(db), "async_mode": "threading", "public_url": "https://motcua.example"})
    app = create_app(config, clock)
    try:
        cookie = sign_in(app.test_client()).headers["Set-Cookie"]
        assert "Secure" in cookie
    finally:
        app.extensions["motcua"].store.close()


def test_a_change_made_with_the_cookie_needs_the_session_s_csrf_token(client, api):
    csrf = sign_in(client).json["csrf"]
    api.issue("civil")
    forged = client.post("/api/v1/branches/hk-01/counters/1/next")
    assert forged.status_code == 403 and forged.json["error"]["code"] == "csrf"
    wrong = client.post("/api/v1/branches/hk-01/counters/1/next", headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403 and wrong.json["error"]["code"] == "csrf"
    assert client.get("/api/v1/branches/hk-01/counters/1").json["ticket"] is None  # nothing was called
    called = client.post("/api/v1/branches/hk-01/counters/1/next", headers={"X-CSRF-Token": csrf})
    assert called.status_code == 200 and called.json["ticket"]["status"] == "called"
    # Reading needs no CSRF token: it changes nothing.
    assert client.get("/api/v1/branches/hk-01/staff-state").status_code == 200


def test_the_cookie_gives_an_officer_no_more_than_the_token_would(client):
    csrf = sign_in(client).json["csrf"]
    other = client.post("/api/v1/branches/hk-02/counters/1/next", headers={"X-CSRF-Token": csrf})
    assert other.status_code == 403 and other.json["error"]["code"] == "other_branch"
    assert client.get("/api/v1/branches/hk-02/staff-state").status_code == 403
    manager_only = client.post("/api/v1/branches/hk-01/counters/1", json={"open": False}, headers={"X-CSRF-Token": csrf})
    assert manager_only.status_code == 403


def test_an_anonymous_call_with_a_stale_cookie_and_no_csrf_token_goes_on_as_anyone_s(client, api):
    """Where a token is optional (rating), a cookie without its CSRF token is simply not credentials."""
    sign_in(client)
    ticket = api.issue("civil")
    api.post("/branches/hk-01/counters/1/next", "off1")
    api.post(f"/tickets/{ticket['id']}/done", "off1")
    assert client.post(f"/api/v1/tickets/{ticket['id']}/rating", json={"score": 4}).status_code == 201


def test_signing_in_takes_json_only_so_another_site_s_form_cannot_sign_anyone_in(client):
    answer = client.post("/api/v1/auth/session", data=LOGIN)
    assert answer.status_code == 415 and "Set-Cookie" not in answer.headers
    text = client.post("/api/v1/auth/session", data='{"username": "off1", "password": "%s"}' % PASSWORD,
                       content_type="text/plain")
    assert text.status_code == 415


def test_wrong_password_answers_401_and_sets_no_cookie(client):
    answer = client.post("/api/v1/auth/session", json={"username": "off1", "password": "not-it-at-all"})
    assert answer.status_code == 401 and "Set-Cookie" not in answer.headers
    assert client.get("/api/v1/auth/session").status_code == 401


def test_signing_out_ends_the_token_and_clears_the_cookie(client):
    csrf = sign_in(client).json["csrf"]
    assert client.delete("/api/v1/auth/session").status_code == 403  # a forged sign-out is refused too
    out = client.delete("/api/v1/auth/session", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200 and out.json == {"status": "logged_out"}
    assert "motcua_session=;" in out.headers["Set-Cookie"]
    assert client.get("/api/v1/auth/session").status_code == 401


def test_the_session_ends_with_the_token_s_expiry(client, clock):
    token = sign_in(client).headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    clock.advance(TOKEN_TTL_HOURS * 3600 + 1)
    ended = client.get("/api/v1/auth/session")
    assert ended.status_code == 401 and ended.json["error"]["code"] == "session_ended"
    assert client.get("/api/v1/branches/hk-01/staff-state", headers={"Authorization": f"Bearer {token}"}).status_code == 401


# ---- the staff room -------------------------------------------------------------------------------

def staff_socket(app, client, branch="hk-01", **extra):
    socket = io.test_client(app, flask_test_client=client)
    ack = socket.emit("subscribe_staff", {"branch": branch, **extra}, callback=True)
    return socket, ack


def heard(socket, name):
    return [e["args"][0] for e in socket.get_received() if e["name"] == name]


def test_the_staff_room_hears_ids_and_kiosk_problems_the_public_room_does_not(app, client, api):
    sign_in(client)
    staff, ack = staff_socket(app, client)
    assert ack == {"ok": True}
    [first] = heard(staff, "staff_queue")
    assert first["branch"] == "hk-01" and first["waiting"] == []
    ticket = api.issue("civil")
    assert api.post(f"/tickets/{ticket['id']}/not-printed", "kiosk1", {"problem": "paper_out"}).status_code == 201
    api.post("/branches/hk-01/counters/1/next", "off1")
    app.extensions[EXTENSION].drain()
    received = staff.get_received()
    names = {e["name"] for e in received}
    assert {"called", "kiosk", "staff_queue"} <= names
    [called] = [e["args"][0] for e in received if e["name"] == "called"]
    assert called["ticket"] == ticket["id"] and called["counter"] == "1"
    [kiosk] = [e["args"][0] for e in received if e["name"] == "kiosk"]
    assert kiosk == {"branch": "hk-01", "number": ticket["number"], "problem": "paper_out", "at": kiosk["at"]}
    last = [e["args"][0] for e in received if e["name"] == "staff_queue"][-1]
    [counter] = [c for c in last["counters"] if c["id"] == "1"]
    assert counter["ticket"]["id"] == ticket["id"]


@pytest.mark.parametrize("signed_in, branch, code", [(None, "hk-01", "unauthorized"), ("off1", "hk-02", "forbidden"),
                                                      ("off1", "hk-99", "unknown_branch")])
def test_the_staff_room_refuses_whoever_does_not_belong(app, client, signed_in, branch, code):
    if signed_in:
        sign_in(client, signed_in)
    socket, ack = staff_socket(app, client, branch)
    assert ack == {"ok": False, "error": code}
    received = socket.get_received()
    assert [e["args"][0]["error"]["code"] for e in received if e["name"] == "error"] == [code]
    assert not [e for e in received if e["name"] == "staff_queue"]


def test_a_device_token_or_a_display_cannot_join_the_staff_room(app, client, tokens):
    for device in ("kiosk1", "display1"):
        _, ack = staff_socket(app, client, token=tokens[device])
        assert ack == {"ok": False, "error": "forbidden"}


def test_a_signed_out_officer_leaves_the_staff_room_at_the_next_change(app, client, api):
    csrf = sign_in(client).json["csrf"]
    staff, _ = staff_socket(app, client)
    staff.get_received()
    client.delete("/api/v1/auth/session", headers={"X-CSRF-Token": csrf})
    api.issue("civil")
    app.extensions[EXTENSION].drain()
    received = staff.get_received()
    assert [e["args"][0]["error"]["code"] for e in received if e["name"] == "error"] == ["session_ended"]
    assert not [e for e in received if e["name"] == "staff_queue"]
    api.issue("civil")
    app.extensions[EXTENSION].drain()
    assert staff.get_received() == []  # out of the room for good


CITIZEN = {"id_number": "001090012345", "name": "Trần Thị Bình", "phone": "0987654321"}
SESSION_TTL_HOURS = 0.5   # the page's session; the tokens the test acts with (12 h) outlast it


def call_one(api):
    """A ticket called, or called again, at hk-01's counter 1 (by its manager, whoever's session ended):
    `called`, with the ticket's id, for the staff room."""
    serving = api.get("/branches/hk-01/counters/1", "mgr1").json["ticket"]
    if serving:
        assert api.post(f"/tickets/{serving['id']}/recall", "mgr1").status_code == 200
    else:
        api.issue("civil")
        assert api.post("/branches/hk-01/counters/1/next", "mgr1").status_code == 200


def open_one(api):
    """A dossier opened at hk-01: `dossier`, with the citizen's name, for the staff room."""
    answer = api.post("/dossiers", "mgr1", {"procedure": "KD-TL", "citizen": CITIZEN})
    assert answer.status_code == 201, answer.text


def ended_by(cause: str, api, clock, token: str, csrf: str) -> None:
    if cause == "logout":
        assert api.post("/auth/logout", token).status_code == 200
    elif cause == "sign-out":
        assert api.client.delete("/api/v1/auth/session", headers={"X-CSRF-Token": csrf}).status_code == 200
    elif cause == "disabled":
        assert api.request("PATCH", "/admin/users/off1", "admin", {"disabled": True}).status_code == 200
    elif cause == "moved":
        assert api.request("PATCH", "/admin/users/off1", "admin", {"branch": "hk-02"}).status_code == 200
    else:
        clock.advance(SESSION_TTL_HOURS * 3600 + 1)


@pytest.mark.parametrize("event, trigger", [("called", call_one), ("dossier", open_one)])
@pytest.mark.parametrize("cause", ["logout", "sign-out", "disabled", "moved", "expired"])
def test_a_session_that_ended_hears_nothing_more_of_the_staff_room(config, clock, tokens, cause, event, trigger):
    app = create_app(override(config, auth={"token_ttl_hours": SESSION_TTL_HOURS}), clock)
    try:
        api = Api(app.test_client(), tokens)
        signed = sign_in(api.client)
        token = signed.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
        staff, ack = staff_socket(app, api.client)
        witness, _ = staff_socket(app, app.test_client(), token=tokens["mgr1"])
        assert ack == {"ok": True}
        trigger(api)
        app.extensions[EXTENSION].drain()
        assert heard(staff, event) and heard(witness, event)   # heard while the session stands
        ended_by(cause, api, clock, token, signed.json["csrf"])
        trigger(api)
        app.extensions[EXTENSION].drain()
        received = staff.get_received()
        assert [e["args"][0]["error"]["code"] for e in received if e["name"] == "error"] == ["session_ended"]
        assert [e["name"] for e in received] == ["error"], received     # no dossier, no call, no state
        assert heard(witness, event)                                     # which the room did hear
        trigger(api)
        app.extensions[EXTENSION].drain()
        assert staff.get_received() == []  # out of the room for good
    finally:
        app.extensions["motcua"].store.close()


# ---- the sign-in page, in Chromium under the real CSP -----------------------------------------------

def test_the_sign_in_page_has_no_inline_script_and_sends_the_csp(client):
    page = client.get("/login")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+=", html)


def test_an_officer_signs_in_on_the_page_and_lands_where_asked(chromium, server):
    context = chromium.new_context(viewport={"width": 1920, "height": 1080})  # the real CSP: no bypass
    errors = []
    try:
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(server.base + "/login?next=/display/hk-01")
        page.wait_for_selector("#login-submit:has-text('Đăng nhập')")
        page.fill("#username", "off1")
        page.fill("#password", "wrong-password-here")
        page.click("#login-submit")
        page.wait_for_selector("#login-error:has-text('Sai tên đăng nhập hoặc mật khẩu')")
        screenshot(page, "login-wrong-password")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(server.base + "/display/hk-01")
        [cookie] = [c for c in context.cookies() if c["name"] == "motcua_session"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert "motcua_session" not in page.evaluate("document.cookie")
        session = page.evaluate("fetch('/api/v1/auth/session').then(r => r.json())")
        assert session["username"] == "off1"
        # An address of another site is never where sign-in leads.
        page.goto(server.base + "/login?next=//evil.example/")
        page.fill("#username", "off1")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(server.base + "/counter")  # the officer's own page, on this server
        assert not [e for e in errors if "Content Security Policy" in e], errors
    finally:
        context.close()


# `next` as it stands in the address: each would leave for evil.example if taken as a path.
HOSTILE_NEXT = ["/%09/evil.example/", "/%0a/evil.example/", "/%0d/evil.example/", "/%09%0a/%0devil.example/",
                "//evil.example/", "/\\evil.example/", "/%5Cevil.example/", "%5C%5Cevil.example/",
                "%2F%2Fevil.example/", "%20//evil.example/", "https://evil.example/", "https:evil.example/",
                "http://evil.example/", "//evil.example@127.0.0.1/", "javascript:alert(1)"]


@pytest.fixture(scope="module")
def roomy_server(tmp_path_factory, real_template):
    """A server whose login limits let one address sign in as often as these tests do."""
    folder = tmp_path_factory.mktemp("roomy")
    roomy = folder / "config.toml"
    roomy.write_text("[auth]\nlogin_per_minute_per_address = 1000\n", encoding="utf-8")
    srv = Server(real_template.copy_to(folder / "motcua.db"), free_port(), folder / "server.log",
                 tokens=dict(real_template.tokens), args=("--config", str(roomy)))
    srv.start()
    yield srv
    srv.kill(signal.SIGTERM)


def signed_in_from(chromium, server, next_value: str) -> str:
    """Where off1 lands on signing in at /login?next=next_value (the address written as given)."""
    context = chromium.new_context()
    context.route(lambda url: urlsplit(url).hostname == "evil.example",    # no lookup, an answer
                  lambda route: route.fulfill(body="elsewhere"))
    try:
        page = context.new_page()
        page.goto(server.base + "/login?next=" + next_value)
        page.wait_for_selector("#login-submit:has-text('Đăng nhập')")
        page.fill("#username", "off1")
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("#login-submit")
        return page.url
    finally:
        context.close()


@pytest.mark.parametrize("next_value", HOSTILE_NEXT)
def test_sign_in_never_leads_to_another_site(chromium, roomy_server, next_value):
    assert signed_in_from(chromium, roomy_server, next_value) == roomy_server.base + "/counter"   # the officer's own


@pytest.mark.parametrize("next_value, lands", [("/counter?branch=hk-01", "/counter?branch=hk-01"),
                                               ("%2Fcounter%3Fbranch%3Dhk-01", "/counter?branch=hk-01"),
                                               ("/display/hk-01", "/display/hk-01"),
                                               ("/login?next=/display/hk-01", "/counter")])
def test_sign_in_leads_to_the_page_of_this_server_asked_for(chromium, roomy_server, next_value, lands):
    assert signed_in_from(chromium, roomy_server, next_value) == roomy_server.base + lands


def test_the_sign_in_page_speaks_english_when_asked(chromium, server):
    context = chromium.new_context(viewport={"width": 1920, "height": 1080})
    try:
        page = context.new_page()
        page.goto(server.base + "/login")
        page.click("#staff-lang")
        page.wait_for_selector("#login-submit:has-text('Sign in')")
        screenshot(page, "login-english")
    finally:
        context.close()


def test_a_real_server_sets_the_cookie_and_refuses_a_forged_change(server):
    session = requests.Session()
    answer = session.post(server.api + "/auth/session", json=LOGIN, timeout=10)
    assert answer.status_code == 200 and "HttpOnly" in answer.headers["Set-Cookie"]
    forged = session.post(server.api + "/branches/hk-01/counters/2/next", timeout=10)
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf"
