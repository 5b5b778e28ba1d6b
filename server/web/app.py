"""The app factory: one Flask app and Socket.IO server around one engine."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from motcua.config import Config
from .events import EXTENSION, Broadcaster, socketio
from .pages import pages
from .routes import api
from .runtime import Runtime, open_runtime

log = logging.getLogger("motcua")


def create_app(config: Config, clock=None, runtime: Runtime | None = None) -> Flask:
    """Build the app; the engine is loaded from the database named in config. Starts no task."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.server.max_body_kib * 1024
    app.json.ensure_ascii = False
    runtime = runtime or open_runtime(config, clock)
    app.extensions["motcua"] = runtime
    app.register_blueprint(api)
    app.register_blueprint(pages)
    _json_errors(app)
    socketio.init_app(app, async_mode=config.server.async_mode,
                      message_queue=config.server.message_queue or None,
                      http_compression=False, ping_interval=config.server.ping_interval_s,
                      ping_timeout=config.server.ping_timeout_s)
    # serve() runs it as a background task; tests call its drain() instead.
    app.extensions[EXTENSION] = Broadcaster(socketio, runtime.engine, config.server.queue_push_interval_s)
    return app


def _json_errors(app: Flask) -> None:
    """Every error, bad input or not, answers JSON: never an HTML page."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = (error.name or "error").lower().replace(" ", "_")
        return jsonify({"error": {"code": code, "message": error.description}}), error.code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unexpected error")
        return jsonify({"error": {"code": "internal", "message": "internal error; it has been logged"}}), 500
