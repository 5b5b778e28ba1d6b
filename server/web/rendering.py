"""A page of display/ as the server sends it: its HTML with a JSON block of settings and catalogue texts.

The wall display, the phone and dossier pages (motcua.web.pages) and the staff's consoles
(motcua.web.staff_pages) are all made this way: the HTML holds no data, no text of a person's.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from flask import Response

from motcua import display as display_assets
from motcua.i18n import LANGUAGES, catalogue

ASSETS = Path(display_assets.__file__).resolve().parent
HEADERS = {"Cache-Control": "no-store"}


@cache
def template(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


# Escaped inside the JSON's strings (JSON.parse reads them back): no markup the HTML parser acts on
# inside a script element ("</script>", and "<!--" with "<script>", which hides the element's end),
# no "&", and no line or paragraph separator, which older script engines take for a line's end.
EMBEDDED_ESCAPES = {ord(c): f"\\u{ord(c):04x}" for c in "<>&\u2028\u2029"}


def embedded_settings(settings: dict) -> str:
    """The settings as JSON to put inside a page's <script type="application/json"> element, whatever they hold."""
    return json.dumps(settings, ensure_ascii=False).translate(EMBEDDED_ESCAPES)


def page(name: str, settings: dict) -> Response:
    html = template(name).replace("{{SETTINGS}}", embedded_settings(settings))
    return Response(html, mimetype="text/html", headers=HEADERS)


def texts(prefix: tuple[str, ...]) -> dict:
    return {lang: {k: v for k, v in catalogue(lang).items() if k.startswith(prefix)} for lang in LANGUAGES}
