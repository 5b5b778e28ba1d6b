"""The kiosk's Kivy app: which screen comes next, network calls off the UI thread, idle return,
calm retries when the server is away. Screens (screens.py) only lay things out.

Import only after motcua.kiosk.app.configure_kivy().
"""
from __future__ import annotations

import threading
import time

from kivy.app import App
from kivy.base import ExceptionHandler, ExceptionManager
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.logger import Logger
from kivy.uix.screenmanager import NoTransition, ScreenManager

from motcua.kiosk import evaluation
from motcua.kiosk.card_screen import CardScreen
from motcua.kiosk.cardscan import KEYBOARD, KeyedScans, SerialScans
from motcua.kiosk.client import ServerRefused, ServerUnreachable
from motcua.kiosk.flow import BranchClosed, TokenRefused
from motcua.kiosk.receiptscan import receipt_code
from motcua.kiosk.screens import SCREENS
from motcua.kiosk.ui_widgets import PAGE, set_scale

THANKS_S = 8.0             # the thank-you screen goes home by itself, sooner than idle
BOOKED_S = 60.0            # a booked slot's code stays up long enough to be written down or photographed
MAX_BACKOFF_S = 30
PROBLEM_HOLD_FACTOR = 3    # a ticket that did not print stays 3 × idle_s: time to photograph it
# Where a citizen may scan their ID card: before they have chosen a service.
CARD_SCREENS = ("home", "field", "search", "card")
# Where a dossier receipt's QR may be scanned: home and the dossier lookup's own screens.
RECEIPT_SCREENS = ("home", "lookup_code", "lookup_result")
ENTER_KEYS = (13, 271)     # Enter and the keypad's Enter, as Kivy numbers them


class KeepRunning(ExceptionHandler):
    """An unexpected error in a touch handler shows the message screen instead of closing the kiosk."""

    def __init__(self, app: "KioskApp"):
        super().__init__()
        self.app = app

    def handle_exception(self, exception):
        if isinstance(exception, (KeyboardInterrupt, SystemExit)):
            return ExceptionManager.RAISE
        Logger.exception("kiosk: unexpected error: %s", exception)
        Clock.schedule_once(lambda dt: self.app.trouble())
        return ExceptionManager.PASS


