"""The citizen ID card (CCCD): what its chip card's QR code holds, and the priority an age gives.

The QR code reads `ID number|old ID number|full name|date of birth ddmmyyyy|sex|permanent address|date of
issue ddmmyyyy`. Cards differ: the old ID is often empty, some cards stop after the address or the date of
birth. `parse_card` takes any of those and refuses (Invalid "bad_card") what is not a card at all: no pipes,
an ID number that is none, a date that is not a day. Plain Python: the server parses, the kiosk and the counter
page send the text as scanned.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from .dossiers import MAX_ADDRESS_CHARS, MAX_NAME_CHARS, valid_id_number
from .model import Invalid
from .text import hidden_characters

# A scanned QR is one short line; anything longer is not a card.
MAX_CARD_CHARS = 600
# ID number, old ID number, name, birth date: the fewest fields a card gives.
MIN_FIELDS = 4
FIELDS = 7


@dataclass(frozen=True)
class Card:
    """What a CCCD's QR code says about its holder (empty strings and None where the card says nothing)."""

    id_number: str
    old_id_number: str
    name: str
    birth_date: date
    sex: str
    address: str
    issued_on: date | None

    def age_on(self, day: date) -> int:
        """Whole years of age on day."""
        return day.year - self.birth_date.year - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


def refuse(why: str) -> Invalid:
    return Invalid(f"this is not a citizen ID card's QR code: {why}", "bad_card")


def parse_day(text: str, what: str) -> date:
    """A ddmmyyyy date as the card writes it."""
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise refuse(f"the {what} {text!r} is not ddmmyyyy")
    try:
        return date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        raise refuse(f"the {what} {text!r} is no day") from None


def clean(text: str, what: str, limit: int) -> str:
    """text in NFC with its spaces folded; refused when it holds control characters or is too long."""
    if hidden_characters(text):
        raise refuse(f"the {what} holds characters no card prints")
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    if len(text) > limit:
        raise refuse(f"the {what} is longer than {limit} characters")
    return text


def parse_card(text: str) -> Card:
    """The card a scanned QR text stands for; Invalid("bad_card") for text that is not one."""
    if not isinstance(text, str) or len(text) > MAX_CARD_CHARS:
        raise refuse(f"expected at most {MAX_CARD_CHARS} characters")
    # A scanner ends the line with Enter (CR, LF or both), some with a space: not part of the card.
    parts = [part.strip() for part in text.strip().split("|")]
    if not MIN_FIELDS <= len(parts) <= FIELDS:
        raise refuse(f"expected {MIN_FIELDS} to {FIELDS} fields separated by |, got {len(parts)}")
    parts += [""] * (FIELDS - len(parts))
    id_number, old_id, name, born, sex, address, issued = parts
    if not valid_id_number(id_number):
        raise refuse(f"{id_number!r} is not a 12-digit ID number")
    if old_id and not (len(old_id) in (9, 12) and old_id.isascii() and old_id.isdigit()):
        raise refuse(f"the old ID number {old_id!r} is not 9 or 12 digits")
    name = clean(name, "name", MAX_NAME_CHARS)
    if not name:
        raise refuse("the name is empty")
    return Card(id_number, old_id, name, parse_day(born, "date of birth"), clean(sex, "sex", 10),
                clean(address, "address", MAX_ADDRESS_CHARS), parse_day(issued, "date of issue") if issued else None)


def priority_by_age(card: Card, today: date, age: int) -> bool:
    """Whether the card's holder is served first for their age: `age` years old or more today (0: never)."""
    return age > 0 and card.age_on(today) >= age


def link_ticket(store, ticket_id: str, card: Card, now: float) -> None:
    """Remember whose ticket it is (the ticket_cards table): one transaction, committed before any answer."""
    row = {"ticket": ticket_id, "id_number": card.id_number, "name": card.name,
           "birth_date": card.birth_date.isoformat(), "linked_at": now}
    store.write(lambda db: db["ticket_cards"].upsert(row, pk="ticket"))


def forget_cards(store, before: float) -> int:
    """Forget whose tickets were taken before `before` (epoch s): a ticket lives one day, and once its day has
    closed nobody calls it, so the holder's ID number, name and date of birth it was linked to serve no one
    (a dossier keeps its citizen's own). How many links went."""
    return store.write(lambda db: db.execute("delete from ticket_cards where linked_at < ?", [before]).rowcount)


def ticket_card(store, ticket_id: str) -> dict | None:
    """The card a ticket was taken with: {id_number, name, birth_date}; None for a ticket taken without one."""
    rows = store.query("select id_number, name, birth_date from ticket_cards where ticket = ?", [ticket_id])
    return rows[0] if rows else None
