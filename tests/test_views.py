"""What the public sees of tickets: numbers, never the ids that let their holders watch and rate them."""
from __future__ import annotations

import json

import pytest

from motcua.web.events import EXTENSION
from motcua.web.events import socketio as io


@pytest.fixture
def broadcaster(app):
    return app.extensions[EXTENSION]


def listener(app, client, **room):
    socket = io.test_client(app, flask_test_client=client)
    assert socket.emit("subscribe", room, callback=True) == {"ok": True}
    return socket


def busy_day(api) -> list[dict]:
    """Tickets in every state a branch shows: waiting, called, recalled, serving, done, no-show, unprinted."""
    tickets = [api.issue(service) for service in ("civil", "civil", "cert", "land", "build", "business", "civil")]
    assert api.post(f"/tickets/{tickets[-1]['id']}/not-printed", "kiosk1", {"problem": "paper_out"}).status_code == 201
    for counter in ("1", "2", "3", "4", "5"):
        assert api.post(f"/branches/hk-01/counters/{counter}/next", "off1").status_code == 200
    held = {c: api.get(f"/branches/hk-01/counters/{c}", "off1").json["ticket"] for c in ("1", "2", "3", "4")}
    assert api.post(f"/tickets/{held['1']['id']}/recall", "off1").status_code == 200
    assert api.post(f"/tickets/{held['2']['id']}/start", "off1").status_code == 200
    assert api.post(f"/tickets/{held['3']['id']}/done", "off1").status_code == 200
    assert api.post(f"/tickets/{held['4']['id']}/no-show", "off1").status_code == 200
    return tickets


def test_public_state_and_branch_events_carry_numbers_never_ids(app, client, api, broadcaster):
    wall = listener(app, client, branch="hk-01")
    tickets = busy_day(api)
    broadcaster.drain()  # the calls so far go out before the phone joins: it hears only the recall below
    phone = listener(app, client, ticket=tickets[0]["id"])
    assert api.post(f"/tickets/{tickets[0]['id']}/recall", "off1").status_code == 200
    broadcaster.drain()

    state = api.get("/branches/hk-01/state").json
    heard = wall.get_received()
    # A kiosk's problem is for the staff: the wall hears the calls and the queue only.
    assert {e["name"] for e in heard} == {"queue", "called"}
    assert state["recent_calls"] and any(c["serving"] for c in state["counters"])
    public = json.dumps([state, heard])
    for ticket in tickets:
        assert ticket["id"] not in public
    assert {c["number"] for c in state["recent_calls"]} <= {t["number"] for t in tickets}

    # The ticket's own room still hears its id: the phone knows it already.
    [own] = [e["args"][0] for e in phone.get_received() if e["name"] == "called"]
    assert own["ticket"] == tickets[0]["id"] and own["number"] == tickets[0]["number"] and own["recall"]


def test_staff_read_a_counter_s_ticket_with_its_id(api):
    ticket = api.issue("build")
    assert api.post("/branches/hk-01/counters/5/next", "off1").status_code == 200
    answer = api.get("/branches/hk-01/counters/5", "off1")
    assert answer.status_code == 200
    assert (answer.json["ticket"]["id"], answer.json["ticket"]["status"]) == (ticket["id"], "called")
    assert api.get("/branches/hk-01/counters/6", "off1").json["ticket"] is None
    assert api.get("/branches/hk-01/counters/5").status_code == 401
    assert api.get("/branches/hk-01/counters/5", "kiosk1").status_code == 403
    assert api.get("/branches/hk-01/counters/5", "off2").status_code == 403
    assert api.get("/branches/hk-01/counters/nope", "off1").status_code == 404


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          None])
def test_a_rating_needs_a_json_body_so_no_other_site_can_post_one(api, content_type):
    ticket = api.issue("civil")
    api.post("/branches/hk-01/counters/2/next", "off1")
    api.post(f"/tickets/{ticket['id']}/done", "off1")
    headers = {"Content-Type": content_type} if content_type else {}
    answer = api.client.post(f"/api/v1/tickets/{ticket['id']}/rating", data='{"score": 4}', headers=headers)
    assert answer.status_code == 415 and answer.json["error"]["code"] == "unsupported_media_type"
    assert api.get(f"/tickets/{ticket['id']}").json["rated"] is False
    assert api.post(f"/tickets/{ticket['id']}/rating", json={"score": 4}).status_code == 201
