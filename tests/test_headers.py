"""The edges of the interface: security headers, 405 with Allow, no redirects, 413 chunked, assets, limits."""
from __future__ import annotations

import json
import socket

import pytest
import requests

from conftest import PASSWORD

SECURITY = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
ANSWERS = [("GET", "/"), ("GET", "/display/hk-01"), ("GET", "/t/nope"), ("GET", "/display/assets/wall.js"),
           ("GET", "/display/chime.wav"), ("GET", "/display/voice/vi/A001/9.wav"), ("GET", "/nowhere"),
           ("GET", "/api/v1/health"), ("GET", "/api/v1/openapi.json"), ("GET", "/api/v1/branches/hk-01/state"),
           ("GET", "/api/v1/auth/login"), ("POST", "/api/v1/auth/login"), ("GET", "/login"),
           ("POST", "/api/v1/auth/session")]


@pytest.mark.parametrize("method,path", ANSWERS)
def test_every_page_and_answer_carries_the_security_headers(client, method, path):
    answer = client.open(path, method=method, data=b"{", content_type="application/json")
    for name, value in SECURITY.items():
        assert answer.headers.get(name) == value, (path, name)
    policy = dict(part.strip().split(" ", 1) for part in answer.headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["frame-ancestors"] == "'none'"


@pytest.mark.parametrize("path", ["/socket.io/?EIO=4&transport=polling", "/socket.io/?EIO=1&transport=polling",
                                  "/socket.io/?transport=nothing"])
def test_socket_io_s_own_answers_carry_the_security_headers_too(server, path):
    """engine.io answers /socket.io/ itself, before Flask: its handshakes and refusals as well."""
    answer = requests.get(server.base + path, timeout=10)
    for name, value in SECURITY.items():
        assert answer.headers.get(name) == value, (path, answer.status_code, name)
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]


def test_a_wrong_method_is_405_json_naming_the_allowed_ones(client):
    answer = client.get("/api/v1/auth/login")
    assert answer.status_code == 405
    assert answer.json["error"]["code"] == "method_not_allowed"
    assert "POST" in {m.strip() for m in answer.headers["Allow"].split(",")}


@pytest.mark.parametrize("path", ["//", "//display/hk-01", "/api/v1//health", "/api/v1/health/", "//api/v1/health"])
def test_doubled_or_trailing_slashes_are_a_json_404_not_a_redirect(server, path):
    """On the real server: the test client would read "//" as the start of a host name."""
    answer = requests.get(server.base + path, allow_redirects=False, timeout=5)
    assert answer.status_code == 404, answer.headers
    assert "Location" not in answer.headers
    assert answer.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("name", ["__init__.py", "vendor/README.md", "wall.html", "../voice.py"])
def test_only_asset_files_are_served(client, name):
    answer = client.get(f"/display/assets/{name}")
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "not_found"


def test_assets_the_pages_load_are_served(client):
    for name in ["wall.js", "wall.css", "live.js", "phone.js", "phone.css", "start.css", "vendor/socket.io.min.js"]:
        assert client.get(f"/display/assets/{name}").status_code == 200, name


