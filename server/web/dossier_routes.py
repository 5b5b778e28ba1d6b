"""The dossier calls under /api/v1: the procedure catalogue, opening a dossier at a counter, moving it
along, the public lookup, the department's work and a returning citizen's dossiers.

Who sees a dossier's personal data (`sides`, `require_personal_access`, also used by the document
calls): officers of the branch that received it or will return it, the competent department's
staff, admins. Anyone holding the code sees the public view, which carries none.
"""
from __future__ import annotations

from datetime import date
from typing import Literal

from flask import Blueprint, current_app, jsonify, request
from pydantic import BaseModel, Field

from motcua.accounts import Principal
from motcua.core import intake
from motcua.core.dossiers import (ADMIN, CHANNELS, COUNTER, DEPARTMENT, IN_PERSON, MAX_ADDRESS_CHARS, MAX_NAME_CHARS,
                                  MAX_NOTE_CHARS, PROCESSING, STATUSES, SUPPLEMENT, SUPPLEMENT_REQUESTED, Citizen,
                                  NotPermitted, kind_view)
from motcua.core.dossier_codes import lookup_check
from motcua.core.supplements import MAX_KINDS
from motcua.core.model import Invalid
from . import schemas, throttle
from .events import broadcaster
from .openapi import SERVER_EVENTS, operation
from .bodies import json_body
from .errors import Forbidden
from .guards import STAFF, Caller, at_branch, caller, place, ranks, require_covers, session_principal, staff
from .runtime import runtime

bp = Blueprint("dossiers", __name__, url_prefix="/api/v1")

DossierStatus = Literal[STATUSES]
LOOKUP_LIMITS = "motcua.lookup_limits"


# ---- shapes ----------------------------------------------------------------------------------

class CitizenIn(schemas.Body):
    id_number: str = Field(description="the 12-digit citizen ID number (căn cước)")
    name: str = Field(max_length=MAX_NAME_CHARS,
                      description="no control, format or text-direction character (400 bad_name)")
    phone: str = Field(default="", max_length=20, description="where the result-ready notice goes; may be empty; "
                       "ASCII digits (spaces, dots and dashes are dropped), 0 or +84 and 9 or 10 more (400 bad_phone)")
    lang: schemas.Language = Field(default="vi", description="the language the citizen's messages are written in")
    birth_date: str = Field(default="", max_length=10, description="ISO date, as on the ID card; may be empty "
                            "(400 bad_birth_date)")
    address: str = Field(default="", max_length=MAX_ADDRESS_CHARS,
                         description="the permanent address, as on the ID card; may be empty (400 bad_address)")


class NewDossier(schemas.Body):
    procedure: str = Field(description="a code of GET /procedures")
    citizen: CitizenIn
    ticket: str | None = Field(default=None, description="the ticket the citizen came to the counter with")
    return_branch: str | None = Field(default=None, description="where the result is handed back; default: here")
    branch: str | None = Field(default=None, description="the receiving branch; default: the officer's own")
    channel: Literal[CHANNELS] = Field(default=IN_PERSON, description="how the dossier came in: in_person (at "
                                                                      "the counter), online or post")


class MissingReasonIn(schemas.Body):
    kind: str = Field(description="a document kind the dossier's procedure requires and the dossier lacks")
    reason: Literal[intake.REASONS] = Field(description="issued_here: the centre issues it itself; "
                                            "population_database: looked up in the national population database; "
                                            "national_database: looked up in another national database; "
                                            "held_earlier: the centre holds it from an earlier dossier; other: say "
                                            "why in note")
    note: str = Field(default="", max_length=intake.MAX_REASON_NOTE_CHARS,
                      description="words for the reason; needed for other (400 bad_missing_reason)")


