"""Running the server process: the app, its background tasks, a warm heap, and the server loop."""
from __future__ import annotations

import errno
import gc
import json
import logging
import signal
import time
from datetime import date

from motcua.config import Config
from motcua.core.cccd import forget_cards


class CannotServe(ValueError):
    """The server cannot start: the port is taken, the address is not this machine's, or its Redis does not answer."""


def serve(config: Config, on_ready=None, demo: dict | None = None, writing=None) -> None:
    """Serve HTTP and Socket.IO until stopped (Ctrl-C stops it cleanly); `on_ready(app)` runs once it is listening.
    demo: what the demo simulates ({"speed", "branch", "counter"}), said on the start page.
    writing: the database's writer lock (backup.writer) when the caller took it already."""
    from motcua import logs
    from motcua.backup import hold, writer
    from motcua.web.app import create_app
    from motcua.web.events import EXTENSION, socketio
    from motcua.web.throttle import check_redis

    # First of all, and kept until the process ends: another server on this database is refused.
    writing = writing or writer(config.server.db)
    logs.configure(config.server.log_format)
    gevent_server = None
    if config.server.async_mode == "gevent":
        # Bound before the engine is loaded: a port in use is reported at once, in one line.
        gevent_server = _gevent_server(config)
    try:
        check_redis(config)  # the message queue's and the limits': refused in words rather than failing later
    except ConnectionError as error:
        raise CannotServe(str(error)) from None
    # Held until the process ends: `motcua restore` refuses to replace a database a server has open.
    held = hold(config.server.db)
    app = create_app(config)
    app.config["MOTCUA_DEMO"] = demo
    base = f"http://{config.server.host}:{config.server.port}"
    print(f"motcua serving {config.server.db} at {base}/api/v1 (async mode {config.server.async_mode})",
          flush=True)
    socketio.start_background_task(app.extensions[EXTENSION].run)
    # What was pending at the last stop is sent first, then each message as its change commits.
    socketio.start_background_task(app.extensions["motcua"].sender.run)
    socketio.start_background_task(sweep_windows, app.extensions["motcua"].journeys, config.remote.sweep_s,
                                   socketio.sleep)
    socketio.start_background_task(sweep_appointments, app.extensions["motcua"].bookings, config.remote.sweep_s,
                                   socketio.sleep)
    socketio.start_background_task(sweep_offers, app.extensions[EXTENSION], config.remote.sweep_s, socketio.sleep)
    socketio.start_background_task(forget_past_cards, app.extensions["motcua"], socketio.sleep)
    warm_heap(config)
    if on_ready is not None:
        socketio.start_background_task(on_ready, app)
    try:
        if gevent_server is not None:
            gevent_server.application = app
            _serve_until_interrupted(gevent_server)
        else:
            socketio.run(app, host=config.server.host, port=config.server.port, log_output=config.server.access_log,
                         allow_unsafe_werkzeug=True)
    finally:
        app.extensions["motcua"].store.close()
        held.close()
        writing.close()


def sweep_windows(journeys, every_s: float, sleep) -> None:
    """The task that lets remote tickets whose window ended leave the queue at branches nobody touches, and tells
    the citizens of the others whose time has come to set off (motcua.core.remote)."""
    while True:
        try:
            journeys.engine.expire_windows()
            journeys.tell_set_off()
        except Exception:  # the branch's next operation lets them go instead, the next sweep tells
            logging.getLogger("motcua").exception("sweeping the remote tickets' windows failed")
        sleep(every_s)


def sweep_offers(broadcaster, every_s: float, sleep) -> None:
    """The task that tells a waiting ticket's phone of a branch that would now call it sooner because of a change
    there, not at the ticket's own branch (whose changes tell it at once)."""
    while True:
        sleep(every_s)
        try:
            broadcaster.refresh_offers()
        except Exception:  # the next sweep tries again; the ticket's own branch's changes still tell it
            logging.getLogger("motcua").exception("sweeping the offers failed")


def forget_past_cards(rt, sleep) -> None:
    """The task that forgets, at the start and after each local midnight, whose tickets of past days were
    (motcua.core.cccd.forget_cards): a ticket's card is read only while its day lasts."""
    while True:
        try:
            engine = rt.engine
            forget_cards(rt.store, engine.local.epoch(date.fromisoformat(engine.local.day(engine.now())), "00:00"))
        except Exception:  # the next midnight tries again
            logging.getLogger("motcua").exception("forgetting past days' ID cards failed")
        sleep(max(rt.engine.seconds_to_next_day(), 0.5) + 1)


def sweep_appointments(bookings, every_s: float, sleep) -> None:
    """The task that reminds holders of their coming slots and ends appointments not checked in by their
    grace as no-shows."""
    while True:
        try:
            bookings.remind()
            bookings.expire()
        except Exception:  # the next sweep tries again
            logging.getLogger("motcua").exception("sweeping the appointments failed")
        sleep(every_s)


