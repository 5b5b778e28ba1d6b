"""The dossier receipt under /api/v1: the PDF the citizen takes home, and the same receipt as JSON
for a counter machine's ticket printer (`motcua hw print-receipt`).

Only officers (and managers) of the receiving branch and admins: the receipt carries the
citizen's name. `?lang=en` puts English first, for a citizen who reads it better.
"""
from __future__ import annotations

from typing import Literal

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, Field

from motcua import i18n
from motcua import receipt as receipts
from motcua.core.model import Invalid
from . import schemas
from .dossier_routes import dossier_row, full
from .openapi import operation
from .guards import Caller, place, ranks, require_staff
from .runtime import runtime

bp = Blueprint("receipts", __name__, url_prefix="/api/v1")


# The receiving branch's officers and above, and admins: the receipt carries the citizen's name.
RECEIVER = Caller(roles=ranks("officer"), of="branch", place=dossier_row,
                  admits=lambda who, row: require_staff(who, row["branch"]))


class ReceivedDocument(schemas.Answer):
    name: schemas.Names
    reused: bool


class Receipt(schemas.Answer):
    """What a dossier receipt shows; no ID number, no phone."""

    code: str
    procedure: schemas.Names
    department: schemas.Names
    citizen_name: str
    received_at: str
    receiving_branch: schemas.Names
    officer: str
    due_date: str
    return_branch: schemas.Names
    documents: list[ReceivedDocument]
    lookup_url: str
    check: str | None = Field(description="printed beside an official code: its public lookup asks for it (null: "
                                          "a code made before carries its own)")


class ReceiptQuery(BaseModel):
    lang: Literal[i18n.LANGUAGES] = Field(default=i18n.LANGUAGES[0], description="the language printed first")


@bp.get("/dossiers/<code>/receipt")
@operation("the dossier's receipt, to print at the counter (officer of the receiving branch, admin)", Receipt,
           caller=RECEIVER, errors=(400,))
def dossier_receipt(code):
    return jsonify(_receipt(code, "vi").view())


@bp.get("/dossiers/<code>/receipt.pdf")
@operation("the dossier's receipt as a PDF, ?lang=en for English first (officer of the receiving branch, admin)",
           None, caller=RECEIVER, errors=(400,), query=ReceiptQuery, media="application/pdf")
def dossier_receipt_pdf(code):
    lang = request.args.get("lang", i18n.LANGUAGES[0])
    if lang not in i18n.LANGUAGES:
        raise Invalid(f"lang is one of {', '.join(i18n.LANGUAGES)}", "bad_lang")
    found = _receipt(code, lang)
    # Personal data: kept by no cache on the way; shown in the browser's viewer, ready to print.
    return Response(receipts.receipt_pdf(found), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="receipt-{found.code}.pdf"',
                             "Cache-Control": "no-store"})


def _receipt(code: str, lang: str) -> receipts.Receipt:
    """The receipt of dossier code, for the caller its Caller let in."""
    rt = runtime()
    row = place()
    branches = {b.id: {"vi": b.name_vi, "en": b.name_en} for b in rt.engine.all_branches()}
    return receipts.receipt(full(row), branches=branches, lang=lang)
