"""The kiosk's flow without its screens, against a real server and a simulated printer on a
socat pty: tickets, a better branch, ratings by number, failures said plainly, nothing lost."""
from __future__ import annotations

import subprocess
import threading

import numpy as np
import pytest
import requests
import socketio
from PIL import Image

from motcua import i18n
from motcua.hardware.ticket_layout import LARGE, SMALL, LayoutSettings, Line, TextBlock, block_image

from motcua.hardware.printer_sim import PrinterSim
from motcua.kiosk.client import KioskClient, ServerUnreachable
from motcua.kiosk.flow import Kiosk, TokenRefused, fold
from motcua.kiosk.settings import KioskSettings


def kiosk_for(server, printer: str = "", text: str = "raster") -> Kiosk:
    kiosk = Kiosk(KioskSettings(server.base, "hk-01", server.tokens["kiosk1"], printer=printer, printer_text=text))
    kiosk.load()
    return kiosk


@pytest.fixture
def printer(serial_pair, tmp_path):
    line = serial_pair("printer")
    sim = PrinterSim(str(line.device), tmp_path / "tickets")
    sim.start()
    yield sim, str(line.host)
    sim.stop()


@pytest.mark.parametrize("text", ["raster", "cp1258"])
def test_a_ticket_is_taken_printed_and_its_qr_reads_back(fresh_server, printer, text):
    sim, url = printer
    kiosk = kiosk_for(fresh_server, url, text)
    assert [s.id for s in kiosk.services()][:2] == ["civil", "cert"]
    issued = kiosk.take_ticket("cert", priority=False)
    assert fresh_server.get(f"/tickets/{issued.ticket['id']}").json()["status"] == "waiting"
    assert kiosk.print_ticket(issued).printed
    assert sim.wait_for(1, 10)
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(sim.saved[0])], capture_output=True, text=True)
    assert decoded.stdout.strip() == issued.ticket["status_url"]
    code = fresh_server.get(f"/tickets/{issued.ticket['id']}").json()["rating_code"]
    if text == "raster":   # the code's lines, dot for dot, on the paper that came out
        lines = TextBlock((Line(i18n.text("vi", "ticket.rating_code", code=code), LARGE, True),
                           Line(i18n.text("en", "ticket.rating_code", code=code), SMALL)))
        page = np.array(Image.open(sim.saved[0]).convert("1"))
        block = np.array(block_image(lines, LayoutSettings()).convert("1"))
        assert any(np.array_equal(page[top:top + len(block)], block) for top in range(len(page) - len(block) + 1))


def test_out_of_paper_keeps_the_ticket_and_tells_the_staff(fresh_server, printer):
    sim, url = printer
    sim.state = "paper_out"
    heard = []
    staff = socketio.Client()
    staff.on("kiosk", heard.append)
    staff.connect(fresh_server.base, transports=["websocket"])
    staff.emit("subscribe_staff", {"branch": "hk-01", "token": fresh_server.tokens["off1"]})  # staff hear kiosks
    try:
        kiosk = kiosk_for(fresh_server, url)
        issued = kiosk.take_ticket("civil", priority=False)
        outcome = kiosk.print_ticket(issued)
        assert (outcome.printed, outcome.problem) == (False, "paper_out")
        assert fresh_server.get(f"/tickets/{issued.ticket['id']}").json()["status"] == "waiting"  # still valid
        deadline = threading.Event()
        for _ in range(50):
            if heard:
                break
            deadline.wait(0.1)
        assert heard and heard[0]["number"] == issued.ticket["number"] and heard[0]["problem"] == "paper_out"
    finally:
        staff.disconnect()
    import sqlite3
    notes = sqlite3.connect(fresh_server.db).execute("select note from events where ticket = ? and note is not null",
                                                     [issued.ticket["id"]]).fetchall()
    assert notes == [("not_printed:paper_out",)]


def test_a_crowded_branch_offers_a_better_one_and_the_ticket_moves_there(live_app):
    # On the fake clock: no branch is offered that would close before the citizen got there.
    kiosk = kiosk_for(live_app)
    for _ in range(25):
        kiosk.take_ticket("land", priority=False)
    issued = kiosk.take_ticket("land", priority=False)
    assert issued.alternatives, "a crowded land queue at hk-01 has a better branch nearby"
    best = issued.alternatives[0]
    assert best.saving_min >= 1 and best.travel_min > 0 and best.name["vi"] and best.directions["vi"]
    moved = kiosk.go_elsewhere(issued, best)
    assert moved.ticket["branch"] == best.branch and moved.ticket["status_url"].endswith(moved.ticket["id"])
    assert live_app.get(f"/tickets/{issued.ticket['id']}").json()["status"] == "transferred"
    refused = live_app.post(f"/tickets/{moved.ticket['id']}/redirect", "kiosk1", {"branch": "hk-01"})
    assert refused.status_code == 403  # the kiosk of hk-01 has no say over a ticket at another branch


