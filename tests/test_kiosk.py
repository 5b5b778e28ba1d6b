"""The kiosk's screens, for real: the Kivy app in a subprocess under Xvfb (tests/kiosk_driver.py)
touched at its widgets, against a real server and the simulated printer on a socat pty pair.
Every screen is saved as test-output/kiosk-<screen>.png.

.ci/run installs xvfb, socat and zbar-tools: a missing one is a failure, never a quiet skip.
"""
from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from motcua.hardware.printer_sim import PrinterSim
from motcua.i18n import catalogue, text

ROOT = Path(__file__).resolve().parent.parent
DRIVER = Path(__file__).resolve().parent / "kiosk_driver.py"
OUTPUT = ROOT / "test-output"
PREFIX = "KIOSK-DRIVER "


# ---- helpers ----------------------------------------------------------------------------------

@pytest.fixture
def printer(serial_pair, tmp_path):
    """The simulated printer on one end of a socat pty pair; yields (simulator, the kiosk's end)."""
    line = serial_pair("printer")
    sim = PrinterSim(str(line.device), tmp_path / "tickets").start()   # opened before the kiosk's end
    yield sim, str(line.host)
    sim.stop()


def drive(server, scenario: str, tmp_path: Path, printer: str = "", screen: str = "1080x1920", suffix: str = "",
          on_event=None, timeout: float = 160, **options) -> dict:
    """Run the kiosk under Xvfb through one scenario; the driver's result, or the test fails with its log."""
    args = [sys.executable, str(DRIVER), "--server", server.base, "--token", server.tokens["kiosk1"],
            "--scenario", scenario, "--printer", printer, "--shots", str(OUTPUT), f"--suffix={suffix}"]
    for name, value in options.items():
        args += [f"--{name}", str(value)]
    log = tmp_path / f"kiosk-{scenario}{suffix}.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(["xvfb-run", "-a", "-s", f"-screen 0 {screen}x24", *args], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=ROOT)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        outcome = {}
        try:
            for line in proc.stdout:
                if not line.startswith(PREFIX):
                    continue
                message = json.loads(line[len(PREFIX):])
                if "event" in message and on_event:
                    on_event(message, proc)
                outcome.update(message)
            proc.wait(10)
        finally:
            timer.cancel()
    if "result" not in outcome:
        pytest.fail(f"kiosk driver: {outcome.get('error', 'no result')}\n{outcome.get('trace', '')}\n"
                    f"--- log ---\n{log.read_text()[-4000:]}")
    return outcome["result"]


def zbar(path: Path) -> str:
    done = subprocess.run(["zbarimg", "--raw", "-q", str(path)], capture_output=True, text=True, timeout=20)
    return done.stdout.strip()


def shot(name: str) -> Path:
    path = OUTPUT / f"kiosk-{name}.png"
    assert path.exists(), f"no screenshot {path.name}"
    return path


def issue(server, service: str) -> dict:
    answer = server.post("/branches/hk-01/tickets", "kiosk1", json={"service": service})
    assert answer.status_code == 201, answer.text
    return answer.json()


# ---- the catalogues ---------------------------------------------------------------------------

def test_every_kiosk_text_is_in_both_languages_with_the_same_placeholders():
    vi = {k: v for k, v in catalogue("vi").items() if k.startswith("kiosk.")}
    en = {k: v for k, v in catalogue("en").items() if k.startswith("kiosk.")}
    assert vi.keys() == en.keys()
    for key in vi:
        assert set(re.findall(r"{(\w+)}", vi[key])) == set(re.findall(r"{(\w+)}", en[key])), key
    used = set()
    for source in (ROOT / "kiosk").glob("*.py"):
        used |= set(re.findall(r'"(kiosk\.[a-z_.0-9]+[a-z0-9])"', source.read_text()))
    assert used - vi.keys() == set()
    for group in ("elderly", "disabled", "pregnant", "merit"):
        assert f"kiosk.priority.{group}" in vi
    for score in range(1, 5):
        assert f"kiosk.score.{score}" in vi


# ---- the screens ------------------------------------------------------------------------------

