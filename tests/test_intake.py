"""Intake that cannot go wrong (motcua.core.intake): no dossier digitised with a required document missing and
unexplained, unfinished intakes listed at the branch, and only the right earlier papers offered for reuse."""
from __future__ import annotations

from datetime import date

import pytest

from motcua.core import intake, procedures
from motcua.core.intake import DocumentsMissing, MissingReason
from motcua.core.model import Invalid

from conftest import PASSWORD
from test_documents import doc_app, docs, new_dossier, pdf, upload  # noqa: F401  (fixtures)

CATALOGUE = procedures.load()
DAY = 24 * 3600


def opened(docs, procedure: str, who: str = "off1", id_number: str = "001090012345") -> str:
    answer = docs.post("/dossiers", who, {"procedure": procedure,
                                          "citizen": {"id_number": id_number, "name": "Nguyễn Văn An"}})
    assert answer.status_code == 201, answer.text
    return answer.json["code"]


def signed_in(doc_app, docs, who: str) -> str:
    """who signed in now (justice1: the department of civil status): their name in docs' tokens."""
    docs.tokens[who] = doc_app.extensions["motcua"].accounts.login(who, PASSWORD)[0]
    return who


def as_justice(doc_app, docs) -> str:
    return signed_in(doc_app, docs, "justice1")


def digitise(docs, code: str, missing=(), who: str = "off1"):
    return docs.post(f"/dossiers/{code}/status", who, {"status": "digitized", "missing": list(missing)})


# ---- complete, or a reason for each missing document ------------------------------------------

def test_the_kinds_missing_are_the_procedure_s_not_attached_in_its_order():
    marriage = CATALOGUE.procedure("HT-KH")
    assert [k.kind for k in marriage.documents] == ["civil_form", "id_card", "marital_status"]
    assert intake.missing_kinds(marriage, ["id_card"]) == ["civil_form", "marital_status"]
    with pytest.raises(DocumentsMissing) as refused:
        intake.check_complete(marriage, ["id_card"], [MissingReason("civil_form", "issued_here")])
    assert refused.value.details == {"missing": ["marital_status"]}
    recorded = intake.check_complete(marriage, ["id_card"], [
        MissingReason("civil_form", "issued_here"), MissingReason("marital_status", "population_database"),
        MissingReason("id_card", "held_earlier")])   # attached meanwhile: its reason is not kept
    assert [(r.kind, r.reason) for r in recorded] == [("civil_form", "issued_here"),
                                                      ("marital_status", "population_database")]


@pytest.mark.parametrize("reason", [
    MissingReason("marital_status", "forgot"),                 # not one of the list
    MissingReason("marital_status", "other"),                  # other, without words
    MissingReason("marital_status", "other", "x" * 201),       # too many words
    MissingReason("birth_notice", "issued_here"),              # a kind marriage does not require
    MissingReason("marital_status", "other", "a\u202eb"),       # a text-direction character
])
def test_a_reason_that_is_not_one_is_refused(reason):
    with pytest.raises(Invalid) as refused:
        intake.check_complete(CATALOGUE.procedure("HT-KH"), ["civil_form", "id_card"], [reason])
    assert refused.value.code == "bad_missing_reason"


def test_a_marriage_with_one_of_three_documents_is_not_digitised_without_a_reason_for_each_other(doc_app, docs):
    code = opened(docs, "HT-KH")
    assert upload(docs, code, pdf("CCCD")).status_code == 201
    refused = digitise(docs, code)
    assert refused.status_code == 409, refused.text
    assert refused.json["error"]["code"] == "documents_missing"
    assert refused.json["error"]["details"] == {"missing": ["civil_form", "marital_status"]}
    half = digitise(docs, code, [{"kind": "civil_form", "reason": "issued_here"}])
    assert half.status_code == 409 and half.json["error"]["details"] == {"missing": ["marital_status"]}
    assert docs.get(f"/dossiers/{code}/full", "off1").json["status"] == "received"
    assert digitise(docs, code, [{"kind": "civil_form", "reason": "other"}]).status_code == 400   # other: say why
    done = digitise(docs, code, [{"kind": "civil_form", "reason": "other", "note": " Tờ khai  viết tại quầy "},
                                 {"kind": "marital_status", "reason": "population_database"}])
    assert done.status_code == 200, done.text
    assert [(m["kind"], m["reason"], m["note"], m["actor"]) for m in done.json["missing_documents"]] == [
        ("civil_form", "other", "Tờ khai viết tại quầy", "staff:off1"),
        ("marital_status", "population_database", "", "staff:off1")]
    assert done.json["missing_documents"][1]["name"]["vi"] == "Giấy xác nhận tình trạng hôn nhân"
    # The department sees the reasons in the dossier's full view.
    assert docs.post(f"/dossiers/{code}/status", "off1", {"status": "processing"}).status_code == 200
    seen = docs.get(f"/dossiers/{code}/full", as_justice(doc_app, docs))
    assert seen.status_code == 200, seen.text
    seen = seen.json["missing_documents"]
    assert [m["reason"] for m in seen] == ["other", "population_database"]


