"""An offer that arises at another branch reaches the waiting ticket's phone: the server's sweep
([remote] sweep_s) tells it, since nothing changed at the ticket's own branch to push its view."""
from __future__ import annotations

import threading
import time

from motcua.server_main import sweep_offers
from test_sockets import events, site  # noqa: F401 (a fixture)

# Land is served at hk-02 (counter 3), hk-03 (3) and hn-hq (3, 4) too: taken from them, only hk-01 serves it.
OTHER_LAND = (("hk-02", "3", ("land",)), ("hk-03", "3", ("land", "build")), ("hn-hq", "3", ("land",)),
              ("hn-hq", "4", ("land",)))


def engine(site):
    return site.app.extensions["motcua"].engine


def behind_a_crowd_with_land_nowhere_else(site) -> tuple[dict, object]:
    """A land ticket at hk-01 behind twelve, land served nowhere else (so no offer), and a phone following it."""
    for branch, counter, _ in OTHER_LAND:
        engine(site).update_counter(branch, counter, services=("business",) if counter != "4" else ("civil",))
    for _ in range(12):
        site.issue("land")
    mine = site.issue("land")
    site.broadcaster.drain()   # hk-01's own changes pushed: from here only what the test does moves
    phone = site.client()
    assert phone.emit("subscribe", {"ticket": mine["id"]}, callback=True) == {"ok": True}
    [first] = events(phone, "ticket")
    assert first["offer"] is None
    return mine, phone


def test_a_branch_that_takes_the_service_up_again_is_offered_on_the_phone_at_the_next_sweep(site):
    mine, phone = behind_a_crowd_with_land_nowhere_else(site)
    # hk-02's counter 3 serves land again: a change at hk-02 alone. Its own pushes leave hk-01's phones alone.
    engine(site).update_counter("hk-02", "3", services=("land",))
    site.broadcaster.drain()
    assert [v for v in events(phone, "ticket") if v["offer"]] == []
    # The sweep tells the phone; its view carries the offer the page shows and the tap takes.
    assert site.broadcaster.refresh_offers() == 1
    [told] = events(phone, "ticket")
    assert told["id"] == mine["id"] and told["offer"]["branch"] == "hk-02" and told["offer"]["saving_min"] >= 1
    # Nothing changed since: the next sweep sends nothing again.
    assert site.broadcaster.refresh_offers() == 0 and events(phone, "ticket") == []
    # The offer gone elsewhere (hk-02 stops serving land): the phone hears that too, once.
    engine(site).update_counter("hk-02", "3", services=("business",))
    site.broadcaster.drain()
    assert site.broadcaster.refresh_offers() == 1
    [gone] = events(phone, "ticket")
    assert gone["offer"] is None
    # The phone gone, the ticket is no longer looked at.
    phone.disconnect()
    assert site.broadcaster.refresh_offers() == 0 and mine["id"] not in site.broadcaster.offered


def test_the_servers_sweep_task_refreshes_the_offers_every_sweep_s(site):
    mine, phone = behind_a_crowd_with_land_nowhere_else(site)
    engine(site).update_counter("hk-02", "3", services=("land",))
    site.broadcaster.drain()
    stop = threading.Event()

    def sleep(seconds):
        if stop.wait(seconds):
            raise SystemExit   # ends the task's loop when the test is done
    task = threading.Thread(target=lambda: _quietly(sweep_offers, site.broadcaster, 0.05, sleep), daemon=True)
    task.start()
    try:
        deadline, heard = time.monotonic() + 5, []
        while not heard and time.monotonic() < deadline:
            heard = [v for v in events(phone, "ticket") if v["offer"]]
            time.sleep(0.02)
        assert heard and heard[0]["offer"]["branch"] == "hk-02"
    finally:
        stop.set()
        task.join(5)


def _quietly(task, *args):
    try:
        task(*args)
    except SystemExit:
        pass
