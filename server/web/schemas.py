"""The shapes of the published interface, written once as pydantic models.

Request bodies are checked against these models (`parse`), and the OpenAPI document served at
/api/v1/openapi.json is generated from them (motcua.web.openapi), answers and live events too.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from motcua.core.engine import MAX_COMMENT_CHARS, MAX_REASONS, RATING_CODE_DIGITS
from motcua.core.model import CHANNELS, CALLED, DONE, EXPIRED, NO_SHOW, PAUSE_REASONS, SERVING, TRANSFERRED, WAITING, Invalid
from motcua.accounts import ROLES
from motcua.i18n import LANGUAGES, rating_reasons

Language = Literal[LANGUAGES]
Reason = Literal[rating_reasons()]
Status = Literal[WAITING, CALLED, SERVING, DONE, NO_SHOW, TRANSFERRED, EXPIRED]


# ---- request bodies --------------------------------------------------------------------------

class Body(BaseModel):
    """A request body: JSON types as sent (no "4" for 4), unknown fields ignored, null as not given."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _null_is_not_given(cls, data: Any) -> Any:
        # Clients send {"branch": null} for "no branch": an optional field's null is its default.
        if isinstance(data, dict):
            return {k: v for k, v in data.items()
                    if v is not None or k not in cls.model_fields or cls.model_fields[k].is_required()}
        return data


class Login(Body):
    username: str
    password: str


class NewTicket(Body):
    service: str
    priority: bool = False
    lang: Language = "vi"


class Redirect(Body):
    branch: str = Field(description="a branch from the ticket's `alternatives`")


class NotPrinted(Body):
    problem: str = Field(pattern=r"^[A-Za-z0-9_]{1,40}$", description="a short code such as paper_out")


class NewRating(Body):
    score: int = Field(ge=1, le=4, description="4 very satisfied, 3 satisfied, 2 neutral, 1 not satisfied")
    reasons: list[Reason] = Field(default=[], max_length=MAX_REASONS, json_schema_extra={"uniqueItems": True},
                                  description="codes from the catalogues' rating.reasons.*")
    comment: str = Field(default="", max_length=MAX_COMMENT_CHARS,
                         description="free text over lines if need be: no other control, format or text-direction "
                                     "character (400 bad_comment)")

    @field_validator("score", mode="before")
    @classmethod
    def _whole_number(cls, score: Any) -> Any:
        # JSON has one kind of number: 4.0 is the integer 4 to JSON Schema (and the document), so to us too.
        return int(score) if isinstance(score, float) and score.is_integer() else score

    @field_validator("reasons")
    @classmethod
    def _each_once(cls, reasons: list[str]) -> list[str]:
        if len(set(reasons)) != len(reasons):
            raise PydanticCustomError("bad_value", "each reason may be given once")
        return reasons


class NewRatingByNumber(NewRating):
    code: str = Field(pattern=rf"^[0-9]{{{RATING_CODE_DIGITS}}}$", description="the ticket's `rating_code`, printed "
                      "on it and shown on its phone page; a wrong one counts against the ticket")


class CallTicket(Body):
    ticket: str = Field(description="the id of a waiting or no-show ticket of the branch")


class CounterChange(Body):
    # The document says what _something enforces: services or open given, and not as null.
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["services"], "properties": {"services": {"type": "array"}}},
        {"required": ["open"], "properties": {"open": {"type": "boolean"}}}]})

    services: Annotated[list[Annotated[str, Field(min_length=1)]],
                        Field(min_length=1, json_schema_extra={"uniqueItems": True})] | None = Field(
        default=None, description="the branch's services the counter calls for, at least one (to close it: open false)")
    open: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> "CounterChange":
        if self.services is None and self.open is None:
            raise PydanticCustomError("missing_field", "give 'services', 'open' or both")
        if self.services is not None and len(set(self.services)) != len(self.services):
            raise PydanticCustomError("bad_value", "each service may be given once")
        return self


class Transfer(Body):
    service: str
    branch: str | None = Field(default=None, description="another branch; the same branch when left out")


# ---- answers ---------------------------------------------------------------------------------

class Answer(BaseModel):
    """What the server answers or sends; the document lists every field it carries."""


class ErrorDetail(Answer):
    code: str
    message: str
    details: dict[str, str] | None = Field(None, description="what a program needs to act on the refusal, e.g. "
                                           "`counter_taken`'s branch, counter and holder (a username)")


class Error(Answer):
    error: ErrorDetail


class Health(Answer):
    status: Literal["ok"]
    checks: dict[str, Literal["ok"]] = Field(description="each check passed: store (a write committed), "
                                             "broadcaster (its tasks turn; once serving), redis (when configured)")


