"""The dossier core: codes and their check character, ID numbers, due dates in working days, the
status path, and the Dossiers service writing each change with its event."""
from __future__ import annotations

import dataclasses
import itertools
from datetime import date

import pytest

from motcua import audit
from motcua.core import procedures
from motcua.core.clock import FakeClock
from motcua.core.dossiers import (ADMIN, ALPHABET, COUNTER, DEPARTMENT, MOVES, STATUSES, Citizen, DossierRules,
                                  Dossiers, NotPermitted, check_character, check_move, due_date, is_overdue,
                                  make_code, parse_code, parse_holidays, valid_id_number)
from motcua.core.dossier_codes import lookup_check, public_candidates, valid_unit_code
from motcua.core.model import Conflict, Invalid, NotFound
from motcua.gateways import LogGateway
from motcua.notify import Notifier, result_ready_message
from motcua.outbox import Message, Sender
from motcua.store import Store

from conftest import MORNING
from test_intake import waived

HOLIDAYS = parse_holidays("2026-04-27, 2026-04-30, 2026-05-01, 2026-09-01, 2026-09-02")
CITIZEN = Citizen("001090012345", "Nguyễn Văn An", "0912 345 678")


# ---- codes ----------------------------------------------------------------------------------------

def test_a_code_is_the_official_unit_day_sequence_with_no_check_character():
    code = make_code("000.00.12.h29", date(2026, 11, 24), 7)
    assert code == "000.00.12.H29-261124-0007"
    assert parse_code(code) == code
    assert parse_code("  " + code.lower() + " ") == code   # typed in lower case, with spaces around
    assert make_code("hk-01", date(2026, 11, 24), 7) == "HK-01-261124-0007"   # a branch with no unit code


def test_a_units_day_has_9999_numbers():
    assert make_code("000.00.12.H29", date(2026, 11, 24), 9999).endswith("-9999")
    with pytest.raises(Conflict) as refused:
        make_code("000.00.12.H29", date(2026, 11, 24), 10000)
    assert refused.value.code == "day_full"


OFFICIAL = "000.00.12.H29-261124-0007"
MADE_BEFORE = "HK-01-261124-0007" + check_character("HK-01-261124-0007")


@pytest.mark.parametrize("position", range(len(OFFICIAL)))
def test_every_single_mistyped_character_of_an_official_code_is_refused_by_its_check(position):
    check = lookup_check(OFFICIAL)
    if OFFICIAL[position] in "-.":
        return
    for other in ALPHABET:
        if other != OFFICIAL[position]:
            typo = OFFICIAL[:position] + other + OFFICIAL[position + 1:]
            with pytest.raises(Invalid) as refused:
                public_candidates(typo, check)
            assert refused.value.code in ("bad_check", "bad_code")
            with pytest.raises(Invalid):   # nor glued on its end
                public_candidates(typo + check, None)


@pytest.mark.parametrize("code", [OFFICIAL, MADE_BEFORE[:-1]])
def test_swapping_two_neighbouring_characters_is_refused(code):
    check = check_character(code)
    chars = [i for i, c in enumerate(code) if c not in "-."]
    for a, b in itertools.pairwise(chars):
        if b == a + 1 and code[a] != code[b]:
            swapped = code[:a] + code[b] + code[a] + code[b + 1:]
            with pytest.raises(Invalid):
                public_candidates(swapped, check)
            with pytest.raises(Invalid):
                public_candidates(swapped + check, None)


def test_a_public_lookup_of_an_official_code_needs_its_check_and_a_code_made_before_carries_its_own():
    check = lookup_check(OFFICIAL)
    assert public_candidates(OFFICIAL.lower(), check.lower()) == (OFFICIAL,)
    assert public_candidates(OFFICIAL + check, None) == (OFFICIAL + check, OFFICIAL)   # glued on
    undotted = OFFICIAL.replace(".", "")   # as typed on a kiosk's keys, which have no dot
    assert public_candidates(undotted + check, None) == (OFFICIAL + check, OFFICIAL)
    assert parse_code(undotted) == OFFICIAL
    for given, refusal in ((None, "check_needed"), ("", "check_needed"),
                           (next(c for c in ALPHABET if c != check), "bad_check")):
        with pytest.raises(Invalid) as refused:
            public_candidates(OFFICIAL, given)
        assert refused.value.code == refusal
    assert lookup_check(MADE_BEFORE) is None
    # The same shape as an official code with its check glued on: the code made before is tried first.
    assert public_candidates(MADE_BEFORE, None) == (MADE_BEFORE, MADE_BEFORE[:-1])
    assert public_candidates(MADE_BEFORE, "whatever") == (MADE_BEFORE, MADE_BEFORE[:-1])
    assert parse_code(MADE_BEFORE) == MADE_BEFORE   # staff name it as before


