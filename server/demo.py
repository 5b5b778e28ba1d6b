"""`motcua demo`: a scenario (Hoan Kiem unless named) served live, with simulated kiosks and officers.

The simulated citizens and officers use the published HTTP interface like real devices, at the
scenario's hourly arrival rates and service times, `speed` times faster than real time. Each branch's
simulated counters are worked by an officer account of their own (`sim-{branch}`), which takes
each counter by calling at it, as a real officer would.

The demo keeps what it made between starts (its database, documents, document key, accounts and
kiosk tokens, the latter two in `{db}.demo.json` beside the database) unless told `--fresh`.
"""
from __future__ import annotations

import dataclasses
import json
import os
import random
import secrets
import shutil
import time
from pathlib import Path

import requests
from cryptography.fernet import Fernet
from requests.adapters import HTTPAdapter

from motcua.config import Config, override
from motcua.core import scenario
from motcua.core.catalogue import LiveCatalogue
from motcua.core.dossier_codes import lookup_check
from motcua.core.model import staff_actor
from motcua.core.stats import lognormal
from motcua.documents import configured_key, documents_beside, key_file, write_key_file

DEMO_ADMIN = "admin"
# Staff accounts for whoever tries the demo, at its first branch; that branch's counter 1 is the
# officer's, held for them (the simulated officers leave it alone).
DEMO_STAFF = {"canbo": "officer", "quanly": "manager"}
HUMAN_COUNTER = "1"
# A department user for the demo's /department page: the competent department of DEMO_DOSSIERS.
DEMO_DEPARTMENT_USER, DEMO_DEPARTMENT = "phongtp", "justice"
# The demo's dossiers at its first branch: (procedure, days ago received, the moves made since, the
# citizen). Some at the department, one waiting to be collected, one returned, one past its due date,
# so the department page, /d/{code} and the dossier reports have something to show.
DEMO_DOSSIERS = (
    ("HT-KH", 1, ("digitized", "processing"), ("001090012345", "Nguyễn Văn An", "0987654321")),
    ("HT-XNHN", 2, ("digitized", "processing", "supplement_requested"), ("001185023456", "Trần Thị Bình", "")),
    ("HT-KS", 1, ("digitized", "processing", "result_ready"), ("079090034567", "Lê Minh Châu", "0912345678")),
    ("HT-CC", 6, ("digitized", "processing", "result_ready", "returned"), ("001190045678", "Phạm Thu Dung", "")),
    ("HT-KT", 8, ("digitized", "processing"), ("031088056789", "Hoàng Văn Em", "")),
    ("KD-TL", 0, (), ("001095067890", "Vũ Thị Giang", "")),
)
# The department's request for a supplement, as an officer would write it (demo data, as the names).
DEMO_NOTE = "Đề nghị bổ sung bản sao có chứng thực giấy tờ tùy thân"
# Why the demo's dossiers were sent on with no scan attached (each required document needs a reason).
DEMO_PAPERS = "Hồ sơ mẫu: giấy tờ nộp bản giấy"
# Who makes each move in the demo: the counter's officer, or the department.
DEMO_MOVERS = {"supplement_requested": "department", "result_ready": "department"}
DAY = 24 * 3600
KIOSK_TOML = """# A kiosk of {name} for the motcua demo: motcua kiosk --config {path} --windowed
[kiosk]
server_url = "{base}"
branch = "{branch}"
token = "{token}"
fullscreen = false
"""


