"""What the kiosk does, without Kivy: the screens call these and show what comes back.

Nothing is promised before the server has committed it: `take_ticket` either returns a ticket the
server holds or raises. A printer failure never loses the ticket: it stays on screen with its QR,
the server records it as not printed and tells the branch's staff.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from motcua.core.engine import RATING_CODE_DIGITS
from motcua.i18n import LANGUAGES, catalogue, rating_reasons
from .client import KioskClient, ServerRefused, ServerUnreachable
from .settings import KioskSettings

# The server's refusals of a rating code, as the screens name them.
RATING_REFUSALS = {"wrong_rating_code": "wrong_code", "rating_locked": "locked"}
# The server's refusals of a check-in, as the screens name them.
CHECK_IN_REFUSALS = {"unknown_ticket": "not_found", "window_missed": "window_missed", "bad_transition": "not_waiting",
                     "unknown_appointment": "not_found", "too_early": "too_early"}
# What a citizen may type to check in: an appointment's code (no 0/O, 1/I), the ID number it was booked with
# (12 digits), or else the number of a ticket taken from a phone.
APPOINTMENT_CODE = re.compile(r"[A-HJ-NP-Z2-9]{6}")
ID_NUMBER = re.compile(r"[0-9]{12}")


@dataclass(frozen=True)
class ServiceChoice:
    id: str
    letter: str
    name: dict
    line: dict
    icon: str
    fields: tuple = ()   # the ids of the fields (lĩnh vực) of the procedures it takes


@dataclass(frozen=True)
class FieldChoice:
    """A field (lĩnh vực) the branch's services take; id "" gathers the services that take no procedure."""

    id: str
    name: dict


class TokenRefused(Exception):
    """The server no longer knows the kiosk's token (revoked, or never registered): out of service."""


class BranchClosed(Exception):
    """The administration has closed the kiosk's branch: it issues nothing until reopened."""


@dataclass(frozen=True)
class Found:
    """A service found by typing: by its own words, or by a procedure it takes (procedure set)."""

    service: ServiceChoice
    procedure: dict | None = None


@dataclass(frozen=True)
class Alternative:
    branch: str
    name: dict
    distance_km: float
    travel_min: float
    wait_min: float
    saving_min: float
    directions: dict


@dataclass(frozen=True)
class Unserved:
    """No open counter here serves the service: said before any ticket, with the branches that do."""

    service_name: dict
    alternatives: list = field(default_factory=list)


@dataclass(frozen=True)
class CheckedIn:
    """A citizen who came with a place taken before the trip, checked in here: callable from now."""

    number: str
    service_name: dict
    ahead: int | None   # people to be called first, as the server counts now (None: not waiting)
    late: bool = False  # an appointment's holder past its grace: waits as a walk-in from now


@dataclass(frozen=True)
class Issued:
    ticket: dict
    alternatives: list = field(default_factory=list)
    branch_name: dict = field(default_factory=dict)
    service_name: dict = field(default_factory=dict)


@dataclass(frozen=True)
class LaterSlot:
    """A slot of today offered instead of the queue, to a walk-in whose predicted wait is over the target."""

    start: str           # as the server gave it (ISO 8601), sent back to book it
    time: str            # "10:30"
    wait_min: int | None
    service_name: dict


@dataclass(frozen=True)
class BookedLater:
    """The later slot booked: the code its holder checks in with when they come back."""

    code: str
    time: str
    service_name: dict


@dataclass(frozen=True)
class Printed:
    printed: bool
    problem: str | None = None
    warning: str | None = None


@dataclass(frozen=True)
class Step:
    status: str
    day: str             # "01/12/2026", as people here write it (the public view gives no hour)


@dataclass(frozen=True)
class DossierFound:
    """What the kiosk shows of a dossier: the public view only (no name, ID number, phone, documents)."""

    code: str
    procedure: dict      # {"vi", "en"}: the catalogue's name, else the code
    status: str
    due_date: str        # "15/12/2026"
    overdue: bool
    return_branch: dict
    history: list = field(default_factory=list)


