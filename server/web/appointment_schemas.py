"""The shapes of the appointments' calls (/api/v1/branches/{b}/slots, /api/v1/appointments...), as pydantic
models like motcua.web.schemas."""
from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

from motcua.core.appointments import BOOKED, CANCELLED, CHECKED_IN, LATE, NO_SHOW

from .remote_schemas import PHONE
from .schemas import Answer, Body, Language

START = ("the slot's start, as GET /branches/{b}/slots gives it (ISO 8601; without an offset, the network's local "
         "time)")
CODE = "the appointment's code: 6 characters without 0, O, 1 or I (any case)"
ID_NUMBER = ("the citizen's ID number (căn cước công dân): 12 digits (400 bad_id_number); kept only as a salted "
             "digest")


class SlotsQuery(BaseModel):
    service: str = Field(min_length=1, description="the service wanted")
    date: dt.date = Field(description="the day, YYYY-MM-DD")


class Slot(Answer):
    start: dt.datetime
    end: dt.datetime
    free: int = Field(description="appointments the slot still takes")


class NewAppointment(Body):
    branch: str
    service: str
    start: dt.datetime = Field(strict=False, description=START)
    phone: str = Field(max_length=20, description=PHONE)
    id_number: str | None = Field(None, max_length=20, description=ID_NUMBER)
    lang: Language = "vi"


class HolderPhone(Body):
    phone: str = Field(max_length=20, description="the phone the appointment was booked with")


class MoveAppointment(HolderPhone):
    start: dt.datetime = Field(strict=False, description=START + "; a slot of the same branch and service")


class AppointmentCheckIn(Body):
    code: str | None = Field(None, max_length=20, description=CODE)
    id_number: str | None = Field(None, max_length=20, description="or the ID number given when booking")

    @model_validator(mode="after")
    def _one_of_them(self) -> "AppointmentCheckIn":
        if (self.code is None) == (self.id_number is None):
            raise PydanticCustomError("missing_field", "send either code or id_number")
        return self


class Appointment(Answer):
    code: str = Field(description=CODE)
    branch: str
    service: str
    start: dt.datetime
    end: dt.datetime
    status: Literal[BOOKED, CHECKED_IN, LATE, CANCELLED, NO_SHOW]
    lang: Language
    check_in_from: dt.datetime = Field(description="the kiosk checks the holder in from then")
    called_as_booked_until: dt.datetime = Field(description="checked in later, the holder is a walk-in from the "
                                                            "check-in")



class LaterSlotQuery(BaseModel):
    service: str = Field(min_length=1, description="the service the walk-in is taking a ticket for")


class LaterSlotOffer(Answer):
    slot: Slot | None = Field(description="the slot offered instead of the queue (null: none, take a ticket)")
    estimated_wait_min: int | None = Field(description="the wait a ticket taken now is predicted")


class TakeLaterSlot(Body):
    service: str
    start: dt.datetime = Field(strict=False, description="the offered slot's start, as GET /branches/{b}/later-slot "
                                                         "gave it")
    lang: Language = "vi"
