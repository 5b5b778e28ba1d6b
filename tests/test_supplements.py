"""The supplement loop in the dossier core (motcua.core.supplements): the notice written with the move, the
supplement's due date, the due date pushed back by the working days waited, overdue and lapsed."""
from __future__ import annotations

import json
from datetime import date

import pytest

from motcua.core import procedures
from motcua.core.clock import FakeClock
from motcua.core.dossier_reports import dossier_facts
from motcua.core.dossiers import (COUNTER, DEPARTMENT, SUPPLEMENT, Citizen, DossierRules, Dossiers, NotPermitted,
                                  is_overdue, parse_holidays)
from motcua.core.model import Invalid
from motcua.core.supplements import working_days_between
from motcua.gateways import LogGateway
from motcua.notify import Notifier
from motcua.outbox import Sender
from motcua.store import Store

from conftest import MORNING
from test_intake import waived

DAY = 24 * 3600
ENGLISH = Citizen("001090012345", "Nguyễn Văn An", "0912345678", "en")


@pytest.fixture
def service(tmp_path, morning_template):
    store = Store(morning_template.copy_to(tmp_path / "motcua.db"))
    clock = FakeClock(MORNING)   # Tuesday 24 November 2026, a day off (Vietnam Culture Day)
    notifier = Notifier("log", clock, sender=Sender(store, clock, LogGateway()))
    yield Dossiers(store, clock, procedures.load(), DossierRules(supplement_days=3), notifier), clock
    store.close()


def waiting(dossiers: Dossiers, citizen: Citizen = ENGLISH, kinds=("birth_notice",)) -> dict:
    """An HT-KS dossier (one working day: due Wednesday 25) sent on and asked for a supplement today."""
    code = dossiers.open("HT-KS", citizen, "hk-01", "staff:off1")["code"]
    dossiers.move(code, "digitized", [COUNTER], "staff:off1", "hk-01", missing=waived("HT-KS"))
    dossiers.move(code, "processing", [COUNTER], "staff:off1", "hk-01")
    return dossiers.move(code, "supplement_requested", [DEPARTMENT], "staff:jus1", None,
                         "Bring the hospital's birth notice.", list(kinds))


def outbox(dossiers: Dossiers) -> list[dict]:
    return dossiers.store.query("select * from outbox where kind = 'supplement_requested'")


def test_asking_writes_the_notice_in_the_citizen_s_language_with_what_by_when_and_where(service):
    dossiers, _ = service
    row = waiting(dossiers)
    assert row["supplement_due"] == "2026-11-27"   # three working days after Tuesday 24: Wed, Thu, Fri
    [message] = outbox(dossiers)
    assert (message["recipient"], message["lang"]) == ("0912345678", "en")
    texts = json.loads(message["texts"])
    said = texts["en"]
    for part in (row["code"], "Bring the hospital's birth notice", "Birth notice", "27/11/2026", "any branch",
                 "Justice"):
        assert part in said, part
    assert row["code"] in texts["vi"] and "27/11/2026" in texts["vi"] and "bất kỳ chi nhánh" in texts["vi"]


def test_a_citizen_without_a_phone_gets_no_message_and_a_failed_move_writes_none(service):
    dossiers, _ = service
    waiting(dossiers, Citizen("001090012345", "Nguyễn Văn An"))
    assert outbox(dossiers) == []
    code = dossiers.open("HT-KS", ENGLISH, "hk-01", "staff:off1")["code"]   # received: no supplement asked yet
    with pytest.raises(Exception):
        dossiers.move(code, "supplement_requested", [DEPARTMENT], "staff:jus1", None, "Bring X.")
    assert outbox(dossiers) == []


@pytest.mark.parametrize("kinds, to", [(["no_such_kind"], "supplement_requested"), (["id_card"], "rejected")])
def test_kinds_are_the_catalogue_s_and_asked_for_only_with_a_supplement(service, kinds, to):
    dossiers, _ = service
    code = dossiers.open("HT-KS", ENGLISH, "hk-01", "staff:off1")["code"]
    with pytest.raises(Invalid) as refused:
        dossiers.move(code, to, [COUNTER, DEPARTMENT], "staff:x", None, "note", kinds)
    assert refused.value.code == "bad_kind"