def warm_heap(config: Config) -> None:
    """Once loaded: what is loaded kept out of the collector's sight, and full collections made rare."""
    # Full collections of a warm heap stall one emit in fifty by 130-160 ms (NOTES.md); what is
    # loaded by now lives as long as the process, so freeze it out of the collector's sight.
    gc.collect()
    gc.freeze()
    # What comes later (every socket's objects) is scanned by each full collection, which stops the
    # whole server meanwhile: make those rare ([server] gc_full_every; the figures in bench/flood.py).
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, config.server.gc_full_every)


def _gevent_server(config: Config):
    """gevent's WSGI server with websockets, bound, answering without Nagle's delay, reclaiming connections.

    pywsgi writes a response's headers and body apart; with Nagle's algorithm on, the body then
    waits for the client's delayed ACK, adding about 40 ms to every keep-alive request. Left to
    itself pywsgi also waits for ever on a client's headers and bodies and accepts connections until
    the process runs out of files, after which nobody gets in: hence the header and body deadlines,
    the least pace of a body and the caps.
    """
    import socket

    import gevent
    from gevent import pywsgi
    from geventwebsocket.handler import WebSocketHandler

    from motcua.web.app import JsonRefusals, client_address, raw_refusal

    settings = config.server
    proxied = settings.trusted_proxies > 0
    # Behind a proxy every connection comes from the proxy: the cap per address then counts each
    # client's requests in progress (a websocket's lasts as long as it does), by the address the proxy saw.
    limits = _Limits(settings.max_connections or _file_limit() - FILES_KEPT,
                     0 if proxied else settings.max_connections_per_address)
    clients = _Limits(1 << 62, settings.max_connections_per_address if proxied else 0)  # `limits` has the total

    class SlowHeaders(Exception):
        """The request's line and headers did not arrive within header_timeout_s."""

    class Handler(JsonRefusals, WebSocketHandler):
        def handle(self):
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # No read or write waits longer than a ping cycle. engine.io closes its side of a
            # client that misses a ping, but its WebSocket reader and writer stay blocked on a
            # socket the client neither writes to nor reads from (gevent-websocket has no timeout
            # of its own), holding the file for ever; a live client sends a pong every cycle.
            self.socket.settimeout(settings.ping_interval_s + settings.ping_timeout_s)
            super().handle()

        def handle_one_request(self):
            # From the wait for a request line (an idle keep-alive connection too) to its last header.
            self._headers_due = gevent.Timeout.start_new(settings.header_timeout_s, SlowHeaders)
            try:
                return super().handle_one_request()
            except SlowHeaders:
                return None  # closes the connection
            finally:
                self._headers_due.cancel()

        def read_request(self, raw_requestline):
            try:
                return super().read_request(raw_requestline)
            finally:
                self._headers_due.cancel()  # the headers are in: the answer takes the time it needs

        def get_environ(self):
            environ = super().get_environ()
            if environ["wsgi.input"] is self.wsgi_input:  # a body to read (an upgrade's socket is not one)
                self.wsgi_input.rfile = PacedBody(self.rfile, settings.body_grace_s, settings.min_body_bytes_per_s,
                                                  settings.body_timeout_s)
            return environ

        def run_application(self):
            if not clients.per_address:
                return super().run_application()
            client = client_address(self.environ, settings.trusted_proxies)
            if not clients.enter(client):
                self.close_connection = True
                self.start_response("503 Service Unavailable", [
                    ("Content-Type", "application/json"), ("Retry-After", "1"), ("Connection", "close")])
                self.result = [BUSY]
                self.process_result()
                return None
            try:
                return super().run_application()
            finally:
                clients.leave(client)

        def handle_error(self, kind, value, tb):
            if not isinstance(value, SlowBody):
                return super().handle_error(kind, value, tb)
            # Whether the app was reading the body or pywsgi was discarding what it left: answered if
            # nothing was yet, then closed, since the rest of the body may still come.
            self.close_connection = True
            if not self.headers_sent:
                self.status = "408"
                try:
                    self.socket.sendall(raw_refusal(408))
                except OSError:
                    pass
            return None

        def _handle_client_error(self, ex):
            # pywsgi turns any error while reading headers into a 400 with a traceback printed.
            return None if isinstance(ex, SlowHeaders) else super()._handle_client_error(ex)

        def log_request(self):
            # A line per request buries what a person needs to read (the demo's URLs and login).
            if settings.access_log:
                logging.getLogger("motcua.access").info(self.format_request())

    class Server(pywsgi.WSGIServer):
        def handle(self, sock, address):
            if not limits.enter(address[0]):
                _refuse(sock)
                return
            try:
                super().handle(sock, address)
            finally:
                limits.leave(address[0])

    server = Server((settings.host, settings.port), None, handler_class=Handler, log=None)
    try:
        server.init_socket()
    except OSError as error:
        port, host = settings.port, settings.host
        if error.errno == errno.EADDRINUSE:
            raise CannotServe(f"port {port} on {host} is already in use: stop what uses it or give --port") from None
        raise CannotServe(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return server


class SlowBody(BaseException):
    """A request's body came slower than min_body_bytes_per_s or not within body_timeout_s.

    Not an Exception: nothing in the app or its libraries takes it for an error of its own to answer.
    """


class PacedBody:
    """The connection's reader as a request's body reads it: each read refused (SlowBody) once the body is late.

    From the end of the headers, a body may take body_grace_s at any pace, then must keep an average of
    min_bytes_per_s, and must be in within timeout_s whatever its pace. Reads are of what has arrived
    (read1, peek), so each byte counts as it comes, however large the read asked for.
    """

    def __init__(self, rfile, grace_s: float, min_bytes_per_s: int, timeout_s: float, clock=time.monotonic) -> None:
        self.rfile, self.grace_s, self.min_bytes_per_s, self.timeout_s = rfile, grace_s, min_bytes_per_s, timeout_s
        self.clock = clock
        self.started = clock()
        self.received = 0

    def seconds_left(self) -> float:
        """How long the next bytes may take before the body is late."""
        allowed = self.timeout_s
        if self.min_bytes_per_s:
            allowed = min(allowed, max(self.grace_s, self.received / self.min_bytes_per_s))
        return self.started + allowed - self.clock()

    def _wait(self, read, size: int) -> bytes:
        import gevent

        left = self.seconds_left()
        if left <= 0:
            raise SlowBody()
        with gevent.Timeout(left, SlowBody):
            return read(size)

    def read(self, size: int | None = -1) -> bytes:
        wanted = -1 if size is None or size < 0 else size
        got = bytearray()
        while wanted < 0 or len(got) < wanted:
            chunk = self._wait(self.rfile.read1, 65536 if wanted < 0 else min(wanted - len(got), 65536))
            if not chunk:
                break
            self.received += len(chunk)
            got += chunk
        return bytes(got)

    def readline(self, size: int | None = -1) -> bytes:
        limit = -1 if size is None or size < 0 else size
        line = bytearray()
        while limit < 0 or len(line) < limit:
            arrived = self._wait(self.rfile.peek, 1)
            if not arrived:
                break
            room = len(arrived) if limit < 0 else min(len(arrived), limit - len(line))
            end = arrived.find(b"\n", 0, room)
            take = room if end < 0 else end + 1
            line += self.rfile.read(take)  # already buffered: no wait
            self.received += take
            if end >= 0:
                break
        return bytes(line)


# Files kept for the database (a writer and readers, each with its -wal and -shm), logs, voice
# clips and the listening socket, when max_connections is 0 and the cap follows the file limit.
FILES_KEPT = 100
BUSY = json.dumps({"error": {"code": "server_busy", "message": "too many connections; try again shortly"}}).encode()
BUSY_ANSWER = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
               b"Cache-Control: no-store\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(BUSY), BUSY))


class _Limits:
    """Connections open, in all and by client address; one greenlet at a time changes them."""

    def __init__(self, total: int, per_address: int) -> None:
        self.total, self.per_address = total, per_address
        self.open = 0
        self.by_address: dict[str, int] = {}

    def enter(self, address: str) -> bool:
        """Count a new connection in, or refuse it (False) when the server or its address is full."""
        mine = self.by_address.get(address, 0)
        if self.open >= self.total or (self.per_address and mine >= self.per_address):
            return False
        self.open += 1
        self.by_address[address] = mine + 1
        return True

    def leave(self, address: str) -> None:
        self.open -= 1
        left = self.by_address.pop(address) - 1
        if left:
            self.by_address[address] = left


def _refuse(sock) -> None:
    """Answer 503 at once and close: a client told to come back, rather than one left hanging."""
    import socket

    sock.settimeout(1)
    try:
        sock.sendall(BUSY_ANSWER)
        # Read what the request has already sent, so that closing does not reset the connection
        # before the client has read the answer.
        sock.shutdown(socket.SHUT_WR)
        sock.recv(65536)
    except OSError:
        pass
    finally:
        sock.close()


def _file_limit() -> int:
    import resource

    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return 1 << 20 if soft == resource.RLIM_INFINITY else soft


def _serve_until_interrupted(server) -> None:
    """Serve until SIGINT, then stop accepting, let answers in flight finish, and return."""
    import gevent

    # Without this the interrupt lands in whichever greenlet runs, the hub's loop often, which
    # prints a traceback before the process ends.
    stopping = gevent.signal_handler(signal.SIGINT, server.stop)
    try:
        server.serve_forever()
    finally:
        stopping.cancel()