def test_rating_by_the_number_and_code_typed_in(fresh_server):
    kiosk = kiosk_for(fresh_server)
    issued = kiosk.take_ticket("civil", priority=False)
    number, code = issued.ticket["number"], issued.ticket["rating_code"]
    assert kiosk.rate("Z999", code, 4, []) == "not_found"
    assert kiosk.rate(number, code, 4, ["fast"]) == "not_done"
    called = fresh_server.post("/branches/hk-01/counters/2/next", "off1").json()["ticket"]
    fresh_server.post(f"/tickets/{called['id']}/done", "off1")
    assert kiosk.rate(number.lower(), f" {code} ", 4, ["fast", "friendly"]) == "ok"
    assert kiosk.rate(number, code, 1, []) == "already_rated"
    assert fresh_server.get(f"/tickets/{issued.ticket['id']}").json()["rated"] is True


def test_a_stranger_typing_a_finished_number_at_the_kiosk_cannot_rate_it(fresh_server):
    kiosk = kiosk_for(fresh_server)
    issued = kiosk.take_ticket("civil", priority=False)
    called = fresh_server.post("/branches/hk-01/counters/2/next", "off1").json()["ticket"]
    fresh_server.post(f"/tickets/{called['id']}/done", "off1")
    number, code = issued.ticket["number"], issued.ticket["rating_code"]
    guesses = [f"{(int(code) + n) % 10000:04d}" for n in range(1, 6)]
    assert [kiosk.rate(number, guess, 1, []) for guess in guesses] == ["wrong_code"] * 4 + ["locked"]
    assert kiosk.rate(number, code, 1, []) == "locked"
    assert kiosk.rate(number, "12", 1, []) == "wrong_code"     # too short: never sent as a try
    assert fresh_server.get(f"/tickets/{issued.ticket['id']}").json()["rated"] is False


def test_server_down_promises_nothing_and_a_bad_answer_never_crashes(fresh_server):
    kiosk = kiosk_for(fresh_server)
    fresh_server.kill()
    with pytest.raises(ServerUnreachable):
        kiosk.take_ticket("civil", priority=False)
    fresh_server.start()
    assert kiosk.take_ticket("civil", priority=False).ticket["number"] == "A001"  # nothing was issued meanwhile

    class Garbled(KioskClient):
        def issue(self, *args):
            return {"id": 7, "alternatives": "nonsense"}

    broken = Kiosk(kiosk.settings, client=Garbled(fresh_server.base, fresh_server.tokens["kiosk1"]))
    broken._branches = kiosk._branches
    with pytest.raises(ServerUnreachable):
        broken.take_ticket("civil", priority=False)


# ---- finding a service by what one came for ------------------------------------------------------

def test_fold_drops_accents_case_and_punctuation():
    assert fold("Đăng ký  khai sinh,") == "dang ky khai sinh"
    assert fold("ĐẤT ĐAI") == fold("dat dai") == "dat dai"
    assert fold("Thay đổi, cải chính") == "thay doi cai chinh"


@pytest.mark.parametrize("typed, service, procedure", [
    ("khai sinh", "civil", None),                      # the service's own description says it
    ("dang ky khai sinh", "civil", "Đăng ký khai sinh"),
    ("Đăng ký khai sinh", "civil", "Đăng ký khai sinh"),
    ("NHAN CHA ME", "civil", "Đăng ký nhận cha, mẹ, con"),
    ("chuyen muc dich", "land", "Chuyển mục đích sử dụng đất"),
    ("ban le ruou", "business", "Cấp Giấy phép bán lẻ rượu"),
    ("gia han giay phep", "build", "Gia hạn giấy phép xây dựng"),
    ("land", "land", None),
    ("kha sin", "civil", None),                        # the beginnings of words are enough
])
def test_typing_a_few_words_finds_the_service_that_takes_it(live_app, typed, service, procedure):
    found = kiosk_for(live_app).search(typed)
    assert found and found[0].service.id == service, [f.service.id for f in found]
    assert (found[0].procedure or {}).get("vi") == procedure


def test_typing_nothing_or_nonsense_finds_nothing(live_app):
    kiosk = kiosk_for(live_app)
    assert kiosk.search("") == kiosk.search("   ") == []
    assert kiosk.search("qqqzz") == []


# ---- a revoked token -------------------------------------------------------------------------------

def test_a_revoked_kiosk_knows_it_before_anyone_chooses(live_app):
    kiosk = kiosk_for(live_app)
    kiosk.check_token()                                # holds: nothing raised
    admin = {"Authorization": f"Bearer {live_app.tokens['admin']}"}
    devices = requests.get(live_app.api + "/admin/devices", headers=admin, timeout=10).json()
    device = next(d for d in devices if d["kind"] == "kiosk" and d["branch"] == "hk-01")
    assert requests.delete(f"{live_app.api}/admin/devices/{device['id']}", headers=admin, timeout=10).ok
    with pytest.raises(TokenRefused):
        kiosk.check_token()
    with pytest.raises(TokenRefused):                 # at start too: no menu for a kiosk that cannot issue
        Kiosk(KioskSettings(live_app.base, "hk-01", live_app.tokens["kiosk1"])).load()