@pytest.mark.parametrize("text", ["", "HK-01", "HK01261124-0007X", "HK-01-261124-0007" + "Z" * 0 + "!",
                                  "HK-01-261124-007", "../etc", None, 42])
def test_what_is_no_code_at_all_is_refused(text):
    with pytest.raises(Invalid):
        parse_code(text)
    with pytest.raises(Invalid):
        public_candidates(text, "K")


def test_a_code_made_before_with_a_wrong_check_character_is_refused():
    wrong = MADE_BEFORE[:-1] + next(c for c in ALPHABET if c != MADE_BEFORE[-1])
    with pytest.raises(Invalid):
        parse_code(wrong)


def test_the_check_character_ignores_dashes_dots_and_case():
    assert check_character("hk-01-261124-0007") == check_character("HK01261124 0007")
    assert check_character("000.00.12.h29-261124-0007") == check_character("0000012H292611240007")


@pytest.mark.parametrize("unit, valid", [("000.00.12.H29", True), ("001.01.12.h29", True), ("000.00.00.G01", True),
                                         ("H29-HD", False), ("000.00.12.H2", False), ("00.00.12.H29", False),
                                         ("000.00.12.29H", False), ("000-00-12-H29", False), ("", False)])
def test_a_unit_code_is_in_the_form_of_qcvn_102(unit, valid):
    assert valid_unit_code(unit) is valid


# ---- ID numbers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("number", ["001090012345", "079201000001", "096399999999", "048000000000"])
def test_issued_id_numbers_are_accepted(number):
    assert valid_id_number(number)


@pytest.mark.parametrize("number", ["00109001234", "0010900123456", "000090012345", "097090012345",
                                    "003090012345", "00109001234a", "００１０９００１２３４５", "", None])
def test_malformed_id_numbers_are_refused(number):
    # 000, 003 and 097 are no province's code; full-width digits are digits to str.isdigit only.
    assert not valid_id_number(number)


# ---- due dates ------------------------------------------------------------------------------------

@pytest.mark.parametrize("received, days, due", [
    (date(2026, 11, 17), 1, date(2026, 11, 18)),   # Tue + 1: Wed
    (date(2026, 11, 19), 3, date(2026, 11, 24)),   # Thu + 3: Fri, (weekend), Mon, Tue
    (date(2026, 11, 21), 1, date(2026, 11, 23)),   # received on a Saturday: Monday is the first day
    (date(2026, 11, 22), 5, date(2026, 11, 27)),   # Sunday + 5: Mon..Fri
    (date(2026, 4, 24), 3, date(2026, 5, 4)),      # Fri + 3: (Hùng Kings' Mon) Tue, Wed, (30/4, 1/5) Mon
    (date(2026, 8, 28), 2, date(2026, 9, 4)),      # National Day Tue-Wed (and the Monday off before)
])
def test_due_dates_skip_weekends_and_holidays(received, days, due):
    holidays = HOLIDAYS | {date(2026, 8, 31)}
    assert due_date(received, days, holidays) == due


def test_the_default_holidays_hold_tet():
    rules = DossierRules()
    # Received on Friday 13 February 2026, one working day: Tết runs Monday 16 to Friday 20.
    assert due_date(date(2026, 2, 13), 1, rules.holidays) == date(2026, 2, 23)
    assert date(2027, 2, 8) in rules.holidays


def test_a_holiday_list_that_is_not_dates_is_refused():
    with pytest.raises(Invalid):
        parse_holidays("2026-01-01, 1 May")


def test_overdue_only_past_the_due_date_and_while_unsettled():
    due = "2026-11-27"
    assert not is_overdue("processing", due, date(2026, 11, 27))
    assert is_overdue("processing", due, date(2026, 11, 28))
    assert not any(is_overdue(s, due, date(2026, 12, 30)) for s in ("result_ready", "returned", "rejected"))


# ---- the status path --------------------------------------------------------------------------------