class Kiosk:
    def __init__(self, settings: KioskSettings, client: KioskClient | None = None, printer=None) -> None:
        self.settings = settings
        self.client = client or KioskClient(settings.server_url, settings.token)
        self.language = settings.language
        self.reasons = list(rating_reasons())
        self._printer = printer
        self._printer_lock = threading.Lock()
        self._branches: dict[str, dict] = {}
        self._procedures: dict[str, dict] = {}

    # ---- texts -----------------------------------------------------------------------------

    def text(self, key: str, **values) -> str:
        return _text(self.language, key, **values)

    def text_both(self, key: str, **values) -> tuple[str, str]:
        return _text("vi", key, **values), _text("en", key, **values)

    # ---- the branch ------------------------------------------------------------------------

    def load(self) -> None:
        """The branch and its services, after checking the kiosk's token (TokenRefused) and that the branch
        is open (BranchClosed); the procedures for searching by what the citizen came for, when given."""
        self.check()
        self._load_procedures()

    def check(self) -> None:
        """The token still holds (else TokenRefused) and the branch is open (else BranchClosed); the
        branches as the server lists them now."""
        self.check_token()
        answer = self.client.branches()
        try:
            self._branches = {b["id"]: b for b in answer}
            self._branches[self.settings.branch]["services"]
        except (TypeError, KeyError) as error:
            raise ServerUnreachable(f"unexpected branches answer: {error}") from None
        if self._branches[self.settings.branch].get("closed"):
            raise BranchClosed(self.settings.branch)

    def check_token(self) -> None:
        """TokenRefused when the server refuses the kiosk's token; ServerUnreachable when nobody answers."""
        try:
            self.client.me()
        except ServerRefused as refusal:
            if refusal.status == 401:
                raise TokenRefused(refusal.message) from None
            raise

    @property
    def branch_name(self) -> dict:
        return self._branches.get(self.settings.branch, {}).get("name", {"vi": self.settings.branch, "en": ""})

    def services(self) -> list[ServiceChoice]:
        return [ServiceChoice(s["id"], s["letter"], s["name"], _line(s), s["id"],
                              tuple(f["id"] for f in _fields(s)))
                for s in self._branches.get(self.settings.branch, {}).get("services", [])]

    def fields(self) -> list[FieldChoice]:
        """The fields the branch's services take, by name in the kiosk's language; last, "other services"
        for those that take none. Empty when there is nothing to choose between (fewer than two groups)."""
        names: dict[str, dict] = {}
        for service in self._branches.get(self.settings.branch, {}).get("services", []):
            for found in _fields(service):
                names.setdefault(found["id"], {lang: nfc(found["name"].get(lang) or found["id"]) for lang in LANGUAGES})
        groups = sorted((FieldChoice(code, name) for code, name in names.items()),
                        key=lambda f: fold(f.name.get(self.language) or f.id))
        if any(not s.fields for s in self.services()):
            groups.append(FieldChoice("", _both("kiosk.other_services")))
        return groups if len(groups) > 1 else []

    def services_in(self, field_id: str) -> list[ServiceChoice]:
        """The services of a field in letter order (field "": those that take no procedure)."""
        return sorted((s for s in self.services() if (field_id in s.fields if field_id else not s.fields)),
                      key=lambda s: (len(s.letter), s.letter))

    def search(self, typed: str) -> list[Found]:
        """The services whose names or description hold every word typed, then those taking a procedure
        whose name does; accents and case ignored ("khai sinh" finds "Đăng ký khai sinh")."""
        words = fold(typed).split()
        if not words:
            return []
        services = sorted(self.services(), key=lambda s: (len(s.letter), s.letter))
        by_name = [Found(s) for s in services
                   if _holds(words, [*s.name.values(), *s.line.values()])]
        named = {f.service.id for f in by_name}
        by_procedure = []
        for service in services:
            if service.id in named:
                continue
            for procedure in self._procedures.values():
                name = procedure.get("name") if isinstance(procedure.get("name"), dict) else {}
                if service.id in (procedure.get("services") or []) and _holds(words, list(name.values())):
                    by_procedure.append(Found(service, {lang: nfc(name.get(lang) or "") for lang in LANGUAGES}))
                    break
        return by_name + by_procedure

    # ---- tickets ---------------------------------------------------------------------------

    def take_ticket(self, service_id: str, priority: bool, card: str | None = None) -> Issued:
        """A ticket here; with card (an ID card's code as scanned), linked to its holder for the counter."""
        if card is None:
            answer = self.client.issue(self.settings.branch, service_id, priority, self.language)
        else:
            answer = self.client.issue_with_card(self.settings.branch, service_id, priority, self.language, card)
        ticket = _checked(answer)
        here = ticket.get("estimated_wait_min") or 0
        offers = [self._alternative(a, here) for a in ticket.get("alternatives") or [] if isinstance(a, dict)]
        return Issued(ticket, [a for a in offers if a is not None], self.branch_name, self._service_name(service_id))

    def card_priority(self, card: str) -> bool | None:
        """Whether a scanned ID card's holder is served first for their age, as the server rules; None when
        what was scanned is not a card."""
        try:
            answer = self.client.card_priority(self.settings.branch, card)
        except ServerRefused as refusal:
            if refusal.code == "bad_card":
                return None
            raise
        return answer.get("priority") is True if isinstance(answer, dict) else False
    def later_slot(self, service_id: str) -> LaterSlot | None:
        """The later slot to offer before a number is taken (motcua.core.appointments.later_slot), or None (none,
        or a server without the question: a number is taken as before)."""
        try:
            answer = self.client.later_slot(self.settings.branch, service_id)
        except ServerRefused:
            return None
        slot = answer.get("slot") if isinstance(answer, dict) else None
        if not isinstance(slot, dict) or not isinstance(slot.get("start"), str):
            return None
        return LaterSlot(slot["start"], slot["start"][11:16], answer.get("estimated_wait_min"),
                         self._service_name(service_id))

    def book_later(self, service_id: str, offer: LaterSlot) -> BookedLater | None:
        """The offered slot booked, or None when it is no longer offered (a number is taken instead)."""
        try:
            booked = self.client.take_later_slot(self.settings.branch, service_id, offer.start, self.language)
        except ServerRefused as refusal:
            if refusal.code == "slot_full":
                return None
            raise
        try:
            return BookedLater(str(booked["code"]), str(booked["start"])[11:16], offer.service_name)
        except (KeyError, TypeError) as error:
            raise ServerUnreachable(f"unexpected booking answer: {error}") from None

    def unserved(self, service_id: str) -> Unserved | None:
        """None when an open counter here serves the service (or the server cannot tell: the ticket
        then says "no estimate" as before); else what the citizen is told before taking a number."""
        try:
            answer = self.client.availability(self.settings.branch, service_id)
        except ServerRefused:
            return None   # a server without the question: go on to the ticket
        if not isinstance(answer, dict) or answer.get("served") is not False:
            return None
        offers = [self._alternative(a, None) for a in answer.get("alternatives") or [] if isinstance(a, dict)]
        return Unserved(self._service_name(service_id), [a for a in offers if a is not None])

    def go_elsewhere(self, issued: Issued, alternative: Alternative) -> Issued:
        ticket = _checked(self.client.redirect(issued.ticket["id"], alternative.branch))
        return Issued(ticket, [], alternative.name, issued.service_name)

    def print_ticket(self, issued: Issued) -> Printed:
        if not self.settings.printer:
            return Printed(False, "no_printer")
        from motcua.hardware.printer import PrinterError  # noqa: PLC0415  (only kiosks with a printer need it)

        try:
            with self._printer_lock:
                result = self._the_printer().print_ticket(self._ticket_data(issued))
        except PrinterError as error:
            self._tell_staff(issued, error.code)
            return Printed(False, error.code)
        except Exception:  # noqa: BLE001  (a driver bug must not lose the citizen's ticket)
            self._tell_staff(issued, "printer_fault")
            return Printed(False, "printer_fault")
        warning = result.warnings[0].code if result.warnings else None
        return Printed(True, None, warning)

    def rate(self, number: str, code: str, score: int, reasons: list[str]) -> str:
        """"ok", or why not: "not_found", "not_done", "already_rated", "wrong_code" (the ticket's rating
        code, printed on it, is not the one typed), "locked" (too many wrong codes: rate by phone)."""
        code = code.strip()
        if not (len(code) == RATING_CODE_DIGITS and code.isascii() and code.isdigit()):
            return "wrong_code"                  # never sent: it cannot be right, and would cost nothing
        try:
            self.client.rate(self.settings.branch, number.strip().upper(), code, score, reasons)
        except ServerRefused as refusal:
            if refusal.status == 404:
                return "not_found"
            if refusal.code in ("not_done", "already_rated"):
                return refusal.code
            if refusal.code in RATING_REFUSALS:
                return RATING_REFUSALS[refusal.code]
            raise
        return "ok"

    # ---- check-in ---------------------------------------------------------------------------

    def check_in(self, typed: str) -> CheckedIn | str:
        """Check in with what the citizen types: an appointment's code or ID number, or the number of a ticket
        taken from a phone. The checked-in ticket, or why not: "empty", "not_found", "window_missed" (its
        arrival window has ended), "not_waiting" (already called or done), "too_early" (an appointment not
        yet due)."""
        code = "".join(typed.split()).upper()
        if not code:
            return "empty"
        try:
            ticket, booked = self._checked_in(code)
        except ServerRefused as refusal:
            if refusal.status in (400, 404):
                return "not_found"
            if refusal.code in CHECK_IN_REFUSALS:
                return CHECK_IN_REFUSALS[refusal.code]
            raise
        try:
            position = ticket["position"]
            return CheckedIn(str(ticket["number"]), self._service_name(str(ticket["service"])),
                             None if position is None else max(0, int(position) - 1),
                             late=booked and ticket["channel"] != "appointment")
        except (KeyError, TypeError, ValueError) as error:
            raise ServerUnreachable(f"unexpected check-in answer: {error}") from None

    def _checked_in(self, code: str) -> tuple[dict, bool]:
        """The ticket checked in, and whether it came from an appointment. A code that could be either an
        appointment's or a ticket's number is tried as an appointment first."""
        branch = self.settings.branch
        if ID_NUMBER.fullmatch(code):
            return self.client.check_in_appointment(branch, id_number=code), True
        if APPOINTMENT_CODE.fullmatch(code):
            try:
                return self.client.check_in_appointment(branch, code=code), True
            except ServerRefused as refusal:
                if refusal.status != 404:
                    raise
        return self.client.check_in(branch, code), False

    # ---- dossiers ---------------------------------------------------------------------------

    def look_up(self, typed: str) -> DossierFound | str:
        """The dossier's public view, or "bad_code" (the server's check character refuses the code:
        a typo never shows someone else's dossier) or "not_found"."""
        code = "".join(typed.split()).upper()
        if not code:
            return "bad_code"
        try:
            view = self.client.dossier(code)
        except ServerRefused as refusal:
            if refusal.status == 400:
                return "bad_code"
            if refusal.status == 404:
                return "not_found"
            raise
        try:
            history = [Step(str(s["status"]), _day(s["on"])) for s in view["history"]]
            return DossierFound(str(view["code"]), self._procedure_name(str(view["procedure"])), str(view["status"]),
                                _day(view["due_date"]), bool(view["overdue"]),
                                self._branches.get(view["return_branch"], {}).get(
                                    "name", {"vi": view["return_branch"], "en": view["return_branch"]}),
                                history)
        except (KeyError, TypeError, ValueError) as error:
            raise ServerUnreachable(f"unexpected dossier answer: {error}") from None

    def _load_procedures(self) -> None:
        try:
            self._procedures = {p["code"]: p for p in self.client.procedures() if isinstance(p, dict)}
        except (ServerRefused, ServerUnreachable, TypeError, KeyError):
            pass  # names still shown; searching by procedure waits for the next load

    def _procedure_name(self, code: str) -> dict:
        if code not in self._procedures:
            self._load_procedures()  # the code itself is shown if this fails: the status matters more
        name = self._procedures.get(code, {}).get("name")
        if not isinstance(name, dict):
            return {"vi": code, "en": code}
        return {lang: unicodedata.normalize("NFC", name.get(lang) or code) for lang in LANGUAGES}

    # ---- internals -------------------------------------------------------------------------

    def _alternative(self, offer: dict, here_min: float | None) -> Alternative | None:
        """An offer as the screens show it; saving_min is 0 when nothing is served here to compare with."""
        try:
            branch = self._branches.get(offer["branch"], {})
            if branch.get("closed"):
                return None   # never offered: a citizen sent there would find it shut
            name = branch.get("name", {"vi": offer["branch"], "en": offer["branch"]})
            km, travel, wait = float(offer["distance_km"]), float(offer["travel_min"]), float(offer["estimated_wait_min"])
        except (KeyError, TypeError, ValueError):
            return None  # a bad offer is dropped, never shown half-filled
        # Each language writes its own decimal point: "1,1 km" in Vietnamese, as the screens' other figures.
        directions = {lang: _text(lang, "kiosk.directions", km=f"{km:.1f}".replace(".", "," if lang == "vi" else "."),
                                  min=round(travel)) for lang in LANGUAGES}
        saving = 0.0 if here_min is None else max(0.0, here_min - travel - wait)
        return Alternative(offer["branch"], name, km, travel, wait, saving, directions)

    def _service_name(self, service_id: str) -> dict:
        for service in self.services():
            if service.id == service_id:
                return service.name
        return {"vi": service_id, "en": service_id}

    def _the_printer(self):
        if self._printer is None:
            from motcua.hardware.printer import Printer  # noqa: PLC0415
            from motcua.hardware.ticket_layout import PAPER_WIDTHS, LayoutSettings  # noqa: PLC0415

            layout = LayoutSettings(width_dots=PAPER_WIDTHS[self.settings.paper], text_mode=self.settings.printer_text,
                                    code_page=self.settings.printer_code_page)
            self._printer = Printer(self.settings.printer, settings=layout)
        return self._printer

    def _ticket_data(self, issued: Issued):
        from motcua.hardware.ticket_layout import TicketData  # noqa: PLC0415

        t = issued.ticket
        low_high = t.get("estimated_wait_range_min")
        return TicketData(issued.branch_name, issued.service_name, t["number"], t.get("issued_at") or "",
                          max(0, (t.get("position") or 1) - 1), t.get("estimated_wait_min"),
                          tuple(low_high) if low_high else None, t["status_url"], self.language,
                          t.get("rating_code") if isinstance(t.get("rating_code"), str) else None)

    def _tell_staff(self, issued: Issued, problem: str) -> None:
        try:
            self.client.not_printed(issued.ticket["id"], problem)
        except (ServerUnreachable, ServerRefused):
            pass  # the ticket is still on screen; the printer's state shows on the next ticket too


