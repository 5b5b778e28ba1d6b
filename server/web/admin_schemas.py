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
from motcua.core.administration import (BRANCH_ID, COUNTER_ID, HHMM, LETTER, MAX_ADDRESS_CHARS,
                                        MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_PROCEDURE_NAME_CHARS, MEAN_MIN_RANGE,
                                        SERVICE_ID, UNIT_CODE)
from motcua.core.catalogue import DEPARTMENT_CODE, FIELD_CODE, KIND_CODE, MAX_STATUTORY_DAYS, PROCEDURE_CODE
from motcua.core.procedures import MAX_VALID_MONTHS
from .schemas import Answer, Body, CounterChange, Names  # noqa: F401  (CounterChange: the same body as the manager's)

VALID_MONTHS = ("how many months after it was digitised a copy serves another dossier: an older one is not offered "
                "for reuse (absent or null: no limit)")
HIDDEN = "no control, format or text-direction character (400 bad_value)"
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS, pattern=r"\S", description=HIDDEN)]
ProcedureName = Annotated[str, Field(min_length=1, max_length=MAX_PROCEDURE_NAME_CHARS, pattern=r"\S", description=HIDDEN)]
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION_CHARS, description=HIDDEN)]
Hour = Annotated[str, Field(pattern=HHMM.pattern, description="local time HH:MM")]
Letter = Annotated[str, Field(pattern=LETTER.pattern, description="the ticket letter(s), e.g. A")]
MeanMin = Annotated[float, Field(ge=MEAN_MIN_RANGE[0], le=MEAN_MIN_RANGE[1], description="minutes")]
ServiceList = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
Address = Annotated[str, Field(max_length=MAX_ADDRESS_CHARS)]
UnitCode = Annotated[str, Field(pattern=UNIT_CODE.pattern + "|^$",
                                description="what the branch's dossier codes begin with (empty: its id)")]
Codes = list[Annotated[str, Field(min_length=1)]]


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


class AddressChange(Body):
    vi: Address | None = None
    en: Address | None = None


class Location(Body):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class NewBranch(Body):
    # The optional fields say null: as in every body, null is "not given".
    id: str = Field(pattern=BRANCH_ID.pattern)
    name: NamesGiven
    address: AddressChange | None = Field(default=None, description="none or a language left out: no address")
    location: Location
    open: Hour | None = Field(default=None, description="local time HH:MM; none: 07:30")
    close: Hour | None = Field(default=None, description="local time HH:MM; none: 17:00")
    unit_code: UnitCode | None = None


class BranchChange(Body):
    name: NamesChange | None = None
    address: AddressChange | None = None
    location: Location | None = None
    open: Hour | None = None
    close: Hour | None = None
    unit_code: UnitCode | None = None
    closed: bool | None = Field(default=None, description="true: the branch issues no tickets and no citizen or "
                                                           "ticket is sent there; false reopens it")
    services: list[Annotated[str, Field(min_length=1)]] | None = Field(
        default=None, description="every service the branch offers; one dropped may not be served or waited for")


class NewDepartment(Body):
    code: str = Field(pattern=DEPARTMENT_CODE.pattern)
    name: NamesGiven


class DepartmentChange(Body):
    name: NamesChange


class NewDocumentKind(Body):
    kind: str = Field(pattern=KIND_CODE.pattern)
    name: NamesGiven
    reusable: bool = Field(description="whether a copy may serve another dossier of its citizen: an identity card "
                                       "or a certificate yes, an application form never")
    valid_months: int | None = Field(None, ge=1, le=MAX_VALID_MONTHS, description=VALID_MONTHS)


StatutoryDays = Annotated[int, Field(ge=1, le=MAX_STATUTORY_DAYS, description="statutory working days")]


class ProcedureNamesGiven(Body):
    vi: ProcedureName
    en: ProcedureName


class ProcedureNamesChange(Body):
    vi: ProcedureName | None = None
    en: ProcedureName | None = None


class NewProcedure(Body):
    code: str = Field(pattern=PROCEDURE_CODE.pattern)
    name: ProcedureNamesGiven
    field: str = Field(pattern=FIELD_CODE.pattern, description="its field, e.g. civil_status")
    department: str = Field(min_length=1, description="the competent department (GET /departments)")
    statutory_days: StatutoryDays
    documents: Codes | None = Field(default=None, description="the document kinds it requires (GET /admin/catalogue)")
    services: Codes | None = Field(default=None, description="the queue services whose tickets may open it")


class ProcedureChange(Body):
    name: ProcedureNamesChange | None = None
    field: str | None = Field(default=None, pattern=FIELD_CODE.pattern)
    department: str | None = None
    statutory_days: StatutoryDays | None = None
    documents: Codes | None = None
    services: Codes | None = None
    retired: bool | None = Field(default=None, description="true: closed to new dossiers, old ones stay readable; "
                                                            "false brings it back")


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
    address: Names
    lat: float
    lon: float
    unit_code: str = Field(description="what its dossier codes begin with (empty: its id)")
    closed: bool
    open: str
    close: str
    services: list[str]
    counters: list[AdminCounter]


class CatalogueDepartment(Body):
    code: str = Field(pattern=DEPARTMENT_CODE.pattern)
    name_vi: Annotated[str, Field(min_length=1)]
    name_en: Annotated[str, Field(min_length=1)]


class CatalogueKind(Body):
    name_vi: Annotated[str, Field(min_length=1)]
    name_en: Annotated[str, Field(min_length=1)]
    reusable: bool | None = Field(None, description="absent: yes, except for a kind whose name ends in form")
    valid_months: int | None = Field(None, ge=1, le=MAX_VALID_MONTHS, description=VALID_MONTHS)


class CatalogueProcedure(Body):
    code: str = Field(pattern=PROCEDURE_CODE.pattern)
    name_vi: Annotated[str, Field(min_length=1)]
    name_en: Annotated[str, Field(min_length=1)]
    field: str = Field(pattern=FIELD_CODE.pattern)
    department: str
    statutory_days: int = Field(ge=1, le=MAX_STATUTORY_DAYS)
    documents: list[str]
    services: list[str] = Field([], description="queue services whose tickets may open it; one this server lacks "
                                                "is kept (and named in the answer)")
    retired: bool = False


class CatalogueFile(Body):
    """A whole catalogue, as `motcua catalogue export` writes it (server/data/procedures.json's format)."""

    departments: list[CatalogueDepartment]
    document_kinds: dict[Annotated[str, Field(pattern=KIND_CODE.pattern)], CatalogueKind]
    procedures: list[CatalogueProcedure]


class AdminDepartment(Answer):
    code: str
    name: Names


class AdminDocumentKind(Answer):
    kind: str
    name: Names
    reusable: bool
    valid_months: int | None = Field(description=VALID_MONTHS)


class AdminProcedure(Answer):
    code: str
    name: Names
    field: str
    department: str
    statutory_days: int
    documents: list[str]
    services: list[str]
    retired: bool


class AdminCatalogue(Answer):
    departments: list[AdminDepartment]
    document_kinds: list[AdminDocumentKind]
    procedures: list[AdminProcedure] = Field(description="every procedure, the retired too")


class CatalogueImported(Answer):
    departments: int
    document_kinds: int
    procedures: int = Field(description="in the catalogue now, with any retired one kept for old dossiers")
    services_not_here: list[str] = Field(description="services the procedures name that this server does not have")


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
