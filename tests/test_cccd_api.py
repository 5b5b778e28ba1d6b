"""ID cards (CCCD) through the API on a real server: the counter reads a card, a kiosk ticket taken with one is a
priority ticket for an elderly citizen and linked to its holder for the branch's staff, and for nobody else."""
from __future__ import annotations

import json

import pytest
import requests

from motcua.kiosk.flow import Issued, Kiosk
from motcua.kiosk.settings import KioskSettings

OLD = "001040012345||Trần Thị Bình|02011940|Nữ|Số 5 Hàng Đào, Hoàn Kiếm, Hà Nội|10052021"
YOUNG = "001090054321|123456789|Lê Văn Cường|15031990|Nam|Số 9 Tràng Tiền, Hoàn Kiếm, Hà Nội|01072021"


def get(server, path: str, who: str | None = None) -> requests.Response:
    return requests.get(server.api + path, headers=server.auth(who) if who else {}, timeout=10)


def test_an_officer_reads_a_card_and_a_kiosk_may_not(live_app):
    answer = live_app.post("/cards", "off1", {"card": OLD + "\r\n"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id_number": "001040012345", "old_id_number": "", "name": "Trần Thị Bình",
                             "birth_date": "1940-01-02", "sex": "Nữ",
                             "address": "Số 5 Hàng Đào, Hoàn Kiếm, Hà Nội", "issued_on": "2021-05-10"}
    assert live_app.post("/cards", "kiosk1", {"card": OLD}).status_code == 403
    assert live_app.post("/cards", None, {"card": OLD}).status_code == 401


@pytest.mark.parametrize("text", ["001040012345 Trần Thị Bình", "123|x|y|z", OLD.replace("02011940", "31021940")])
def test_what_is_not_a_card_is_a_400_bad_card_and_takes_no_ticket(live_app, text):
    for path, who, body in (("/cards", "off1", {"card": text}),
                            ("/branches/hk-01/cards", "kiosk1", {"card": text}),
                            ("/branches/hk-01/tickets/card", "kiosk1", {"card": text, "service": "civil"})):
        answer = live_app.post(path, who, body)
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["error"]["code"] == "bad_card"
    assert sum(s["waiting"] for s in live_app.get("/branches/hk-01/state").json()["services"]) == 0


def test_an_elderly_citizen_is_priority_without_asking_and_a_younger_one_is_not(live_app):
    assert live_app.post("/branches/hk-01/cards", "kiosk1", {"card": OLD}).json() == {"priority": True}
    assert live_app.post("/branches/hk-01/cards", "kiosk1", {"card": YOUNG}).json() == {"priority": False}
    old = live_app.post("/branches/hk-01/tickets/card", "kiosk1", {"card": OLD, "service": "civil"})
    young = live_app.post("/branches/hk-01/tickets/card", "kiosk1", {"card": YOUNG, "service": "civil"})
    asked = live_app.post("/branches/hk-01/tickets/card", "kiosk1",
                          {"card": YOUNG, "service": "civil", "priority": True})
    assert (old.status_code, young.status_code, asked.status_code) == (201, 201, 201)
    assert (old.json()["priority"], young.json()["priority"], asked.json()["priority"]) == (True, False, True)


def test_the_counter_sees_whose_ticket_it_is_and_no_public_view_does(live_app, tmp_path):
    issued = live_app.post("/branches/hk-01/tickets/card", "kiosk1", {"card": OLD, "service": "civil"}).json()
    plain = live_app.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).json()
    assert get(live_app, f"/tickets/{issued['id']}/card", "off1").json() == {
        "id_number": "001040012345", "name": "Trần Thị Bình", "birth_date": "1940-01-02"}
    assert get(live_app, f"/tickets/{plain['id']}/card", "off1").json()["error"]["code"] == "no_card"
    assert get(live_app, f"/tickets/{issued['id']}/card", "kiosk1").status_code == 403
    assert live_app.get(f"/tickets/{issued['id']}/card").status_code == 401
    assert get(live_app, f"/tickets/{issued['id']}/card", "off2").status_code == 403

    called = live_app.post("/branches/hk-01/counters/2/next", "off1").json()
    assert called["ticket"]["id"] == issued["id"]     # the priority ticket first
    kiosk = Kiosk(KioskSettings(live_app.base, "hk-01", live_app.tokens["kiosk1"]))
    kiosk.load()
    printed = kiosk._ticket_data(Issued(issued, [], kiosk.branch_name, {"vi": "Hộ tịch", "en": "Civil status"}))
    # JSON as read, not as escaped: a name written \u1ea7 would not be found in the raw text.
    public = {"issue answer": issued, "ticket view": live_app.get(f"/tickets/{issued['id']}").json(),
              "wall state": live_app.get("/branches/hk-01/state").json(), "printed ticket": printed}
    for what, seen in public.items():
        seen = json.dumps(seen, ensure_ascii=False, default=repr)
        for secret in ("001040012345", "Trần Thị Bình", "Bình", "1940"):
            assert secret not in seen, f"{secret} in the {what}"


def test_the_public_rooms_hear_nothing_of_the_card(tmp_path):
    from test_sockets import Site

    site = Site(tmp_path)
    try:
        display, phone = site.client(), site.client()
        display.emit("subscribe", {"branch": "hk-01"})
        answer = site.http.post("/api/v1/branches/hk-01/tickets/card", headers=site.kiosk,
                                json={"service": "build", "card": OLD})
        assert answer.status_code == 201, answer.json
        ticket = answer.json
        phone.emit("subscribe", {"ticket": ticket["id"]})
        site.post("/branches/hk-01/counters/5/next")
        site.broadcaster.send_calls()
        site.broadcaster.drain()
        heard = display.get_received() + phone.get_received()
        assert {e["name"] for e in heard} >= {"queue", "called", "ticket"}
        said = json.dumps(heard, ensure_ascii=False)
        assert ticket["number"] in said
        for secret in ("001040012345", "Trần Thị Bình", "1940"):
            assert secret not in said
    finally:
        site.close()


class Stop(Exception):
    pass


def test_whose_ticket_it_was_is_forgotten_once_its_day_has_closed(live_app, app):
    """A card's link serves the ticket's day only (motcua.core.cccd.forget_cards): the server's task forgets the
    past days' at its start and after each local midnight, and today's stay for the counter."""
    from motcua.server_main import forget_past_cards

    yesterday = live_app.post("/branches/hk-01/tickets/card", "kiosk1", {"card": OLD, "service": "civil"}).json()
    live_app.clock.advance(24 * 3600)   # the next morning: the officer signs in again
    live_app.tokens["off1"] = live_app.login("off1")
    today = live_app.post("/branches/hk-01/tickets/card", "kiosk1", {"card": YOUNG, "service": "civil"}).json()
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        raise Stop

    with pytest.raises(Stop):
        forget_past_cards(app.extensions["motcua"], sleep)
    assert get(live_app, f"/tickets/{yesterday['id']}/card", "off1").json()["error"]["code"] == "no_card"
    assert get(live_app, f"/tickets/{today['id']}/card", "off1").json()["name"] == "Lê Văn Cường"
    assert app.extensions["motcua"].store.query("select count(*) as n from ticket_cards")[0]["n"] == 1
    # Next, just past the coming midnight (08:00 now: sixteen hours on).
    assert slept == [pytest.approx(16 * 3600 + 1)]