@pytest.mark.parametrize("screen, suffix", [("1080x1920", ""), ("768x1366", "-768")])
def test_touching_a_service_issues_shows_and_prints_a_ticket(fresh_server, printer, tmp_path, screen, suffix):
    sim, port = printer
    result = drive(fresh_server, "ticket", tmp_path, printer=port, screen=screen, suffix=suffix, service="cert")
    ticket = result["ticket"]
    assert ticket["number"] in result["texts"]
    assert result["print_state"] == "printed"
    assert text("vi", "kiosk.take_ticket") in result["texts"]
    held = fresh_server.get(f"/tickets/{ticket['id']}").json()
    assert (held["status"], held["branch"], held["service"]) == ("waiting", "hk-01", "cert")
    assert sim.wait_for(1, 15), "the printer got no ticket"
    assert zbar(sim.saved[0]) == ticket["status_url"]
    assert zbar(shot(f"ticket{suffix}")) == ticket["status_url"], "the QR on screen does not read"
    for name in ("home", "home-en", "priority", "waiting"):
        shot(name + suffix)


def test_a_hot_branch_offers_a_better_one_and_the_ticket_moves_there(live_app, printer, tmp_path):
    # On the fake clock: no branch is offered that would close before the citizen got there.
    for _ in range(25):
        issue(live_app, "land")
    sim, port = printer
    result = drive(live_app, "redirect", tmp_path, printer=port, service="land")
    original, moved, offered = result["original"], result["ticket"], result["alternatives"]
    assert offered, "no better branch offered"
    assert moved["branch"] == offered[0]["branch"] != "hk-01"
    assert moved["number"] in result["texts"]
    assert live_app.get(f"/tickets/{moved['id']}").json()["branch"] == offered[0]["branch"]
    assert live_app.get(f"/tickets/{original['id']}").json()["status"] == "transferred"
    assert result["print_state"] == "printed"
    assert sim.wait_for(1, 15)
    assert zbar(sim.saved[0]) == moved["status_url"]
    assert zbar(shot("ticket-elsewhere")) == moved["status_url"]
    shot("better")


# Each screen size takes one of the two ways out: the branch offered, or a number here all the same.
@pytest.mark.parametrize("screen, suffix, choice", [("1080x1920", "", "go:0"), ("768x1366", "-768", "here")])
def test_a_service_nobody_serves_here_says_so_before_a_number_and_offers_the_branches_that_do(live_app, tmp_path,
                                                                                             screen, suffix, choice):
    for counter in ("4", "5"):   # hk-01's land counters close
        assert live_app.post(f"/branches/hk-01/counters/{counter}", "mgr1", {"open": False}).status_code == 200
    said = live_app.get("/branches/hk-01/services/land/availability").json()
    assert not said["served"] and said["alternatives"]
    result = drive(live_app, "unserved", tmp_path, screen=screen, suffix=suffix, service="land", choice=choice)
    assert text("vi", "kiosk.unserved_title") in result["said"]
    assert [a["branch"] for a in result["alternatives"]] == [a["branch"] for a in said["alternatives"]][:3]
    names = {b["id"]: b["name"]["vi"] for b in live_app.get("/branches").json()}
    assert all(names[a["branch"]] in result["said"] for a in result["alternatives"])
    ticket = result["ticket"]
    assert ticket["number"] in result["texts"]
    assert live_app.get(f"/tickets/{ticket['id']}").json()["branch"] == ticket["branch"]
    if choice == "here":
        assert ticket["branch"] == "hk-01" and text("vi", "kiosk.wait_unknown") in result["texts"]
        shot("ticket-unserved-here" + suffix)
    else:
        assert ticket["branch"] == said["alternatives"][0]["branch"]
        assert text("vi", "kiosk.moved_note") in result["texts"]
        shot("ticket-unserved-elsewhere" + suffix)
    shot("unserved" + suffix)


def test_a_served_ticket_is_rated_on_the_keypad_with_its_code_and_not_without(fresh_server, tmp_path):
    ticket = issue(fresh_server, "cert")
    called = fresh_server.post("/branches/hk-01/counters/1/next", "off1").json()["ticket"]
    assert called["id"] == ticket["id"]
    assert fresh_server.post(f"/tickets/{ticket['id']}/done", "off1").ok
    result = drive(fresh_server, "rating", tmp_path, number=ticket["number"], **{"rating-code": ticket["rating_code"]})
    assert text("vi", "kiosk.rate_code_missing", digits=4) in result["missing"]
    assert text("vi", "kiosk.rate_wrong_code", number=ticket["number"]) in result["refused"]
    assert text("vi", "kiosk.thanks") in result["texts"]
    rated = fresh_server.get(f"/tickets/{ticket['id']}").json()
    assert rated["rated"] is True
    tries = sqlite3.connect(fresh_server.db).execute("select count(*) from events where ticket = ? and note = ?",
                                                    [ticket["id"], "rating_code_wrong"]).fetchone()[0]
    assert tries == 1       # the wrong code was tried once, with the number: it counted
    for name in ("rate-empty", "rate-not-found", "rate-code-missing", "rate-wrong-code", "rate-number",
                 "rate-score", "rate-thanks"):
        shot(name)


