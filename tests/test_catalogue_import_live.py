"""A catalogue imported into a running server: applied at once (the next citizen's dossier follows it), through
`PUT /admin/catalogue` or `motcua catalogue import --server`, all or nothing; the offline import refuses a
database a server holds."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

from conftest import PASSWORD

TRANSPORT = {"code": "transport", "name_vi": "Phòng Quản lý giao thông", "name_en": "Transport Division"}
PAPERS = {"name_vi": "Giấy tờ tàu thuyền", "name_en": "Boat papers", "reusable": True}
NEW_PROCEDURE = {"code": "GT-DK", "name_vi": "Đăng ký phương tiện thủy nội địa",
                 "name_en": "Registration of inland waterway vehicles", "field": "transport",
                 "department": "transport", "statutory_days": 3, "documents": ["id_card", "boat_papers"],
                 "services": ["civil"]}
CITIZEN = {"id_number": "001090012345", "name": "Trần Thị Bình", "phone": "0987654321"}


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "motcua.cli", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def current(server) -> dict:
    """The server's catalogue as `motcua catalogue export` writes it (read from the database it holds)."""
    answer = requests.get(server.api + "/admin/catalogue", headers=server.auth("admin"), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def exported(server, path) -> dict:
    done = cli("catalogue", "export", str(path), "--db", str(server.db))
    assert done.returncode == 0, done.stderr
    return json.loads(path.read_text(encoding="utf-8"))


def put(server, body, who: str = "admin") -> requests.Response:
    return requests.put(server.api + "/admin/catalogue", json=body, headers=server.auth(who), timeout=30)


def with_new_procedure(data: dict) -> dict:
    """The catalogue and a new department, kind and procedure for civil's tickets; civil also takes an older one."""
    procedures = [dict(p) for p in data["procedures"] if p["code"] != NEW_PROCEDURE["code"]]
    land = next(p for p in procedures if "civil" not in p["services"] and not p.get("retired"))
    land["services"] = land["services"] + ["civil"]
    kinds = {k: v for k, v in data["document_kinds"].items() if k != "boat_papers"}
    return {"departments": [d for d in data["departments"] if d["code"] != TRANSPORT["code"]] + [TRANSPORT],
            "document_kinds": {**kinds, "boat_papers": PAPERS},
            "procedures": procedures + [NEW_PROCEDURE]}, land["code"]


def served_ticket(server, service: str = "civil") -> dict:
    ticket = server.post("/branches/hk-01/tickets", "kiosk1", {"service": service}).json()
    called = server.post("/branches/hk-01/counters/1/next", "off1").json()["ticket"]
    assert called["id"] == ticket["id"], called
    return ticket


def test_an_import_through_the_cli_is_used_by_the_next_citizen_without_a_restart(server, tmp_path):
    data, remapped = with_new_procedure(exported(server, tmp_path / "before.json"))
    offered = {p["code"] for p in server.get("/procedures?service=civil").json()}
    assert "GT-DK" not in offered and remapped not in offered
    (tmp_path / "new.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    done = cli("catalogue", "import", str(tmp_path / "new.json"), "--server", server.base, "--username", "admin",
               env={"MOTCUA_PASSWORD": PASSWORD})
    assert done.returncode == 0, done.stderr
    assert f"{len(data['procedures'])} procedures" in done.stdout
    # The kiosk's very next question, and the very next dossier, already follow it.
    offered = {p["code"] for p in server.get("/procedures?service=civil").json()}
    assert {"GT-DK", remapped} <= offered
    ticket = served_ticket(server)
    opened = server.post("/dossiers", "off1", {"procedure": "GT-DK", "citizen": CITIZEN, "ticket": ticket["id"]})
    assert opened.status_code == 201, opened.text
    assert opened.json()["department"] == "transport"
    assert server.post(f"/tickets/{ticket['id']}/done", "off1").status_code == 200
    # Committed: what the server answers is what its database holds.
    assert exported(server, tmp_path / "after.json") == data
    # And audited as any administration, by name.
    assert "administration by staff:admin: PUT /api/v1/admin/catalogue" in server.log.read_text()


def test_the_offline_import_refuses_a_database_a_server_holds(server, tmp_path):
    before = exported(server, tmp_path / "before.json")
    (tmp_path / "other.json").write_text(json.dumps({**before, "procedures": before["procedures"][:3]}),
                                         encoding="utf-8")
    done = cli("catalogue", "import", str(tmp_path / "other.json"), "--db", str(server.db))
    assert done.returncode == 2
    assert "a server is using" in done.stderr and "--server" in done.stderr
    assert exported(server, tmp_path / "after.json") == before


@pytest.mark.parametrize("fault, code, named", [
    ("unknown department", "bad_catalogue", "nowhere"),
    ("unknown kind", "bad_catalogue", "no_such_paper"),
    ("twice", "bad_catalogue", "listed twice"),
    ("days", "bad_value", "statutory_days"),
    ("not a catalogue", "wrong_type", "departments"),
])
def test_a_bad_catalogue_is_refused_naming_the_problem_and_nothing_is_applied(server, tmp_path, fault, code, named):
    before = current(server)
    data = exported(server, tmp_path / "before.json")
    first = data["procedures"][0]
    bad = {
        "unknown department": {**data, "procedures": data["procedures"] + [{**first, "code": "X-1",
                                                                          "department": "nowhere"}]},
        "unknown kind": {**data, "procedures": [{**first, "documents": ["no_such_paper"]}] + data["procedures"][1:]},
        "twice": {**data, "procedures": data["procedures"] + [first]},
        "days": {**data, "procedures": [{**first, "statutory_days": 0}] + data["procedures"][1:]},
        "not a catalogue": {"departments": "justice", "document_kinds": {}, "procedures": []},
    }[fault]
    answer = put(server, bad)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and named in error["message"], error
    assert current(server) == before


def test_an_import_that_would_orphan_a_dossier_is_refused_whole(server, tmp_path):
    data, _ = with_new_procedure(exported(server, tmp_path / "before.json"))
    assert put(server, data).status_code == 200
    ticket = served_ticket(server)
    opened = server.post("/dossiers", "off1", {"procedure": "GT-DK", "citizen": CITIZEN, "ticket": ticket["id"]})
    assert opened.status_code == 201, opened.text
    before = current(server)
    # Without the transport department, the dossier just opened would name a department nobody has: the
    # procedures are written before that is found, and rolled back with it.
    gone = {"departments": [d for d in data["departments"] if d["code"] != "transport"],
            "document_kinds": data["document_kinds"],
            "procedures": [p for p in data["procedures"] if p["code"] != "GT-DK"]}
    answer = put(server, gone)
    assert answer.status_code == 400 and "GT-DK" in answer.json()["error"]["message"], answer.text
    assert current(server) == before
    assert "GT-DK" in {p["code"] for p in server.get("/procedures?service=civil").json()}


def test_the_cli_reports_a_refusal_and_a_wrong_password(server, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"departments": [], "document_kinds": {}, "procedures": [{"code": "X"}]}),
                   encoding="utf-8")
    done = cli("catalogue", "import", str(bad), "--server", server.base, "--username", "admin",
               env={"MOTCUA_PASSWORD": PASSWORD})
    assert done.returncode == 2 and "400 missing_field" in done.stderr and "procedures.0.name_vi" in done.stderr
    done = cli("catalogue", "import", str(bad), "--server", server.base, "--username", "admin",
               env={"MOTCUA_PASSWORD": "wrong" + PASSWORD})
    assert done.returncode == 2 and "401" in done.stderr, done.stderr
    token = server.tokens["mgr1"]
    done = cli("catalogue", "import", str(bad), "--server", server.base, env={"MOTCUA_TOKEN": token})
    assert done.returncode == 2 and "403" in done.stderr, done.stderr
