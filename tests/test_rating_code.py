"""Ratings need something only the ticket's holder has: its id (the QR code, the phone page) or its
rating code (printed on the ticket, shown on the phone page). A number read off the wall display
is not enough, and a wrong code counts against the ticket until the kiosk's way is locked."""
from __future__ import annotations

import re

import pytest

from motcua.core.engine import RATING_CODE_TRIES, QueueEngine
from motcua.core.clock import FakeClock
from motcua.core.model import Branch, Counter, Service, WrongCode
from motcua.store import Store

from conftest import MORNING


def served(api, service: str = "civil") -> dict:
    """A ticket issued at hk-01's kiosk, called and done: what the wall display showed as finished."""
    ticket = api.issue(service)
    called = api.post("/branches/hk-01/counters/2/next", "off1").json["ticket"]
    assert called["id"] == ticket["id"]
    assert api.post(f"/tickets/{ticket['id']}/done", "off1").status_code == 200
    return ticket


def rate_number(api, ticket: dict, code: str | None, score: int = 1):
    body = {"score": score} if code is None else {"score": score, "code": code}
    return api.post(f"/branches/hk-01/tickets/{ticket['number']}/rating", "kiosk1", body)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10000:04d}"


def test_every_ticket_has_a_short_random_code_its_holder_sees(api):
    tickets = [api.issue("civil") for _ in range(12)]
    codes = [t["rating_code"] for t in tickets]
    assert all(re.fullmatch(r"[0-9]{4}", code) for code in codes)
    assert len(set(codes)) > 1                          # not one code for all
    own = api.get(f"/tickets/{tickets[0]['id']}").json  # the phone page's view: its holder has the id
    assert own["rating_code"] == codes[0]
    assert "rating_code" not in api.get("/branches/hk-01/state").get_data(as_text=True)   # public: never


def test_a_stranger_with_only_the_number_cannot_rate(api):
    ticket = served(api)
    no_code = rate_number(api, ticket, None)
    assert no_code.status_code == 400 and no_code.json["error"]["code"] == "missing_field"
    guessed = rate_number(api, ticket, wrong(ticket["rating_code"]))
    assert guessed.status_code == 403 and guessed.json["error"]["code"] == "wrong_rating_code"
    assert api.get(f"/tickets/{ticket['id']}").json["rated"] is False
    # The owner's one rating is still theirs, by the code on their ticket.
    own = rate_number(api, ticket, ticket["rating_code"], score=4)
    assert own.status_code == 201 and own.json == {"ticket": ticket["id"], "number": ticket["number"], "score": 4}
    assert api.get(f"/tickets/{ticket['id']}").json["rated"] is True


def test_the_code_is_checked_before_the_state_so_a_stranger_learns_nothing(api):
    waiting = api.issue("civil")
    refused = rate_number(api, waiting, wrong(waiting["rating_code"]))
    assert refused.status_code == 403
    assert rate_number(api, waiting, waiting["rating_code"]).json["error"]["code"] == "not_done"


def test_wrong_codes_lock_the_kiosk_way_but_never_the_holders_phone(api, app):
    ticket = served(api)
    other = wrong(ticket["rating_code"])
    answers = [rate_number(api, ticket, other) for _ in range(RATING_CODE_TRIES)]
    assert [a.status_code for a in answers] == [403] * RATING_CODE_TRIES
    assert [a.json["error"]["code"] for a in answers] == ["wrong_rating_code"] * (RATING_CODE_TRIES - 1) + [
        "rating_locked"]
    # Locked: not even the right code rates by number any more, so 10,000 codes cannot be walked.
    locked = rate_number(api, ticket, ticket["rating_code"])
    assert locked.status_code == 403 and locked.json["error"]["code"] == "rating_locked"
    assert api.get(f"/tickets/{ticket['id']}").json["rated"] is False
    # Each wrong try is an event of the ticket, with the kiosk that made it.
    store = app.extensions["motcua"].store
    notes = [e for e in store.events(ticket["id"]) if e["note"] == "rating_code_wrong"]
    assert len(notes) == RATING_CODE_TRIES and all(e["actor"].startswith("device:") for e in notes)
    # The holder's phone page still rates by the id.
    by_id = api.post(f"/tickets/{ticket['id']}/rating", None, {"score": 3})
    assert by_id.status_code == 201


def test_tries_are_per_ticket(api):
    first, second = served(api), served(api)
    for _ in range(RATING_CODE_TRIES):
        rate_number(api, first, wrong(first["rating_code"]))
    assert rate_number(api, second, second["rating_code"]).status_code == 201


@pytest.mark.parametrize("code", ["123", "12345", "12a4", "١٢٣٤", 1234])
def test_a_malformed_code_is_a_400_and_costs_no_try(api, code):
    ticket = served(api)
    answer = rate_number(api, ticket, code)
    assert answer.status_code == 400 and answer.json["error"]["code"] in ("bad_value", "wrong_type")
    assert rate_number(api, ticket, ticket["rating_code"]).status_code == 201


def test_a_ticket_moved_to_another_branch_keeps_the_code_its_holder_has(api):
    ticket = api.issue("civil")
    moved = api.post(f"/tickets/{ticket['id']}/transfer", "off1", {"service": "civil", "branch": "hk-02"}).json
    assert moved["id"] != ticket["id"] and moved["rating_code"] == ticket["rating_code"]


# ---- the core, on its own -----------------------------------------------------------------------

def engine(store: Store, clock: FakeClock, codes=None) -> QueueEngine:
    codes = iter(codes or ["0042"] * 5)
    return QueueEngine([Branch("b", "B", "B", 0, 0, ("s",))], [Service("s", "S", "S", "A", 10)],
                       [Counter("b", "1", ("s",))], clock, store, tickets=store.tickets("2000-01-01"),
                       new_code=lambda: next(codes))


def test_wrong_tries_survive_a_restart(tmp_path):
    clock = FakeClock(MORNING)
    store = Store(tmp_path / "db.sqlite")
    first = engine(store, clock)
    ticket = first.issue("b", "s")
    assert ticket.rating_code == "0042"
    first.call_next("b", "1")
    first.done(ticket.id)
    for _ in range(RATING_CODE_TRIES - 1):
        with pytest.raises(WrongCode):
            first.rate_with_code(ticket.id, "0043", 4)
    again = engine(store, clock)                       # restarted: the tries already made still count
    assert again.tickets[ticket.id].rating_code == "0042"
    with pytest.raises(WrongCode) as refused:
        again.rate_with_code(ticket.id, "0044", 4)
    assert refused.value.code == "rating_locked"
    with pytest.raises(WrongCode):
        again.rate_with_code(ticket.id, "0042", 4)
    assert again.rate(ticket.id, 4).score == 4
    store.close()