def _checked(ticket) -> dict:
    """A ticket answer the screens can rely on, or ServerUnreachable (never a crash on a bad answer)."""
    if not isinstance(ticket, dict) or not all(isinstance(ticket.get(k), str) for k in ("id", "number", "status_url")):
        raise ServerUnreachable(f"unexpected ticket answer: {str(ticket)[:200]}")
    return ticket


def nfc(text: str) -> str:
    """Precomposed letters: Kivy's text renderer does not place combining marks."""
    return unicodedata.normalize("NFC", text or "")


def fold(text: str) -> str:
    """Lower case without accents, words separated by single spaces: "Đăng ký" → "dang ky"."""
    bare = "".join(c for c in unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
                   if unicodedata.category(c) != "Mn")
    return " ".join("".join(c if c.isalnum() else " " for c in bare.lower()).split())


def _holds(words: list[str], texts: list[str]) -> bool:
    """Every word typed begins a word of one of the texts (so "kha sin" finds "khai sinh" too)."""
    found = [fold(t).split() for t in texts if t]
    return any(all(any(w.startswith(typed) for w in words_of) for typed in words) for words_of in found)


def _day(iso: str) -> str:
    """2026-12-15 → 15/12/2026: day first, as in Vietnam (and on the receipt)."""
    return date.fromisoformat(str(iso)[:10]).strftime("%d/%m/%Y")


def _text(lang: str, key: str, **values) -> str:
    template = catalogue(lang).get(key) or catalogue("vi").get(key) or ""
    try:
        text = template.format(**values) if values else template
    except (KeyError, IndexError):
        text = template
    return nfc(text)  # Kivy draws precomposed letters only


def _line(service: dict) -> dict:
    """The short description under a service's name: the administrator's, else the catalogue's."""
    given = service.get("description") if isinstance(service.get("description"), dict) else {}
    return {lang: unicodedata.normalize("NFC", given.get(lang) or "") or _text(lang, f"kiosk.line.{service['id']}")
            for lang in LANGUAGES}


def _fields(service: dict) -> list[dict]:
    """A listed service's fields, each with an id and names (a server without them: none)."""
    return [f for f in service.get("fields") or [] if isinstance(f, dict) and isinstance(f.get("id"), str)
            and isinstance(f.get("name"), dict)]


def _both(key: str) -> dict:
    return {lang: _text(lang, key) for lang in LANGUAGES}
