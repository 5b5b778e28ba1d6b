"""A dossier's documents under /api/v1: upload a scan or reuse one the citizen has, list a citizen's, download one.

Only staff who handle the dossier see its documents: officers of its receiving or returning branch,
its competent department, admins. Every download is an event of the dossier, committed before the
bytes are sent.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify, make_response, request
from pydantic import BaseModel, Field
from werkzeug.exceptions import RequestEntityTooLarge

from motcua.accounts import Principal
from motcua.core import intake
from motcua.core.dossiers import ADMIN, COUNTER, SUPPLEMENT_REQUESTED, valid_id_number
from motcua.core.model import Invalid, StorageUnavailable
from motcua.documents import (JPEG, MIMES, PDF, PNG, Actor, CitizenNotPresent, Documents, DocumentTooLarge,
                              UnsupportedDocument)
from . import schemas
from .openapi import operation
from .dossier_routes import acting_sides, require_personal_access, sides
from .bodies import json_body
from .errors import Forbidden, STATUS_OF
from .guards import STAFF, Caller, caller, place, ranks
from .runtime import runtime

bp = Blueprint("documents", __name__, url_prefix="/api/v1")

# The document's own refusals take HTTP's words for them: too large, not a type taken, not yours to see.
STATUS_OF.update({DocumentTooLarge: 413, UnsupportedDocument: 415, CitizenNotPresent: 403})
# What a multipart body carries beyond its file: the boundaries, the part headers, the kind field.
FORM_OVERHEAD = 64 * 1024
SHA = r"^[0-9a-f]{64}$"
EXTENSION = {PDF: "pdf", JPEG: "jpg", PNG: "png"}
# Staff of a branch who may receive a dossier and its documents there.
BRANCH_STAFF = ranks("officer")


# ---- shapes ----------------------------------------------------------------------------------

class Reuse(schemas.Body):
    reuse: str = Field(pattern=SHA, description="the sha256 of a document of the citizen's, from "
                                                "GET /citizens/{id_number}/documents")
    kind: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,40}$",
                             description="the kind it stands for here; by default the kind it had")


class Upload(BaseModel):
    file: bytes = Field(description="a PDF, JPEG or PNG, judged by its content")
    kind: str = Field(pattern=r"^[a-z0-9_]{1,40}$", description="the procedure's document kind, such as id_card")


class Attached(schemas.Answer):
    sha256: str
    kind: str
    mime: str
    size: int
    reused: bool = Field(description="attached from an earlier dossier of the citizen, not scanned again")
    attached_at: str
    attached_by: str


class CitizenDocument(schemas.Answer):
    sha256: str
    kind: str
    mime: str
    size: int
    created_at: str = Field(description="when it was first attached to a dossier of this citizen's")


# ---- authorisation ---------------------------------------------------------------------------

def dossier_of(code: str):
    """The dossier of that code (404 for none, 400 for a mistyped code), from the dossiers part."""
    dossiers = getattr(runtime(), "dossiers", None)
    if dossiers is None:
        raise StorageUnavailable("documents are off: this server keeps no dossiers", "documents_unavailable")
    return dossiers.get(code)


def attaches(who: Principal, dossier: dict) -> None:
    if not (sides(who, dossier) & {COUNTER, ADMIN} or supplement_only(who, dossier)):
        raise Forbidden("only staff of the dossier's receiving or returning branch attach its documents; while a "
                        "supplement is awaited, any branch's officer and its department too", "not_your_dossier")


def supplement_only(who: Principal, dossier: dict) -> bool:
    """True when the caller attaches only as the taker of a supplement (an officer of another branch, the
    department): only while the dossier waits for one."""
    return (dossier["status"] == SUPPLEMENT_REQUESTED and not sides(who, dossier) & {COUNTER, ADMIN}
            and bool(acting_sides(who, dossier)))


def at_its_counter(who: Principal, dossier: dict) -> None:
    if not sides(who, dossier) & {COUNTER, ADMIN}:
        raise Forbidden("only staff of the dossier's receiving or returning branch take it in", "not_your_dossier")


# Who takes a dossier in: staff of its branches (its intake's calls, such as the documents offered for reuse).
INTAKER = Caller(roles=ranks("officer"), of="dossier", place=dossier_of, admits=at_its_counter)
# Who calls: staff of the dossier's branches attach (while a supplement is awaited, any branch's officer and its
# department too); they, its department and admins read.
ATTACHER = Caller(roles=("department", *ranks("officer")), of="dossier", place=dossier_of, admits=attaches)
READER = Caller(roles=STAFF, of="dossier", place=dossier_of, admits=require_personal_access)


def known_kind(kind: str) -> str:
    """kind, when the procedure catalogue names it; 400 bad_kind otherwise."""
    if kind not in runtime().dossiers.catalogue.kinds:
        raise Invalid("kind must be a document kind of the procedure catalogue, such as id_card", "bad_kind")
    return kind


def documents_part() -> Documents:
    documents = runtime().documents
    if documents is None:
        raise StorageUnavailable("documents are off: the server has no document key", "documents_unavailable")
    return documents


def actor(who: Principal) -> Actor:
    """The event's actor and place: the branch of a branch's staff (null for a department or an admin, as
    the dossier's own events)."""
    return Actor(who.actor, who.branch)


def local(t: float | None) -> str | None:
    return runtime().engine.local.iso(t)


def attached_answer(row: dict) -> dict:
    return {**row, "attached_at": local(row["attached_at"])}


# ---- routes ----------------------------------------------------------------------------------

@bp.post("/dossiers/<code>/documents")
@operation("attach a document to the dossier: a scan uploaded as multipart/form-data (file, kind), or "
           "{\"reuse\": sha256}, one the citizen already has (staff of its receiving or returning branch; while the "
           "dossier waits for a supplement, also an officer of ANY branch and its department, who attach the "
           "supplement and nothing else: once it waits no more, 409 no_supplement_asked). A "
           "document that only other branches' dossiers hold is reused only for the citizen being served at the "
           "officer's counter: the dossier's ticket is called or being served at a counter the officer holds "
           "and stands for no other citizen's dossier; otherwise 403 citizen_not_present. Only a kind the catalogue "
           "marks reusable (identity cards, certificates; never an application form) is reused: otherwise 409 "
           "not_reusable; and only as a kind the dossier asks for, one its procedure requires or, while it waits for a "
           "supplement, one the supplement asks for (as GET /dossiers/{code}/offers lists): otherwise 409 "
           "not_required; a copy digitised longer ago than its kind's valid_months is 409 document_expired. "
           "Every reuse is an event of the dossier (document_reused:{sha256}). A scan past "
           "`[dossiers] max_document_mib` is 413 document_too_large, its limit in details.max_mib, however far past it is",
           Attached, status=201, body=Reuse, form=Upload, caller=ATTACHER, conflict=True, errors=(415,))
def attach_document(code):
    who, dossier = caller(), place()
    documents = documents_part()
    # A supplement's taker attaches only while it is awaited, as the write itself checks.
    only_while = SUPPLEMENT_REQUESTED if supplement_only(who, dossier) else None
    if request.mimetype == "multipart/form-data":
        # A scan is far larger than any JSON body: this one request may carry a whole document.
        request.max_content_length = documents.max_bytes + FORM_OVERHEAD
        try:
            upload = request.files.get("file")
        except RequestEntityTooLarge:
            raise DocumentTooLarge(documents.max_bytes) from None   # far past the limit: cut off unread
        if upload is None:
            raise Invalid("file: a PDF, JPEG or PNG file part is needed", "missing_field")
        kind = known_kind(request.form.get("kind", ""))
        attached = documents.upload(dossier, upload.read(documents.max_bytes + 1), kind, actor(who), only_while)
    else:
        body = json_body()
        rt = runtime()
        present = who.branch is not None and rt.dossiers.citizen_at_counter(dossier, rt.engine, who.branch, who.actor)
        reusable = {k.kind for k in rt.dossiers.catalogue.kinds.values() if k.reusable}
        needed = intake.needed_kinds(rt.dossiers.catalogue.procedure(dossier["procedure"]), dossier)
        refuse_expired(dossier, body.reuse, body.kind)
        attached = documents.reuse(dossier, body.reuse, actor(who), body.kind and known_kind(body.kind), present,
                                   reusable, only_while, needed)
    return jsonify(attached_answer(attached)), 201


def refuse_expired(dossier: dict, sha: str, kind: str | None) -> None:
    """409 document_expired when the citizen's document of that sha is older than its kind's valid_months."""
    dossiers = runtime().dossiers
    for row in documents_part().of_citizen(dossier["citizen_id"]):
        if row["sha256"] == sha:
            digitised_on = date.fromisoformat(dossiers.local.day(row["created_at"]))
            intake.check_fresh(dossiers.catalogue.kinds.get(kind or row["kind"]), digitised_on, dossiers.today())


@bp.get("/citizens/<id_number>/documents")
@operation("the documents already digitised for a citizen, to attach instead of scanning again: kinds and dates, "
           "never the dossiers they are on (staff of a branch)",
           CitizenDocument, many=True, errors=(503,),
           caller=Caller(roles=BRANCH_STAFF, refused="this call is for staff of a branch"))
def citizen_documents(id_number):
    if not valid_id_number(id_number):
        raise Invalid("an ID number is 12 digits, starting with an issued province code", "bad_id_number")
    found = documents_part().of_citizen(id_number)
    return jsonify([{**row, "created_at": local(row["created_at"])} for row in found])


@bp.get("/dossiers/<code>/documents/<sha256>")
@operation("a document of the dossier, decrypted; each read is an event of the dossier, written once the file "
           "has opened, so a failed download leaves none (staff of its branches, its competent department, admins; "
           "a mistyped code answers 400)", None, caller=READER, media=MIMES, errors=(400, 503))
def download_document(code, sha256):
    dossier = place()
    data, row = documents_part().read(dossier, sha256, actor(caller()))
    answer = make_response(data)
    answer.mimetype = row["mime"]
    # The code as parsed, never the path's own text: what surrounds it there (a line break) is no header's.
    answer.headers["Content-Disposition"] = (f'attachment; filename="{dossier["code"]}-{row["kind"]}.'
                                             f'{EXTENSION[row["mime"]]}"')
    # Personal documents: no cache keeps a copy.
    answer.headers["Cache-Control"] = "no-store"
    return answer

