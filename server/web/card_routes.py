"""Citizens' ID cards (CCCD) under /api/v1: a card's QR code read for the counter, a kiosk ticket taken with a
card (priority for the card's age, linked to its holder), and whose a ticket is, for the branch's staff.

What a card says stays with staff: the kiosk learns only whether the holder is served first, and nothing of it
reaches a ticket's public view, the wall, the public rooms or the printed ticket.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify
from pydantic import Field

from motcua.core.cccd import MAX_CARD_CHARS, Card, link_ticket, parse_card, priority_by_age, ticket_card
from motcua.core.model import NotFound
from . import schemas
from .bodies import json_body
from .guards import Caller, at_branch, at_ticket, caller, kiosk, ranks, staff
from .kiosk_routes import issued_answer
from .openapi import operation
from .runtime import runtime

bp = Blueprint("cards", __name__, url_prefix="/api/v1")

QR = Field(min_length=1, max_length=MAX_CARD_CHARS,
           description="the card's QR code as scanned: ID number|old ID number|name|date of birth ddmmyyyy|sex|"
                       "address|date of issue ddmmyyyy (trailing fields may be missing)")


class CardScan(schemas.Body):
    card: str = QR


class CardTicket(schemas.NewTicket):
    card: str = QR


class CardRead(schemas.Answer):
    id_number: str
    old_id_number: str = Field(description="the 9- or 12-digit number of the holder's old card; empty if none")
    name: str
    birth_date: date
    sex: str
    address: str = Field(description="the permanent address; empty when the card gives none")
    issued_on: date | None


class CardPriority(schemas.Answer):
    priority: bool = Field(description="the holder is served first for their age ([cards] priority_age)")


class TicketCitizen(schemas.Answer):
    id_number: str
    name: str
    birth_date: date


def card_answer(card: Card) -> dict:
    return {"id_number": card.id_number, "old_id_number": card.old_id_number, "name": card.name,
            "birth_date": card.birth_date.isoformat(), "sex": card.sex, "address": card.address,
            "issued_on": card.issued_on and card.issued_on.isoformat()}


def elderly(card: Card) -> bool:
    """The [cards] age rule, on the server's local today."""
    rt = runtime()
    today = date.fromisoformat(rt.engine.local.day(rt.engine.clock.now()))
    return priority_by_age(card, today, rt.config.cards.priority_age)


@bp.post("/cards")
@operation("read a citizen ID card's QR code as a 2D scanner typed it (staff of a branch: the counter fills the "
           "dossier's citizen from it); 400 bad_card for text that is not one", CardRead, body=CardScan,
           caller=Caller(roles=ranks("officer"), refused="this call is for staff of a branch"))
def read_card():
    return jsonify(card_answer(parse_card(json_body().card)))


@bp.post("/branches/<b>/cards")
@operation("a kiosk asks what a scanned ID card gives its holder: priority when they are [cards] priority_age or "
           "older (then no question is asked); nothing of the card is answered or kept", CardPriority,
           body=CardScan, caller=kiosk(at_branch))
def card_priority(b):
    return jsonify({"priority": elderly(parse_card(json_body().card))})


@bp.post("/branches/<b>/tickets/card")
@operation("issue a ticket for the holder of a scanned ID card (kiosk of the branch, or staff): a priority one "
           "when the citizen asked or is [cards] priority_age or older; the ticket is linked to the card's ID number "
           "and name for the branch's staff (GET /tickets/{ticket_id}/card) and to no public view, room or print",
           schemas.Issued, status=201, body=CardTicket, caller=kiosk(at_branch), conflict=True)
def issue_with_card(b):
    body = json_body()
    card = parse_card(body.card)   # refused before any ticket is taken
    rt = runtime()
    issued = rt.journeys.issue(b, body.service, body.priority or elderly(card), body.lang, actor=caller().actor)
    link_ticket(rt.store, issued.ticket.id, card, rt.engine.clock.now())
    return jsonify(issued_answer(b, issued)), 201


@bp.get("/tickets/<ticket_id>/card")
@operation("whose ticket it is, when it was taken by scanning an ID card at a kiosk: ID number, name, date of "
           "birth (staff of its branch); 404 no_card for a ticket taken without one, or of a past day (the link is "
           "forgotten once the ticket's day has closed)", TicketCitizen,
           caller=staff("officer", at_ticket))
def ticket_citizen(ticket_id):
    found = ticket_card(runtime().store, ticket_id)
    if found is None:
        raise NotFound("this ticket was taken without an ID card", "no_card")
    return jsonify(found)
