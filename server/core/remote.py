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
- When to set off (`set_off_in`): a citizen `travel_min` from the branch is told to set off once the
  call predicted now, made again as the queue moves, is their trip plus `lead_min` away, and at the
  latest so as to arrive a minute before the window ends; not at the call predicted when the ticket
  was taken, which the queue's morning proves too early as often as not.
- One active (waiting, called or serving) remote ticket per phone and service, in the whole network:
  a second is refused with the first. An officer may still send another of the phone's tickets on to
  that service (a transfer): the phone then holds both, and neither is lost.
- It keeps the phone and nothing else of the citizen.
- The phone checks in at the door only with the branch's door code, read from the QR code at its door:
  HMAC-SHA256 under the server's [remote] door_secret of the branch id and the branch's local day,
  truncated to 72 bits, URL-safe base64 (12 characters). The day is in it so that a photo of the door's
  code taken today checks nobody in tomorrow: the door shows the code of its day (staff fetch it, GET
  /branches/{b}/door).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from .balancing import RedirectRules
from .model import Invalid, WrongCode

# Vietnamese mobile numbers: 0 (or +84 / 84) then 9 digits, the first of them 3, 5, 7, 8 or 9.
_MOBILE = re.compile(r"(?:\+?84|0)([35789]\d{8})")
_SEPARATORS = re.compile(r"[\s.\-()]")
DOOR_CODE_BYTES = 9   # 72 bits of the HMAC, 12 URL-safe characters
WINDOW_MARGIN_MIN = 1.0   # a citizen told to set off late still arrives this long before the window ends


@dataclass(frozen=True)
class RemoteRules:
    """How long a remote ticket's citizen has to come: the longest trip offered ([balancing]
    max_travel_min) and the [remote] grace; and the saving a move offered while waiting must bring."""

    travel_min: float = RedirectRules.max_travel_min
    grace_min: float = 10.0
    # A waiting ticket's phone page is offered another branch that would call it this much sooner after travel.
    min_saving_min: float = 10.0
    # A citizen is told to set off when the predicted call is their trip plus this much away.
    lead_min: float = 5.0


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


def set_off_in(wait_min: float | None, travel_min: float, window_left_min: float, rules: RemoteRules) -> float:
    """Minutes from now until a remote ticket's citizen, `travel_min` from its branch, should set off (0: now),
    its call predicted `wait_min` from now (None: unknown, so now) and its window ending `window_left_min` from now."""
    if wait_min is None:
        return 0.0
    by_window = window_left_min - travel_min - WINDOW_MARGIN_MIN
    return max(0.0, min(wait_min - travel_min - rules.lead_min, by_window))


def door_code(secret: bytes, branch_id: str, day: str) -> str:
    """The code of the branch's door on a day (YYYY-MM-DD, the branch's local day)."""
    digest = hmac.new(secret, f"door:{branch_id}:{day}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:DOOR_CODE_BYTES]).decode()


def check_door_code(secret: bytes, branch_id: str, day: str, code: object) -> None:
    """Refused (WrongCode wrong_door_code, 403) unless code is the branch's door code of the day."""
    if not isinstance(code, str) or not hmac.compare_digest(code.encode(), door_code(secret, branch_id, day).encode()):
        raise WrongCode("this is not the code at the branch's door today: scan the QR code at the door",
                        "wrong_door_code")
