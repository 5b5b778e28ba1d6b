"""Intake at the counter under /api/v1: the branch's unfinished intakes to resume, and the earlier documents
that may serve a dossier (motcua.core.intake)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify

from motcua.core import intake
from .document_routes import INTAKER, CitizenDocument, documents_part, local
from .dossier_routes import DossierBrief
from .errors import STATUS_OF
from .guards import at_branch, place, staff
from .openapi import operation
from .runtime import runtime

bp = Blueprint("intake", __name__, url_prefix="/api/v1")
# A dossier to be digitised with required documents missing and unexplained: a conflict with its state.
STATUS_OF[intake.DocumentsMissing] = 409


@bp.get("/branches/<b>/intakes")
@operation("the branch's unfinished intakes, oldest first: dossiers received here and not yet sent to their "
           "department (received, or digitised and not sent), whose intake dialog was closed or is open at a "
           "counter; any officer of the branch resumes one (officer of the branch)", DossierBrief, many=True,
           caller=staff("officer", at_branch))
def branch_intakes(b):
    dossiers = runtime().dossiers
    return jsonify([dossiers.brief(row) for row in intake.unfinished(dossiers, b)])


@bp.get("/dossiers/<code>/offers")
@operation("the citizen's earlier documents that may serve this dossier: of a kind the catalogue marks reusable "
           "(never an application form), that the dossier's procedure requires (or, while it waits for a supplement, that "
           "the supplement asks for), and digitised within the kind's "
           "valid_months (none: no limit); newest first (staff of its receiving or returning branch)",
           CitizenDocument, many=True, caller=INTAKER, errors=(400, 503))
def dossier_offers(code):
    dossier, dossiers = place(), runtime().dossiers
    procedure = dossiers.catalogue.procedure(dossier["procedure"])
    found = documents_part().of_citizen(dossier["citizen_id"])
    offered = intake.offers(intake.needed_kinds(procedure, dossier), found, dossiers.catalogue.kinds,
                            lambda t: date.fromisoformat(dossiers.local.day(t)), dossiers.today())
    return jsonify([{**row, "created_at": local(row["created_at"])} for row in offered])
