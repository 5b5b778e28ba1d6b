"""Text a citizen or an officer reads comes from the catalogues in data/i18n, Vietnamese first."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

CATALOGUES = Path(__file__).resolve().parent / "data" / "i18n"
LANGUAGES = ("vi", "en")


@cache
def catalogue(lang: str) -> dict[str, str]:
    """lang.json, then each page's own part in lang/*.json (one file per page: parts never collide)."""
    texts = json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))
    for part in sorted((CATALOGUES / lang).glob("*.json")):
        more = json.loads(part.read_text(encoding="utf-8"))
        twice = texts.keys() & more.keys()
        if twice:
            raise ValueError(f"{part.name} repeats keys of the catalogue: {', '.join(sorted(twice))}")
        texts.update(more)
    return texts


def text(lang: str, key: str, **values) -> str:
    """The catalogue's text for key in lang, with {placeholders} filled in."""
    return catalogue(lang)[key].format(**values)


def both(key: str, **values) -> dict[str, str]:
    """The text in every language, as {"vi": ..., "en": ...}."""
    return {lang: text(lang, key, **values) for lang in LANGUAGES}


REASONS = "rating.reasons."


@cache
def rating_reasons() -> tuple[str, ...]:
    """The codes a rating's reasons are chosen from: the catalogue's rating.reasons.* keys, in order."""
    return tuple(key[len(REASONS):] for key in catalogue("vi") if key.startswith(REASONS))
