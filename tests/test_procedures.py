"""The procedure catalogue (server/core/procedures.py) and the one shipped with the project: real size,
real names, and every procedure taken by a queue service of the shipped scenarios."""
from __future__ import annotations

import json
import re

import pytest

from motcua.core import procedures, scenario
from motcua.core.model import Invalid

RAW = json.loads(procedures.DEFAULT_CATALOGUE.read_text(encoding="utf-8"))
SHIPPED = sorted(p.stem for p in scenario.BUNDLED.glob("*.json"))
CITY = "ha-noi"
# Words an application form's name starts with: a form is written for one request, never reused.
FORM = re.compile(r"^(Tờ khai|Đơn|Giấy đề nghị|Phiếu yêu cầu)")


def test_the_shipped_catalogue_is_real_size():
    catalogue = procedures.load()
    assert len(catalogue.procedures) >= 150
    assert len({p.field for p in catalogue.procedures.values()}) >= 15
    assert len(catalogue.departments) >= 8
    assert {p.department for p in catalogue.procedures.values()} == set(catalogue.departments)  # none idle


def test_codes_are_unique_and_every_document_kind_named_exists():
    codes = [p["code"] for p in RAW["procedures"]]
    assert len(codes) == len(set(codes))
    assert len({d["code"] for d in RAW["departments"]}) == len(RAW["departments"])
    named = {k for p in RAW["procedures"] for k in p["documents"]}
    assert named <= set(RAW["document_kinds"])
    assert set(RAW["document_kinds"]) <= named, "a document kind no procedure asks for"
    assert {p["field"] for p in RAW["procedures"]} <= set(RAW["fields"])


def texts():
    for p in RAW["procedures"]:
        yield p["code"], p["name_vi"], p["name_en"]
    for d in RAW["departments"]:
        yield d["code"], d["name_vi"], d["name_en"]
    for kind, d in RAW["document_kinds"].items():
        yield kind, d["name_vi"], d["name_en"]
    for field, d in RAW["fields"].items():
        yield field, d["name_vi"], d["name_en"]


def test_names_are_written_cleanly_in_both_languages():
    for code, *names in texts():
        for name in names:
            assert name and name == name.strip() and "  " not in name and "\n" not in name, (code, name)
        vi, en = names
        assert re.search("[À-ỹĐđ]", vi) or vi.isupper(), (code, vi)  # Vietnamese, with its diacritics
        assert en.isascii() or "’" in en, (code, en)


def test_every_document_kind_says_whether_a_copy_may_serve_another_dossier():
    kinds = RAW["document_kinds"]
    assert all(isinstance(k["reusable"], bool) for k in kinds.values())
    forms = {kind for kind, k in kinds.items() if FORM.match(k["name_vi"])}
    assert len(forms) >= 5 and not any(kinds[kind]["reusable"] for kind in forms)
    assert kinds["id_card"]["reusable"] and kinds["birth_certificate"]["reusable"]
    documents = {d.kind: d for p in procedures.load().procedures.values() for d in p.documents}
    assert documents["id_card"].reusable and not documents["civil_form"].reusable


def test_a_catalogue_without_reuse_flags_loads_with_forms_never_reusable(tmp_path):
    """A city's older catalogue says nothing of reuse: papers the citizen holds are reused, forms never."""
    raw = json.loads(json.dumps(RAW))
    for kind in raw["document_kinds"].values():
        del kind["reusable"]
    (tmp_path / "p.json").write_text(json.dumps(raw), encoding="utf-8")
    loaded = procedures.load(tmp_path / "p.json")
    assert len(loaded.procedures) == len(RAW["procedures"])
    documents = {d.kind: d.reusable for p in loaded.procedures.values() for d in p.documents}
    assert documents["id_card"] and documents["birth_certificate"]
    assert not any(reusable for kind, reusable in documents.items() if kind.endswith("form"))


@pytest.mark.parametrize("value", ["yes", 1, None, []])
def test_a_reuse_flag_that_is_not_true_or_false_is_refused(tmp_path, value):
    raw = json.loads(json.dumps(RAW))
    raw["document_kinds"]["id_card"]["reusable"] = value
    (tmp_path / "p.json").write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(Invalid, match="id_card"):
        procedures.load(tmp_path / "p.json")


def test_every_procedure_is_taken_by_a_service_of_the_shipped_scenarios():
    offered = {s.id for name in SHIPPED for s in scenario.services(scenario.load(scenario.bundled(name)))}
    for p in procedures.load().procedures.values():
        assert p.services and set(p.services) <= offered, p.code


def test_the_city_scenario_is_real_size_and_its_services_and_procedures_meet():
    data = scenario.load(scenario.bundled(CITY))
    catalogue = procedures.load()
    branches = scenario.branches(data)
    counters = scenario.counters(data)
    assert 6 <= len(branches) <= 10
    busiest = max(branches, key=lambda b: len(b.services))
    assert len(busiest.services) >= 20 and len([c for c in counters if c.branch == busiest.id]) >= 15
    ids = {s.id for s in scenario.services(data)}
    assert all(catalogue.for_service(s) for s in ids), "a queue no procedure goes to"
    assert all(set(p.services) & ids for p in catalogue.procedures.values()), "a procedure no queue takes"
    # Every branch takes every procedure of the fields it serves: each has a service there.
    for branch in branches:
        assert all(set(p.services) & set(branch.services) for s in branch.services for p in catalogue.for_service(s))
    longest = max((s for s in scenario.services(data)), key=lambda s: len(s.name_vi))
    assert len(longest.name_vi) >= 60 and len(longest.name_en) >= 60
