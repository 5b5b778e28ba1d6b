"""Text taken from people and text given to other programs: one rule for each, written once.

Taken: every free-text field (names, usernames, descriptions, notes, comments) refuses the
characters that print as nothing or make a text print as another (`check_text`). Given: every CSV
motcua writes goes through `csv_writer`, whose text cells a spreadsheet never runs as a formula.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable

from .model import Invalid

# Control, format (bidi overrides such as U+202E, zero-width), line and paragraph separators, lone
# surrogates: characters that make a text print as another, or not print at all.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# The one of them a text of several lines (a note, a comment) may hold.
LINE_FEED = "\n"
# What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A text that is only a number ("-12.5", as the simulator writes its minutes) is read as that number.
NUMBER = re.compile(r"^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")


def hidden_characters(text: str, lines: bool = False) -> list[str]:
    """The characters of text in HIDDEN_CATEGORIES, in order; a line feed is one unless lines."""
    return [c for c in text
            if unicodedata.category(c) in HIDDEN_CATEGORIES and not (lines and c == LINE_FEED)]


def check_text(text: str, what: str, code: str, lines: bool = False) -> None:
    """Invalid(code) naming what and each hidden character of text (as U+XXXX); nothing when it has none."""
    hidden = hidden_characters(text, lines)
    if hidden:
        raise Invalid(f"{what} may not hold control or text-direction characters ({_codes(hidden)})", code)


def _codes(chars: list[str]) -> str:
    """Characters as U+XXXX, each once: they may not show when printed as themselves."""
    return ", ".join(dict.fromkeys(f"U+{ord(c):04X}" for c in chars))


def csv_cell(value):
    """A CSV cell as a spreadsheet should read it: a text that would start a formula, with a leading
    quote (OWASP's way); a number, negative or not, and a text that is only a number, as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not NUMBER.match(value):
        return "'" + value
    return value


def csv_writer(handle, **options) -> "CsvWriter":
    """A csv.writer on handle whose rows go through csv_cell: every CSV motcua writes is made this way."""
    return CsvWriter(csv.writer(handle, **options))


class CsvWriter:
    """csv.writer's writerow, each cell made safe for spreadsheets."""

    def __init__(self, writer) -> None:
        self.writer = writer

    def writerow(self, row: Iterable) -> None:
        self.writer.writerow([csv_cell(value) for value in row])
