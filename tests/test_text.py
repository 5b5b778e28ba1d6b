"""One rule for text taken from people (motcua.core.text): every free-text field refuses control,
format (bidi overrides, zero-width) and separator characters with a 400 JSON error, and a phone is
ASCII digits as an ID number is."""
from __future__ import annotations

import pytest

from motcua.core.text import hidden_characters

from conftest import PASSWORD
from test_intake import waived_for

CITIZEN = {"id_number": "001090012345", "name": "Trần Thị Bình", "phone": "0987654321"}
# Each prints as nothing, or makes what follows print as something else.
HIDDEN = {"NUL": "\x00", "ESC": "\x1b[31m", "RLO": "\u202e", "LRI": "\u2066", "ZWSP": "\u200b", "LS": "\u2028",
          "BEL": "\x07", "DEL": "\x7f", "C1": "\x85"}


def done_ticket(api) -> dict:
    ticket = api.issue("civil")
    api.post("/branches/hk-01/counters/2/next", "off1")
    api.post(f"/tickets/{ticket['id']}/start", "off1")
    assert api.post(f"/tickets/{ticket['id']}/done", "off1").json["status"] == "done"
    return ticket


def opened(api) -> dict:
    answer = api.post("/dossiers", "off1", {"procedure": "KD-TL", "citizen": CITIZEN})
    assert answer.status_code == 201, answer.text
    return answer.json


def citizen_name(api, text):
    return api.post("/dossiers", "off1", {"procedure": "KD-TL", "citizen": {**CITIZEN, "name": text}})


def citizen_phone(api, text):
    return api.post("/dossiers", "off1", {"procedure": "KD-TL", "citizen": {**CITIZEN, "phone": text}})


def dossier_note(api, text):
    dossier = opened(api)
    return api.post(f"/dossiers/{dossier['code']}/status", "off1",
                    {"status": "digitized", "note": text, "missing": waived_for(dossier)})


def rating_comment(api, text):
    return api.post(f"/tickets/{done_ticket(api)['id']}/rating", None, {"score": 3, "comment": text})


def kiosk_rating_comment(api, text):
    ticket = done_ticket(api)   # its holder rates it at the kiosk with the code printed on it
    return api.post(f"/branches/hk-01/tickets/{ticket['number']}/rating", "kiosk1",
                    {"score": 3, "code": ticket["rating_code"], "comment": text})


def branch_name(lang):
    def change(api, text):
        return api.request("PATCH", "/admin/branches/hk-02", "admin", {"name": {lang: text}})
    return change


def service_text(part, lang):
    def add(api, text):
        names = {"vi": "Thuế", "en": "Tax"}
        body = {"id": "tax", "letter": "T", "mean_min": 12, "name": names, "description": dict(names)}
        body[part] = {**names, lang: text}
        return api.post("/admin/services", "admin", body)
    return add


def username(api, text):
    return api.post("/admin/users", "admin", {"username": text, "password": PASSWORD, "role": "officer",
                                              "branch": "hk-01"})


# field: (how it is sent, a value it takes, the error code of a refusal)
FIELDS = {
    "citizen.name": (citizen_name, "Trần Thị Bình", "bad_name"),
    "citizen.phone": (citizen_phone, "0987654321", "bad_phone"),
    "dossier.note": (dossier_note, "Bản sao hợp đồng", "bad_note"),
    "rating.comment": (rating_comment, "Nhanh, chu đáo", "bad_comment"),
    "kiosk.rating.comment": (kiosk_rating_comment, "Nhanh, chu đáo", "bad_comment"),
    "branch.name.vi": (branch_name("vi"), "Hoàn Kiếm 2", "bad_value"),
    "branch.name.en": (branch_name("en"), "Hoan Kiem 2", "bad_value"),
    "service.name.vi": (service_text("name", "vi"), "Thuế", "bad_value"),
    "service.description.en": (service_text("description", "en"), "Tax returns", "bad_value"),
    "user.username": (username, "off3", "bad_username"),
}


@pytest.fixture
def staff(api):
    return api


@pytest.mark.parametrize("field", FIELDS)
def test_every_free_text_field_takes_ordinary_text(staff, field):
    send, value, _ = FIELDS[field]
    answer = send(staff, value)
    assert answer.status_code in (200, 201), answer.text


@pytest.mark.parametrize("hidden", HIDDEN.values(), ids=HIDDEN.keys())
@pytest.mark.parametrize("field", FIELDS)
def test_every_free_text_field_refuses_hidden_characters_with_a_400(staff, field, hidden):
    send, value, code = FIELDS[field]
    answer = send(staff, value[:2] + hidden + value[2:])
    assert answer.status_code == 400, answer.text
    assert answer.json["error"]["code"] == code
    assert f"U+{ord(hidden[0]):04X}" in answer.json["error"]["message"]


@pytest.mark.parametrize("digits", ["٠٩٨٧٦٥٤٣٢١", "۰۹۸۷۶۵۴۳۲۱", "०९८७६५४३२१", "０９８７６５４３２１",
                                    "09876٥4321", "+८४987654321"])
def test_a_phone_is_ascii_digits_as_an_id_number_is(staff, digits):
    answer = citizen_phone(staff, digits)
    assert answer.status_code == 400 and answer.json["error"]["code"] == "bad_phone"
    assert staff.get(f"/citizens/{CITIZEN['id_number']}/dossiers", "off1").json == []


def test_a_refused_rating_does_not_use_up_the_ticket_s_one_rating(staff):
    ticket = done_ticket(staff)
    refused = staff.post(f"/tickets/{ticket['id']}/rating", None, {"score": 3, "comment": "ok\x00"})
    assert refused.status_code == 400
    assert staff.post(f"/tickets/{ticket['id']}/rating", None, {"score": 3, "comment": "ok"}).status_code == 201


def test_a_comment_or_note_may_run_over_lines_a_name_may_not(staff):
    assert rating_comment(staff, "Nhanh.\nChu đáo.").status_code == 201
    assert dossier_note(staff, "Bản sao:\n- hợp đồng").status_code == 200
    assert citizen_name(staff, "Trần\nBình").json["error"]["code"] == "bad_name"
    assert branch_name("vi")(staff, "Hoàn\nKiếm").json["error"]["code"] == "bad_value"


@pytest.mark.parametrize("text, lines, found", [
    ("Nguyễn Văn An", False, []), ("a\u202eb\x00", False, ["\u202e", "\x00"]), ("a\nb", False, ["\n"]),
    ("a\nb", True, []), ("a\r\nb", True, ["\r"]), ("a\tb", True, ["\t"]), ("a\u2029b", True, ["\u2029"]),
])
def test_hidden_characters_are_the_control_format_and_separator_ones(text, lines, found):
    assert hidden_characters(text, lines=lines) == found

