"""Logging in and out (server/web/routes.py, server/accounts.py): tokens that end when they should, at
once, even when the command line ends them while a server runs."""
from __future__ import annotations

import os
import subprocess
import sys

from conftest import PASSWORD


def cli(*args: str, db, **env: str) -> str:
    """Run the CLI on db with extra environment variables; returns stdout, fails on a non-zero exit."""
    done = subprocess.run([sys.executable, "-m", "motcua.cli", *args, "--db", str(db)], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    return done.stdout


def issue(http, who: str, branch: str = "hk-01") -> int:
    """Status of a ticket issued at branch with who's token: 201 while the token stands."""
    return http.post(f"/branches/{branch}/tickets", who, {"service": "civil"}).status_code


# ---- logout --------------------------------------------------------------------------------

def test_logout_ends_the_token_given_and_no_other(api):
    api.tokens["again"] = api.post("/auth/login", json={"username": "off1", "password": PASSWORD}).json["token"]
    answer = api.post("/auth/logout", "off1")
    assert answer.status_code == 200 and answer.json == {"status": "logged_out"}
    assert api.post("/branches/hk-01/tickets", "off1", {"service": "civil"}).status_code == 401
    assert api.post("/auth/logout", "off1").json["error"]["code"] == "invalid_token"
    assert api.post("/branches/hk-01/tickets", "again", {"service": "civil"}).status_code == 201


def test_logout_needs_a_staff_token(api):
    assert api.post("/auth/logout").status_code == 401
    answer = api.post("/auth/logout", "kiosk1")
    assert answer.status_code == 403 and answer.json["error"]["code"] == "forbidden"
    assert api.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).status_code == 201


def test_logout_is_in_the_document(api):
    declared = api.get("/openapi.json").json["paths"]["/auth/logout"]["post"]
    assert "requestBody" not in declared and {"200", "401", "403"} <= set(declared["responses"])


# ---- the command line, while a real server runs ---------------------------------------------

def test_the_command_line_ends_tokens_in_a_running_server_at_once(fresh_server):
    server = fresh_server
    server.tokens["mgr1-login"] = server.login("mgr1")
    assert {issue(server, who) for who in ("off1", "mgr1", "mgr1-login", "admin")} == {201}
    assert issue(server, "kiosk2", "hk-02") == 201

    cli("user", "remove", "--username", "off1", db=server.db)
    assert issue(server, "off1") == 401
    assert "off1" not in cli("user", "list", db=server.db).split()

    cli("user", "passwd", "--username", "mgr1", db=server.db, MOTCUA_PASSWORD="another-pass-1")
    assert issue(server, "mgr1") == 401 and issue(server, "mgr1-login") == 401
    login = server.post("/auth/login", json={"username": "mgr1", "password": "another-pass-1"})
    assert login.status_code == 200

    devices = [line.split("\t") for line in cli("device", "list", db=server.db).splitlines()]
    (kiosk2,) = [d[0] for d in devices if d[1:3] == ["kiosk", "hk-02"]]
    cli("device", "revoke", "--id", kiosk2, db=server.db)
    assert issue(server, "kiosk2", "hk-02") == 401
    assert issue(server, "admin") == 201                                # the others stand
