"""The catalogues (server/data/i18n/{vi,en}.json, read by server/i18n.py): every key in both, the same
placeholders in both, and every key the code names really there."""
from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from motcua.i18n import LANGUAGES, both, catalogue, text

ROOT = Path(__file__).resolve().parent.parent
VI, EN = catalogue("vi"), catalogue("en")
SOURCES = [path for folder in ("server", "hardware", "kiosk", "display")
           for pattern in ("*.py", "*.js", "*.html") for path in (ROOT / folder).rglob(pattern)
           if "vendor" not in path.parts]
FILE_NAME = re.compile(r"\.(html|js|css|json|png|md|toml|py|db)$")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_both_catalogues_have_the_same_keys():
    assert sorted(VI.keys() - EN.keys()) == [] and sorted(EN.keys() - VI.keys()) == []
    assert LANGUAGES == ("vi", "en")


TEXTS = sorted(key for key, value in VI.items() if isinstance(value, str))


@pytest.mark.parametrize("key", TEXTS)
def test_a_text_has_the_same_placeholders_and_some_words_in_both(key):
    assert isinstance(EN[key], str)
    assert placeholders(VI[key]) == placeholders(EN[key])
    assert VI[key].strip() and EN[key].strip()
    if key != "list.separator":
        assert VI[key] == VI[key].strip() and EN[key] == EN[key].strip()


def test_the_tables_have_the_same_shape_in_both():
    # A spoken number is read digit by digit: ten words for 0-9 in each language; letters are
    # spelled out where a language needs it, and read as themselves otherwise.
    assert len(VI["voice.digits"]) == len(EN["voice.digits"]) == 10
    assert len(VI["weekday"]) == len(EN["weekday"]) == 7
    for key in VI.keys() - set(TEXTS):
        assert type(VI[key]) is type(EN[key]) and isinstance(VI[key], (list, dict)), key
        assert not isinstance(VI[key], list) or len(VI[key]) == len(EN[key]), key
    for table in (VI["voice.letters"], EN["voice.letters"]):
        assert isinstance(table, dict) and all(len(letter) == 1 and letter.isupper() for letter in table)


def test_text_fills_the_placeholders_in_each_language():
    key = next(k for k in TEXTS if placeholders(VI[k]))
    values = {name: f"<{name}>" for name in placeholders(VI[key])}
    filled = both(key, **values)
    assert filled == {"vi": text("vi", key, **values), "en": text("en", key, **values)}
    assert all(value in filled["vi"] and value in filled["en"] for value in values.values())
    with pytest.raises(KeyError):
        text("vi", "no.such_key")


def test_every_key_the_code_names_is_in_the_catalogues():
    prefixes = "|".join(sorted({key.split(".")[0] for key in VI}))
    named = re.compile(r"[\"'`]((?:" + prefixes + r")(?:\.[a-z0-9_]+)+)[\"'`]")
    missing = {}
    for source in SOURCES:
        for key in named.findall(source.read_text(encoding="utf-8")):
            if key not in VI and not FILE_NAME.search(key):
                missing.setdefault(key, source.relative_to(ROOT).as_posix())
    assert SOURCES and missing == {}