class StatusChange(schemas.Body):
    status: DossierStatus
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS,
                             description="what to bring (supplement_requested), why (rejected); line feeds "
                                         "but no other control, format or text-direction character (400 bad_note)")
    missing: list[MissingReasonIn] = Field(
        default_factory=list, max_length=50,
        description="to digitized: why each required document not attached is missing (409 documents_missing, "
                    "details.missing naming the kinds, when one has no reason; 400 bad_missing_reason for a kind "
                    "the procedure does not require)")
    kinds: list[str] | None = Field(default=None, max_length=MAX_KINDS,
                                    description="supplement_requested only: the document kinds to bring, each a kind "
                                                "of the catalogue (400 bad_kind)")


class DocumentKindOut(schemas.Answer):
    kind: str
    name: schemas.Names
    reusable: bool = Field(description="whether a citizen's copy may be reused for another dossier")
    valid_months: int | None = Field(description="how many months after it was digitised a copy may serve "
                                                 "another dossier (null: no limit)")


class ProcedureOut(schemas.Answer):
    code: str
    name: schemas.Names
    field: str
    department: str
    statutory_days: int = Field(description="working days from the working day after receipt")
    documents: list[DocumentKindOut]
    services: list[str] = Field(description="the queue services whose tickets this procedure fits")


class DepartmentOut(schemas.Answer):
    code: str
    name: schemas.Names


class Step(schemas.Answer):
    status: DossierStatus
    at: str


class PublicStep(schemas.Answer):
    status: DossierStatus
    on: date = Field(description="the local day of the step (the public view gives no hour)")


class KindAsked(schemas.Answer):
    kind: str
    name: schemas.Names | None


class SupplementOut(schemas.Answer):
    note: str = Field(description="what to bring, as the department wrote it for the citizen")
    kinds: list[KindAsked] = Field(description="the document kinds asked for (may be empty)")
    asked_on: date
    due: date = Field(description="the day the supplement is due by ([dossiers] supplement_days working days)")
    lapsed: bool = Field(description="past its due and not brought: the department may reject the dossier")
    department_name: schemas.Names | None = Field(description="the department it may also be brought to")


class DossierSummary(schemas.Answer):
    code: str
    procedure: str
    status: DossierStatus
    due_date: date = Field(description="the statutory due date, pushed back by the working days waited for "
                                       "supplements; while one is awaited it does not run (README \"Supplements\")")
    overdue: bool = Field(description="past its due date and not settled; while waiting for a supplement, only if it "
                                      "was already when the supplement was asked for")
    return_branch: str
    supplement: SupplementOut | None = Field(description="what the dossier waits for (null: none)")
    waited_days: int = Field(description="working days the due date was pushed back for supplements")


class PublicDossier(DossierSummary):
    received_on: date
    history: list[PublicStep]


class CitizenOut(schemas.Answer):
    id_number: str
    name: str
    phone: str
    lang: schemas.Language
    birth_date: str | None = Field(description="ISO date; null when not given")
    address: str


class AttachedDocument(schemas.Answer):
    sha256: str
    kind: str
    mime: str
    size: int
    reused: bool
    attached_at: str | None
    attached_by: str | None


class MissingDocument(schemas.Answer):
    kind: str
    name: schemas.Names | None
    reason: Literal[intake.REASONS]
    note: str
    actor: str | None
    at: str


class DossierEvent(schemas.Answer):
    from_status: DossierStatus | None
    status: DossierStatus
    at: str
    actor: str | None
    branch: str | None = Field(description="where the actor acted (null: a department or an admin)")
    note: str | None


class FullDossier(DossierSummary):
    received_at: str
    history: list[Step]
    procedure_name: schemas.Names | None
    department: str
    department_name: schemas.Names | None
    branch: str
    officer: str
    ticket: str | None
    citizen: CitizenOut
    reject_reason: str | None
    updated_at: str
    required_documents: list[DocumentKindOut]
    documents: list[AttachedDocument]
    missing_documents: list[MissingDocument] = Field(
        description="the required documents it was digitised without, each with the reason the officer recorded")
    events: list[DossierEvent]
    channel: Literal[CHANNELS] = Field(description="how it came in: in_person, online or post")
    check: str | None = Field(description="the check printed beside an official code on the receipt, which a "
                                          "public lookup asks for (null: a code made before carries its own)")
    lookup_url: str = Field(description="the public lookup page with the code's check, as the receipt's QR code "
                                        "carries it")


