"""The citizen ID card's QR code (motcua.core.cccd): read tolerantly, refused when it is none, and the age rule."""
from __future__ import annotations

from datetime import date

import pytest

from motcua.core.cccd import Card, parse_card, priority_by_age
from motcua.core.dossiers import Citizen
from motcua.core.model import Invalid

FULL = "001090012345|123456789|Nguyễn Văn An|15031990|Nam|Số 1 Hàng Bạc, Hoàn Kiếm, Hà Nội|01072021"


def test_a_full_card_is_read_field_by_field():
    card = parse_card(FULL + "\r\n")
    assert card == Card("001090012345", "123456789", "Nguyễn Văn An", date(1990, 3, 15), "Nam",
                        "Số 1 Hàng Bạc, Hoàn Kiếm, Hà Nội", date(2021, 7, 1))


@pytest.mark.parametrize("text, old_id, address, issued", [
    ("001090012345||Nguyễn Văn An|15031990|Nam|Hà Nội|01072021", "", "Hà Nội", date(2021, 7, 1)),
    ("001090012345||Nguyễn Văn An|15031990|Nam|Hà Nội", "", "Hà Nội", None),
    ("001090012345|123456789|Nguyễn Văn An|15031990", "123456789", "", None),
    ("001090012345||Nguyễn  Văn An |15031990||", "", "", None),
])
def test_cards_that_omit_fields_are_read(text, old_id, address, issued):
    card = parse_card(text)
    assert (card.id_number, card.old_id_number, card.name, card.birth_date) == (
        "001090012345", old_id, "Nguyễn Văn An", date(1990, 3, 15))
    assert (card.address, card.issued_on) == (address, issued)


def test_a_name_with_combining_marks_is_read_precomposed():
    decomposed = "Nguye\u0302\u0303n"
    assert parse_card(f"001090012345||{decomposed}|15031990").name == "Nguyễn"


@pytest.mark.parametrize("text", [
    "",
    "001090012345",                                                   # not pipe-separated
    "001090012345 Nguyễn Văn An 15031990",
    "001090012345|Nguyễn Văn An|15031990",                             # too few fields
    FULL + "|extra",                                                   # too many
    "999090012345||Nguyễn Văn An|15031990",                            # no such province
    "00109001234||Nguyễn Văn An|15031990",                             # 11 digits
    "001090012345||Nguyễn Văn An|31021990",                            # 31 February
    "001090012345||Nguyễn Văn An|1990-03-15",
    "001090012345||Nguyễn Văn An|15031990|Nam|Hà Nội|2021",
    "001090012345|12AB|Nguyễn Văn An|15031990",                        # old ID not digits
    "001090012345|| |15031990",                                        # no name
    "001090012345||Nguyễn\u202eVăn|15031990",                          # a text-direction character
    "001090012345||" + "A" * 700 + "|15031990",
])
def test_what_is_not_a_card_is_refused(text):
    with pytest.raises(Invalid) as refused:
        parse_card(text)
    assert refused.value.code == "bad_card"


@pytest.mark.parametrize("born, today, age, priority", [
    ("15031950", date(2025, 3, 15), 75, True),      # 75 today
    ("15031950", date(2025, 3, 14), 75, False),     # one day short
    ("01011940", date(2026, 12, 7), 75, True),
    ("01011990", date(2026, 12, 7), 75, False),
    ("01011940", date(2026, 12, 7), 0, False),      # 0: the rule is off
])
def test_priority_comes_with_the_configured_age(born, today, age, priority):
    card = parse_card(f"001090012345||Nguyễn Văn An|{born}")
    assert priority_by_age(card, today, age) is priority


@pytest.mark.parametrize("birth_date, address, code", [
    ("1990-02-31", "", "bad_birth_date"),
    ("15/03/1990", "", "bad_birth_date"),
    ("", "Hà Nội\u202e", "bad_address"),
    ("", "x" * 301, "bad_address"),
])
def test_a_dossiers_citizen_refuses_a_date_of_birth_or_address_that_is_none(birth_date, address, code):
    with pytest.raises(Invalid) as refused:
        Citizen("001090012345", "Nguyễn Văn An", birth_date=birth_date, address=address).checked()
    assert refused.value.code == code


def test_a_dossiers_citizen_keeps_the_cards_date_of_birth_and_address():
    card = parse_card(FULL)
    checked = Citizen(card.id_number, card.name, birth_date=card.birth_date.isoformat(),
                      address="  " + card.address + " ").checked()
    assert (checked.birth_date, checked.address) == ("1990-03-15", "Số 1 Hàng Bạc, Hoàn Kiếm, Hà Nội")
    assert Citizen(card.id_number, card.name, birth_date="19900315").checked().birth_date == "1990-03-15"
