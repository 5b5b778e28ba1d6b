"""Live administration in the core: each change is checked, committed, then applied; a failed commit changes nothing."""
from __future__ import annotations

import pytest

from motcua.core import administration as admin
from motcua.core.model import Conflict, Invalid, NotFound

from test_engine import clock, engine, make_engine  # noqa: F401  (fixtures)


def test_a_new_service_and_counter_are_issued_called_and_estimated_at_once(engine):
    admin.add_service(engine, "tax", "Thuế", "Tax", "T", 12.0, "Nộp thuế", "Pay taxes")
    counter = admin.add_counter(engine, "hk-01", "9", ["tax"])
    assert "tax" in engine.branch("hk-01").services and counter.services == ("tax",)
    assert engine.estimate_new("hk-01", "tax") == 0
    ticket = engine.issue("hk-01", "tax")
    assert ticket.number == "T001"
    assert engine.estimate_new("hk-01", "tax") == pytest.approx(12.0)
    assert engine.call_next("hk-01", "9").id == ticket.id


def test_a_mean_service_time_changed_moves_the_next_estimate(engine):
    for _ in range(4):
        engine.issue("hk-03", "land")
    before = engine.estimate_new("hk-03", "land")
    admin.update_service(engine, "land", mean_min=engine.services["land"].mean_min * 2)
    assert engine.estimate_new("hk-03", "land") == pytest.approx(before * 2)


def test_a_letter_changed_numbers_the_next_ticket_and_a_taken_one_is_refused(engine):
    engine.issue("hk-01", "civil")
    admin.update_service(engine, "civil", letter="HT")
    assert engine.issue("hk-01", "civil").number == "HT001"
    with pytest.raises(Conflict) as refused:
        admin.update_service(engine, "land", letter="HT")
    assert refused.value.code == "letter_taken"


@pytest.mark.parametrize("change, code", [
    ({"letter": "a"}, "bad_letter"), ({"letter": "ABC"}, "bad_letter"), ({"mean_min": 0}, "bad_mean"),
    ({"mean_min": 1000}, "bad_mean"), ({"name_vi": "   "}, "bad_value"), ({"name_en": "Ta\u202ex"}, "bad_value"),
    ({"description_vi": "x" * 201}, "bad_value"),
])
def test_bad_service_values_are_refused_and_nothing_changes(engine, change, code):
    before = engine.services["civil"]
    with pytest.raises(Invalid) as refused:
        admin.update_service(engine, "civil", **change)
    assert refused.value.code == code and engine.services["civil"] == before


def test_branch_hours_are_checked_and_an_offer_in_use_is_kept(engine):
    with pytest.raises(Invalid):
        admin.update_branch(engine, "hk-01", open="17:00", close="08:00")
    with pytest.raises(Invalid):
        admin.update_branch(engine, "hk-01", open="25:00")
    branch = admin.update_branch(engine, "hk-01", name_vi="  Phường Hàng Trống ", open="08:00")
    assert (branch.name_vi, branch.open, engine.branch("hk-01").open) == ("Phường Hàng Trống", "08:00", "08:00")
    served = engine.branch("hk-01").services
    with pytest.raises(Conflict) as refused:
        admin.update_branch(engine, "hk-01", services=served[1:])
    assert refused.value.code == "service_served"


def test_a_counter_holding_a_ticket_is_not_removed(engine):
    engine.issue("hk-01", "civil")
    called = engine.call_next("hk-01", "1")
    with pytest.raises(Conflict) as refused:
        admin.remove_counter(engine, "hk-01", "1")
    assert refused.value.code == "counter_busy"
    engine.done(called.id)
    admin.remove_counter(engine, "hk-01", "1")
    with pytest.raises(NotFound):
        engine.call_next("hk-01", "1")
    with pytest.raises(Conflict):
        admin.add_counter(engine, "hk-01", "2", ["civil"])


def test_a_failed_commit_changes_nothing(clock):  # noqa: F811
    class Failing:
        def commit(self, change):
            raise OSError("disk full")

    engine = make_engine(clock)
    engine.journal = Failing()
    services, branch, counters = dict(engine.services), engine.branch("hk-01"), dict(engine.counters)
    for change in (lambda: admin.add_service(engine, "tax", "Thuế", "Tax", "T", 12.0),
                   lambda: admin.update_branch(engine, "hk-01", name_en="Elsewhere"),
                   lambda: admin.add_counter(engine, "hk-01", "9", ["civil"]),
                   lambda: admin.remove_counter(engine, "hk-01", "2")):
        with pytest.raises(OSError):
            change()
    assert (engine.services, engine.branch("hk-01"), engine.counters) == (services, branch, counters)
