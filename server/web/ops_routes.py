"""Running the server: `/health`, which really checks what serving needs, and `/metrics` for Prometheus."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST

from . import schemas
from .events import EXTENSION
from .metrics import METRICS
from .openapi import operation
from .errors import error_response
from .guards import Caller
from .runtime import runtime

bp = Blueprint("ops", __name__, url_prefix="/api/v1")

log = logging.getLogger("motcua")
REDIS = "motcua.redis"
# How long the broadcaster's tasks have to turn when woken, and Redis to answer, before they fail the check.
HEALTH_WAIT_S = 2.0
OK = "ok"
METRICS_READER = Caller(network="[server] metrics_from",
                        in_network=lambda address: current_app.extensions[METRICS].allows(address),
                        refused="metrics are read from the addresses of [server] metrics_from only",
                        refused_code="metrics_not_allowed")


@bp.get("/health")
@operation("whether the server can serve: a write committed to the database, the broadcaster's tasks turning (once "
           "started), Redis answering (when [server] message_queue is set); 503 `unhealthy` names the failing "
           "checks in its details", schemas.Health, errors=(503,))
def health():
    return health_answer(checks())


def health_answer(results: dict[str, str]):
    """200 with every check "ok", else 503 `unhealthy` naming the failing ones (the fan-out's /health too)."""
    failing = sorted(name for name, result in results.items() if result != OK)
    if failing:
        log.warning("unhealthy: %s", "; ".join(f"{name}: {results[name]}" for name in failing))
        return error_response(503, "unhealthy", "failing: " + ", ".join(failing), results)
    return jsonify({"status": OK, "checks": results})


def checks() -> dict[str, str]:
    """Each check's result: "ok", or what is wrong. The broadcaster's only once its tasks run (serve), Redis's
    only when configured."""
    results = {"store": _store()}
    stuck = current_app.extensions[EXTENSION].stuck(HEALTH_WAIT_S)
    if stuck is not None:
        results["broadcaster"] = f"its tasks did not turn within {HEALTH_WAIT_S:g} s: {', '.join(stuck)}" \
            if stuck else OK
    if runtime().config.server.message_queue:
        results["redis"] = _redis()
    return results


def _store() -> str:
    the = runtime()
    try:
        the.store.probe(the.engine.now())
    except Exception as error:  # any failure of the write path is the answer, not a 500
        return f"the database cannot be written: {error}"
    return OK


def _redis() -> str:
    import redis

    client = current_app.extensions.get(REDIS)
    if client is None:
        client = current_app.extensions[REDIS] = redis.Redis.from_url(
            runtime().config.server.message_queue, socket_timeout=HEALTH_WAIT_S,
            socket_connect_timeout=HEALTH_WAIT_S)
    return redis_check(client)


def redis_check(client) -> str:
    """"ok" when the Redis client's server answers a ping, else what is wrong."""
    import redis

    try:
        client.ping()
    except redis.RedisError as error:
        return f"Redis does not answer: {error}"
    return OK


@bp.get("/metrics")
@operation("this process's metrics in Prometheus' text format: commit latency, emit lag of calls, sockets per kind "
           "of room, tickets waiting and estimated waits per branch and service against the wait target, the "
           "broadcaster's backlog; only for the addresses of [server] metrics_from (loopback by default), 403 to "
           "any other", None, media=CONTENT_TYPE_LATEST, caller=METRICS_READER)
def metrics():
    return Response(current_app.extensions[METRICS].exposition(), content_type=CONTENT_TYPE_LATEST)
