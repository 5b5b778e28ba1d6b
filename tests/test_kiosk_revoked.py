"""A kiosk revoked by an admin: its branch's staff room hears a `kiosk` event naming it out of service, on a
real server over a real Socket.IO client, and the manager's page (real Chromium) says so in its language;
another branch's staff hear nothing of it."""
from __future__ import annotations

import queue
import re
import time

import requests
import socketio
from playwright.sync_api import expect

from conftest import PASSWORD, SCREENSHOTS
from motcua.i18n import text


class Staff:
    """A real Socket.IO client in a branch's staff room, keeping its `kiosk` events."""

    def __init__(self, server, branch: str, who: str) -> None:
        self.heard: queue.Queue = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("kiosk", self.heard.put)
        self.client.on("staff_queue", lambda data: self.heard.put({"staff_queue": True}))
        self.client.connect(server.base, transports=["websocket"], wait_timeout=10)
        assert self.client.call("subscribe_staff", {"branch": branch, "token": server.tokens[who]},
                                timeout=10) == {"ok": True}

    def kiosk_events(self, within: float, first: bool = False) -> list[dict]:
        """The `kiosk` events heard within `within` seconds (the first one only, as soon as heard, if first)."""
        deadline, found = time.monotonic() + within, []
        while (left := deadline - time.monotonic()) > 0 and not (first and found):
            try:
                data = self.heard.get(timeout=left)
            except queue.Empty:
                break
            if "staff_queue" not in data:
                found.append(data)
        return found

    def wait_kiosk(self, timeout: float = 5.0) -> dict:
        found = self.kiosk_events(timeout, first=True)
        assert found, f"no kiosk event within {timeout} s"
        return found[0]

    def close(self) -> None:
        self.client.disconnect()


def test_revoking_a_kiosk_tells_its_branch_staff_room_which_kiosk_is_out_of_service(fresh_server, chromium):
    server = fresh_server
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    assert context.request.post(server.api + "/auth/session", data={"username": "mgr1", "password": PASSWORD}).ok
    page = context.new_page()
    page.goto(server.base + "/manager")
    page.wait_for_selector(".counter-card[data-counter='3']", state="attached")
    expect(page.locator("#kiosk-alert")).to_be_hidden()
    admin = server.auth("admin")
    devices = requests.get(server.api + "/admin/devices", headers=admin, timeout=10).json()
    kiosk = next(d for d in devices if d["kind"] == "kiosk" and d["branch"] == "hk-01")
    display = next(d for d in devices if d["kind"] == "display" and d["branch"] == "hk-01")
    here, elsewhere = Staff(server, "hk-01", "mgr1"), Staff(server, "hk-02", "off2")
    try:
        assert requests.delete(f"{server.api}/admin/devices/{display['id']}", headers=admin, timeout=10).ok
        assert requests.delete(f"{server.api}/admin/devices/{kiosk['id']}", headers=admin, timeout=10).ok
        told = here.wait_kiosk()
        assert (told["branch"], told["kiosk"], told["problem"]) == ("hk-01", kiosk["id"], "revoked")
        assert told["at"]
        assert here.kiosk_events(1.0) == [], "a display's revocation is no kiosk news"
        assert elsewhere.kiosk_events(0.5) == []
        refused = requests.get(server.api + "/auth/me", headers=server.auth("kiosk1"), timeout=10)
        assert refused.status_code == 401
        said = page.locator("#kiosk-alert")
        expect(said).to_have_text(text("vi", "manager.kiosk_revoked", kiosk=kiosk["id"], time=told["at"][11:16]))
        page.screenshot(path=str(SCREENSHOTS / "manager-kiosk-revoked-vi.png"))
        page.click("#staff-lang")
        expect(said).to_have_text(text("en", "manager.kiosk_revoked", kiosk=kiosk["id"], time=told["at"][11:16]))
        assert re.search(r"\d\d:\d\d", said.inner_text())
        page.screenshot(path=str(SCREENSHOTS / "manager-kiosk-revoked-en.png"))
    finally:
        here.close()
        elsewhere.close()
        context.close()