@pytest.mark.parametrize("status, to", list(itertools.product(STATUSES, STATUSES)))
def test_every_transition_is_allowed_or_refused(status, to):
    if (status, to) in MOVES:
        check_move(status, to, [ADMIN])
        movers = MOVES[(status, to)]
        for side in {COUNTER, DEPARTMENT} - movers:
            with pytest.raises(NotPermitted):
                check_move(status, to, [side])
    else:
        with pytest.raises(Conflict):
            check_move(status, to, [ADMIN, COUNTER, DEPARTMENT])


# ---- the service ----------------------------------------------------------------------------------

@pytest.fixture
def service(tmp_path, morning_template):
    store = Store(morning_template.copy_to(tmp_path / "motcua.db"))
    clock = FakeClock(MORNING)
    sender = Sender(store, clock, LogGateway())
    notifier = Notifier("log", clock, sender=sender)
    yield Dossiers(store, clock, procedures.load(), DossierRules(), notifier), clock, sender
    store.close()


def test_the_shipped_catalogue_has_procedures_of_every_queue_service():
    catalogue = procedures.load()
    assert len(catalogue.procedures) >= 20
    for service in ("civil", "cert", "land", "business", "build"):
        assert catalogue.for_service(service)
    assert {p.department for p in catalogue.procedures.values()} <= set(catalogue.departments)


def test_a_catalogue_naming_an_unknown_department_is_refused(tmp_path):
    text = procedures.DEFAULT_CATALOGUE.read_text(encoding="utf-8").replace('"department": "urban"',
                                                                            '"department": "nowhere"')
    (tmp_path / "p.json").write_text(text, encoding="utf-8")
    with pytest.raises(Invalid):
        procedures.load(tmp_path / "p.json")


def test_a_dossier_is_opened_with_its_first_event_and_numbered_per_unit_and_day(service):
    dossiers, clock, _ = service
    first = dossiers.open("HT-KS", CITIZEN, "hk-01", "staff:off1")
    second = dossiers.open("HT-KS", CITIZEN, "hk-01", "staff:off1")
    other = dossiers.open("HT-KS", CITIZEN, "hk-02", "staff:off2")
    assert [first["code"], second["code"], other["code"]] == [
        "HK-01-261124-0001", "HK-01-261124-0002", "HK-02-261124-0001"]
    # 24 November 2026 is Vietnam Culture Day: one working day is Wednesday the 25th.
    assert first["due_date"] == "2026-11-25"
    assert first["citizen_phone"] == "0912345678"
    events = dossiers.history(first["code"])
    assert [(e["from_status"], e["to_status"], e["actor"], e["branch"], e["ticket"]) for e in events] == [
        (None, "received", "staff:off1", "hk-01", None)]
    verdict = dossiers.store.read(lambda db: audit.verify(db.conn))
    assert verdict.broken is None and verdict.count >= 3


def set_unit(dossiers, branch, unit):
    dossiers.store.write(lambda db: db["branches"].update(branch, {"unit_code": unit}))


def test_a_branch_whose_unit_code_changes_goes_on_from_the_units_last_number_of_the_day(service):
    dossiers, clock, _ = service
    set_unit(dossiers, "hk-01", "000.00.12.H29")
    assert dossiers.open("HT-KS", CITIZEN, "hk-01", "staff:off1")["code"] == "000.00.12.H29-261124-0001"
    assert dossiers.open("HT-KS", CITIZEN, "hk-01", "staff:off1")["code"] == "000.00.12.H29-261124-0002"
    # The unit moves to hk-02 (hk-01 given another): both go on without reusing a number of the day.
    set_unit(dossiers, "hk-01", "000.00.13.H29")
    set_unit(dossiers, "hk-02", "000.00.12.H29")
    assert dossiers.open("HT-KS", CITIZEN, "hk-02", "staff:off2")["code"] == "000.00.12.H29-261124-0003"
    assert dossiers.open("HT-KS", CITIZEN, "hk-01", "staff:off1")["code"] == "000.00.13.H29-261124-0001"
    clock.advance(24 * 3600)
    assert dossiers.open("HT-KS", CITIZEN, "hk-02", "staff:off2")["code"] == "000.00.12.H29-261125-0001"


