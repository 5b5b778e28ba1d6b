"""Dossier codes in the official form and the check that keeps a mistyped one from showing another dossier.

Circular 01/2018/TT-VPCP (art. 19) forms a code as `{unit}-{yymmdd}-{sequence of the day, 4 digits}`, the
unit being the receiving unit's identifier under QCVN 102:2016/BTTTT (`000.00.12.H29`: levels 4, 3 and 2 in
digits, then the level 1 code, a letter and two digits), and carries no check character. The check moves
beside it: the ISO 7064 MOD 37,36 character of the code, printed on the receipt and carried by its QR link,
which a public lookup of an official code must give (`public_candidates`). Codes made before carry that same
character at their end and keep working, alone, everywhere; an official code typed with its check glued on
the end reads as one of them.
"""
from __future__ import annotations

import re
from datetime import date

from .model import Conflict, Invalid

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# QCVN 102:2016/BTTTT's identifier of an agency: level 4 (3 digits), 3 (2), 2 (2), then level 1 (H29: Hà Nội).
UNIT_CODE = re.compile(r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Za-z][0-9]{2}$")
MAX_SEQUENCE = 9999
# ASCII digits only, as in an ID number: re's \d is any script's digit.
OFFICIAL = re.compile(r"^(?P<unit>[A-Z0-9._-]+)-(?P<day>[0-9]{6})-(?P<seq>[0-9]{4})$")
# A code made before (its unit a branch id or an earlier unit code), or an official one with its check glued on.
CHECKED = re.compile(r"^(?P<unit>[A-Z0-9._-]+)-(?P<day>[0-9]{6})-(?P<seq>[0-9]{4,})(?P<check>[0-9A-Z])$")


def check_character(text: str) -> str:
    """ISO 7064 MOD 37,36 check character of text's letters and digits, case-insensitive."""
    modulus, p = 36, 36
    for char in text.upper():
        if char not in ALPHABET:
            continue  # dashes, dots and the like carry no information
        s = (p + ALPHABET.index(char)) % modulus or modulus
        p = (s * 2) % (modulus + 1)
    return ALPHABET[(modulus + 1 - p) % modulus]


def code_unit(branch: str, unit_code: str = "") -> str:
    """What a branch's dossier codes begin with: its unit code, else its id."""
    return (unit_code or branch).upper()


def valid_unit_code(text: str) -> bool:
    """An identifier in QCVN 102:2016/BTTTT's form, such as 000.00.12.H29."""
    return isinstance(text, str) and bool(UNIT_CODE.match(text))


def make_code(unit: str, day: date, seq: int) -> str:
    """`{unit}-{yymmdd}-{seq:04d}`, upper case; Conflict once a unit's day has used its 9,999 numbers."""
    if not 1 <= seq <= MAX_SEQUENCE:
        raise Conflict(f"{unit} has received {MAX_SEQUENCE} dossiers today: no number is left", "day_full")
    return f"{unit}-{day:%y%m%d}-{seq:04d}".upper()


def lookup_check(code: str) -> str | None:
    """The check a public lookup of code asks for: None for a code made before, which carries its own."""
    return check_character(code) if OFFICIAL.match(code) else None


def parse_code(text: str) -> str:
    """The canonical (upper-case) code as staff name it: an official code, or one made before with its right
    check character; Invalid("bad_code") otherwise."""
    code = _canonical(text)
    if OFFICIAL.match(code) or _checked(code):
        return code
    raise Invalid("this is not a dossier code: check it against the receipt", "bad_code")


def public_candidates(text: str, check: str | None) -> tuple[str, ...]:
    """The codes a public lookup of text (with the receipt's check) may mean, to try in order: an official code
    with its right check, a code made before (its own check), or an official code with its check glued on.
    Invalid bad_code, check_needed or bad_check otherwise: a mistyped code never reads as another one."""
    code = _canonical(text)
    if OFFICIAL.match(code):
        given = check.strip().upper() if isinstance(check, str) else ""
        if not given:
            raise Invalid("an official dossier code is looked up with the check printed beside it on the receipt",
                          "check_needed")
        if given != check_character(code):
            raise Invalid("the code and its check do not agree: check both against the receipt", "bad_check")
        return (code,)
    if _checked(code):
        return (code, code[:-1]) if OFFICIAL.match(code[:-1]) else (code,)
    raise Invalid("this is not a dossier code: check it against the receipt", "bad_code")


def unit_of(code: str) -> str:
    """The unit a stored code was numbered under (its part before the day)."""
    match = OFFICIAL.match(code) or CHECKED.match(code)
    return match["unit"] if match else ""


# An official unit typed without its dots (a kiosk's keys have none): the dots carry no information.
UNDOTTED = re.compile(r"^([0-9]{3})\.?([0-9]{2})\.?([0-9]{2})\.?([A-Z][0-9]{2}-)")


def _canonical(text) -> str:
    """Upper case, spaces around dropped, an official unit's dots put back where they were left out."""
    code = text.strip().upper() if isinstance(text, str) else ""
    return UNDOTTED.sub(r"\1.\2.\3.\4", code)


def _checked(code: str) -> bool:
    match = CHECKED.match(code)
    return bool(match) and check_character(code[:-1]) == match["check"]
