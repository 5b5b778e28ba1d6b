"""City-day scenarios (server/core/scenario.py, format motcua-scenario/1): reading and checking a file,
and the services, branches and counters made from it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from motcua.core import scenario
from motcua.core.model import Branch, Counter, Invalid, Service

MINIMAL = {
    "format": "motcua-scenario/1", "open": "08:00", "close": "16:30",
    "services": [{"id": "civil", "name": {"vi": "Hộ tịch", "en": "Civil status"},
                  "service_min": {"dist": "lognormal", "mean": 9, "cv": 0.5}},
                 {"id": "land", "name": {"vi": "Đất đai", "en": "Land"}, "letter": "L"}],
    "branches": [{"id": "b1", "name": {"vi": "Một", "en": "One"}, "lat": 21, "lon": 105.8,
                  "shifts": [["08:00", "11:30"], ["13:00", "16:30"]],
                  "counters": [{"id": 1, "services": ["civil", "land"]},
                               {"id": "2", "services": ["land"], "shifts": [["08:00", "12:00"]]}]}],
}


def write(tmp_path, data) -> str:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("name", ["hoan-kiem", "single-branch", "ha-noi"])
def test_the_bundled_scenarios_load_and_hang_together(name):
    data = scenario.load(scenario.bundled(name))
    services, branches, counters = scenario.services(data), scenario.branches(data), scenario.counters(data)
    ids = {s.id for s in services}
    assert len(ids) == len(services) and len({s.letter for s in services}) == len(services)
    assert {b.id for b in branches} == {c.branch for c in counters}
    for branch in branches:
        assert set(branch.services) <= ids and branch.services
        mine = [c for c in counters if c.branch == branch.id]
        assert set(branch.services) == {s for c in mine for s in c.services}  # offered = served somewhere
        assert len({c.id for c in mine}) == len(mine)
    for arrival in data.get("arrivals", []):
        assert arrival["service"] in next(b for b in branches if b.id == arrival["branch"]).services


def test_a_file_becomes_services_branches_and_counters(tmp_path):
    data = scenario.load(write(tmp_path, MINIMAL))
    assert scenario.services(data) == [Service("civil", "Hộ tịch", "Civil status", "A", 9.0, 0.5),
                                       Service("land", "Đất đai", "Land", "L", 10.0, 0.6)]
    shifts = (("08:00", "11:30"), ("13:00", "16:30"))
    assert scenario.branches(data) == [Branch("b1", "Một", "One", 21.0, 105.8, ("civil", "land"), "08:00", "16:30",
                                              shifts)]
    assert scenario.counters(data) == [Counter("b1", "1", ("civil", "land"), True, shifts),
                                       Counter("b1", "2", ("land",), True, (("08:00", "12:00"),))]


def test_the_day_defaults_to_0730_1700_without_shifts(tmp_path):
    data = {**MINIMAL, "branches": [{**MINIMAL["branches"][0], "shifts": None}]}
    del data["open"], data["close"]
    [branch] = scenario.branches(scenario.load(write(tmp_path, data)))
    assert (branch.open, branch.close, branch.shifts) == ("07:30", "17:00", ())


@pytest.mark.parametrize("index, letter", [(0, "A"), (1, "B"), (25, "Z"), (26, "AA"), (27, "AB"), (52, "BA")])
def test_letters_follow_file_order_past_z(tmp_path, index, letter):
    many = [{"id": f"s{i}", "name": {"vi": f"v{i}", "en": f"e{i}"}} for i in range(index + 1)]
    assert scenario.services({**MINIMAL, "services": many})[index].letter == letter


@pytest.mark.parametrize("broken", [
    "not json {",
    json.dumps({**MINIMAL, "format": "motcua-scenario/2"}),
    json.dumps({k: v for k, v in MINIMAL.items() if k != "format"}),
    json.dumps({**MINIMAL, "services": []}),
    json.dumps({**MINIMAL, "branches": {}}),
    json.dumps([MINIMAL]),
])
def test_a_broken_file_is_refused_in_words(tmp_path, broken):
    path = tmp_path / "scenario.json"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(Invalid) as refused:
        scenario.load(path)
    assert str(path) in refused.value.message


def test_a_missing_file_is_refused_in_words(tmp_path):
    with pytest.raises(Invalid):
        scenario.load(tmp_path / "nowhere.json")


@pytest.mark.parametrize("given, found", [
    ("ha-noi", scenario.BUNDLED / "ha-noi.json"),
    ("hoan-kiem", scenario.BUNDLED / "hoan-kiem.json"),
    ("city.json", "city.json"),
    ("plans/city", "plans/city"),
])
def test_a_scenario_is_named_by_its_path_or_as_shipped(given, found):
    assert scenario.named(given) == Path(found)


def test_a_name_in_one_text_names_both_languages_and_a_missing_en_falls_back_to_vi(tmp_path):
    data = {**MINIMAL, "services": [{**MINIMAL["services"][0], "name": {"vi": "Hộ tịch"}}, MINIMAL["services"][1]],
            "branches": [{**MINIMAL["branches"][0], "name": "Chi nhánh Đông Anh"}]}
    loaded = scenario.load(write(tmp_path, data))
    assert (scenario.services(loaded)[0].name_vi, scenario.services(loaded)[0].name_en) == ("Hộ tịch", "Hộ tịch")
    [branch] = scenario.branches(loaded)
    assert (branch.name_vi, branch.name_en) == ("Chi nhánh Đông Anh", "Chi nhánh Đông Anh")


def _branch(**changes) -> dict:
    return {**MINIMAL, "branches": [{**MINIMAL["branches"][0], **changes}]}


@pytest.mark.parametrize("data, fault", [
    (_branch(name=None), "branch 'b1' has no name"),
    (_branch(name={"en": "One"}), "branch 'b1' has no name"),
    (_branch(lat="21"), "needs lat and lon"),
    (_branch(lon=200), "needs lat and lon"),
    (_branch(counters=[{"id": "1", "services": ["civil", "tax"]}]), "unknown: tax"),
    (_branch(counters=[{"services": ["civil"]}]), "needs an id"),
    (_branch(counters="1"), "branch 'b1' needs counters"),
    (_branch(shifts=[["13:00", "08:00"]]), "each start before its end"),
    (_branch(shifts=[["8h", "12h"]]), "shifts are"),
    ({**MINIMAL, "open": "7:30"}, "open '7:30' is not a time"),
    ({**MINIMAL, "open": "17:00", "close": "08:00"}, "open is not before close"),
    ({**MINIMAL, "services": [{"id": "civil", "name": {"vi": "Hộ tịch"}, "service_min": {"mean": 0}}]},
     "mean above 0"),
    ({**MINIMAL, "services": [{"name": {"vi": "Hộ tịch"}}]}, "a service needs id"),
    ({**MINIMAL, "arrivals": [{"branch": "b9", "service": "civil", "per_hour": [1]}]}, "'b9', 'civil'"),
    ({**MINIMAL, "arrivals": [{"branch": "b1", "service": "civil", "per_hour": [1, -2]}]}, "rates of 0 or more"),
    (_branch(counters=[{"id": "1", "services": ["civil"]}]) | {"arrivals": [
        {"branch": "b1", "service": "land", "per_hour": [0, 1]}]}, "for 'land', which no counter of it serves"),
])
def test_a_scenario_that_cannot_make_a_day_names_its_fault(tmp_path, data, fault):
    path = write(tmp_path, data)
    with pytest.raises(Invalid) as refused:
        scenario.load(path)
    assert refused.value.message.startswith(f"scenario {path}: ") and fault in refused.value.message
