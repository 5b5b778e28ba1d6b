"""Where the sign-in and lookup limits count: in Redis when [server] message_queue names one, so that
every process on it counts together, else in each app's own memory."""
from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from motcua.config import Config

REDIS_SCHEMES = ("redis://", "rediss://")


def redis_url(config: Config) -> str | None:
    """The Redis that [server] message_queue names, or None (no queue, or a queue of another kind)."""
    queue = config.server.message_queue
    return queue if queue.startswith(REDIS_SCHEMES) else None


def queue_channel(config: Config) -> str:
    """The Redis pub/sub channel of the city's message queue. Pub/sub ignores database numbers, so cities
    sharing one Redis with a database number each would hear each other's events on one channel."""
    import redis

    url = redis_url(config)
    database = redis.Redis.from_url(url).connection_pool.connection_kwargs.get("db", 0) if url else 0
    return f"motcua-{database}"


def configure(app: Flask, config: Config) -> None:
    """Point app's limiters at the configured Redis, through Flask-Limiter's own settings.

    Redis lost while serving: each process counts in its own memory, from nothing, until Redis
    answers again (Flask-Limiter tries it now and then), rather than failing the requests it limits.
    """
    url = redis_url(config)
    if url is not None:
        app.config.update(RATELIMIT_STORAGE_URI=url, RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
                          RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 1, "socket_timeout": 1})


def limiter(app: Flask, **options) -> Limiter:
    """A moving-window Flask-Limiter for app, counting where `configure` said, else in the app's memory."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    return Limiter(get_remote_address, app=app, strategy="moving-window", headers_enabled=True, **options)


def check_redis(config: Config) -> None:
    """Raise ConnectionError, in words, when a configured Redis does not answer."""
    import redis

    url = redis_url(config)
    if url is None:
        return
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2) as client:
            client.ping()
    except redis.RedisError as error:
        raise ConnectionError(f"cannot reach Redis at {url} ([server] message_queue): {error}; start it, or leave "
                              "message_queue empty to serve from one process") from None