class KioskApp(evaluation.EvaluationSteps, App):
    title = "motcua kiosk"

    def __init__(self, kiosk, settings, **kwargs):
        super().__init__(**kwargs)
        self.kiosk, self.settings = kiosk, settings
        self.ready = threading.Event()       # set once the first screen is up (the test driver waits on it)
        self.loaded = False                  # branch and services fetched at least once
        self.service = None                  # the ServiceChoice being taken
        self.fields_page = 0                 # the home screen's page of fields a field was chosen on
        self.elsewhere = None                # the Alternative chosen for it when nobody serves it here
        self.issued = None                   # the Issued on screen
        self.print_state: str | None = None
        self.hold_s: float | None = None     # auto-home delay of this screen: None = idle_s, 0 = never
        self.last_touch = time.monotonic()
        self.attempt = 0                     # offline retries so far (backoff 1, 2, 4 … 30 s)
        self._retry = None
        self._seconds_left = 0
        self._in_trouble = False
        self.out_of_service = False          # the server refused the kiosk's token: nothing is offered
        self.closed = False                  # the administration closed the branch: nothing is offered
        self._checking = False
        self.card: str | None = None         # the ID card scanned for the next ticket, as scanned (the server reads it)
        self.card_priority = False           # its holder is served first for their age, as the server said
        self._scans = None                   # the card scanner's serial line, when [kiosk] card_scanner names one

    # ---- Kivy ----

    def build(self):
        set_scale(*Window.size)
        Window.clearcolor = PAGE
        self.sm = ScreenManager(transition=NoTransition())   # instant: no half-drawn screens to touch
        for name, screen in {**SCREENS, **evaluation.screens()}.items():
            self.sm.add_widget(screen(self, name=name))
        Window.bind(on_touch_down=self._touched, on_touch_up=self._touched)
        Clock.schedule_interval(self._check_idle, 0.5)
        Clock.schedule_interval(self._check_token, self.settings.token_check_s)
        ExceptionManager.add_handler(KeepRunning(self))
        self.sm.add_widget(CardScreen(self, name="card"))
        self._start_card_scanner()
        return self.sm

    def on_start(self):
        self.connect()
        self.ready.set()

    # ---- texts ----

    def pair(self, key: str, **values) -> tuple[str, str]:
        """(current language, other language) of a catalogue text; decimals as each language writes them."""
        try:
            vi = self.kiosk.text_both(key, **_decimals(values, ","))[0]
            en = self.kiosk.text_both(key, **_decimals(values, "."))[1]
        except Exception:                    # a missing text must not stop the kiosk
            Logger.exception("kiosk: no text for %s", key)
            return key, ""
        return (vi, en) if self.kiosk.language == "vi" else (en, vi)

    def name_pair(self, names: dict | None) -> tuple[str, str]:
        names = names or {}
        lang = self.kiosk.language
        other = "en" if lang == "vi" else "vi"
        return names.get(lang) or names.get(other) or "", names.get(other) or ""

    def branch_name(self) -> dict:
        name = getattr(self.kiosk, "branch_name", None)
        if isinstance(name, dict) and name:
            return name
        vi, en = self.kiosk.text_both("kiosk.center")
        return {"vi": vi, "en": en}

    # ---- navigation ----

    def go(self, name: str, hold: float | None = None, **data):
        self._stop_retry()
        screen = self.sm.get_screen(name)
        screen.render(**data)
        self.sm.current = name
        self.hold_s = hold
        self.last_touch = time.monotonic()
        return screen

    def home(self, reset: bool = False) -> None:
        """reset: the next person starts in the kiosk's own language."""
        if reset:
            self.kiosk.language = self.settings.language
            self.card, self.card_priority = None, False   # the next person
        if not self.loaded:
            self.connect()
            return
        self.issued = None
        self.go("home")

    def open_field(self, field, page: int = 0) -> None:
        """A field's services; Back returns to the page of fields it was on."""
        self.fields_page = page
        self.go("field", field=field)

    def start_search(self) -> None:
        self.go("search")

    def done(self) -> None:
        self.home(reset=True)

    def set_language(self, lang: str) -> None:
        self.kiosk.language = lang
        self.go("home")

    def connect(self) -> None:
        self.go("waiting", hold=0, key="kiosk.connecting")
        self.background(self.kiosk.load, lambda _: self._loaded(), self.failed)

    def _loaded(self) -> None:
        self.loaded, self.attempt = True, 0
        self.home()

    # ---- taking a ticket ----

    def choose_service(self, service) -> None:
        self.service, self.elsewhere = service, None
        # Asked before any number is taken: a service no open counter serves here is said so now,
        # with the branches that serve it, rather than on a ticket that says "no estimate".
        self.go("waiting", hold=0, key="kiosk.checking")
        self.background(lambda: self.kiosk.unserved(service.id), self._checked, self.failed)

    def _checked(self, unserved) -> None:
        if unserved is None:
            self.ask_priority()
        else:
            self.go("unserved", unserved=unserved)

    def take_elsewhere(self, alternative) -> None:
        self.elsewhere = alternative
        self.ask_priority()

    def take_here_anyway(self) -> None:
        self.elsewhere = None
        self.ask_priority()

    def take_ticket(self, priority: bool) -> None:
        service, elsewhere, card = self.service, self.elsewhere, self.card
        self.go("waiting", hold=0, key="kiosk.getting_number")
        if elsewhere is None and not priority:
            # Asked before the number: over the target, a later slot is offered instead of the queue. A
            # question that fails takes the number as before.
            self.background(lambda: self.kiosk.later_slot(service.id), self._later_offered,
                            lambda error: self.take_number_anyway())
            return
        if elsewhere is None:
            self.background(lambda: self.kiosk.take_ticket(service.id, priority, card), self._issued, self.failed)
            return
        # A kiosk issues for its own branch only: the number is taken here, then moved to the branch
        # chosen, as when a better branch is taken (and kept here if the move fails).
        self.background(lambda: self.kiosk.take_ticket(service.id, priority, card),
                        lambda issued: self._move_taken(issued, elsewhere), self.failed)

    def ask_priority(self) -> None:
        """The priority question, unless the scanned ID card already answered it."""
        if self.card is not None and self.card_priority:
            self.take_ticket(True)
        else:
            self.go("priority")

    # ---- the ID card scanner ----

    def _start_card_scanner(self) -> None:
        scanner = self.settings.card_scanner
        if scanner == KEYBOARD:
            keys = KeyedScans(self.scanned)
            Window.bind(on_textinput=lambda _, text: keys.text(text),
                        on_key_down=lambda _, key, *rest: keys.enter() if key in ENTER_KEYS else None)
        elif scanner:
            self._scans = SerialScans(scanner, lambda text: Clock.schedule_once(lambda dt: self.scanned(text)))
            self._scans.start()

    def on_stop(self):
        if self._scans is not None:
            self._scans.stop()

    def scanned(self, text: str) -> None:
        """A line the scanner read: a dossier receipt's QR link is looked up as if its code had been typed (on the
        home or lookup screens; elsewhere ignored), anything else is read as an ID card."""
        code = receipt_code(text)
        if code is None:
            self.card_scanned(text)
        elif self.sm.current in RECEIPT_SCREENS and self.loaded and not self.out_of_service and not self.closed:
            self.last_touch = time.monotonic()
            self.lookup_typed(code)

    def card_scanned(self, text: str) -> None:
        """A card scanned before a service is chosen: the server says whether its holder is served first."""
        if self.sm.current not in CARD_SCREENS or not self.loaded or self.out_of_service or self.closed:
            return
        self.last_touch = time.monotonic()
        self.go("waiting", hold=0, key="kiosk.card_reading")
        self.background(lambda: self.kiosk.card_priority(text), lambda priority: self._card_read(text, priority),
                        self.failed)

    def _card_read(self, text: str, priority) -> None:
        self.card, self.card_priority = (None, False) if priority is None else (text, priority)
        self.go("card", priority=priority)

    def card_done(self) -> None:
        self.go("home")
    def _later_offered(self, offer) -> None:
        if offer is None:
            self.take_number_anyway()
        else:
            self.go("later", offer=offer)

    def take_number_anyway(self) -> None:
        """A walk-in's number here, no later slot taken."""
        service, card = self.service, self.card
        self.go("waiting", hold=0, key="kiosk.getting_number")
        self.background(lambda: self.kiosk.take_ticket(service.id, False, card), self._issued, self.failed)

    def book_later(self, offer) -> None:
        service = self.service
        self.go("waiting", hold=0, key="kiosk.later_booking")
        self.background(lambda: self.kiosk.book_later(service.id, offer), self._booked_later, self.failed)

    def _booked_later(self, booked) -> None:
        if booked is None:                  # taken meanwhile: the queue, as before
            self.take_number_anyway()
            return
        self.go("message", hold=BOOKED_S, title="kiosk.later_booked", body="kiosk.later_booked_note",
                home_button=True, code=booked.code, time=booked.time)

    def _move_taken(self, issued, alternative) -> None:
        self.issued = issued
        self.card, self.card_priority = None, False
        self.go_there(alternative)

    def _issued(self, issued) -> None:
        self.issued = issued
        self.card, self.card_priority = None, False   # the card was for this ticket
        if issued.alternatives:
            self.go("better", issued=issued)
        else:
            self.show_ticket(issued)

    def stay_here(self) -> None:
        self.show_ticket(self.issued)

    def go_there(self, alternative) -> None:
        issued = self.issued
        self.go("waiting", hold=0, key="kiosk.moving")
        # If the move fails the ticket here is still valid (and if the move happened after all,
        # its QR page links to the new one): print it rather than leave the person with nothing.
        self.background(lambda: self.kiosk.go_elsewhere(issued, alternative),
                        lambda moved: self.show_ticket(moved, moved_to=alternative),
                        lambda error: self.show_ticket(issued, note="kiosk.move_failed"))

    def show_ticket(self, issued, moved_to=None, note: str | None = None) -> None:
        self.issued, self.print_state = issued, "printing"
        # Not home while printing: a raster ticket takes ~30 s on a 19,200-baud line, and the
        # printer driver's own timeouts end every print.
        screen = self.go("ticket", hold=0, issued=issued, moved_to=moved_to, note=note)
        self.background(lambda: self.kiosk.print_ticket(issued), lambda printed: self._printed(screen, issued, printed),
                        lambda error: self._printed(screen, issued, None))

    def _printed(self, screen, issued, printed) -> None:
        if self.issued is not issued or self.sm.current != "ticket":
            return                               # the person has moved on
        if printed is not None and printed.printed:
            state = "printed"
        elif printed is not None and printed.problem == "no_printer":
            state = "no_printer"
        else:
            state = "problem"
        self.print_state = state
        screen.show_print(state)
        self.hold_s = None if state == "printed" else self.settings.idle_s * PROBLEM_HOLD_FACTOR
        self.last_touch = time.monotonic()       # the hold counts from the print result

    # ---- rating ----

    def start_rating(self) -> None:
        self.go("rate_number")

    def rate_number_typed(self, number: str, code: str) -> None:
        self.go("rate_score", number=number, code=code, reasons=list(self.kiosk.reasons))

    def send_rating(self, number: str, code: str, score: int, reasons: list[str]) -> None:
        self.go("waiting", hold=0, key="kiosk.sending")
        self.background(lambda: self.kiosk.rate(number, code, score, reasons),
                        lambda result: self._rated(number, code, result), self.failed)

    def _rated(self, number: str, code: str, result: str) -> None:
        if result == "ok":
            self.go("message", hold=THANKS_S, title="kiosk.thanks", body="kiosk.thanks_note", picture="thanks")
        elif result == "not_found":
            self.go("rate_number", number=number, code=code, field="number",
                    problem=self.pair("kiosk.rate_not_found", number=number))
        elif result == "wrong_code":
            self.go("rate_number", number=number, field="code", problem=self.pair("kiosk.rate_wrong_code", number=number))
        elif result == "locked":
            self.go("message", title="kiosk.rate_locked", body="kiosk.rate_locked_note", home_button=True, number=number)
        elif result in ("not_done", "already_rated"):
            self.go("message", title=f"kiosk.rate_{result}", home_button=True, number=number)
        else:
            self.trouble()

    # ---- checking in ----

    def start_check_in(self) -> None:
        self.go("check_in")

    def check_in_typed(self, code: str) -> None:
        self.go("waiting", hold=0, key="kiosk.checkin_sending")
        self.background(lambda: self.kiosk.check_in(code), lambda result: self._checked_in(code, result), self.failed)

    def _checked_in(self, code: str, result) -> None:
        if isinstance(result, str):
            number = "".join(code.split()).upper()
            self.go("check_in", code=code, problem=self.pair(f"kiosk.checkin_{result}", number=number))
        elif result.ahead is None:
            self.go("message", hold=THANKS_S, title="kiosk.checkin_done", body="kiosk.checkin_done_note",
                    number=result.number)
        elif result.late:
            self.go("message", hold=THANKS_S, title="kiosk.checkin_done", body="kiosk.checkin_done_late",
                    number=result.number, ahead=result.ahead)
        else:
            self.go("message", hold=THANKS_S, title="kiosk.checkin_done", body="kiosk.checkin_done_ahead",
                    number=result.number, ahead=result.ahead)

    # ---- looking up a dossier ----

    def start_lookup(self) -> None:
        self.go("lookup_code")

    def lookup_typed(self, code: str) -> None:
        self.go("waiting", hold=0, key="kiosk.lookup_searching")
        self.background(lambda: self.kiosk.look_up(code), lambda found: self._looked_up(code, found), self.failed)

    def _looked_up(self, code: str, found) -> None:
        if found == "bad_code":
            self.go("lookup_code", code=code, problem=self.pair("kiosk.lookup_bad_code", code=code))
        elif found == "not_found":
            self.go("lookup_code", code=code, problem=self.pair("kiosk.lookup_not_found", code=code))
        else:
            self.go("lookup_result", found=found)

    # ---- trouble ----

    def failed(self, error: Exception) -> None:
        """A flow call raised: the calm retry screen if the server is away, else a plain refusal."""
        if isinstance(error, TokenRefused) or (isinstance(error, ServerRefused) and error.status == 401):
            self.stop_serving()
        elif isinstance(error, BranchClosed) or (isinstance(error, ServerRefused) and error.code == "branch_closed"):
            self.branch_closed()
        elif isinstance(error, ServerUnreachable) or not self.loaded:
            self.offline()
        else:
            Logger.warning("kiosk: server refused: %r", error)
            self.trouble()

    def trouble(self) -> None:
        if self._in_trouble:                     # the message screen itself failed: do not loop
            return
        self._in_trouble = True
        try:
            self.go("message", title="kiosk.refused_title", body="kiosk.refused_body", home_button=True)
        finally:
            self._in_trouble = False

    def offline(self) -> None:
        """Retry with backoff 1, 2, 4 … 30 s, counting down on screen; home as soon as it works."""
        delay = min(2 ** self.attempt, MAX_BACKOFF_S)
        self.attempt += 1
        screen = self.go("message", hold=0, title="kiosk.offline_title", body="kiosk.offline_body",
                         countdown=True)
        self._seconds_left = delay
        screen.show_countdown(delay)
        self._retry = Clock.schedule_interval(lambda dt: self._tick(screen), 1.0)

    def _tick(self, screen) -> None:
        self._seconds_left -= 1
        if self._seconds_left > 0:
            screen.show_countdown(self._seconds_left)
            return
        self._stop_retry()
        screen.show_countdown(None)
        self.background(self.kiosk.load, lambda _: self._loaded(),
                        lambda error: self.failed(error) if isinstance(error, (TokenRefused, BranchClosed))
                        else self.offline())

    def stop_serving(self) -> None:
        """The token is refused: a plain "out of service, ask staff" until a check finds it holds again.
        The staff room cannot be told by a kiosk the server no longer knows: the log says it."""
        if not self.out_of_service:
            Logger.error("kiosk: the server refuses this kiosk's token (revoked?): out of service until "
                         "it holds again; register the kiosk again (motcua device add --kind kiosk)")
        self.out_of_service, self.loaded = True, False
        self.kiosk.language = self.settings.language
        self.go("message", hold=0, title="kiosk.out_of_service_title", body="kiosk.out_of_service_body")

    def branch_closed(self) -> None:
        """The administration closed the branch: "this branch is closed" until a check finds it open."""
        self.closed, self.loaded = True, False
        self.kiosk.language = self.settings.language
        self.go("message", hold=0, title="kiosk.branch_closed_title", body="kiosk.branch_closed_body")

    def _check_token(self, dt) -> None:
        """Every few minutes, between citizens only: does the server still take the kiosk's token, and is
        the branch still open?"""
        if self._checking or not (self.out_of_service or self.closed or self.sm.current == "home"):
            return
        self._checking = True

        def checked(_):
            self._checking = False
            if self.out_of_service or self.closed:
                self.out_of_service = self.closed = False
                self.connect()

        def refused(error):
            self._checking = False
            if isinstance(error, (TokenRefused, BranchClosed)):
                self.failed(error)           # else the server is away: the next touch says so

        self.background(self.kiosk.check, checked, refused)

    def _stop_retry(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None

    # ---- plumbing ----

    def background(self, work, done, failed) -> None:
        """Run work() on a thread (the network must not freeze the screen); done/failed run on the UI thread."""
        def run():
            try:
                result = work()
            except Exception as error:           # every bad answer ends on a screen, never in a crash
                Logger.warning("kiosk: %s failed: %r", getattr(work, "__name__", "call"), error)
                Clock.schedule_once(lambda dt, error=error: failed(error))   # `error` is unbound after except
            else:
                Clock.schedule_once(lambda dt: done(result))
        threading.Thread(target=run, daemon=True, name="kiosk-call").start()

    def _touched(self, *_) -> None:
        self.last_touch = time.monotonic()

    def _check_idle(self, dt) -> None:
        hold = self.settings.idle_s if self.hold_s is None else self.hold_s
        if not hold or time.monotonic() - self.last_touch < hold:
            return
        current = self.sm.current
        if current == "home":
            if self.kiosk.language != self.settings.language:
                self.home(reset=True)
            self.last_touch = time.monotonic()
        elif current == "better":
            self.stay_here()                     # the number is already taken: print it here
        else:
            self.home(reset=True)


def _decimals(values: dict, point: str) -> dict:
    """Floats with one decimal, written with the language's decimal point."""
    return {k: (f"{v:.1f}".replace(".", point) if isinstance(v, float) else v) for k, v in values.items()}