def exchange(port: int, request: bytes) -> tuple[bytes, dict, dict]:
    """Send raw bytes, read the answer until the server closes: status line, headers, JSON body."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    return status.encode(), dict(line.split(": ", 1) for line in lines), json.loads(body)


@pytest.mark.parametrize("request_bytes,status,code", [
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"414", "request_uri_too_long"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n", b"400", "bad_request"),
    (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: a\r\n" % i for i in range(2000)) + b"\r\n", b"400",
     "bad_request"),
], ids=["long request line", "huge header", "too many headers"])
def test_what_the_server_refuses_before_the_app_answers_json(server, request_bytes, status, code):
    """gevent answers these itself, before any route; its answer carries a JSON error all the same."""
    line, headers, body = exchange(server.port, request_bytes)
    assert line.split()[1] == status
    assert headers["Content-Type"] == "application/json" and headers["X-Content-Type-Options"] == "nosniff"
    assert body["error"]["code"] == code


def chunks(size_kib: int):
    for _ in range(size_kib):
        yield b" " * 1024


def test_a_chunked_body_too_large_is_413_and_one_within_the_limit_is_read(server):
    """On the real gevent server: a chunked body has no Content-Length to refuse it by."""
    too_large = requests.post(server.api + "/auth/login", data=chunks(65), timeout=10,
                              headers={"Content-Type": "application/json"})
    assert too_large.status_code == 413
    assert too_large.json()["error"]["code"] == "request_entity_too_large"
    body = b'{"username": "nobody", "password": "wrong-password"}'
    padded = requests.post(server.api + "/auth/login", data=iter([body, *chunks(60)]), timeout=10,
                           headers={"Content-Type": "application/json"})
    assert padded.status_code == 401, padded.text


@pytest.mark.parametrize("services", [[], ["civil", "civil"], [""]])
def test_a_counter_keeps_at_least_one_service_each_once(api, services):
    answer = api.post("/branches/hk-01/counters/1", "mgr1", {"services": services})
    assert answer.status_code == 400, answer.json
    assert api.get("/branches/hk-01/state").json["counters"][0]["services"]


def test_the_document_states_the_limits_the_server_enforces(api):
    defs = api.get("/openapi.json").json["components"]["schemas"]
    services = next(s for s in defs["CounterChange"]["properties"]["services"]["anyOf"] if s["type"] == "array")
    assert services["minItems"] == 1 and services["uniqueItems"] is True and services["items"]["minLength"] == 1
    reasons = defs["NewRating"]["properties"]["reasons"]
    assert reasons["maxItems"] >= 1 and reasons["uniqueItems"] is True and reasons["items"]["enum"]
    assert defs["NewRating"]["properties"]["score"] == {**defs["NewRating"]["properties"]["score"],
                                                        "minimum": 1, "maximum": 4}
    assert defs["NewRating"]["properties"]["comment"]["maxLength"] > 0


def test_the_wall_display_works_under_its_policy_without_bypass(chromium, server):
    """Real Chromium, the policy enforced: the page loads, goes live over its socket and shows a call."""
    context = chromium.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    sockets = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    loaded = page.goto(server.base + "/display/hk-01")
    assert "script-src 'self'" in loaded.headers["content-security-policy"]
    page.wait_for_selector("#badge[data-status='live']", state="attached", timeout=8000)
    assert any("/socket.io/" in url for url in sockets), sockets
    server.post("/branches/hk-01/tickets", "kiosk1", {"service": "cert"})
    called = server.post("/branches/hk-01/counters/3/next", "off1").json()["ticket"]
    page.wait_for_selector(f"#now-number:text-is('{called['number']}')", timeout=3000)
    assert server.post(f"/tickets/{called['id']}/done", "off1").status_code == 200
    context.close()
    assert not refused, refused


# ---- caching: no cache keeps a copy of an answer, unless the answer says otherwise ---------------

CITIZEN = {"id_number": "001090012345", "name": "Trần Thị Bình", "phone": "0987654321"}


@pytest.fixture
def personal(app, api):
    """A ticket called at counter 1 of hk-01 and a dossier opened for it: the values the paths take."""
    ticket = api.issue("business")
    api.post("/branches/hk-01/counters/1/next", "off1")
    dossier = api.post("/dossiers", "off1", {"procedure": "KD-TL", "citizen": CITIZEN, "ticket": ticket["id"]})
    assert dossier.status_code == 201, dossier.text
    return {"b": "hk-01", "c": "1", "s": "civil", "d": "finance", "ticket_id": ticket["id"],
            "code": dossier.json["code"], "id_number": CITIZEN["id_number"], "sha256": "0" * 64}


def api_get_paths(app, values: dict) -> list[str]:
    """Every GET route under /api/v1, its placeholders filled in from values."""
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and "GET" in rule.methods:
            paths.append(rule.rule.replace("<", "{").replace(">", "}").format(**values))
    return sorted(paths)


def test_every_api_answer_is_no_store_personal_ones_first(app, api, personal):
    """/dossiers/{c}/full, /citizens/{id}/..., staff-state, tickets: every one, as an admin and as nobody."""
    paths = api_get_paths(app, personal)
    assert {f"/api/v1/dossiers/{personal['code']}/full", f"/api/v1/citizens/{CITIZEN['id_number']}/dossiers",
            f"/api/v1/citizens/{CITIZEN['id_number']}/documents", "/api/v1/branches/hk-01/staff-state",
            f"/api/v1/tickets/{personal['ticket_id']}", "/api/v1/auth/session"} <= set(paths)
    full = api.get(f"/dossiers/{personal['code']}/full", "admin")
    assert full.status_code == 200 and full.json["citizen"]["phone"] == CITIZEN["phone"]
    for path in paths:
        for who in ("admin", None):
            answer = api.client.get(path, headers=api.headers(who))
            assert answer.headers.get("Cache-Control") == "no-store", (path, who, answer.status_code)


def test_a_staff_session_and_a_login_are_no_store(client):
    signed_in = client.post("/api/v1/auth/session", json={"username": "off1", "password": PASSWORD})
    assert signed_in.status_code == 200 and signed_in.headers["Cache-Control"] == "no-store"
    session = client.get("/api/v1/auth/session")
    assert session.status_code == 200 and session.json["csrf"]
    assert session.headers["Cache-Control"] == "no-store"
    login = client.post("/api/v1/auth/login", json={"username": "off1", "password": PASSWORD})
    assert login.status_code == 200 and login.json["token"]
    assert login.headers["Cache-Control"] == "no-store"


def test_socket_io_s_answers_are_no_store_too(server):
    """Staff events travel over long-polling when a websocket cannot: names and ticket ids."""
    answer = requests.get(server.base + "/socket.io/?EIO=4&transport=polling", timeout=10)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path, caching", [("/display/assets/wall.js", "public"), ("/display/chime.wav", "public"),
                                           ("/favicon.ico", "public")])
def test_files_the_same_for_everyone_keep_their_own_caching(client, path, caching):
    answer = client.get(path)
    assert answer.status_code == 200 and caching in answer.headers["Cache-Control"]
    assert "no-store" not in answer.headers["Cache-Control"]
    if answer.headers.get("ETag"):
        again = client.get(path, headers={"If-None-Match": answer.headers["ETag"]})
        assert again.status_code == 304 and "no-store" not in again.headers["Cache-Control"]
