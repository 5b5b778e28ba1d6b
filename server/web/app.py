"""The app factory: one Flask app and Socket.IO server around one engine."""
from __future__ import annotations

import json
import logging

from engineio import json as engineio_json
from flask import Flask, abort, jsonify, request
from werkzeug.exceptions import BadRequest, HTTPException, default_exceptions
from werkzeug.middleware.proxy_fix import ProxyFix

from motcua.config import Config
from motcua.core.model import DomainError
from motcua.voice import Voice
from .events import EXTENSION, Broadcaster, socketio
from .metrics import METRICS, Metrics, allowed_networks
from .pages import VOICE, pages
from . import (admin_catalogue_routes, admin_routes, appointment_routes, auth_routes, counter_routes,  # noqa: F401
               document_routes, dossier_report_routes, dossier_routes, intake_routes, kiosk_routes, manager_routes,
               ops_routes, outbox_routes, public_routes, receipt_routes, remote_routes, report_routes)
from . import card_routes, decision766_routes, evaluation_pages, evaluation_routes
from .errors import STATUS_OF, error_response
from .staff_pages import staff_pages
from . import throttle
from .runtime import Runtime, open_runtime

log = logging.getLogger("motcua")
# The API under /api/v1, a blueprint per area (admin_catalogue_routes adds to the admin one).
API = (public_routes.bp, auth_routes.bp, kiosk_routes.bp, counter_routes.bp, manager_routes.bp, admin_routes.bp,
       dossier_routes.bp, document_routes.bp, receipt_routes.bp, report_routes.bp, dossier_report_routes.bp,
       decision766_routes.bp,
       ops_routes.bp, remote_routes.bp, outbox_routes.bp, appointment_routes.bp, intake_routes.bp,
       evaluation_routes.bp, card_routes.bp)
# On every answer, pages and API alike: scripts only from this server's files (the pages have no
# inline script), no framing, no sniffing a JSON answer into HTML, no address leaked onwards, and
# no copy kept by a cache (API answers carry personal data and tokens, pages and Socket.IO live
# state); the files the same for everyone (assets, sounds, the icon) say their own caching.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_app(config: Config, clock=None, runtime: Runtime | None = None) -> Flask:
    """Build the app; the engine is loaded from the database named in config. Starts no task."""
    metrics_from = allowed_networks(config.server.metrics_from)  # a bad address stops the start, nothing opened
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.server.max_body_kib * 1024
    app.json.ensure_ascii = False
    # "//x" is simply not a route (JSON 404), never a redirect page; set before any rule is added.
    app.url_map.merge_slashes = False
    runtime = runtime or open_runtime(config, clock)
    app.extensions["motcua"] = runtime
    app.extensions[VOICE] = Voice(max_clips=config.display.voice_cache_clips)
    throttle.configure(app, config)  # before the blueprints' limiters are made
    for blueprint in API:
        app.register_blueprint(blueprint)
    app.register_blueprint(pages)
    app.register_blueprint(staff_pages)
    app.register_blueprint(evaluation_pages.bp)
    _json_errors(app)
    app.before_request(_no_empty_segments)
    socketio.init_app(app, async_mode=config.server.async_mode,
                      message_queue=config.server.message_queue or None, channel=throttle.queue_channel(config),
                      http_compression=False, json=PacketJson, ping_interval=config.server.ping_interval_s,
                      ping_timeout=config.server.ping_timeout_s)
    # Wrapped outside Socket.IO's middleware: its own answers (/socket.io/ polling, refusals) carry them too.
    app.wsgi_app = _secured(app.wsgi_app)
    # Outermost: every part of the app, limits and cookies alike, sees the client the proxy saw.
    app.wsgi_app = behind_proxies(app.wsgi_app, config.server.trusted_proxies)
    # serve() runs it as a background task; tests call its drain() instead.
    app.extensions[EXTENSION] = Broadcaster(socketio, runtime.engine, config.server.queue_push_interval_s,
                                                accounts=runtime.accounts, bus=_fanout_bus(config),
                                                channel=throttle.queue_channel(config), offers=runtime.journeys.offer)
    app.extensions[METRICS] = Metrics(runtime, app.extensions[EXTENSION], socketio, metrics_from)
    return app


def _fanout_bus(config: Config):
    """The Redis shared with fan-out processes (motcua.fanout), or None: staff events, watched tickets."""
    url = throttle.redis_url(config)
    if url is None:
        return None
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


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


def _error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


class JsonRefusals:
    """Mixin for gevent's handler: what it refuses before the app (long request line, huge headers) answers JSON."""

    def handle_one_request(self):
        result = super().handle_one_request()
        if isinstance(result, tuple):   # gevent's (status, raw response) for a refusal it writes itself
            status, _ = result
            return status, raw_refusal(int(status))
        return result


def raw_refusal(status: int) -> bytes:
    """A whole HTTP/1.1 response refusing a request, as the app's errors are: JSON, the security headers."""
    error = default_exceptions.get(status, BadRequest)()
    name = error.name
    body = json.dumps(_error_body(name.lower().replace(" ", "_"), error.description)).encode()
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body)), "Connection": "close",
               **SECURITY_HEADERS}
    head = f"HTTP/1.1 {status} {name}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode("latin-1") + body


def behind_proxies(wsgi_app, trusted: int):
    """The WSGI app reading the client's address and scheme from the last `trusted` proxies' headers
    (werkzeug's ProxyFix); with none trusted, the app itself: anyone can write X-Forwarded-For."""
    return ProxyFix(wsgi_app, x_for=trusted, x_proto=trusted) if trusted else wsgi_app


def client_address(environ: dict, trusted: int) -> str:
    """The client's address as the app sees it behind `trusted` proxies (one rule: ProxyFix's)."""
    return behind_proxies(lambda seen, _: seen["REMOTE_ADDR"], trusted)(dict(environ), None)


def _no_empty_segments():
    # werkzeug's routing drops leading slashes before matching: "//display/x" would serve "/display/x".
    if "//" in request.environ.get("PATH_INFO", ""):
        abort(404)


def _secured(wsgi_app):
    """The WSGI app with the security headers on every answer that lacks them (not a websocket's 101)."""
    def secured(environ, start_response):
        def start(status, headers, exc_info=None):
            if not status.startswith("101"):
                present = {name.lower() for name, _ in headers}
                headers = [*headers, *((k, v) for k, v in SECURITY_HEADERS.items() if k.lower() not in present)]
            return start_response(status, headers, exc_info)
        return wsgi_app(environ, start)
    return secured


def _json_errors(app: Flask) -> None:
    """Every error, bad input or not, answers JSON: never an HTML page."""

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        # Every blueprint's refusals, in the published statuses (one table: errors.STATUS_OF).
        return error_response(STATUS_OF.get(type(error), 400), error.code, error.message, error.details)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = (error.name or "error").lower().replace(" ", "_")
        # The error's own headers stay (Allow on a 405, Retry-After, ...); the body is ours.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return jsonify(_error_body(code, error.description)), error.code, headers

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unexpected error")
        return jsonify(_error_body("internal", "internal error; it has been logged")), 500
