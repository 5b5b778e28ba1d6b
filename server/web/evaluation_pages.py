"""The pages a dossier is evaluated on (display/evaluation.html and .js): the citizen's phone, from the receipt's QR
code by way of the public lookup (/e/{code}), and the counter's tablet facing the citizen (/counter/evaluate, an
officer's session); and the staff's page of the quarterly report (/evaluations). The pages hold no data: they ask
the API (/api/v1/dossiers/{code}/evaluation, …/evaluations-report.json)."""
from __future__ import annotations

from flask import Blueprint, request

from motcua.core.evaluations import ANSWERS, INDICATORS
from . import rendering
from .pages import DOSSIER_CODE
from .runtime import runtime
from .staff_pages import staff_page

bp = Blueprint("evaluation_pages", __name__)
TEXTS = ("evaluation.", "dossier.code", "dossier.error.bad_code", "dossier.error.unknown_dossier",
         "dossier.error.check_needed", "dossier.error.bad_check")


def settings(mode: str, code: str) -> dict:
    # Only the letters of a code reach the page; anything else is a mistyped code, answered by the API in words.
    return {"mode": mode, "code": code if DOSSIER_CODE.match(code) else "", "indicators": INDICATORS,
            "answers": ANSWERS}


@bp.get("/e/")
@bp.get("/e/<code>")
def phone_evaluation(code=""):
    """The citizen's evaluation of a returned dossier, on their phone (the lookup /d/{code} links it)."""
    return rendering.page("evaluation.html", {**settings("phone", code), "texts": rendering.texts(TEXTS)})


@bp.get("/counter/evaluate")
def counter_evaluation():
    """The counter's tablet: the officer types the code (or opens it with ?code=), the citizen answers."""
    return staff_page("evaluation.html", TEXTS, settings("counter", request.args.get("code", "")))


@bp.get("/evaluations")
def evaluations_report():
    """The quarterly report's page (display/evaluations.js), this quarter first; the API decides who sees what."""
    rt = runtime()
    today = rt.dossiers.today()
    return staff_page("evaluations.html", ("evaluation.",), {
        "year": today.year, "quarter": (today.month - 1) // 3 + 1,
        "branches": {b.id: {"vi": b.name_vi, "en": b.name_en} for b in rt.engine.all_branches()},
        "departments": {d.code: {"vi": d.name_vi, "en": d.name_en} for d in rt.dossiers.catalogue.departments.values()},
    })