def test_server_down_then_up_shows_a_calm_message_then_issues(fresh_server, tmp_path):
    seen = {}

    def on_event(message, proc):
        if message["event"] == "home":
            fresh_server.kill()
            proc.stdin.write("go\n")
            proc.stdin.flush()
        elif message["event"] == "message":
            seen["texts"] = message["texts"]
            fresh_server.start()

    result = drive(fresh_server, "outage", tmp_path, on_event=on_event, service="cert")
    assert text("vi", "kiosk.offline_title") in seen["texts"]
    assert not any(re.fullmatch(r"[A-Z]\d{3}", t) for t in seen["texts"]), "a number shown while the server was down"
    ticket = result["ticket"]
    assert ticket["number"] == "B001", "something was issued while the server was down"
    assert fresh_server.get(f"/tickets/{ticket['id']}").json()["status"] == "waiting"
    shot("message")


def test_printer_out_of_paper_keeps_the_ticket_on_screen(fresh_server, printer, tmp_path):
    sim, port = printer
    sim.state = "paper_out"
    result = drive(fresh_server, "paper_out", tmp_path, printer=port, service="civil")
    ticket = result["ticket"]
    assert result["print_state"] == "problem"
    assert text("vi", "kiosk.print_problem") in result["texts"]
    assert ticket["number"] in result["texts"]
    assert fresh_server.get(f"/tickets/{ticket['id']}").json()["status"] == "waiting"
    assert zbar(shot("ticket-printer-problem")) == ticket["status_url"]
    assert sim.saved == []


def test_untouched_it_goes_home_in_its_own_language(fresh_server, tmp_path):
    result = drive(fresh_server, "idle", tmp_path, idle=2, service="cert")
    assert result["language"] == "vi"
    assert 1.5 <= result["after_s"] <= 6


# ---- a branch of forty services ------------------------------------------------------------------

# Real names of Vietnam's one-stop fields and procedures, among the longest (Vietnamese, English).
LONG_NAMES = [
    ("Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
     "Registration of changes in land use rights and ownership of assets attached to land"),
    ("Cấp giấy phép xây dựng, điều chỉnh, gia hạn, cấp lại giấy phép xây dựng nhà ở riêng lẻ",
     "Construction permits: issuing, adjusting, extending and reissuing permits for detached houses"),
    ("Đăng ký thành lập, thay đổi, tạm ngừng, chấm dứt hoạt động hộ kinh doanh",
     "Household business registration: founding, changes, suspension and closure"),
    ("Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản, quyền sử dụng đất",
     "Certification of contracts and transactions on movable property and land use rights"),
    ("Giải quyết chế độ trợ cấp xã hội hằng tháng cho đối tượng bảo trợ xã hội",
     "Monthly social allowances for people under social protection"),
    ("Cấp giấy chứng nhận đủ điều kiện an toàn thực phẩm đối với cơ sở sản xuất, kinh doanh",
     "Food safety eligibility certificates for production and trading establishments"),
    ("Thu hồi đất, bồi thường, hỗ trợ, tái định cư khi Nhà nước thu hồi đất",
     "Land recovery, compensation, support and resettlement when the State recovers land"),
    ("Cấp, cấp lại, điều chỉnh giấy phép bán lẻ rượu, sản phẩm thuốc lá",
     "Issuing, reissuing and adjusting retail licences for liquor and tobacco products"),
]
SIZES = (1, 5, 12, 25, 40)
# The fields the made-up services take (one procedure of each), after Hoan Kiem's own five services' 14:
# a district branch queues 15-25 fields. Broadcasting's is the catalogue's longest field name.
MORE_FIELDS = ("labour", "social_protection", "meritorious", "children", "education", "health", "culture",
               "information", "religion")


def services_of(count: int, data: dict) -> list[str]:
    return [s["id"] for s in data["services"]][:count]


