"""The kiosk's "Tra cứu hồ sơ / Look up a dossier": the flow against a real server (fast), then the
real app under Xvfb, touched key by key (tests/kiosk_driver.py), at both screen sizes."""
from __future__ import annotations

from datetime import date

import pytest
import requests

from motcua.core.dossiers import check_character
from motcua.i18n import text
from motcua.kiosk.flow import DossierFound, Kiosk
from motcua.kiosk.settings import KioskSettings

from test_kiosk import drive, shot
from test_intake import waived_for

DAY = 24 * 3600
CITIZEN = {"id_number": "001090012345", "name": "Trần Thị Bình", "phone": "0987654321"}


def opened(server, *moves: str) -> dict:
    """A dossier received at hk-01 by off1 and moved along `moves` (by an admin, who may make any move:
    the department's too); its public view."""
    answer = server.post("/dossiers", "off1", {"procedure": "HT-KS", "citizen": CITIZEN})
    assert answer.status_code == 201, answer.text
    for status in moves:
        moved = server.post(f"/dossiers/{answer.json()['code']}/status", "admin",
                            {"status": status, "note": "Bản sao giấy chứng sinh", "missing": waived_for(answer.json())})
        assert moved.status_code == 200, moved.text
    code = answer.json()["code"]
    return server.get(f"/dossiers/{code}?check={check_character(code)}").json()


def typed(code: str) -> str:
    """The code as a citizen types it at the kiosk: without its dots, the check printed beside it glued on."""
    return code.replace(".", "") + check_character(code)


def mistyped(code: str) -> str:
    """The code with one digit of its sequence changed, and the check of the right one: they no longer fit."""
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert check_character(wrong) != check_character(code)
    return wrong + check_character(code)


def kiosk_for(server) -> Kiosk:
    kiosk = Kiosk(KioskSettings(server.base, "hk-01", server.tokens["kiosk1"]))
    kiosk.load()
    return kiosk


# ---- the flow ---------------------------------------------------------------------------------

def test_a_dossier_is_looked_up_by_its_code_with_its_timeline_and_no_personal_data(live_app):
    # hk-01 numbers its dossiers under its official unit code, whose dots the kiosk's keys have not.
    assert requests.patch(f"{live_app.api}/admin/branches/hk-01", json={"unit_code": "000.00.12.H29"},
                          headers=live_app.auth("admin"), timeout=10).status_code == 200
    view = opened(live_app, "digitized", "processing")
    assert view["code"].startswith("000.00.12.H29-")
    kiosk = kiosk_for(live_app)
    found = kiosk.look_up(" " + typed(view["code"]).lower() + " ")      # as typed: any case, stray spaces
    assert isinstance(found, DossierFound)
    assert (found.code, found.status, found.overdue) == (view["code"], "processing", False)
    assert found.procedure["vi"] == "Đăng ký khai sinh"
    assert found.due_date == date.fromisoformat(view["due_date"]).strftime("%d/%m/%Y")
    assert [s.status for s in found.history] == ["received", "digitized", "processing"]
    assert found.return_branch == kiosk.branch_name
    shown = repr(found)
    assert all(CITIZEN[k] not in shown for k in CITIZEN)
    live_app.clock.advance(10 * DAY)                 # past the due date, still processing
    assert kiosk.look_up(typed(view["code"])).overdue is True


def test_a_mistyped_code_and_an_unknown_code_are_told_apart(live_app):
    view = opened(live_app)
    kiosk = kiosk_for(live_app)
    assert kiosk.look_up(mistyped(view["code"])) == "bad_code"
    assert kiosk.look_up("") == "bad_code"
    assert kiosk.look_up("HK-01") == "bad_code"
    assert kiosk.look_up(view["code"]) == "bad_code"   # an official code without its check
    nobody = view["code"][:-4] + "9999"
    assert kiosk.look_up(nobody + check_character(nobody)) == "not_found"


# ---- the screens, touched ---------------------------------------------------------------------

# The smaller screen, in English, shows an overdue dossier: the longest result screen.
@pytest.mark.parametrize("screen, suffix, lang, late", [("1080x1920", "", "vi", False), ("768x1366", "-768", "en", True)])
def test_a_code_typed_on_the_keys_shows_the_status_and_a_mistyped_one_is_refused_in_words(live_app, tmp_path,
                                                                                         screen, suffix, lang, late):
    view = opened(live_app, "digitized", "processing")
    if late:
        # Past its due date before the supplement was asked for: the wait does not excuse that (README "Supplements").
        live_app.clock.advance(10 * DAY)
        live_app.tokens["admin"] = live_app.login("admin")
    asked = live_app.post(f"/dossiers/{view['code']}/status", "admin",
                          {"status": "supplement_requested", "note": "Bản sao giấy chứng sinh"})
    assert asked.status_code == 200, asked.text
    view = live_app.get(f"/dossiers/{view['code']}?check={check_character(view['code'])}").json()
    wrong = mistyped(view["code"])
    result = drive(live_app, "lookup", tmp_path, screen=screen, suffix=suffix, code=typed(view["code"]), mistyped=wrong,
                   lang=lang, idle=4)
    assert text(lang, "kiosk.lookup_bad_code", code=wrong) in result["refused"]
    shown = result["shown"]
    assert view["code"] in shown
    assert text(lang, "dossier.status.supplement_requested") in shown
    due = date.fromisoformat(view["due_date"]).strftime("%d/%m/%Y")
    assert text(lang, "kiosk.lookup_due", date=due) in shown
    assert all(value not in " ".join(shown) for value in CITIZEN.values())
    assert (text(lang, "kiosk.lookup_overdue") in shown) is late
    # Untouched, it goes home by itself, in the kiosk's own language.
    assert 3 <= result["home_after_s"] <= 9 and result["language"] == "vi"
    for name in ("home-lookup", "lookup-empty", "lookup-bad-code", "lookup-typed", "lookup-result"):
        shot(name + suffix)