def run_demo(config: Config, speed: float | None = None, duration: float | None = None,
             db: str | None = None, scenario_name: str = "hoan-kiem", fresh: bool = False) -> None:
    from motcua.backup import writer
    from motcua.server_main import serve

    speed = speed or config.demo.speed
    path = Path(db or config.demo.db)
    data = scenario.load(scenario.named(scenario_name))  # before anything is touched: a bad name changes nothing
    first = data["branches"][0]
    # Before anything is touched: --fresh would otherwise delete a database another server is writing.
    writing = writer(path)
    secrets_path = demo_secrets(path)
    made = json.loads(secrets_path.read_text(encoding="utf-8")) if path.exists() and secrets_path.exists() else {}
    # Kept only when it was made on the same scenario: another city's database is not this one's.
    kept = not fresh and made.get("scenario") == scenario_name
    if kept:
        print(f"motcua demo: kept {path}, its documents, accounts and kiosk tokens from the last start "
              f"(--fresh starts anew)", flush=True)
    else:
        print(f"motcua demo: {'started anew' if path.exists() else 'new'}: {path}, its documents, accounts and "
              f"kiosk tokens{' (--fresh)' if fresh else ''}", flush=True)
        made = _new_demo(config, path, data, scenario_name)
    officers = _sign_in_simulated(config, path, data, made["simulated"])
    # The demo's documents are encrypted under the configured key, else under one kept beside its database.
    if not configured_key(config.dossiers.document_key) and not key_file(path).exists():
        write_key_file(key_file(path), Fernet.generate_key().decode())
    # Its documents are its own, beside its database, whatever folder a real server is configured with.
    config = override(config, server={"db": str(path)}, dossiers={"documents": str(documents_beside(path))})
    base = f"http://{config.server.host}:{config.server.port}"
    kiosk_toml = path.with_name("kiosk.toml")
    kiosk_toml.write_text(KIOSK_TOML.format(name=first["name"]["en"], path=kiosk_toml, base=base, branch=first["id"],
                                            token=made["kiosk"]), encoding="utf-8")

    def start_traffic(app):
        _wait_until_up(base)
        traffic = DemoTraffic(base, data, made["kiosks"], officers, speed, random.Random(data.get("seed", 1)))  # nosec B311  # demo traffic
        traffic.start(app)
        _print_urls(base, data, made["passwords"], kiosk_toml, made["kiosk"], made["dossiers"])
        if duration:
            time.sleep(duration)
            # Every change was committed before it was answered: nothing is lost by leaving now.
            print("motcua demo: duration reached, stopping", flush=True)
            os._exit(0)

    serve(config, on_ready=start_traffic, demo={"speed": speed, "branch": first["id"], "counter": HUMAN_COUNTER},
          writing=writing)


def demo_secrets(db: Path) -> Path:
    """Where the demo keeps the passwords and tokens it printed, beside its database (mode 0600)."""
    return Path(f"{db}.demo.json")