def test_a_public_lookup_finds_an_official_code_with_its_check_and_a_code_made_before_alone(service):
    dossiers, clock, _ = service
    set_unit(dossiers, "hk-01", "000.00.12.H29")
    code = dossiers.open("HT-KS", CITIZEN, "hk-01", "staff:off1")["code"]
    before = "HK-02-261120-0003" + check_character("HK-02-261120-0003")
    dossiers.store.write(lambda db: db["dossiers"].insert(
        {**dossiers.get(code), "code": before, "unit": "HK-02", "day": "2026-11-20", "seq": 3}))
    check = check_character(code)
    assert dossiers.public(code, check)["code"] == code
    assert dossiers.public(code.lower() + check.lower())["code"] == code
    assert dossiers.public(before)["code"] == before
    assert dossiers.get(before)["code"] == before and dossiers.get(code)["code"] == code
    neighbour = code[:-1] + "2"
    with pytest.raises(Invalid):
        dossiers.public(neighbour, check)
    with pytest.raises(NotFound):
        dossiers.public(neighbour, check_character(neighbour))


@pytest.mark.parametrize("change, code", [
    ({"procedure": "NOPE"}, "unknown_procedure"),
    ({"citizen": Citizen("123", "An")}, "bad_id_number"),
    ({"citizen": Citizen("001090012345", "  ")}, "bad_name"),
    ({"citizen": Citizen("001090012345", "An", "12345")}, "bad_phone"),
    ({"return_branch": "nowhere"}, "unknown_branch"),
    ({"ticket": "no-such-ticket"}, "unknown_ticket"),
])
def test_bad_input_writes_nothing(service, change, code):
    dossiers, _, _ = service
    args = {"procedure": "HT-KS", "citizen": CITIZEN, "branch": "hk-01", "actor": "staff:off1", **change}
    with pytest.raises(Invalid) as refused:
        dossiers.open(**args)
    assert refused.value.code == code
    assert dossiers.store.query("select count(*) n from dossiers")[0]["n"] == 0
    assert dossiers.store.query("select count(*) n from events where dossier is not null")[0]["n"] == 0


def test_a_failing_event_leaves_no_dossier(service, monkeypatch):
    dossiers, _, _ = service

    def broken(conn, rows):
        raise RuntimeError("the disk went away")
    monkeypatch.setattr(audit, "append_events", broken)
    with pytest.raises(RuntimeError):
        dossiers.open("HT-KS", CITIZEN, "hk-01", "staff:off1")
    assert dossiers.store.query("select count(*) n from dossiers")[0]["n"] == 0


def test_moves_follow_the_path_and_result_ready_tells_the_citizen_after_the_commit(service):
    dossiers, clock, sender = service
    code = dossiers.open("KD-TL", CITIZEN, "hk-01", "staff:off1", return_branch="hk-02")["code"]
    with pytest.raises(Conflict):
        dossiers.move(code, "result_ready", [ADMIN], "staff:admin", None)
    dossiers.move(code, "digitized", [COUNTER], "staff:off1", "hk-01", missing=waived("KD-TL"))
    dossiers.move(code, "processing", [COUNTER], "staff:off1", "hk-01")
    with pytest.raises(Invalid):
        dossiers.move(code, "supplement_requested", [DEPARTMENT], "staff:fin1", None)   # says what is missing
    dossiers.move(code, "supplement_requested", [DEPARTMENT], "staff:fin1", None, "bản sao hợp đồng thuê")
    dossiers.move(code, "processing", [COUNTER], "staff:off1", "hk-01")
    assert sender.send_due()["sent"] == 1   # the supplement's notice (tests/test_supplements.py)
    assert sender.send_due()["sent"] == 0
    clock.advance(3600)
    ready = dossiers.move(code, "result_ready", [DEPARTMENT], "staff:fin1", None)
    assert ready["status"] == "result_ready"
    assert sender.woken.is_set()   # after the commit, the sender is told at once
    assert sender.send_due()["sent"] == 1
    [asked, told] = sender.gateway.sent
    assert asked.kind == "supplement_requested"
    assert code in told.texts["vi"] and code in told.texts["en"] and told.recipient == "0912345678"
    assert told.kind == "result_ready" and told.params["code"] == code
    dossiers.move(code, "returned", [COUNTER], "staff:off2", "hk-02")
    with pytest.raises(Conflict):
        dossiers.move(code, "rejected", [ADMIN], "staff:admin", None, "late")
    history = [h["status"] for h in dossiers.public_view(dossiers.get(code))["history"]]
    assert history == ["received", "digitized", "processing", "supplement_requested", "processing",
                       "result_ready", "returned"]