def test_the_due_date_moves_back_by_the_working_days_waited(service):
    dossiers, clock = service
    row = waiting(dossiers)
    assert row["due_date"] == "2026-11-25"
    clock.advance(6 * DAY)   # Monday 30 November: the supplement is brought, four working days later
    waited = dossiers.get(row["code"])
    view = dossiers.public_view(waited)
    # Past the first due date, but the wait does not count against the agency; the supplement itself lapsed.
    assert not view["overdue"] and view["supplement"]["lapsed"]
    assert [k["kind"] for k in view["supplement"]["kinds"]] == ["birth_notice"]
    back = dossiers.move(row["code"], "processing", [SUPPLEMENT], "staff:off2", "hk-02")
    assert (back["due_date"], back["waited_days"]) == ("2026-12-01", 4)   # 25 Nov + 4 working days
    assert back["supplement_asked_on"] is None and dossiers.public_view(back)["supplement"] is None
    assert not dossiers.public_view(back)["overdue"]
    clock.advance(2 * DAY)   # Wednesday 2 December: now late
    assert dossiers.public_view(dossiers.get(row["code"]))["overdue"]


def test_a_dossier_already_late_when_asked_stays_overdue_while_it_waits(service):
    dossiers, clock = service
    code = dossiers.open("HT-KS", ENGLISH, "hk-01", "staff:off1")["code"]
    dossiers.move(code, "digitized", [COUNTER], "staff:off1", "hk-01", missing=waived("HT-KS"))
    dossiers.move(code, "processing", [COUNTER], "staff:off1", "hk-01")
    clock.advance(3 * DAY)   # Friday 27: due on the 25th
    dossiers.move(code, "supplement_requested", [DEPARTMENT], "staff:jus1", None, "Bring X.")
    row = dossiers.get(code)
    assert dossiers.public_view(row)["overdue"]
    facts = dossier_facts([row], [], lambda t: "", dossiers.today())
    assert facts[0].overdue


def test_the_reports_count_a_waiting_dossier_as_the_public_page_does(service):
    dossiers, clock = service
    row = waiting(dossiers)
    clock.advance(6 * DAY)
    found = dossiers.get(row["code"])
    assert not dossier_facts([found], [], lambda t: "", dossiers.today())[0].overdue
    assert is_overdue("processing", found["due_date"], dossiers.today())   # the same dates, not waiting: late


def test_an_officer_of_any_branch_may_only_send_a_waiting_dossier_back_to_processing(service):
    dossiers, _ = service
    code = waiting(dossiers)["code"]
    with pytest.raises(NotPermitted):   # the department decides on a lapsed supplement
        dossiers.move(code, "rejected", [SUPPLEMENT], "staff:off2", "hk-02", "note")
    dossiers.move(code, "processing", [SUPPLEMENT], "staff:off2", "hk-02")
    with pytest.raises(NotPermitted):   # not waiting any more: the other branch has no part in it
        dossiers.move(code, "result_ready", [SUPPLEMENT], "staff:off2", "hk-02")


def test_a_rejected_dossier_drops_its_request_without_moving_its_due_date(service):
    dossiers, clock = service
    row = waiting(dossiers)
    clock.advance(6 * DAY)
    rejected = dossiers.move(row["code"], "rejected", [DEPARTMENT], "staff:jus1", None, "Not brought in time.")
    assert (rejected["due_date"], rejected["waited_days"], rejected["supplement_due"]) == ("2026-11-25", 0, None)


def test_working_days_between_skips_weekends_and_holidays():
    holidays = parse_holidays("2026-11-24")
    working = lambda d: d.weekday() < 5 and d not in holidays  # noqa: E731
    assert working_days_between(date(2026, 11, 23), date(2026, 11, 30), working) == 4
    assert working_days_between(date(2026, 11, 27), date(2026, 11, 27), working) == 0


def test_a_supplement_asked_for_before_the_day_was_kept_is_taken_in_without_moving_the_due_date(service):
    dossiers, clock = service
    row = waiting(dossiers)
    # As a dossier asked for before m024_supplement: no day of the request, no due day.
    dossiers.store.write(lambda db: db["dossiers"].update(row["code"], {"supplement_asked_on": None,
                                                                        "supplement_due": None}))
    assert dossiers.public_view(dossiers.get(row["code"]))["supplement"] is None
    clock.advance(6 * DAY)
    back = dossiers.move(row["code"], "processing", [COUNTER], "staff:off1", "hk-01")
    assert (back["status"], back["due_date"], back["waited_days"]) == ("processing", "2026-11-25", 0)