class Document(Answer):
    """This OpenAPI document."""

    model_config = ConfigDict(extra="allow")
    openapi: str


class LoggedIn(Answer):
    token: str
    role: Literal[ROLES]
    branch: str | None
    department: str | None = Field(default=None, description="a department user's department")


class Session(Answer):
    username: str
    role: Literal[ROLES]
    branch: str | None
    department: str | None = Field(default=None, description="a department user's department")
    csrf: str = Field(description="send it as the X-CSRF-Token header of every change made with the session")
    expires_at: str


class LoggedOut(Answer):
    status: Literal["logged_out"]


class Me(Answer):
    kind: Literal["staff", "device"]
    role: str = Field(description="officer, manager, admin, department; kiosk or display for a device")
    branch: str | None


class Names(Answer):
    vi: str
    en: str


class FieldName(Answer):
    id: str = Field(description="the field's code in the procedure catalogue, e.g. civil_status")
    name: Names = Field(description="its name (lĩnh vực), e.g. Hộ tịch / Civil status")


class ServiceName(Answer):
    id: str
    name: Names
    letter: str
    description: Names = Field(description="the short description the kiosk shows under the name ('' when none)")
    fields: list[FieldName] = Field(description="the fields of the procedures it takes, in catalogue order (none: "
                                                "it takes no procedure of the catalogue)")


class Branch(Answer):
    id: str
    name: Names
    lat: float
    lon: float
    closed: bool = Field(description="closed by the administration: it issues no tickets, its kiosk and wall "
                                     "display say it is closed")
    services: list[ServiceName]


class ServiceQueue(Answer):
    id: str
    letter: str
    name: Names
    waiting: int
    estimated_wait_min: int | None


class Serving(Answer):
    """The ticket at a counter, as the public sees it: its number, never its id."""

    number: str
    service: str
    status: Status


class CounterState(Answer):
    id: str
    services: list[str]
    open: bool
    serving: Serving | None


class RecentCall(Answer):
    """A call as the public sees it: the ticket's number, never its id."""

    number: str
    counter: str
    service: str
    at: datetime
    recall: bool
    channel: Literal[CHANNELS] = Field(description="how the ticket was taken: the wall display marks a remote one")


class State(Answer):
    branch: str
    name: Names
    closed: bool = Field(description="closed by the administration: the wall display says so instead of calls")
    services: list[ServiceQueue]
    counters: list[CounterState]
    recent_calls: list[RecentCall] = Field(description="newest first, at most [queue] recent_calls")


class Offer(Answer):
    branch: str
    estimated_wait_min: int = Field(description="the wait there after arriving")
    travel_min: int
    distance_km: float
    saving_min: int = Field(description="how much sooner the citizen would be called there, travel included")


class Ticket(Answer):
    id: str
    number: str
    branch: str
    service: str
    status: Status
    position: int | None = Field(description="1 for the next one called; null unless waiting")
    estimated_wait_min: int | None
    estimated_wait_range_min: Annotated[list[int], Field(min_length=2, max_length=2)] | None = Field(
        description="[low, high]: the wait falls in this range 8 times out of 10")
    counter: str | None
    priority: bool
    issued_at: datetime = Field(description="the first arrival: it survives transfers and redirects")
    called_at: datetime | None
    due_at: datetime | None = Field(description="a redirected ticket: when the citizen can be at this branch; it is "
                                    "ranked by it and not called before it, unless checked in earlier")
    transferred_to: str | None = Field(description="the new ticket's id, once transferred to another branch")
    rated: bool
    rating_code: str | None = Field(description="what rates the ticket by its number at a kiosk, for its holder only "
                                    "(null: issued before codes, rated by id only)")
    channel: Literal[CHANNELS] = Field(description="how it was taken: walk_in at a kiosk, remote from a phone, "
                                                             "appointment at a kiosk by a holder within the grace")
    window_end: datetime | None = Field(description="a remote ticket: check in by then, else it leaves the queue")
    checked_in_at: datetime | None = Field(description="a remote ticket: when its citizen checked in (callable since); "
                                                       "an appointment's: when its holder did")
    set_off_at: datetime | None = Field(None, description="a remote ticket: when its citizen was told to set off (the "
                                        "predicted call their trip plus [remote] lead_min away; once, by message)")
    offer: Offer | None = Field(None, description="on the ticket's own page (GET /tickets/{id}, its socket): a branch "
                                                  "that would call the waiting citizen at least [remote] min_saving_min "
                                                  "sooner after travel, which its holder may take (POST "
                                                  "/tickets/{id}/move); null when none")


