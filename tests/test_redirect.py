"""A citizen sent to another branch, on a real server: counted once there, not called before they
can be there unless they check in, and a no-show like anyone else when they never come.

Two branches 17 m apart (a trip of about 4.3 s at the default 18 km/h) make "before they can be
there" checkable on the system clock without a long sleep.
"""
from __future__ import annotations

import json
import signal
import time
from datetime import datetime

import pytest

from conftest import PASSWORD, Server, free_port, motcua

LAND = {"id": "land", "name": {"vi": "Đất đai", "en": "Land"}, "service_min": {"mean": 20, "cv": 0.7}}
TWINS = {"format": "motcua-scenario/1", "name": "twins", "timezone": "Asia/Ho_Chi_Minh",
         "open": "07:30", "close": "17:00", "services": [LAND], "arrivals": [],
         "branches": [{"id": branch, "name": {"vi": branch, "en": branch}, "lat": lat, "lon": 105.85,
                       "counters": [{"id": "1", "services": ["land"]}]}
                      for branch, lat in (("near", 21.0), ("next-door", 21.00015))]}


@pytest.fixture
def twins(tmp_path):
    """A server of two branches next door to each other, one land counter each."""
    (tmp_path / "twins.json").write_text(json.dumps(TWINS), encoding="utf-8")
    db = tmp_path / "twins.db"
    motcua("init", "--scenario", str(tmp_path / "twins.json"), db=db)
    motcua("user", "add", "--username", "admin", "--password", PASSWORD, "--role", "admin", db=db)
    server = Server(db, free_port(), tmp_path / "server.log")
    server.tokens = {f"kiosk-{b}": motcua("device", "add", "--kind", "kiosk", "--branch", b, db=db).split()[-1]
                     for b in ("near", "next-door")}
    server.start()
    server.tokens["admin"] = server.login("admin")
    yield server
    server.kill(signal.SIGTERM)


def sent_next_door(server: Server) -> dict:
    """Three land citizens wait at `near`; the fourth is offered next door and takes it."""
    for _ in range(3):
        assert server.post("/branches/near/tickets", "kiosk-near", {"service": "land"}).status_code == 201
    issued = server.post("/branches/near/tickets", "kiosk-near", {"service": "land"}).json()
    assert [a["branch"] for a in issued["alternatives"]] == ["next-door"]
    moved = server.post(f"/tickets/{issued['id']}/redirect", "kiosk-near", {"branch": "next-door"})
    assert moved.status_code == 201, moved.text
    return moved.json()


def call_next(server: Server) -> dict | None:
    answer = server.post("/branches/next-door/counters/1/next", "admin")
    assert answer.status_code == 200, answer.text
    return answer.json()["ticket"]


def test_a_redirected_citizen_counts_once_there_and_is_not_called_before_arriving(twins):
    moved = sent_next_door(twins)
    assert (moved["branch"], moved["status"], moved["position"]) == ("next-door", "waiting", 1)
    assert datetime.fromisoformat(moved["due_at"]).timestamp() > time.time()
    land = twins.get("/branches/next-door/state").json()["services"][0]
    assert land["waiting"] == 1
    again = twins.post("/branches/near/tickets", "kiosk-near", {"service": "land"}).json()
    # The next citizen offered next door would wait there for one land service: the first
    # traveller counted once (twice would say 40, not at all 0).
    assert [a["estimated_wait_min"] for a in again["alternatives"]] == [20]
    assert call_next(twins) is None  # due in about 4 s: cannot be there yet


def test_checking_in_at_the_branch_makes_the_citizen_callable_at_once(twins):
    moved = sent_next_door(twins)
    assert twins.post(f"/tickets/{moved['id']}/check-in", "kiosk-near").status_code == 403  # not that branch's kiosk
    checked = twins.post(f"/tickets/{moved['id']}/check-in", "kiosk-next-door")
    assert checked.status_code == 200, checked.text
    assert datetime.fromisoformat(checked.json()["due_at"]).timestamp() <= time.time()
    assert call_next(twins)["id"] == moved["id"]
    assert twins.post(f"/tickets/{moved['id']}/check-in", "kiosk-next-door").json()["error"]["code"] == "bad_transition"


def test_a_citizen_who_never_arrives_is_called_once_due_and_marked_no_show(twins):
    moved = sent_next_door(twins)
    assert call_next(twins) is None
    # Sleep until the expected arrival (the answer's due_at is to the second, rounded down).
    time.sleep(max(0.0, datetime.fromisoformat(moved["due_at"]).timestamp() + 1 - time.time()))
    called = call_next(twins)
    assert called["id"] == moved["id"]
    assert twins.post(f"/tickets/{moved['id']}/no-show", "admin").json()["status"] == "no_show"
    land = twins.get("/branches/next-door/state").json()["services"][0]
    assert (land["waiting"], land["estimated_wait_min"]) == (0, 0)  # counter 1 is free again
