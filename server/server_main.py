"""Running the server process: the app, a warm heap, and the Socket.IO server loop."""
from __future__ import annotations

import gc
import logging

from .config import Config


def serve(config: Config, on_ready=None) -> None:
    """Serve HTTP and Socket.IO until stopped; `on_ready(app)` runs once it is listening."""
    from .web.app import create_app
    from .web.events import socketio

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app(config)
    base = f"http://{config.server.host}:{config.server.port}"
    print(f"motcua serving {config.server.db} at {base}/api/v1 (async mode {config.server.async_mode})",
          flush=True)
    # Full collections of a warm heap stall one emit in fifty by 130-160 ms (NOTES.md); what is
    # loaded by now lives as long as the process, so freeze it out of the collector's sight.
    gc.collect()
    gc.freeze()
    if on_ready is not None:
        socketio.start_background_task(on_ready, app)
    if config.server.async_mode == "gevent":
        _serve_gevent(app, config.server.host, config.server.port)
    else:
        socketio.run(app, host=config.server.host, port=config.server.port, log_output=False,
                     allow_unsafe_werkzeug=True)


def _serve_gevent(app, host: str, port: int) -> None:
    """gevent's WSGI server with websockets, answering without Nagle's delay.

    pywsgi writes a response's headers and body apart; with Nagle's algorithm on, the body then
    waits for the client's delayed ACK, adding about 40 ms to every keep-alive request.
    """
    import socket

    from gevent import pywsgi
    from geventwebsocket.handler import WebSocketHandler

    class NoDelayHandler(WebSocketHandler):
        def handle(self):
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().handle()

    pywsgi.WSGIServer((host, port), app, handler_class=NoDelayHandler, log=None).serve_forever()