def _new_demo(config: Config, path: Path, data: dict, scenario_name: str) -> dict:
    """A new demo database, documents folder and key: the network, accounts, kiosks and dossiers; what
    it made to print, also written to demo_secrets(path)."""
    from motcua.accounts import Accounts
    from motcua.core.clock import SystemClock
    from motcua.store import Store

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(documents_beside(path), ignore_errors=True)
    key_file(path).unlink(missing_ok=True)
    store = Store(path, config.server.sqlite_synchronous)
    # The visitor's counter starts paused, and held by the demo's officer: until they sign in and
    # resume it, the estimates deal it nobody, as they would a desk with nobody at it.
    human = (data["branches"][0]["id"], HUMAN_COUNTER)
    counters = [dataclasses.replace(c, pause_reason="other", holder=staff_actor("canbo"), held_since=time.time())
                if (c.branch, c.id) == human else c for c in scenario.counters(data)]
    store.load_network(scenario.services(data), scenario.branches(data), counters)
    catalogue = LiveCatalogue(store, config.dossiers.procedures or None).current
    accounts = Accounts(store, SystemClock(), config.auth.token_ttl_hours, departments=set(catalogue.departments))
    first = data["branches"][0]
    passwords = {DEMO_ADMIN: secrets.token_urlsafe(9)}
    accounts.add_user(DEMO_ADMIN, passwords[DEMO_ADMIN], "admin", None)
    for name, role in DEMO_STAFF.items():
        passwords[name] = secrets.token_urlsafe(9)
        accounts.add_user(name, passwords[name], role, first["id"])
    kiosks = {b["id"]: accounts.add_device("kiosk", b["id"]) for b in data["branches"]}
    # The simulated officers: one account per branch, signed in at each start (not through the login limits).
    simulated = secrets.token_urlsafe(12)
    for branch in data["branches"]:
        accounts.add_user(f"sim-{branch['id']}", simulated, "officer", branch["id"])
    if DEMO_DEPARTMENT in catalogue.departments:
        passwords[DEMO_DEPARTMENT_USER] = secrets.token_urlsafe(9)
        accounts.add_user(DEMO_DEPARTMENT_USER, passwords[DEMO_DEPARTMENT_USER], "department", None,
                          department=DEMO_DEPARTMENT)
    made = {"scenario": scenario_name, "passwords": passwords, "simulated": simulated, "kiosks": kiosks,
            # A kiosk of its own for whoever tries the demo, beside the simulated ones.
            "kiosk": accounts.add_device("kiosk", first["id"]),
            "dossiers": _demo_dossiers(store, config, catalogue, first["id"])}
    store.close()
    secrets_path = demo_secrets(path)
    secrets_path.unlink(missing_ok=True)
    with os.fdopen(os.open(secrets_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as out:
        json.dump(made, out, indent=1)
    return made


def _sign_in_simulated(config: Config, path: Path, data: dict, password: str) -> dict[str, str]:
    """A token for each branch's simulated officer, by branch."""
    from motcua.accounts import Accounts
    from motcua.core.clock import SystemClock
    from motcua.store import Store

    store = Store(path, config.server.sqlite_synchronous)
    try:
        accounts = Accounts(store, SystemClock(), config.auth.token_ttl_hours)
        return {b["id"]: accounts.login(f"sim-{b['id']}", password)[0] for b in data["branches"]}
    finally:
        store.close()


def _wait_until_up(base: str) -> None:
    for _ in range(100):
        try:
            if requests.get(f"{base}/api/v1/health", timeout=5).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("the demo server did not start")


def _demo_dossiers(store, config: Config, catalogue, branch: str) -> list[str]:
    """DEMO_DOSSIERS at branch, each opened its days ago and moved along then; their codes."""
    from motcua.core.clock import FakeClock
    from motcua.core.dossiers import COUNTER, DEPARTMENT, Citizen, DossierRules, Dossiers, parse_holidays
    from motcua.core.intake import MissingReason

    # On a clock of its own, set back: a dossier received days ago has its due date, and perhaps is overdue.
    clock = FakeClock(time.time())
    rules = DossierRules(config.queue.timezone, parse_holidays(config.dossiers.holidays))
    service = Dossiers(store, clock, catalogue, rules)
    codes = []
    now = clock.now()
    for procedure, days_ago, moves, (id_number, name, phone) in DEMO_DOSSIERS:
        if procedure not in catalogue.procedures:
            continue  # a city's own catalogue without it
        clock.set(now - days_ago * DAY)
        code = service.open(procedure, Citizen(id_number, name, phone), branch, "staff:canbo")["code"]
        papers = [MissingReason(k.kind, "other", DEMO_PAPERS) for k in catalogue.procedures[procedure].documents]
        for step, to in enumerate(moves):
            clock.set(now - days_ago * DAY + (step + 1) * (days_ago * DAY / (len(moves) + 1)))
            side = DEMO_MOVERS.get(to, COUNTER)
            actor = f"staff:{DEMO_DEPARTMENT_USER}" if side == "department" else "staff:canbo"
            service.move(code, to, {DEPARTMENT if side == "department" else COUNTER}, actor,
                         None if side == "department" else branch,
                         DEMO_NOTE if to == "supplement_requested" else None, missing=papers)
        codes.append(code)
    return codes


def _print_urls(base: str, data: dict, passwords: dict, kiosk_toml: Path, kiosk_token: str,
                dossiers: list[str]) -> None:
    print("\nmotcua demo is live (Ctrl-C stops it). Open:", flush=True)
    print(f"  start page:   {base}/")
    for branch in data["branches"]:
        print(f"  {branch['name']['vi']}: wall display {base}/display/{branch['id']}  "
              f"state {base}/api/v1/branches/{branch['id']}/state")
    print("  a ticket's phone page is /t/<ticket id> (the status_url of every ticket)")
    print(f"  all branches: {base}/api/v1/branches")
    print(f"  OpenAPI:      {base}/api/v1/openapi.json")
    print(f"  a kiosk of {data['branches'][0]['id']}: token {kiosk_token}")
    print(f"                written to {kiosk_toml}: motcua kiosk --config {kiosk_toml} --windowed")
    first = data["branches"][0]["id"]
    print(f"  staff pages:  {base}/login, then {base}/counter, {base}/manager, {base}/admin")
    print(f"                officer of {first} (counter {HUMAN_COUNTER} is held for you, paused until you resume it): "
          f"canbo / {passwords['canbo']}")
    print(f"                manager of {first}: quanly / {passwords['quanly']}")
    if DEMO_DEPARTMENT_USER in passwords:
        print(f"  department:   {base}/department as {DEMO_DEPARTMENT}: {DEMO_DEPARTMENT_USER} / "
              f"{passwords[DEMO_DEPARTMENT_USER]}")
    for code in dossiers:
        check = lookup_check(code)
        print(f"  dossier:      {base}/d/{code}" + (f"?check={check}" if check else ""))
    print(f"  staff login:  {DEMO_ADMIN} / {passwords[DEMO_ADMIN]} (admin of every branch)", flush=True)


# The simulated kiosks and officers, one thread each (a hundred in a real-size city), share this many kept
# connections: well under [server] max_connections_per_address, so that on a loaded machine they never fill
# the loopback address's share and a person's browser on the same machine is never answered 503 server_busy.
TRAFFIC_CONNECTIONS = 16


class DemoTraffic:
    """Simulated kiosks (Poisson arrivals) and officers (lognormal services) over HTTP."""

    def __init__(self, base, data, kiosk_tokens, officer_tokens, speed, rng) -> None:
        self.api = f"{base}/api/v1"
        self.data = data
        self.kiosks = kiosk_tokens
        self.officers = {branch: {"Authorization": f"Bearer {token}"} for branch, token in officer_tokens.items()}
        self.speed = speed
        self.rng = rng
        self.services = {s["id"]: s["service_min"] for s in data["services"]}
        self.started = time.monotonic()
        self.http = requests.Session()
        self.http.mount("http://", HTTPAdapter(pool_maxsize=TRAFFIC_CONNECTIONS, pool_block=True))

    def start(self, app) -> None:
        from motcua.web.events import socketio

        for arrival in self.data["arrivals"]:
            socketio.start_background_task(self._arrivals, arrival)
        for index, branch in enumerate(self.data["branches"]):
            for counter in branch["counters"]:
                if index == 0 and counter["id"] == HUMAN_COUNTER:
                    continue  # the visitor's own counter
                socketio.start_background_task(self._counter, branch["id"], counter["id"])

    def _hourly_rate(self, per_hour: list[float]) -> float:
        scenario_hour = (time.monotonic() - self.started) * self.speed / 3600
        return per_hour[int(scenario_hour) % len(per_hour)]

    def _arrivals(self, arrival: dict) -> None:
        headers = {"Authorization": f"Bearer {self.kiosks[arrival['branch']]}"}
        while True:
            rate = max(self._hourly_rate(arrival["per_hour"]), 0.1)
            time.sleep(self.rng.expovariate(rate) * 3600 / self.speed)
            body = {"service": arrival["service"],
                    "priority": self.rng.random() < self.data.get("priority_share", 0.05)}
            self._post(f"/branches/{arrival['branch']}/tickets", body, headers)

    def _counter(self, branch: str, counter: str) -> None:
        officer = self.officers[branch]
        while True:
            answer = self._post(f"/branches/{branch}/counters/{counter}/next", None, officer)
            ticket = (answer or {}).get("ticket")
            if not ticket:
                time.sleep(2)
                continue
            params = self.services[ticket["service"]]
            minutes = lognormal(self.rng, params["mean"], params.get("cv", 0.6))
            time.sleep(min(10.0, 15 / self.speed))
            self._post(f"/tickets/{ticket['id']}/start", None, officer)
            time.sleep(max(0.0, minutes * 60 / self.speed - 15 / self.speed))
            self._post(f"/tickets/{ticket['id']}/done", None, officer)

    def _post(self, path: str, body, headers) -> dict | None:
        try:
            answer = self.http.post(self.api + path, json=body, headers=headers, timeout=10)
            return answer.json() if answer.ok else None
        except requests.RequestException:
            return None
