"""A dossier receipt's QR code read by the kiosk's scanner (`[kiosk] card_scanner`): the public lookup link it holds,
`{public_url}/d/{code}` with `?check={K}` for an official code (server/web/dossier_routes.py lookup_url), turned into
the code as the kiosk's typed lookup takes it, the check glued on its end. Pure: the server still rules on the code
and its check (a damaged or foreign link is refused there in words, never read as another dossier)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote

# Any host (and a path before /d/, for a server published under one); the code's segment, an optional slash, then
# the query and fragment. Scanners may type it in capitals (Caps Lock) or end it with CR/LF.
LINK = re.compile(r"^https?://[^/?#\s]+(?:/[^?#\s]*)?/d/(?P<code>[^/?#\s]+)/?(?:\?(?P<query>[^#\s]*))?(?:#\S*)?$",
                  re.IGNORECASE)
CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]*$")
CHECK = re.compile(r"^[0-9A-Z]$")


def receipt_code(text: str) -> str | None:
    """The dossier code a receipt's lookup link names, upper case, its ?check= glued on (a code made before has
    none: its check is its own last character); None when text is no such link (an ID card, noise)."""
    match = LINK.match(text.strip()) if isinstance(text, str) else None
    if not match:
        return None
    code = unquote(match["code"]).upper()
    if not CODE.match(code):
        return None
    query = {key.lower(): values for key, values in parse_qs(match["query"] or "").items()}
    check = (query.get("check") or [""])[-1].strip().upper()
    if check and not CHECK.match(check):
        return None
    return code + check
