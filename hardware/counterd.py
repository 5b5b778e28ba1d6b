"""`motcua counterd`: binds one counter's call pad and number display to the server.

It signs in as the counter's officer and takes the counter (one officer works a counter at a time:
one another officer works is taken over only with --take-over; otherwise its keys answer ERR until
it is free). A key on the pad becomes an API call made with the counter officer's credentials; the display
follows the server's `called` events for this counter (and shows the counter's current ticket
after any reconnection, so it is never left showing a stale number). Every part may fail and
come back: the serial cables (reopened with backoff), the server (HTTP retried, Socket.IO
reconnects and subscribes again), the line (garbage and half frames are skipped by the reader).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import requests
import serial
import socketio

from .frames import BROADCAST, Frame, FrameReader, encode
from .serial_url import open_serial

log = logging.getLogger("motcua.counterd")
REFRESH_S = 5.0
KEYS = {"N": "next", "R": "recall", "X": "no-show", "D": "done"}


class SerialLink:
    """A serial device that may be unplugged at any moment: reopened with backoff, never fatal.

    One thread owns the port: the one that calls `read()` opens it, closes it when it is lost and
    opens it again. Any thread may `write()`; a write that fails only reports the loss, so that a
    port is never closed twice (the second close would hit a reused descriptor, or EBADF).
    """

    def __init__(self, url: str, name: str, baudrate: int = 9600) -> None:
        self.url, self.name, self.baudrate = url, name, baudrate
        self._port = None
        self._failed = None  # the port a write found lost, for the owner to close
        self._lock = threading.Lock()  # a write never meets the port half closed or half opened
        self._backoff = 0.2
        self.on_open = lambda: None  # e.g. the display shows again what it should show

    def read(self) -> bytes:
        """The owner's call: what has arrived (or b""), opening the port first if need be."""
        port = self._port
        if port is not None and port is self._failed:
            self.close()
            port = None
        if port is None:
            port = self._open()
            if port is None:
                return b""
        try:
            return port.read(port.in_waiting or 1)
        except (serial.SerialException, OSError) as error:
            log.warning("%s: lost %s (%s)", self.name, self.url, error)
            self.close()
            return b""

    def write(self, data: bytes) -> bool:
        """Any thread's call: False when the port is not open or the write failed."""
        with self._lock:
            port = self._port
            if port is None or port is self._failed:
                return False
            try:
                port.write(data)
                port.flush()
                return True
            except (serial.SerialException, OSError) as error:
                log.warning("%s: lost %s (%s)", self.name, self.url, error)
                self._failed = port
                return False

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def close(self) -> None:
        """The owner's call."""
        with self._lock:
            port, self._port, self._failed = self._port, None, None
            if port is not None:
                try:
                    port.close()
                except (serial.SerialException, OSError) as error:  # an unplugged device may refuse
                    log.warning("%s: closing %s: %s", self.name, self.url, error)

    def _open(self):
        try:
            port = open_serial(self.url, self.baudrate, timeout=0.2, write_timeout=1)
        except (serial.SerialException, OSError, ValueError) as error:
            log.warning("%s: cannot open %s (%s); again in %.1f s", self.name, self.url, error, self._backoff)
            time.sleep(self._backoff)
            self._backoff = min(self._backoff * 2, 5.0)
            return None
        with self._lock:
            self._port = port
        log.info("%s: opened %s", self.name, self.url)
        self._backoff = 0.2
        self.on_open()
        return port


@dataclass
class CounterSetup:
    server: str          # base URL, e.g. http://127.0.0.1:8080
    branch: str
    counter: str
    username: str
    password: str
    pad: str             # pyserial URL of the call pad
    display: str         # pyserial URL of the number display
    address: int         # the pad's and display's address on their line
    take_over: bool = False   # take the counter from another officer working it


