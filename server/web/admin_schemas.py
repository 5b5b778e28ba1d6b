"""The shapes of the administration API (/api/v1/admin/...), as pydantic models like motcua.web.schemas.

What JSON Schema can say is said here (lengths, patterns, ranges); what it cannot (a name of only
spaces or with hidden characters, a branch closing before it opens, a guessable password) the
core refuses with 400 and a code of its own.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from motcua.accounts import DEVICE_KINDS, ROLES
from motcua.core.administration import (COUNTER_ID, HHMM, LETTER, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS,
                                        MEAN_MIN_RANGE, SERVICE_ID)
from .schemas import Answer, Body, CounterChange, Names  # noqa: F401  (CounterChange: the same body as the manager's)

HIDDEN = "no control, format or text-direction character (400 bad_value)"
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS, pattern=r"\S", description=HIDDEN)]
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION_CHARS, description=HIDDEN)]
Hour = Annotated[str, Field(pattern=HHMM.pattern, description="local time HH:MM")]
Letter = Annotated[str, Field(pattern=LETTER.pattern, description="the ticket letter(s), e.g. A")]
MeanMin = Annotated[float, Field(ge=MEAN_MIN_RANGE[0], le=MEAN_MIN_RANGE[1], description="minutes")]
ServiceList = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]


# ---- request bodies --------------------------------------------------------------------------

class NamesGiven(Body):
    vi: Name
    en: Name


class NamesChange(Body):
    vi: Name | None = None
    en: Name | None = None


class DescriptionGiven(Body):
    vi: Description = ""
    en: Description = ""


class DescriptionChange(Body):
    vi: Description | None = None
    en: Description | None = None


class BranchChange(Body):
    name: NamesChange | None = None
    open: Hour | None = None
    close: Hour | None = None
    services: list[Annotated[str, Field(min_length=1)]] | None = Field(
        default=None, description="every service the branch offers; one dropped may not be served or waited for")


class NewService(Body):
    id: str = Field(pattern=SERVICE_ID.pattern)
    name: NamesGiven
    letter: Letter
    mean_min: MeanMin
    description: DescriptionGiven = DescriptionGiven()


class ServiceChange(Body):
    name: NamesChange | None = None
    letter: Letter | None = None
    mean_min: MeanMin | None = None
    description: DescriptionChange | None = None


class NewCounter(Body):
    id: str = Field(pattern=COUNTER_ID.pattern)
    services: ServiceList = Field(description="the services it calls for; the branch offers them from now on")
    open: bool = True


class NewUser(Body):
    username: str = Field(min_length=1, max_length=64,
                          description="no control, format or text-direction character (400 bad_username)")
    password: str = Field(min_length=8, max_length=200)
    role: Literal[ROLES]
    branch: str | None = Field(default=None, description="an officer's or manager's branch; none for an admin")
    department: str | None = Field(default=None, description="a department user's department (GET /departments)")


class UserChange(Body):
    role: Literal[ROLES] | None = None
    branch: str | None = None
    department: str | None = Field(default=None, description="a department user's department")
    disabled: bool | None = Field(default=None, description="true ends the user's sessions at once")


class NewPassword(Body):
    password: str = Field(min_length=8, max_length=200)


class NewDevice(Body):
    kind: Literal[DEVICE_KINDS]
    branch: str


# ---- answers ---------------------------------------------------------------------------------

class AdminService(Answer):
    id: str
    name: Names
    description: Names
    letter: str
    mean_min: float


class AdminCounter(Answer):
    id: str
    branch: str
    services: list[str]
    open: bool
    serving: str | None = Field(description="the number of the ticket it holds")


class AdminBranch(Answer):
    id: str
    name: Names
    open: str
    close: str
    services: list[str]
    counters: list[AdminCounter]


class Network(Answer):
    branches: list[AdminBranch]
    services: list[AdminService]


class User(Answer):
    username: str
    role: Literal[ROLES]
    branch: str | None
    department: str | None = Field(default=None, description="a department user's department")
    disabled: bool


class Device(Answer):
    id: str
    kind: Literal[DEVICE_KINDS]
    branch: str
    created_at: datetime


class DeviceAdded(Device):
    token: str = Field(description="shown this once: the server keeps only its hash")


class Removed(Answer):
    removed: str