class Alternative(Answer):
    branch: str
    estimated_wait_min: int
    travel_min: int
    distance_km: float


class Availability(Answer):
    branch: str
    service: str
    served: bool = Field(description="an open counter of the branch serves the service (a ticket gets an estimate)")
    estimated_wait_min: int | None = Field(description="the wait a ticket taken now would get; null when not served")
    alternatives: list[Alternative] = Field(description="when not served here: reachable branches that serve it "
                                                        "now, best first (at most [balancing] max_offers)")


class Issued(Answer):
    id: str
    number: str
    rating_code: str = Field(description="printed on the ticket: with the number, it rates the ticket at a kiosk")
    service: str
    branch: str
    issued_at: datetime
    position: int | None
    estimated_wait_min: int | None
    estimated_wait_range_min: Annotated[list[int], Field(min_length=2, max_length=2)] | None
    status_url: str
    priority: bool
    lang: Language
    alternatives: list[Alternative] = Field(description="nearby branches that would serve sooner, best first")


class Redirected(Ticket):
    status_url: str
    travel_min: int


class Called(Answer):
    ticket: Ticket | None = Field(description="the ticket now called; null when nobody waits for the counter")
    took_on: list[str] | None = Field(
        None, description="nobody waited for the counter's services while citizens waited for others: the "
        "services it took on at once, as the staffing advice had it ([staffing] idle_takes_on), before calling; "
        "null when it took nothing on")


class CalledChosen(Answer):
    ticket: Ticket


class Rated(Answer):
    ticket: str
    score: int = Field(ge=1, le=4)
    reasons: list[Reason]


class RatedByNumber(Answer):
    ticket: str
    number: str
    score: int = Field(ge=1, le=4)


class NotPrintedNoted(Answer):
    ticket: str
    printed: Literal[False]
    problem: str


class CounterDetail(Answer):
    id: str
    branch: str
    services: list[str]
    open: bool
    holder: str | None = Field(description="the username of the staff account working the counter; null: free")
    ticket: Ticket | None = Field(description="the ticket called to or served at the counter, with its id")


class StaffTicket(Answer):
    """A ticket as the branch's staff see it: with its id and how long its citizen has waited."""

    id: str
    number: str
    service: str
    status: Status
    priority: bool
    counter: str | None
    issued_at: datetime
    called_at: datetime | None
    started_at: datetime | None
    due_at: datetime | None
    waited_min: float = Field(description="minutes since the citizen first arrived")
    channel: Literal[CHANNELS] = Field(description="how it was taken: walk_in at a kiosk, remote from a phone")
    checked_in_at: datetime | None = Field(description="a remote ticket: when its citizen checked in (callable since)")
    window_end: datetime | None = Field(description="a remote ticket: check in by then, else it leaves the queue")


class StaffCounter(Answer):
    id: str
    services: list[str]
    open: bool
    paused: bool
    pause_reason: Literal[PAUSE_REASONS] | None
    status: Literal["serving", "called", "idle", "paused", "closed"]
    since: datetime | None = Field(description="when it was last opened, closed, paused or resumed")
    holder: str | None = Field(description="the username of the staff account working the counter; null: free")
    held_since: datetime | None
    ticket: StaffTicket | None
    idle_since: datetime | None = Field(description="an idle counter: since it let its last ticket go or took "
                                        "citizens again; null when not idle or not known")
    idle_min: float | None


class BookedToday(Answer):
    start: datetime
    service: str
    status: Literal["booked", "checked_in", "late", "no_show"] = Field(
        description="booked: not come yet; checked_in: came within the grace; late: came after it (a walk-in); "
                    "no_show: never came")
    ticket: str | None = Field(description="the number of the ticket its check-in gave")
    checked_in_at: datetime | None


class StaffState(Answer):
    branch: str
    services: list[ServiceQueue]
    counters: list[StaffCounter]
    at: datetime = Field(description="the server's time of this state, which the staff pages' timers count from")
    version: int = Field(description="raised by every change the server commits: of two states, the higher is newer")
    waiting: list[StaffTicket] = Field(description="waiting tickets in calling order across the branch's services, "
                                                   "then today's no-shows")
    recent_calls: list[RecentCall]
    kiosk_problems: list[KioskProblem] = Field(description="the latest kiosk problems, oldest first")
    booked: list[BookedToday] = Field(description="today's appointments at the branch, cancelled ones apart, by start")


class CounterChanged(Answer):
    id: str
    branch: str
    services: list[str]
    open: bool
    serving: str | None = Field(description="the id of the ticket at the counter")