def take_fields(server, data) -> dict[str, list[str]]:
    """The made-up services take procedures of MORE_FIELDS in turn (admin API), s06 land's too (a service
    under two fields), the last none (under "other services"); each service's fields, as the catalogue says."""
    catalogue = json.loads((ROOT / "server" / "data" / "procedures.json").read_text(encoding="utf-8"))
    first = {}
    for procedure in catalogue["procedures"]:
        # A PATCH checks the whole procedure again, and a few shipped names run past the API's 100 characters.
        if max(len(procedure["name_vi"]), len(procedure["name_en"])) <= 100:
            first.setdefault(procedure["field"], procedure)
    made_up = [s["id"] for s in data["services"]][5:-1]
    taking = {field: list(first[field].get("services", [])) for field in (*MORE_FIELDS, "land")}
    for index, service in enumerate(made_up):
        taking[MORE_FIELDS[index % len(MORE_FIELDS)]].append(service)
    taking["land"].append(made_up[0])
    for field, services in taking.items():
        answer = requests.patch(f"{server.api}/admin/procedures/{first[field]['code']}", json={"services": services},
                                headers=server.auth("admin"), timeout=10)
        assert answer.ok, answer.text
    listed = next(b for b in server.get("/branches").json() if b["id"] == f"k{max(SIZES)}")["services"]
    return {s["id"]: [f["id"] for f in s["fields"]] for s in listed}


