"""Text taken from people and text given to other programs: one rule for each, written once.

Taken: every free-text field (names, usernames, descriptions, notes, comments) refuses the
characters that print as nothing or make a text print as another (`check_text`). Given: every CSV
the server writes has its text cells made safe for spreadsheets (`csv_row`).
"""
from __future__ import annotations

import unicodedata

from .model import Invalid

# Control, format (bidi overrides such as U+202E, zero-width), line and paragraph separators, lone
# surrogates: characters that make a text print as another, or not print at all.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# The one of them a text of several lines (a note, a comment) may hold.
LINE_FEED = "\n"


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