class LookupQuery(BaseModel):
    check: str | None = Field(default=None, max_length=8,
                              description="the check printed beside an official code on the receipt (and in its QR "
                                          "link): needed for an official code (400 check_needed, bad_check when it "
                                          "does not agree); a code made before carries its own at its end")


class DossierBrief(schemas.Answer):
    code: str
    procedure: str
    procedure_name: schemas.Names | None
    status: DossierStatus
    branch: str
    return_branch: str
    department: str
    citizen_name: str
    received_at: str
    due_date: date
    overdue: bool
    supplement: SupplementOut | None = Field(description="what the dossier waits for (null: none)")


SERVER_EVENTS["dossier"] = ({"staff:{branch}": DossierBrief},
                            "a dossier received or returned at the branch was opened or moved (result_ready: "
                            "the citizen may collect it here)")


# ---- who may see what ------------------------------------------------------------------------

def sides(who: Principal | None, row: dict) -> set[str]:
    """The parts the caller plays for this dossier: counter, department, admin (empty: none)."""
    if who is None or who.kind != "staff":
        return set()
    if who.role == "admin":
        return {ADMIN}
    if who.role == "department":
        return {DEPARTMENT} if who.department == row["department"] else set()
    if who.is_staff("officer") and who.branch in (row["branch"], row["return_branch"]):
        return {COUNTER}
    return set()


def acting_sides(who: Principal | None, row: dict) -> set[str]:
    """sides(), and for an officer of any branch the supplement side while the dossier waits for one: they take
    the supplement in and send the dossier back, nothing more (no citizen, no documents to see)."""
    found = sides(who, row)
    if (row["status"] == SUPPLEMENT_REQUESTED and who is not None and who.kind == "staff" and who.branch
            and who.is_staff("officer")):
        found.add(SUPPLEMENT)
    return found


def require_acting(who: Principal, row: dict) -> None:
    """403 unless the caller has a part in the dossier (acting_sides)."""
    if not acting_sides(who, row):
        raise Forbidden("only the receiving or returning branch, the competent department and admins act on this "
                        "dossier; any branch's officer takes in a supplement asked for", "not_your_dossier")


def require_personal_access(who: Principal, row: dict) -> set[str]:
    """The caller's sides, or 403 when they may not see the dossier's citizen and documents."""
    found = sides(who, row)
    if not found:
        raise Forbidden("only the receiving or returning branch, the competent department and admins see this "
                        "dossier", "not_your_dossier")
    return found


def dossier_row(code: str) -> dict:
    """The dossier of the path's code (400 for a mistyped code, 404 for none)."""
    return runtime().dossiers.get(code)


def department_of_path(d: str) -> str:
    runtime().dossiers.catalogue.department(d)
    return d


def require_department(who: Principal, d: str) -> None:
    if not (who.is_staff("admin") or (who.kind == "staff" and who.role == "department" and who.department == d)):
        raise Forbidden(f"this is the work of department {d}", "other_department")


# Who may see a dossier's citizen and documents, and who may open one (of the branch named in its body, which
# open_dossier checks once the body is read: the refusals' published order puts the body's 400 before it).
HANDLERS = Caller(roles=STAFF, of="dossier", place=dossier_row, admits=require_personal_access)
MOVER = Caller(roles=STAFF, of="dossier", place=dossier_row, admits=require_acting)
OPENER = Caller(roles=ranks("officer"), of="branch", refused="dossiers are opened by counter officers")


def lookup_url(code: str) -> str:
    """The public lookup page of code, with the check an official code is looked up with."""
    base = runtime().config.server.public_url or request.host_url
    check = lookup_check(code)
    return f"{base.rstrip('/')}/d/{code}" + (f"?check={check}" if check else "")


def full(row: dict) -> dict:
    return {**runtime().dossiers.full_view(row), "channel": row["channel"], "check": lookup_check(row["code"]),
            "lookup_url": lookup_url(row["code"])}