def test_a_gateway_that_fails_does_not_undo_the_move_and_the_message_waits(service):
    dossiers, _, sender = service

    class Down:
        def send(self, message):
            raise ConnectionError("gateway down")
    sender.gateway = Down()
    code = dossiers.open("HT-KS", CITIZEN, "hk-01", "staff:off1")["code"]
    for to in ("digitized", "processing", "result_ready"):
        dossiers.move(code, to, [ADMIN], "staff:admin", None, missing=waived("HT-KS"))
    assert sender.send_due() == {"sent": 0, "pending": 1, "failed": 0}
    assert dossiers.get(code)["status"] == "result_ready"
    assert sender.depth() == {"pending": 1, "failed": 0}


def test_a_dossier_without_a_phone_adds_no_message(service):
    dossiers, _, sender = service
    code = dossiers.open("HT-KS", Citizen("001090012345", "Nguyễn Văn An"), "hk-01", "staff:off1")["code"]
    for to in ("digitized", "processing", "result_ready"):
        dossiers.move(code, to, [ADMIN], "staff:admin", None, missing=waived("HT-KS"))
    assert sender.depth() == {"pending": 0, "failed": 0}


def test_a_well_formed_code_nobody_was_given_is_not_found(service):
    dossiers, _, _ = service
    with pytest.raises(NotFound):
        dossiers.get(make_code("hk-01", date(2026, 11, 24), 99))


def test_the_logging_gateway_logs_the_message_and_only_the_phone_s_last_digits(caplog):
    message = Message("k1", "result_ready", "0912345678", {"vi": "Hồ sơ HK-01-261124-0001X đã có kết quả."})
    with caplog.at_level("INFO", logger="motcua.notify"):
        LogGateway().send(message)
    assert "HK-01-261124-0001X" in caplog.text
    assert "******5678" in caplog.text and "0912345678" not in caplog.text


def test_the_result_ready_message_names_the_branch_and_its_address_not_its_id():
    places = {"hk-02": {"name": {"vi": "Chi nhánh Hàng Bạc", "en": "Hang Bac branch"},
                        "address": {"vi": "12 Hàng Bạc", "en": "12 Hang Bac Street"}}}
    vietnamese = result_ready_message({"code": "HK-01-261124-0001X", "return_branch": "hk-02"}, places["hk-02"])
    assert "Mời ông/bà đến Chi nhánh Hàng Bạc (12 Hàng Bạc)" in vietnamese and "hk-02" not in vietnamese
    english = result_ready_message({"code": "X", "return_branch": "hk-02"}, places["hk-02"], "en")
    assert "Hang Bac branch (12 Hang Bac Street)" in english
    no_address = result_ready_message({"code": "X", "return_branch": "hk-02"}, {"name": {"vi": "Hàng Bạc"}}, "vi")
    assert "đến Hàng Bạc để nhận" in no_address


def test_the_server_s_notifier_names_its_branches(app, api):
    notifier = app.extensions["motcua"].dossiers.notifier
    assert "hk-02" not in result_ready_message({"code": "X", "return_branch": "hk-02"},
                                               notifier.place("hk-02"), "vi")
    changed = api.request("PATCH", "/admin/branches/hk-02", "admin", {"address": {"vi": "12 Hàng Bạc"}})
    assert changed.status_code == 200, changed.text
    assert "(12 Hàng Bạc)" in result_ready_message({"code": "X", "return_branch": "hk-02"},
                                                   notifier.place("hk-02"), "vi")


def test_a_name_is_kept_in_composed_form_with_single_spaces():
    typed = Citizen("001090012345", "  Nguye\u0302\u0303n   Va\u0306n An ", "")
    assert typed.checked().name == "Nguyễn Văn An"


def test_a_citizen_who_asked_for_english_is_told_in_english_and_a_bad_language_is_refused(service):
    dossiers, _, sender = service
    english = dataclasses.replace(CITIZEN, lang="en")
    code = dossiers.open("KD-TL", english, "hk-01", "staff:off1")["code"]
    assert dossiers.full_view(dossiers.get(code))["citizen"]["lang"] == "en"
    for status, side in (("digitized", COUNTER), ("processing", COUNTER), ("result_ready", DEPARTMENT)):
        dossiers.move(code, status, [side], "staff:off1", "hk-01", missing=waived("KD-TL"))
    sender.send_due()
    [told] = sender.gateway.sent
    assert told.lang == "en" and told.text() == told.texts["en"] != told.texts["vi"]
    with pytest.raises(Invalid) as refused:
        dossiers.open("KD-TL", dataclasses.replace(CITIZEN, lang="fr"), "hk-01", "staff:off1")
    assert refused.value.code == "bad_lang"
