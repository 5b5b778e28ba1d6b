"""The kiosk's side of the HTTP API: short timeouts, and two kinds of failure the screens tell
apart — nobody answered (retry later, promise nothing) and the server said no (show why)."""
from __future__ import annotations

from urllib.parse import quote

import requests


class ServerUnreachable(Exception):
    """No answer, or no usable answer: the kiosk says so calmly and tries again later."""


class ServerRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class KioskClient:
    def __init__(self, server_url: str, token: str, timeout_s: float = 5.0) -> None:
        self.base = server_url.rstrip("/") + "/api/v1"
        self.token, self.timeout_s = token, timeout_s
        self.http = requests.Session()

    def me(self) -> dict:
        """Who the kiosk's token stands for: a cheap authenticated call that says whether it still holds."""
        return self._call("GET", "/auth/me")

    def branches(self) -> list[dict]:
        return self._call("GET", "/branches")

    def availability(self, branch: str, service: str) -> dict:
        return self._call("GET", f"/branches/{branch}/services/{service}/availability")

    def issue(self, branch: str, service: str, priority: bool, lang: str) -> dict:
        return self._call("POST", f"/branches/{branch}/tickets", {"service": service, "priority": priority, "lang": lang})

    def card_priority(self, branch: str, card: str) -> dict:
        """{"priority": bool}: whether a scanned ID card's holder is served first for their age; 400 bad_card."""
        return self._call("POST", f"/branches/{branch}/cards", {"card": card})

    def issue_with_card(self, branch: str, service: str, priority: bool, lang: str, card: str) -> dict:
        """A ticket for the holder of a scanned ID card, linked to them for the branch's staff only."""
        return self._call("POST", f"/branches/{branch}/tickets/card",
                          {"service": service, "priority": priority, "lang": lang, "card": card})

    def redirect(self, ticket_id: str, branch: str) -> dict:
        return self._call("POST", f"/tickets/{ticket_id}/redirect", {"branch": branch})

    def not_printed(self, ticket_id: str, problem: str) -> dict:
        return self._call("POST", f"/tickets/{ticket_id}/not-printed", {"problem": problem})

    def rate(self, branch: str, number: str, code: str, score: int, reasons: list[str]) -> dict:
        return self._call("POST", f"/branches/{branch}/tickets/{number}/rating",
                          {"score": score, "reasons": reasons, "code": code})

    def check_in(self, branch: str, number: str) -> dict:
        """A ticket taken from afar, checked in by its number: 404 unknown_ticket, 409 window_missed."""
        return self._call("POST", f"/branches/{branch}/tickets/{quote(number, safe='')}/check-in")

    def check_in_appointment(self, branch: str, code: str | None = None, id_number: str | None = None) -> dict:
        """Today's appointment checked in by its code or the ID number it was booked with: its ticket (a walk-in's,
        for a holder past the grace); 404 unknown_appointment, 409 too_early."""
        body = {"code": code} if code is not None else {"id_number": id_number}
        return self._call("POST", f"/branches/{branch}/appointments/check-in", body)

    def later_slot(self, branch: str, service: str) -> dict:
        """The slot offered a walk-in instead of the queue, or {"slot": null}: 404 unknown_service."""
        return self._call("GET", f"/branches/{branch}/later-slot?service={quote(service, safe='')}")

    def take_later_slot(self, branch: str, service: str, start: str, lang: str) -> dict:
        """The offered later slot booked (the appointment, with its code): 409 slot_full when no longer offered."""
        return self._call("POST", f"/branches/{branch}/later-slot", {"service": service, "start": start, "lang": lang})

    def procedures(self) -> list[dict]:
        return self._call("GET", "/procedures")

    def dossier(self, code: str) -> dict:
        """The public view of a dossier (no personal data); 400 bad_code, 404 unknown_dossier."""
        return self._call("GET", "/dossiers/" + quote(code, safe=""))

    def evaluation_state(self, code: str) -> dict:
        """Whether a dossier may be evaluated (returned) and has been: {code, returned, evaluated}."""
        return self._call("GET", "/dossiers/" + quote(code, safe="") + "/evaluation")

    def evaluate(self, code: str, indicators: list[int], convenience: str, overall: str) -> dict:
        """The dossier's statutory evaluation, as the kiosk's: 409 not_returned, already_evaluated."""
        return self._call("POST", "/dossiers/" + quote(code, safe="") + "/evaluation",
                          {"indicators": indicators, "convenience": convenience, "overall": overall})

    def _call(self, method: str, path: str, body: dict | None = None):
        try:
            answer = self.http.request(method, self.base + path, json=body, timeout=self.timeout_s,
                                       headers={"Authorization": f"Bearer {self.token}"})
        except requests.RequestException as error:
            self.http = requests.Session()  # a restarted server: do not reuse dead connections
            raise ServerUnreachable(str(error)) from None
        try:
            payload = answer.json()
        except ValueError:
            raise ServerUnreachable(f"{answer.status_code}: not JSON") from None
        if answer.status_code >= 500:
            raise ServerUnreachable(f"{answer.status_code}: {payload}")
        if answer.status_code >= 400:
            error = payload.get("error", {}) if isinstance(payload, dict) else {}
            raise ServerRefused(answer.status_code, str(error.get("code", "refused")), str(error.get("message", "")))
        return payload
