"""Concurrency and durability against a real server process."""
from __future__ import annotations

import threading
from collections import defaultdict

import requests


def test_eight_kiosks_at_once_never_share_a_number(fresh_server):
    numbers, barrier = [], threading.Barrier(8)

    def kiosk(service):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {fresh_server.tokens['kiosk1']}"
        barrier.wait()
        for _ in range(40):
            answer = session.post(fresh_server.api + "/branches/hk-01/tickets", json={"service": service})
            assert answer.status_code == 201
            numbers.append(answer.json()["number"])

    threads = [threading.Thread(target=kiosk, args=("civil" if i % 2 else "cert",)) for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(numbers) == 320 and len(set(numbers)) == 320
    assert sorted(n for n in numbers if n[0] == "A") == [f"A{i:03d}" for i in range(1, 161)]


def test_two_counters_pressing_next_1000_times_never_get_the_same_ticket(fresh_server):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {fresh_server.tokens['kiosk1']}"
    for _ in range(1000):
        session.post(fresh_server.api + "/branches/hk-01/tickets", json={"service": "civil"}).raise_for_status()
    got, barrier = defaultdict(list), threading.Barrier(2)

    def officer(counter):
        officer_session = requests.Session()
        officer_session.headers["Authorization"] = f"Bearer {fresh_server.tokens['off1']}"
        barrier.wait()
        for _ in range(1000):
            answer = officer_session.post(f"{fresh_server.api}/branches/hk-01/counters/{counter}/next")
            assert answer.status_code == 200, answer.text
            ticket = answer.json()["ticket"]
            if ticket is None:
                return
            got[counter].append(ticket["id"])
            officer_session.post(f"{fresh_server.api}/tickets/{ticket['id']}/done").raise_for_status()

    threads = [threading.Thread(target=officer, args=(c,)) for c in ("1", "2")]
    [t.start() for t in threads]
    [t.join() for t in threads]
    every = got["1"] + got["2"]
    assert len(every) == 1000 and len(set(every)) == 1000
    assert got["1"] and got["2"]


def test_sigkill_mid_issue_loses_no_acknowledged_ticket(fresh_server):
    acknowledged, stop = [], threading.Event()

    def kiosk():
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {fresh_server.tokens['kiosk1']}"
        while not stop.is_set():
            try:
                answer = session.post(fresh_server.api + "/branches/hk-01/tickets", json={"service": "land"},
                                      timeout=5)
            except requests.RequestException:
                return  # the server died under us: this one was never acknowledged
            if answer.status_code == 201:
                acknowledged.append(answer.json())

    kiosks = [threading.Thread(target=kiosk) for _ in range(4)]
    [t.start() for t in kiosks]
    while len(acknowledged) < 150:
        threading.Event().wait(0.01)
    fresh_server.kill()  # SIGKILL, in the middle of the stream
    stop.set()
    [t.join() for t in kiosks]
    fresh_server.start()

    positions = {}
    for ticket in acknowledged:
        stored = requests.get(f"{fresh_server.api}/tickets/{ticket['id']}").json()
        assert (stored["number"], stored["status"]) == (ticket["number"], "waiting")
        positions[ticket["number"]] = stored["position"]
    in_number_order = [positions[n] for n in sorted(positions)]
    assert in_number_order == sorted(in_number_order) and len(set(in_number_order)) == len(in_number_order)
    after = fresh_server.post("/branches/hk-01/tickets", "kiosk1", {"service": "land"}).json()
    assert after["number"] > max(positions) and after["position"] > max(positions.values())
