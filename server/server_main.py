"""Running the server process: the app, its background tasks, a warm heap, and the server loop."""
from __future__ import annotations

import errno
import gc
import logging
import signal

from motcua.config import Config


class CannotServe(ValueError):
    """The server cannot start: the port is taken or the address is not this machine's."""


def serve(config: Config, on_ready=None) -> None:
    """Serve HTTP and Socket.IO until stopped (Ctrl-C stops it cleanly); `on_ready(app)` runs once it is listening."""
    from motcua.backup import hold
    from motcua.web.app import create_app
    from motcua.web.events import EXTENSION, socketio

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    gevent_server = None
    if config.server.async_mode == "gevent":
        # Bound before the engine is loaded: a port in use is reported at once, in one line.
        gevent_server = _gevent_server(config.server.host, config.server.port, config.server.access_log)
    # Held until the process ends: `motcua restore` refuses to replace a database a server has open.
    held = hold(config.server.db)
    app = create_app(config)
    base = f"http://{config.server.host}:{config.server.port}"
    print(f"motcua serving {config.server.db} at {base}/api/v1 (async mode {config.server.async_mode})",
          flush=True)
    socketio.start_background_task(app.extensions[EXTENSION].run)
    # Full collections of a warm heap stall one emit in fifty by 130-160 ms (NOTES.md); what is
    # loaded by now lives as long as the process, so freeze it out of the collector's sight.
    gc.collect()
    gc.freeze()
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


def _gevent_server(host: str, port: int, access_log: bool):
    """gevent's WSGI server with websockets, bound, answering without Nagle's delay.

    pywsgi writes a response's headers and body apart; with Nagle's algorithm on, the body then
    waits for the client's delayed ACK, adding about 40 ms to every keep-alive request.
    """
    import socket

    from gevent import pywsgi
    from geventwebsocket.handler import WebSocketHandler

    from motcua.web.app import JsonRefusals

    class NoDelayHandler(JsonRefusals, WebSocketHandler):
        def handle(self):
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().handle()

        def log_request(self):
            # A line per request buries what a person needs to read (the demo's URLs and login).
            if access_log:
                super().log_request()

    server = pywsgi.WSGIServer((host, port), None, handler_class=NoDelayHandler, log=None)
    try:
        server.init_socket()
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise CannotServe(f"port {port} on {host} is already in use: stop what uses it or give --port") from None
        raise CannotServe(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return server


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
