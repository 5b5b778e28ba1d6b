"""The app factory: one Flask app and Socket.IO server around one engine."""
from __future__ import annotations

import json
import logging

from engineio import json as engineio_json
from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from motcua.config import Config
from motcua.voice import Voice
from .events import EXTENSION, Broadcaster, socketio
from .pages import VOICE, pages
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
    app.extensions[VOICE] = Voice(max_clips=config.display.voice_cache_clips)
    app.register_blueprint(api)
    app.register_blueprint(pages)
    _json_errors(app)
    socketio.init_app(app, async_mode=config.server.async_mode,
                      message_queue=config.server.message_queue or None,
                      http_compression=False, json=PacketJson)
    # serve() runs it as a background task; tests call its drain() instead.
    app.extensions[EXTENSION] = Broadcaster(socketio, runtime.engine, config.server.queue_push_interval_s)
    return app


class PacketJson:
    """JSON of Socket.IO packets: an event's argument too deep to decode reaches its handler as None."""

    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(text, **kwargs):
        try:
            return engineio_json.loads(text, **kwargs)
        except RecursionError:
            # The event's name decodes on its own; its handler then refuses the argument, as any bad one.
            name = _event_name(text)
            if name is None:
                raise ValueError("the packet is nested too deep") from None
            return [name, None]


def _event_name(text) -> str | None:
    """The first element of a JSON array, when it is a string: the event a packet is for."""
    if not isinstance(text, str) or not text.startswith("["):
        return None
    try:
        name, _ = json.JSONDecoder().raw_decode(text[1:].lstrip())
    except ValueError:
        return None
    return name if isinstance(name, str) else None


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