class Need(Answer):
    service: str
    name: Names
    forecast_per_hour: float
    mean_service_min: float
    waiting: int
    load: float
    needed: int = Field(description="counters the wait target needs, by Erlang C")
    have: float = Field(description="counter time the service gets now (a counter's time is shared)")
    shortfall: float
    short: bool = Field(description="still short of counters once the advice's moves are made: the branch has "
                                    "too few counters for its queues and forecast")


class MoveBody(Answer):
    services: list[str]


class MoveCall(Answer):
    method: Literal["POST"]
    path: str
    body: MoveBody


class Move(Answer):
    counter: str
    from_services: list[str]
    to_services: list[str]
    from_: str = Field(alias="from", description="local time HH:MM")
    text: Names
    reason: Names
    apply: MoveCall = Field(description="the call that makes the move")


class Recommendations(Answer):
    branch: str
    at: datetime
    target_wait_min: float
    service_level: float
    horizon_min: float
    services: list[Need]
    moves: list[Move]


# ---- reports ---------------------------------------------------------------------------------

LocalDate = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", json_schema_extra={"format": "date"})]


class ReportRange(BaseModel):
    """The query of a report: local days (the [queue] timezone), both included, at most a year apart."""

    model_config = ConfigDict(populate_by_name=True)

    start: LocalDate = Field(alias="from", description="first local day, YYYY-MM-DD")
    end: LocalDate = Field(alias="to", description="last local day, YYYY-MM-DD, not before `from`; "
                                                   "at most 366 days in all")


class ReportFigures(Answer):
    """One row of a report; server/core/reports.py and the README say exactly what each counts."""

    tickets: int
    served: int = Field(description="tickets that reached done")
    no_shows: int
    mean_wait_min: float | None = Field(description="issued here to first call, over the tickets called")
    p90_wait_min: float | None
    within_target_pct: float | None = Field(description="share of the tickets called whose wait was at most "
                                                        "target_wait_min")
    mean_service_min: float | None
    ratings: int
    mean_rating: float | None
    expired: int = Field(description="left open by the day's close, no-shows apart")
    transferred: int = Field(description="moved on to another branch")


class ServiceFigures(ReportFigures):
    service: str


class CounterFigures(ReportFigures):
    counter: str


class OfficerFigures(ReportFigures):
    officer: str = Field(description="the staff account that last called the tickets")


class Report(Answer):
    branch: str
    start: str = Field(alias="from")
    end: str = Field(alias="to")
    timezone: str
    target_wait_min: float
    services: list[ServiceFigures]
    counters: list[CounterFigures]
    officers: list[OfficerFigures]
    total: ReportFigures


# ---- Socket.IO -------------------------------------------------------------------------------

class SubscribeBranch(Body):
    branch: str


class SubscribeTicket(Body):
    ticket: str


class SubscribeStaff(Body):
    branch: str
    token: str | None = Field(None, description="a staff token, for programs; a staff page's session cookie "
                                                "is read from the handshake instead")


class Subscribed(Answer):
    ok: bool
    error: str | None = None


class CalledEvent(RecentCall):
    """`called` in a branch's room: anyone may listen, so no ticket id."""

    branch: str


class OwnCalledEvent(CalledEvent):
    """`called` in the ticket's own room: its holder knows the id already."""

    ticket: str


class KioskProblem(Answer):
    branch: str
    number: str | None = Field(description="the ticket it could not print; null for a kiosk out of service")
    problem: str = Field(description="a printer's problem (paper_out…), or revoked: the kiosk is out of service")
    at: datetime
    kiosk: str | None = Field(default=None, description="the kiosk's device id, when it is out of service")


# ---- checking a body -------------------------------------------------------------------------

def parse(model: type[Body], raw: bytes) -> Body:
    """The body as the model, or Invalid naming each field wrong (code of the first one)."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        problems = error.errors(include_url=False)
        raise Invalid("; ".join(_said(p) for p in problems), _code(problems[0])) from None


def _code(problem: dict) -> str:
    kind = problem["type"]
    if not problem["loc"] and kind in ("json_invalid", "model_type"):
        return "malformed_json"
    if kind == "missing":
        return "missing_field"
    if kind.endswith("_type"):
        return "wrong_type"
    if kind in ("missing_field", "bad_value"):  # raised by the models' own checks
        return kind
    return "bad_value"


def _said(problem: dict) -> str:
    if not problem["loc"]:
        if problem["type"] in ("json_invalid", "model_type"):
            return "the body must be a JSON object"
        return problem["msg"]
    where = ".".join(map(str, problem["loc"]))
    if problem["type"] == "missing":
        return f"missing field {where!r}"
    return f"field {where!r}: {problem['msg']}"