def tell_branches(row: dict) -> None:
    """After the commit: the consoles of the receiving and the returning branch hear the dossier's state."""
    brief = runtime().dossiers.brief(row)
    for branch in dict.fromkeys((row["branch"], row["return_branch"])):
        broadcaster().to_staff("dossier", brief, branch)


def names(thing) -> dict:
    return {"vi": thing.name_vi, "en": thing.name_en}


# ---- routes ----------------------------------------------------------------------------------

@bp.get("/procedures")
@operation("the procedure catalogue: competent department, statutory working days, required documents (retired "
           "procedures left out)",
           ProcedureOut, many=True)
def list_procedures():
    catalogue = runtime().dossiers.catalogue
    service = request.args.get("service")
    found = catalogue.for_service(service) if service else catalogue.current()
    return jsonify([{"code": p.code, "name": names(p), "field": p.field, "department": p.department,
                     "statutory_days": p.statutory_days,
                     "documents": [kind_view(d) for d in p.documents],
                     "services": list(p.services)} for p in found])


@bp.get("/departments")
@operation("the competent departments dossiers are routed to", DepartmentOut, many=True)
def list_departments():
    return jsonify([{"code": d.code, "name": names(d)} for d in runtime().dossiers.catalogue.departments.values()])


@bp.post("/dossiers")
@operation("open a dossier at a counter: the citizen, the procedure, the ticket; due date from the statutory "
           "working days; its code {unit}-{yymmdd}-{4 digits}, numbered per unit and local day (409 day_full "
           "past 9,999) (officer of the receiving branch)", FullDossier, status=201, body=NewDossier,
           caller=OPENER, conflict=True)
def open_dossier():
    who = caller()
    body = json_body()
    branch = body.branch or who.branch
    if branch is None:
        raise Invalid("an admin names the receiving branch: give branch", "branch_needed")
    require_covers(who, branch)   # OPENER's place, named in the body
    given = body.citizen
    citizen = Citizen(given.id_number, given.name, given.phone, given.lang, given.birth_date, given.address)
    row = runtime().dossiers.open(body.procedure, citizen, branch, who.actor, ticket=body.ticket,
                                  return_branch=body.return_branch, channel=body.channel)
    tell_branches(row)
    return jsonify(full(row)), 201


@bp.get("/dossiers/<code>")
@operation("a dossier's public view: status, the day of each step, due date, overdue, return branch; no name, ID "
           "number, phone, documents nor hour (anyone holding the code; a mistyped code answers 400). An official "
           "code ({unit}-{yymmdd}-{4 digits}) carries no check character: it is looked up with ?check=, the "
           "character printed beside it on the receipt and carried by the receipt's QR link (or glued on its end), "
           "so that a mistyped code never reads as another dossier; a code made before carries its own. Lookups "
           "without a staff or kiosk token are limited per address, found or not (429 with Retry-After; [dossiers] "
           "lookups_per_minute_per_address, lookups_per_hour_per_address), so the register cannot be walked",
           PublicDossier, errors=(400, 429), query=LookupQuery)
def public_dossier(code):
    with current_app.extensions[LOOKUP_LIMITS]:  # before the code is read: misses and typos count too
        dossiers = runtime().dossiers
        return jsonify(dossiers.public_view(dossiers.public(code, request.args.get("check"))))