def test_a_complete_dossier_is_digitised_with_no_reason(doc_app, docs):
    code = opened(docs, "HT-XNHN")   # the form and the ID card
    for kind in ("civil_form", "id_card"):
        assert upload(docs, code, pdf(kind), kind=kind).status_code == 201
    done = digitise(docs, code)
    assert done.status_code == 200, done.text
    assert done.json["missing_documents"] == []


# ---- an intake left open ----------------------------------------------------------------------

def test_unfinished_intakes_are_listed_at_every_counter_of_the_branch_only(doc_app, docs, tokens):
    first = opened(docs, "HT-XNHN")
    second = opened(docs, "HT-KH", who="off1")
    elsewhere = opened(docs, "HT-XNHN", who="off2")
    for kind in ("civil_form", "id_card"):
        assert upload(docs, first, pdf(kind), kind=kind).status_code == 201
    assert digitise(docs, first).status_code == 200   # digitised but not sent: still unfinished
    listed = docs.get("/branches/hk-01/intakes", "off1")
    assert listed.status_code == 200, listed.text
    assert [d["code"] for d in listed.json] == [first, second]
    assert [d["code"] for d in docs.get("/branches/hk-02/intakes", "off2").json] == [elsewhere]
    assert docs.get("/branches/hk-01/intakes", "off2").status_code == 403
    assert docs.post(f"/dossiers/{first}/status", "off1", {"status": "processing"}).status_code == 200
    assert [d["code"] for d in docs.get("/branches/hk-01/intakes", "off1").json] == [second]


# ---- what is offered for reuse ----------------------------------------------------------------

def test_validity_counts_calendar_months():
    kind = procedures.DocumentKind("marital_status", "a", "b", True, 6)
    assert intake.add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert intake.still_valid(kind, date(2026, 5, 24), date(2026, 11, 23))
    assert not intake.still_valid(kind, date(2026, 5, 24), date(2026, 11, 24))
    assert intake.still_valid(procedures.DocumentKind("id_card", "a", "b", True), date(2000, 1, 1), date(2026, 1, 1))


def test_the_birth_registration_s_form_is_not_offered_on_a_marriage_registration(doc_app, docs):
    birth = new_dossier(doc_app, return_branch="hk-01")   # HT-KS: form, birth notice, ID card
    for kind in ("civil_form", "birth_notice", "id_card"):
        assert upload(docs, birth, pdf(f"birth {kind}"), kind=kind).status_code == 201
    marriage = opened(docs, "HT-KH")
    offers = docs.get(f"/dossiers/{marriage}/offers", "off1")
    assert offers.status_code == 200, offers.text
    # the ID card only: the form is filled in for one dossier, the birth notice is no paper of a marriage
    assert [d["kind"] for d in offers.json] == ["id_card"]
    assert docs.get(f"/dossiers/{marriage}/offers", as_justice(doc_app, docs)).status_code == 403


def test_an_id_copy_older_than_its_validity_is_not_offered(doc_app, docs, clock):
    set_id_card_validity(docs, 12)
    assert docs.get("/procedures", "off1").json[0]["documents"][-1] == {
        "kind": "id_card", "name": {"vi": "Thẻ căn cước / Căn cước công dân", "en": "Identity card"},
        "reusable": True, "valid_months": 12}
    earlier = opened(docs, "HT-XNHN")
    assert upload(docs, earlier, pdf("CCCD 2026"), kind="id_card").status_code == 201
    clock.advance(364 * DAY)   # 2027-11-23: within twelve months
    fresh = opened(docs, "HT-KH", who=signed_in(doc_app, docs, "off1"))
    assert [d["kind"] for d in docs.get(f"/dossiers/{fresh}/offers", "off1").json] == ["id_card"]
    clock.advance(1 * DAY)     # 2027-11-24: twelve months on
    late = opened(docs, "HT-KH", who=signed_in(doc_app, docs, "off1"))
    assert docs.get(f"/dossiers/{late}/offers", "off1").json == []


