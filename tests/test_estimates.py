"""Estimates on a real server: reading them changes nothing, and what the server learned about
how its estimates turn out survives a restart."""
from __future__ import annotations

import math


def prior_range(minutes: float) -> list[int]:
    """The wide range shown before a branch has seen enough calls (±4·√(estimate + 1))."""
    spread = 4 * math.sqrt(minutes + 1)
    return [round(max(0.0, minutes - spread)), round(minutes + spread)]


def test_the_learned_wait_range_survives_a_restart(fresh_server):
    server = fresh_server
    for _ in range(35):  # estimates of 0, 0, 9, 9, 18… minutes, every one called within seconds
        assert server.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).status_code == 201
    for turn in range(35):
        called = server.post(f"/branches/hk-01/counters/{1 + turn % 2}/next", "off1").json()["ticket"]
        assert server.post(f"/tickets/{called['id']}/done", "off1").status_code == 200
    probe = server.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).json()
    assert probe["estimated_wait_min"] == 0
    learned = probe["estimated_wait_range_min"]
    assert learned != prior_range(0)  # calls came sooner than estimated, and the range says so
    assert [server.get(f"/tickets/{probe['id']}").json()["estimated_wait_range_min"] for _ in range(3)] == [learned] * 3
    server.kill()  # SIGKILL: nothing but the database carries over
    server.start()
    assert server.get(f"/tickets/{probe['id']}").json()["estimated_wait_range_min"] == learned