@pytest.fixture(scope="module")
def big_branches(tmp_path_factory):
    """One server whose branches k1 … k40 offer 1, 5, 12, 25 and 40 services: Hoan Kiem's five (civil,
    which takes birth registration, first), then services with the longest real names, which take
    procedures of other fields (take_fields); a kiosk each."""
    from conftest import PASSWORD, Server, free_port
    from motcua.accounts import Accounts
    from motcua.core import scenario
    from motcua.core.clock import SystemClock
    from motcua.store import Store

    data = scenario.load(ROOT / "server" / "data" / "scenarios" / "hoan-kiem.json")
    for index in range(len(data["services"]), max(SIZES)):
        vi, en = LONG_NAMES[index % len(LONG_NAMES)]
        data["services"].append({"id": f"s{index + 1:02d}", "name": {"vi": vi, "en": en},
                                 "description": {"vi": vi, "en": en}, "service_min": {"mean": 10}})
    template = dict(data["branches"][0])
    # Each branch a degree of latitude from the next: too far to be offered instead, so a ticket an earlier
    # run left waiting at one never sends the next run to the "better branch" screen.
    for far, count in enumerate(SIZES, start=1):
        offered = services_of(count, data)
        counters = [{"id": str(i // 4 + 1), "services": offered[i:i + 4]} for i in range(0, count, 4)]
        data["branches"].append({**template, "id": f"k{count}", "counters": counters, "lat": template["lat"] + far,
                                 "name": {"vi": f"Trung tâm {count} dịch vụ", "en": f"Centre of {count} services"}})
    folder = tmp_path_factory.mktemp("big")
    store = Store(folder / "motcua.db")
    store.load_network(scenario.services(data), scenario.branches(data), scenario.counters(data))
    accounts = Accounts(store, SystemClock(), 12.0)
    accounts.add_user("admin", PASSWORD, "admin", None)
    tokens = {"admin": accounts.login("admin", PASSWORD)[0]}
    tokens.update({f"k{count}": accounts.add_device("kiosk", f"k{count}") for count in SIZES})
    tokens["kiosk1"] = tokens["k1"]
    store.close()
    server = Server(folder / "motcua.db", free_port(), folder / "server.log", tokens=tokens)
    server.start()
    server.fields = take_fields(server, data)
    yield server, data
    server.kill(signal.SIGTERM)


@pytest.mark.parametrize("screen, suffix", [("1080x1920", ""), ("768x1366", "-768")])
@pytest.mark.parametrize("count", SIZES)
def test_every_service_of_a_big_branch_is_three_touches_away_by_field_readable_and_found_by_typing(
        big_branches, tmp_path, count, screen, suffix):
    server, data = big_branches
    branch = f"k{count}"
    # Every field visited in Vietnamese, each page's layout checked: minutes on a loaded machine at 40.
    result = drive(server, "browse", tmp_path, screen=screen, suffix=f"-{count}{suffix}", branch=branch,
                   token=server.tokens[branch], service="civil", typed="khai sinh", watchdog=480, timeout=500)
    assert result["problems"] == []
    offered = services_of(count, data)
    fields = {s: server.fields[s] or ["other"] for s in offered}
    if result["fields"]["vi"]:                    # grouped: each field its own services, each under every field
        assert sorted(result["fields"]["vi"]) == sorted({f for s in offered for f in fields[s]})
        assert sorted(result["seen"]["vi"]) == sorted(s for s in offered for _ in fields[s])
        assert len(result["fields"]["en"]) == len(result["fields"]["vi"])
    else:                                         # few services: today's list, each once
        assert sorted(result["seen"]["vi"]) == sorted(offered)
        assert sum(result["pages"]["vi"]) == 1, "paged where fields were there to group by"
    assert (count >= 12) == bool(result["fields"]["vi"]), "grouped by field exactly when the list does not fit"
    assert set(result["touches"]["vi"]) == set(offered)
    assert max(result["touches"]["vi"].values()) <= 3 and max(result["touches"]["en"].values()) <= 3
    assert set(result["seen"]["en"]) <= set(offered)
    assert all(result["per_page"]["vi"]), "an empty page"
    assert result["touched_last"] == result["seen"]["en"][-1]
    assert result["found"][0] == "civil"
    ticket = result["ticket"]
    assert ticket["number"] in result["texts"]
    held = server.get(f"/tickets/{ticket['id']}").json()
    assert (held["branch"], held["service"]) == (branch, "civil")
    for name in ("search-empty", "search-found"):
        shot(f"{name}-{count}{suffix}")
    for name in (("home-vi-fields", "home-en-fields") if result["fields"]["vi"] else ("home-vi-1", "home-en-1")):
        shot(f"{name}-{count}{suffix}")


# ---- a revoked kiosk ------------------------------------------------------------------------------

def revoke_kiosk(server, branch: str = "hk-01") -> None:
    admin = server.auth("admin")
    devices = requests.get(server.api + "/admin/devices", headers=admin, timeout=10).json()
    device = next(d for d in devices if d["kind"] == "kiosk" and d["branch"] == branch)
    assert requests.delete(f"{server.api}/admin/devices/{device['id']}", headers=admin, timeout=10).ok


def test_a_kiosk_revoked_while_idle_says_out_of_service_by_itself_and_one_revoked_before_never_shows_the_menu(
        fresh_server, tmp_path):
    def on_event(message, proc):
        if message["event"] == "home":
            revoke_kiosk(fresh_server)

    result = drive(fresh_server, "revoked", tmp_path, on_event=on_event, **{"token-check": 1})
    assert result["screen"] == "message"
    assert text("vi", "kiosk.out_of_service_title") in result["texts"]
    assert text("vi", "kiosk.out_of_service_body") in result["texts"]
    assert result["after_s"] < 10
    started = drive(fresh_server, "revoked_start", tmp_path)
    assert text("vi", "kiosk.out_of_service_title") in started["texts"]
    assert not started["loaded"] and not any(t.startswith("service:") for t in started["targets"])
    shot("out-of-service")
    shot("out-of-service-start")


# ---- a closed branch ------------------------------------------------------------------------------

def close_branch(server, closed: bool, branch: str = "hk-01") -> None:
    answer = requests.patch(f"{server.api}/admin/branches/{branch}", json={"closed": closed},
                            headers=server.auth("admin"), timeout=10)
    assert answer.ok, answer.text


@pytest.mark.parametrize("screen, suffix", [("1080x1920", ""), ("768x1366", "-768")])
def test_a_kiosk_at_a_closed_branch_says_it_is_closed_and_serves_again_once_reopened(fresh_server, tmp_path,
                                                                                   screen, suffix):
    close_branch(fresh_server, True)

    def on_event(message, proc):
        if message["event"] == "closed":
            close_branch(fresh_server, False)

    result = drive(fresh_server, "closed", tmp_path, on_event=on_event, screen=screen, suffix=suffix,
                   **{"token-check": 1})
    for lang in ("vi", "en"):
        assert text(lang, "kiosk.branch_closed_title") in result["texts"]
        assert text(lang, "kiosk.branch_closed_body") in result["texts"]
    assert not any(t.startswith(("service:", "field:", "search")) for t in result["targets"])
    assert result["loaded"] and result["services"] == 5          # reopened: the menu is back by itself
    shot("branch-closed" + suffix)