# ---- the catalogue's valid_months -------------------------------------------------------------

def test_valid_months_goes_through_the_catalogue_file_the_database_and_export():
    shipped = CATALOGUE.kinds
    assert shipped["marital_status"].valid_months == 6 and shipped["id_card"].valid_months is None
    data = procedures.to_data(CATALOGUE)
    assert data["document_kinds"]["marital_status"]["valid_months"] == 6
    assert "valid_months" not in data["document_kinds"]["id_card"]
    assert procedures.from_data(data).kinds == CATALOGUE.kinds
    for bad in (0, -1, 1.5, True, "6", 1201):
        data["document_kinds"]["id_card"]["valid_months"] = bad
        with pytest.raises(Invalid):
            procedures.from_data(data)


def test_an_admin_sets_valid_months_on_a_new_kind_and_imports_exports_it(doc_app, docs):
    made = docs.post("/admin/document-kinds", "admin", {"kind": "criminal_record", "reusable": True,
                                                        "valid_months": 6,
                                                        "name": {"vi": "Phiếu lý lịch tư pháp",
                                                                 "en": "Criminal record extract"}})
    assert made.status_code == 201, made.text
    assert made.json["valid_months"] == 6
    assert docs.post("/admin/document-kinds", "admin", {"kind": "other_one", "reusable": True, "valid_months": 0,
                                                        "name": {"vi": "a", "en": "b"}}).status_code == 400
    listed = docs.get("/admin/catalogue", "admin")
    assert listed.status_code == 200, listed.text
    kinds = {k["kind"]: k["valid_months"] for k in listed.json["document_kinds"]}
    assert (kinds["criminal_record"], kinds["marital_status"], kinds["id_card"]) == (6, 6, None)


def set_id_card_validity(docs, months: int) -> None:
    """An admin imports the catalogue with the ID card's copies valid for months (PUT /admin/catalogue)."""
    data = procedures.to_data(procedures.load())
    data.pop("about", None)
    data["document_kinds"]["id_card"]["valid_months"] = months
    imported = docs.request("PUT", "/admin/catalogue", "admin", json=data)
    assert imported.status_code == 200, imported.text


# ---- for the tests of other things that digitise a dossier without its documents ---------------

def waived(procedure: str) -> list[MissingReason]:
    """A reason (the centre issues it) for each document the shipped procedure requires."""
    return [MissingReason(k.kind, "issued_here") for k in CATALOGUE.procedure(procedure).documents]


def waived_for(view: dict) -> list[dict]:
    """The same in the API's words, from a dossier's full view: for each required document not attached."""
    attached = {d["kind"] for d in view["documents"]}
    return [{"kind": k["kind"], "reason": "issued_here"} for k in view["required_documents"]
            if k["kind"] not in attached]


def test_a_copy_past_its_validity_is_not_reused_even_when_asked_for(doc_app, docs, clock):
    set_id_card_validity(docs, 12)
    earlier = opened(docs, "HT-XNHN")
    card = upload(docs, earlier, pdf("CCCD 2026"), kind="id_card")
    assert card.status_code == 201, card.text
    clock.advance(365 * DAY)   # twelve months on
    late = opened(docs, "HT-KH", who=signed_in(doc_app, docs, "off1"))
    refused = docs.post(f"/dossiers/{late}/documents", "off1", {"reuse": card.json["sha256"]})
    assert refused.status_code == 409, refused.text
    assert refused.json["error"]["code"] == "document_expired"
    assert refused.json["error"]["details"] == {"valid_months": 12}
    clock.advance(-1 * DAY)    # a day younger: reused
    fresh = opened(docs, "HT-KH", who="off1")
    assert docs.post(f"/dossiers/{fresh}/documents", "off1", {"reuse": card.json["sha256"]}).status_code == 201
