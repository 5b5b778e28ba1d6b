"""Remote tickets: a place in a branch's queue taken from a phone before the trip.

The rule, written down (README, "Decisions written down"):
- A remote ticket is a ticket on its way (motcua.core.journeys): it joins the queue at once, ranked
  by when its citizen is expected, `now + travel_min` (the longest trip `nearby` offers, since the
  server does not know where the phone is), so it is in the queue once and counts once in every
  estimate there; checking in earlier ranks it by the check-in.
- Unlike a redirected citizen's, it is never called before its citizen checks in (at the kiosk by
  its number, or by the phone at the door's QR code).
- Its arrival window ends at `now + max(wait, travel_min) + grace_min`: `wait` is the minutes until
  the ticket would be called as predicted when it is taken, so a citizen who comes by the end of the
  window ("đến trước 10:40") finds their turn near, and one who takes the longest trip still makes it.
  A ticket not checked in by then leaves the queue: it ends `expired` with a `window_missed` event,
  at the branch's next operation or the server's sweep (QueueEngine.expire_windows), whichever
  comes first.
- One active (waiting, called or serving) remote ticket per phone and service, in the whole network:
  a second is refused with the first.
- It keeps the phone and nothing else of the citizen.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .balancing import RedirectRules
from .model import Invalid

# Vietnamese mobile numbers: 0 (or +84 / 84) then 9 digits, the first of them 3, 5, 7, 8 or 9.
_MOBILE = re.compile(r"(?:\+?84|0)([35789]\d{8})")
_SEPARATORS = re.compile(r"[\s.\-()]")


@dataclass(frozen=True)
class RemoteRules:
    """How long a remote ticket's citizen has to come: the longest trip offered ([balancing]
    max_travel_min) and the [remote] grace."""

    travel_min: float = RedirectRules.max_travel_min
    grace_min: float = 10.0


def mobile(text: object) -> str:
    """A Vietnamese mobile number as the national 10 digits ("+84 912 345 678" -> "0912345678");
    anything else is Invalid (bad_phone)."""
    found = _MOBILE.fullmatch(_SEPARATORS.sub("", text)) if isinstance(text, str) else None
    if found is None:
        raise Invalid("phone must be a Vietnamese mobile number, e.g. 0912345678", "bad_phone")
    return "0" + found.group(1)


def window_end(now: float, wait_min: float, rules: RemoteRules) -> float:
    """When a remote ticket taken at `now`, called in `wait_min` as predicted, must be checked in by."""
    return now + (max(wait_min, rules.travel_min) + rules.grace_min) * 60