def uncounted_lookup() -> bool:
    """A lookup by staff, or by a kiosk serving many citizens from one address: not counted against it."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if header:
        who = runtime().accounts.principal(token.strip()) if scheme.lower() == "bearer" else None
    else:
        who = session_principal(required=False)
    return who is not None and (who.kind == "staff" or who.role == "kiosk")


def lookup_limits() -> str:
    settings = runtime().config.dossiers
    return f"{settings.lookups_per_minute_per_address} per minute; {settings.lookups_per_hour_per_address} per hour"


@bp.record_once
def _throttle_lookups(state) -> None:
    """Give each app its own count of public lookups per address, in memory or on Redis (as the login limits)."""
    limiter = throttle.limiter(state.app, key_prefix="lookup")
    state.app.extensions[LOOKUP_LIMITS] = limiter.limit(lookup_limits, exempt_when=uncounted_lookup)


@bp.get("/dossiers/<code>/full")
@operation("a dossier with its citizen, documents and every event (officer of the receiving or returning "
           "branch, the competent department, admin)", FullDossier, caller=HANDLERS, errors=(400,))
def full_dossier(code):
    return jsonify(full(place()))


@bp.post("/dossiers/<code>/status")
@operation("move a dossier along its path: the counter digitises (every document the procedure requires attached, "
           "or a reason given in missing for each one that is not: else 409 documents_missing), sends on and hands "
           "back; the department asks for a supplement, marks the result ready or rejects; result ready and "
           "supplement_requested write the citizen's message (by phone, [notify] gateway) with the move, sent after "
           "it is committed: a supplement's says what to bring (note, kinds), by when ([dossiers] supplement_days "
           "working days) and where (any branch's counter or the department). Back from supplement_requested to "
           "processing, the due date moves back by the working days waited", FullDossier, body=StatusChange,
           caller=HANDLERS, conflict=True)
def move_dossier(code):
    who, row = caller(), place()
    dossiers = runtime().dossiers
    found = sides(who, row)
    body = json_body()
    try:
        moved = dossiers.move(row["code"], body.status, found, who.actor, who.branch, body.note, body.kinds,
                              missing=[intake.MissingReason(m.kind, m.reason, m.note) for m in body.missing])
    except NotPermitted as refused:
        raise Forbidden(refused.message, refused.code) from None
    tell_branches(moved)
    return jsonify(full(moved))


@bp.post("/dossiers/<code>/supplement")
@operation("take in the supplement a dossier waits for and send it back to processing, its due date moved back by "
           "the working days waited (README \"Supplements\"). An officer of ANY branch may (the citizen brings it to "
           "the nearest counter), as may the dossier's own branches, its department and admins; an officer of another "
           "branch may also attach the supplement's scans (POST /dossiers/{code}/documents) while it waits, and do "
           "nothing else with the dossier: the answer is its public view. 409 bad_transition when it waits for none",
           PublicDossier, caller=MOVER, conflict=True, errors=(400,))
def take_supplement(code):
    who, row = caller(), place()
    dossiers = runtime().dossiers
    try:
        moved = dossiers.move(row["code"], PROCESSING, acting_sides(who, row), who.actor, who.branch)
    except NotPermitted as refused:
        raise Forbidden(refused.message, refused.code) from None
    tell_branches(moved)
    return jsonify(dossiers.public_view(moved))


@bp.get("/departments/<d>/dossiers")
@operation("the department's work, oldest due first, overdue marked (its staff, admin)", DossierBrief, many=True,
           caller=Caller(roles=("department", "admin"), of="department", place=department_of_path,
                         admits=require_department))
def department_dossiers(d):
    dossiers = runtime().dossiers
    return jsonify([dossiers.brief(row) for row in dossiers.of_department(d)])


@bp.get("/citizens/<id_number>/dossiers")
@operation("a returning citizen's dossiers, newest first: those the caller's branch or department deals with "
           "(staff)", DossierBrief, many=True, errors=(400,),
           caller=Caller(roles=STAFF, refused="this call is for staff"))
def citizen_dossiers(id_number):
    who = caller()
    dossiers = runtime().dossiers
    return jsonify([dossiers.brief(row) for row in dossiers.of_citizen(id_number) if sides(who, row)])


@bp.get("/branches/<b>/dossiers")
@operation("the dossiers received or returned at the branch, newest first; ?status= one status, such as "
           "result_ready for the results waiting to be collected (officer of the branch)", DossierBrief, many=True,
           caller=staff("officer", at_branch), errors=(400,))
def branch_dossiers(b):
    rt = runtime()
    status = request.args.get("status")
    return jsonify([rt.dossiers.brief(row) for row in rt.dossiers.of_branch(b, status)])
