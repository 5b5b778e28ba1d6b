"""The shapes of the remote tickets' calls (/api/v1/branches/nearby, .../remote-tickets), as pydantic
models like motcua.web.schemas."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from .schemas import Answer, Body, Language, Names, Status

PHONE = ("a Vietnamese mobile number: 0 (or +84) then 9 digits, the first 3, 5, 7, 8 or 9; spaces, dots and dashes "
         "are ignored (400 bad_phone)")


class NearbyQuery(BaseModel):
    lat: float = Field(ge=-90, le=90, description="where the citizen is: latitude")
    lon: float = Field(ge=-180, le=180, description="where the citizen is: longitude")
    service: str = Field(min_length=1, description="the service wanted")


class NearbyBranch(Answer):
    branch: str
    name: Names
    estimated_wait_min: int = Field(description="the wait there after arriving")
    travel_min: int
    distance_km: float
    total_min: int = Field(description="travel plus wait: what the list is sorted by")


class NewRemoteTicket(Body):
    service: str
    phone: str = Field(max_length=20, description=PHONE)
    lang: Language = "vi"
    travel_min: float | None = Field(None, description="the citizen's trip to the branch, as nearby gave it: when to "
                                                       "set off (0 to [balancing] max_travel_min, else 400 bad_travel; "
                                                       "none: the longest)")


class RemoteTicket(Answer):
    id: str
    number: str
    branch: str
    service: str
    status: Status
    issued_at: datetime
    due_at: datetime = Field(description="when the citizen is expected (after the longest trip offered): the ticket "
                                         "ranks by it, or by the check-in if earlier")
    window_end: datetime = Field(description="check in by then (\"đến trước 10:40\"), else the ticket leaves the "
                                             "queue (expired, event window_missed)")
    estimated_wait_min: int | None = Field(description="minutes from now until called, as predicted when taken")
    position: int | None
    rating_code: str
    status_url: str = Field(description="the ticket's phone page, as a kiosk ticket's QR code carries it")
    lang: Language


class RemoteCheckIn(Body):
    phone: str = Field(max_length=20, description=PHONE)
    code: str | None = Field(None, max_length=40, description="the door's code of today, from the QR code at the "
                                                                "branch's door (wrong or missing: 403 wrong_door_code)")


class TakeOffer(Body):
    branch: str = Field(description="the branch of the ticket's `offer`")
    code: str = Field(max_length=20, description="the ticket's rating_code, which its holder's page has")


class DoorCode(Answer):
    branch: str
    day: str = Field(description="the branch's local day the code holds for: a new code each day")
    url: str = Field(description="what the door's QR code carries: the phone's check-in page at the branch with the "
                                 "day's code")
    qr_svg: str = Field(description="the QR code of url, an SVG image to print or show at the door")