class Api:
    """The server's HTTP API with the officer's token; logs in again when the token is refused and
    retries while the server is away (a restart takes a few seconds)."""

    def __init__(self, setup: CounterSetup, patience_s: float = 10.0) -> None:
        self.setup, self.patience_s = setup, patience_s
        self.http = requests.Session()
        self.token = None

    def call(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        deadline = time.monotonic() + self.patience_s
        while True:
            try:
                if self.token is None:
                    self._login()
                answer = self.http.request(method, self.setup.server + "/api/v1" + path, json=body, timeout=5,
                                           headers={"Authorization": f"Bearer {self.token}"})
                if answer.status_code == 401:
                    self.token = None
                    continue
                return answer
            except requests.RequestException as error:
                if time.monotonic() > deadline:
                    raise
                log.warning("server unreachable (%s); retrying", error)
                self.http = requests.Session()  # a restarted server: start with fresh connections
                time.sleep(0.5)

    def _login(self) -> None:
        answer = self.http.post(self.setup.server + "/api/v1/auth/login", timeout=5,
                                json={"username": self.setup.username, "password": self.setup.password})
        answer.raise_for_status()
        self.token = answer.json()["token"]
        self._take()

    def _take(self) -> None:
        """Sign in at the counter: it is this officer's from now (another's only with take_over)."""
        setup = self.setup
        answer = self.http.post(f"{setup.server}/api/v1/branches/{setup.branch}/counters/{setup.counter}/take",
                                json={"take_over": setup.take_over}, timeout=5,
                                headers={"Authorization": f"Bearer {self.token}"})
        if answer.status_code == 409 and answer.json()["error"]["code"] == "counter_taken":
            log.error("counter %s is worked by %s: its keys answer ERR until it is free (or start with --take-over)",
                      setup.counter, answer.json()["error"]["details"]["holder"])
        elif answer.ok and answer.json()["taken_from"]:
            log.info("took counter %s over from %s", setup.counter, answer.json()["taken_from"])
        else:
            answer.raise_for_status()


class CounterDaemon:
    def __init__(self, setup: CounterSetup) -> None:
        self.setup = setup
        self.api = Api(setup)
        self.pad = SerialLink(setup.pad, "pad")
        self.display = SerialLink(setup.display, "display")
        self.display.on_open = self._show_again
        self.shown: Frame = Frame(setup.address, "C")
        self.stopping = threading.Event()
        self.events = socketio.Client(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=4)
        self.events.on("connect", self._subscribe)
        self.events.on("called", self._on_called)
        self.events.on("queue", self._on_queue)

    # ---- running ---------------------------------------------------------------------------

    def run(self) -> None:
        threading.Thread(target=self._keep_events_connected, daemon=True).start()
        threading.Thread(target=self._watch_display, daemon=True).start()
        reader = FrameReader()
        while not self.stopping.is_set():
            for frame in reader.feed(self.pad.read()):
                if frame.address in (self.setup.address, BROADCAST) and frame.command == "K":
                    self.pad.write(encode(Frame(self.setup.address, "A", self._press(frame.data))))

    def stop(self) -> None:
        self.stopping.set()
        self.events.disconnect()

    def _watch_display(self) -> None:
        """A display never speaks, but reading its line is how an unplugged one is noticed (and,
        once it is back, shown again what it should show). What it shows is also sent again every
        few seconds: a display that lost power, or its frame, would otherwise stay blank or stale."""
        refreshed = time.monotonic()
        while not self.stopping.is_set():
            self.display.read()
            if time.monotonic() - refreshed > REFRESH_S:
                self.display.write(encode(self.shown))
                refreshed = time.monotonic()

    def _keep_events_connected(self) -> None:
        while not self.stopping.is_set():
            if not self.events.connected:
                try:
                    self.events.connect(self.setup.server, transports=["websocket"], wait_timeout=5)
                except Exception as error:  # noqa: BLE001  (whatever it was, try again: never give up)
                    log.warning("events: %s; again shortly", error)
            time.sleep(1)

    # ---- keys --------------------------------------------------------------------------------

    def _press(self, key: str) -> str:
        """Do what the key means; the pad's answer: OK, NONE (nobody waiting) or ERR."""
        try:
            if key == "N":
                return self._next()
            current = self._current_ticket()
            if current is None:
                return "NONE"
            if key in KEYS:
                answer = self.api.call("POST", f"/tickets/{current['id']}/{KEYS[key]}")
            elif key.startswith("T") and len(key) == 2:
                answer = self.api.call("POST", f"/tickets/{current['id']}/transfer",
                                       {"service": self._service_with_letter(key[1])})
            else:
                return "ERR"
            return "OK" if answer.ok else "ERR"
        except (requests.RequestException, KeyError, ValueError) as error:
            log.warning("key %s failed: %s", key, error)
            return "ERR"

    def _next(self) -> str:
        current = self._current_ticket()
        if current is not None and current["status"] in ("called", "serving"):
            self.api.call("POST", f"/tickets/{current['id']}/done")  # next means: this one is done
        answer = self.api.call("POST", f"/branches/{self.setup.branch}/counters/{self.setup.counter}/next")
        if not answer.ok:
            return "ERR"
        ticket = answer.json()["ticket"]
        if ticket is None:
            return "NONE"
        self._show(Frame(self.setup.address, "S", ticket["number"]))  # the event will say so too
        return "OK"

    def _state(self) -> dict:
        return self.api.call("GET", f"/branches/{self.setup.branch}/state").json()

    def _current_ticket(self) -> dict | None:
        """The counter's ticket with its id, which only staff see (the branch's state shows numbers)."""
        return self.api.call("GET", f"/branches/{self.setup.branch}/counters/{self.setup.counter}").json()["ticket"]

    def _service_with_letter(self, letter: str) -> str:
        return next(s["id"] for s in self._state()["services"] if s["letter"] == letter.upper())

    # ---- display -----------------------------------------------------------------------------

    def _subscribe(self) -> None:
        self.events.emit("subscribe", {"branch": self.setup.branch})

    def _on_called(self, call: dict) -> None:
        if call.get("counter") == self.setup.counter:
            self._show(Frame(self.setup.address, "B" if call.get("recall") else "S", call["number"]))

    def _on_queue(self, state: dict) -> None:
        """The truth after a (re)connection: the counter's current ticket, or nothing."""
        counter = next((c for c in state.get("counters", []) if c["id"] == self.setup.counter), None)
        if counter is None:
            return
        serving = counter["serving"]
        wanted = Frame(self.setup.address, "S", serving["number"]) if serving else Frame(self.setup.address, "C")
        if wanted.data != self.shown.data or (wanted.command == "C") != (self.shown.command == "C"):
            self._show(wanted)

    def _show(self, frame: Frame) -> None:
        self.shown = frame
        self.display.write(encode(frame))

    def _show_again(self) -> None:
        self.display.write(encode(self.shown))


def run_counterd(setup: CounterSetup) -> int:
    daemon = CounterDaemon(setup)
    try:
        daemon.run()
    except KeyboardInterrupt:
        daemon.stop()
    return 0
