"""Offers while waiting (motcua.core.journeys.offer): a waiting ticket is offered a branch that would call it
sooner by [remote] min_saving_min after travel, and its holder's one tap moves it there, on a fake clock."""
from __future__ import annotations

import pytest

from motcua.core.balancing import RedirectRules, alternatives
from motcua.core.journeys import Journeys
from motcua.core.model import REMOTE, TRANSFERRED, WAITING, Conflict, WrongCode

from test_remote import PHONE, clock, engine  # noqa: F401  the fixtures, hoan-kiem at 09:00


@pytest.fixture
def journeys(engine):
    return Journeys(engine, RedirectRules(), offer_saving_min=10.0)


def crowd(engine, n: int = 12) -> None:
    for _ in range(n):
        engine.issue("hk-01", "land")


def test_a_ticket_waiting_long_is_offered_the_branch_the_kiosk_would_offer(engine, journeys):
    crowd(engine)
    ticket = engine.issue("hk-01", "land")
    offer = journeys.offer(ticket.id)
    assert offer is not None
    wait = engine.estimate(engine.ticket(ticket.id))[1]
    assert wait - offer.total_min >= 10.0
    # The kiosk's rule, one rule: a citizen taking a ticket now would be offered the same branch first.
    assert offer.branch == alternatives(engine.published(), "hk-01", "land", RedirectRules())[0].branch


def test_a_remote_ticket_on_its_way_is_offered_what_is_sooner_once_there(engine, journeys):
    crowd(engine)
    ticket = journeys.issue_remote("hk-01", "land", PHONE)
    offer = journeys.offer(ticket.id)
    assert offer is not None
    # Expected at hk-01 after the longest trip, it is not expected anywhere sooner: compared as arriving then.
    wait = engine.estimate(engine.ticket(ticket.id))[1]
    there = engine.estimate_new(offer.branch, "land", arriving_at=ticket.due_at)
    assert wait - there >= 10.0


def test_no_offer_when_the_saving_is_below_the_setting(engine, journeys):
    crowd(engine, 2)
    ticket = journeys.issue_remote("hk-01", "land", PHONE)
    assert journeys.offer(ticket.id) is None
    wait = engine.estimate(engine.ticket(ticket.id))[1]
    generous = Journeys(engine, RedirectRules(), offer_saving_min=0.5)
    found = generous.offer(ticket.id)
    assert found is None or wait - found.total_min >= 0.5
    assert Journeys(engine, RedirectRules(), offer_saving_min=wait + 1).offer(ticket.id) is None


def test_priority_and_called_tickets_and_those_without_a_code_are_offered_nothing(engine, journeys):
    crowd(engine)
    priority = engine.issue("hk-01", "land", priority=True)
    assert journeys.offer(priority.id) is None
    engine.new_code = lambda: None   # a ticket of before the codes: its holder has nothing to take an offer with
    assert journeys.offer(engine.issue("hk-01", "land").id) is None
    called = engine.call_next("hk-01", "4") or engine.call_next("hk-01", "5")
    assert called is not None and journeys.offer(called.id) is None


def test_the_holder_takes_the_offer_and_keeps_its_place_until_arrival(engine, journeys, clock):
    crowd(engine)
    ticket = journeys.issue_remote("hk-01", "land", PHONE, "en")
    offer = journeys.offer(ticket.id)
    moved = journeys.take_offer(ticket.id, offer.branch, ticket.rating_code).ticket
    assert engine.ticket(ticket.id).status == TRANSFERRED and engine.ticket(ticket.id).transferred_to == moved.id
    assert (moved.branch, moved.status, moved.channel, moved.phone, moved.lang) == (
        offer.branch, WAITING, REMOTE, PHONE, "en")
    assert moved.rating_code == ticket.rating_code and moved.issued_at == ticket.issued_at
    # A ticket on its way: it ranks by its arrival there (not before it was expected at hk-01), and waits for
    # its check-in there; a citizen who comes after that time ranks behind it.
    assert moved.due_at == max(clock.now() + offer.travel_min * 60, ticket.due_at)
    clock.set(moved.due_at + 60)
    later = engine.issue(offer.branch, "land")
    assert engine.call_next(offer.branch, next(c.id for c in engine.counters_of(offer.branch)
                                               if "land" in c.services)).id == later.id   # not checked in yet
    engine.check_in(moved.id)
    assert engine.estimate(engine.ticket(moved.id))[0] == 1


@pytest.mark.parametrize("code", ["0000x", ""])
def test_a_wrong_code_moves_nothing(engine, journeys, code):
    crowd(engine)
    ticket = journeys.issue_remote("hk-01", "land", PHONE)
    with pytest.raises(WrongCode) as refused:
        journeys.take_offer(ticket.id, journeys.offer(ticket.id).branch, code)
    assert refused.value.code == "wrong_rating_code"
    assert engine.ticket(ticket.id).status == WAITING


def test_a_branch_not_offered_now_is_refused(engine, journeys):
    crowd(engine)
    ticket = journeys.issue_remote("hk-01", "land", PHONE)
    offered = journeys.offer(ticket.id).branch
    other = next(b for b in engine.branch_ids() if b not in (offered, "hk-01"))
    with pytest.raises(Conflict) as refused:
        journeys.take_offer(ticket.id, other, ticket.rating_code)
    assert refused.value.code == "offer_gone"
    for _ in range(30):   # the branch offered fills up meanwhile: the offer is gone
        engine.issue(offered, "land")
    with pytest.raises(Conflict) as gone:
        journeys.take_offer(ticket.id, offered, ticket.rating_code)
    assert gone.value.code == "offer_gone"
    assert engine.ticket(ticket.id).status == WAITING
