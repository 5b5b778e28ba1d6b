"""`motcua fanout`: a Socket.IO process that holds displays, phones and staff pages for the writer.

A fan-out process has no engine and never writes the database. The writer (`motcua serve`) emits
through Flask-SocketIO's Redis message queue, so its calls and queue pushes reach the rooms of every
process. A subscription is answered at once with the state the writer publishes over HTTP (the
same `GET /api/v1/branches/{b}/state`, `/tickets/{id}` and `/branches/{b}/staff-state` a client
could read), so a display that lands here after its process died shows the current call, never a
stale one. Staff events come on a Redis channel of their own (events.STAFF_CHANNEL) and each is
checked against each member's session here, on a read-only connection to the accounts' tables,
exactly as the writer checks its own staff room (events.StaffRoom). What the writer publishes while a
fan-out is not subscribed is lost, so each (re)subscription sends every room held here its state again.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
from dataclasses import replace
from urllib.parse import quote

import redis
import requests
import socketio
from flask import Flask, request
from flask_socketio import SocketIO, emit
from requests.adapters import HTTPAdapter

from motcua.accounts import Accounts
from motcua.config import Config
from motcua.core.clock import SystemClock
from motcua.core.model import DomainError
from motcua.web.app import PacketJson
from motcua.web.events import (STAFF_CHANNEL, STAFF_USAGE, SUBSCRIBE_USAGE, WATCHED, StaffRoom, _refuse, _subject,
                               check_staff, leave_subject, one_object, refusal, staff_token)
from motcua.web.ops_routes import health_answer, redis_check
from motcua.web.throttle import queue_channel, redis_url

log = logging.getLogger("motcua")
WRITER_TIMEOUT_S = 5.0
# Reads in flight from one fan-out to the writer at most, each over a kept connection: a reconnect storm (a
# fan-out died, its displays all subscribe here) waits its turn instead of opening and dropping a
# connection per display (urllib3's "Connection pool is full" at its default of 10).
WRITER_CONNECTIONS = 32
# A subscription the writer could not answer (busy, restarting) is read again after 0.5, 1, 2, 4, 4, …
# seconds, for about a minute; then its socket is closed, so that the client reconnects and subscribes
# again (live.js polls meanwhile) rather than sitting outside its room, hearing nothing.
ANSWER_AGAIN_S = (0.5, 1, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4)
EVENT = {"branch": "queue", "ticket": "ticket"}  # the event carrying a room's state, by the kind of room


class ReadOnlyAccounts:
    """The database read with `mode=ro` and query_only: what Accounts.principals needs, and nothing that writes."""

    def __init__(self, path: str) -> None:
        self.path = path

    def query(self, sql: str, params=()) -> list[dict]:
        conn = sqlite3.connect(f"file:{quote(self.path)}?mode=ro", uri=True, timeout=10)
        try:
            conn.execute("PRAGMA query_only=1")
            conn.row_factory = sqlite3.Row
            return [dict(row) for row in conn.execute(sql, params)]
        finally:
            conn.close()


class WriterUnavailable(DomainError):
    """The writer did not answer, or answered that it cannot now (5xx, 429): the same read may succeed later."""

    code = "unavailable"


class Writer:
    """The writer's published reads, over HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/") + "/api/v1"
        self.http = requests.Session()
        self.http.mount("http://", HTTPAdapter(pool_maxsize=WRITER_CONNECTIONS, pool_block=True))

    def read(self, path: str, token: str | None = None) -> dict:
        """The JSON the writer answers, or DomainError with the writer's own refusal."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            answer = self.http.get(self.base + path, headers=headers, timeout=WRITER_TIMEOUT_S)
        except requests.RequestException:
            raise WriterUnavailable("the writer does not answer; try again shortly") from None
        body = answer.json() if answer.headers.get("Content-Type", "").startswith("application/json") else {}
        if answer.ok:
            return body
        error = body.get("error") or {}
        refused = WriterUnavailable if answer.status_code >= 500 or answer.status_code == 429 else DomainError
        raise refused(error.get("message", "refused"), error.get("code", "unavailable"))


class Feed(socketio.RedisManager):
    """Socket.IO's Redis message queue, calling on_subscribed each time its subscription is (re)established.

    Whatever the writer published while a subscriber was away never comes to it: Redis restarted, or
    dropped the connection (`CLIENT KILL`, a subscriber past `client-output-buffer-limit pubsub`), and the
    queue subscribes again a second or more later. on_subscribed sends the rooms the current state instead.
    """

    def __init__(self, url: str, channel: str, on_subscribed) -> None:
        super().__init__(url, channel=channel)
        self.on_subscribed = on_subscribed

    def _redis_connect(self):
        super()._redis_connect()
        self.pubsub = self.redis.pubsub()  # with each subscription's confirmation, which _listen passes over

    def _redis_listen_with_retries(self):
        for message in super()._redis_listen_with_retries():
            if message["type"] == "subscribe":  # also when redis-py subscribed again by itself
                self.server.start_background_task(self.on_subscribed)
            yield message


def state_path(kind: str, key: str) -> str:
    """Where the writer publishes the state a branch's or a ticket's room is sent."""
    return f"/branches/{quote(key, safe='')}/state" if kind == "branch" else f"/tickets/{quote(key, safe='')}"


def writer_base(config: Config) -> str:
    """The writer's address, from the config both read: its [server] host (any address: loopback) and port."""
    host = config.server.host
    host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # nosec B104  # a wildcard is not an address
    return f"http://{host}:{config.server.port}"


def create_fanout(config: Config) -> tuple[Flask, SocketIO, StaffRoom]:
    """The fan-out app: Socket.IO on the message queue, /health, and the subscription handlers."""
    url = redis_url(config)
    if url is None:
        raise ValueError("motcua fanout needs [server] message_queue, a Redis URL shared with the writer")
    app = Flask(__name__)
    io = SocketIO()
    channel = queue_channel(config)
    io.init_app(app, async_mode=config.server.async_mode, message_queue=url, channel=channel, http_compression=False,
                client_manager=Feed(url, channel, lambda: send_states_again()), json=PacketJson,
                ping_interval=config.server.ping_interval_s, ping_timeout=config.server.ping_timeout_s)
    writer = Writer(writer_base(config))
    accounts = Accounts(ReadOnlyAccounts(config.server.db), SystemClock(), config.auth.token_ttl_hours)
    room = StaffRoom(io, accounts)
    bus = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    watching: dict[str, set[tuple[str, str]]] = {}  # sid of a phone -> the (branch, ticket id) it watches
    lock = threading.Lock()

    @app.get("/api/v1/health")
    def health():
        """As the writer's, with the one check a fan-out has of its own: Redis, which feeds it everything."""
        return health_answer({"redis": redis_check(bus)})

    @io.on("subscribe")
    @one_object(SUBSCRIBE_USAGE)
    def subscribe(data: dict):
        try:
            kind, key = _subject(data)
            state = writer.read(state_path(kind, key))
        except WriterUnavailable:
            io.start_background_task(answer_again, request.sid, kind, key)
            return {"ok": True}
        except DomainError as error:
            return _refuse(error)
        admit(request.sid, kind, key, state)
        return {"ok": True}

    def admit(sid: str, kind: str, key: str, state: dict) -> None:
        """sid into its room, and the room's state to it alone: here, not through Redis to every process."""
        io.server.enter_room(sid, f"{kind}:{key}", namespace="/")
        if kind == "ticket":
            watch(sid, state["branch"], key)
        io.emit(EVENT[kind], state, to=sid, ignore_queue=True)

    def answer_again(sid: str, kind: str, key: str) -> None:
        """The subscription the writer could not answer, read again while its socket is here (ANSWER_AGAIN_S)."""
        for delay in ANSWER_AGAIN_S:
            io.sleep(delay)
            if not io.server.manager.is_connected(sid, "/"):
                return
            try:
                state = writer.read(state_path(kind, key))
            except WriterUnavailable:
                continue
            except DomainError as error:
                io.emit("error", refusal(error), to=sid, ignore_queue=True)
                return
            admit(sid, kind, key, state)
            return
        log.warning("the writer did not answer %s:%s's subscription for a minute: closing its socket", kind, key)
        io.server.disconnect(sid, namespace="/")

    @io.on("unsubscribe")
    @one_object(SUBSCRIBE_USAGE)
    def unsubscribe(data: dict):
        try:
            kind, key = leave_subject(data)
        except DomainError as error:
            return _refuse(error)
        if kind == "ticket":
            with lock:
                watching[request.sid] = {(b, t) for b, t in watching.get(request.sid, ()) if t != key}
        return {"ok": True}

    @io.on("subscribe_staff")
    @one_object(STAFF_USAGE)
    def subscribe_staff(data: dict):
        """The session checked here as the writer checks its own (and again before each event); the branch's
        staff state read from the writer with the same token."""
        try:
            branch = data.get("branch")
            if not isinstance(branch, str):
                raise DomainError(STAFF_USAGE, "malformed")
            token = staff_token(data)
            check_staff(accounts, token, branch)
            state = writer.read(f"/branches/{quote(branch, safe='')}/staff-state", token)
        except DomainError as error:
            return _refuse(error)
        room.join_staff(request.sid, branch, token)
        emit("staff_queue", state, ignore_queue=True)
        return {"ok": True}

    @io.on("disconnect")
    def disconnect(reason=None):
        room.leave_staff(request.sid)
        with lock:
            watching.pop(request.sid, None)

    def watch(sid: str, branch: str, ticket_id: str) -> None:
        """The writer sends a ticket's moves only to the tickets it knows are watched: list it in Redis."""
        with lock:
            watching.setdefault(sid, set()).add((branch, ticket_id))
        try:
            bus.sadd(WATCHED.format(branch=branch), ticket_id)
        except redis.RedisError:  # listed again by relay_staff_events once Redis is back
            log.warning("cannot list ticket %s as watched: Redis does not answer", ticket_id)

    def list_watched_again() -> None:
        """Every ticket this process's phones watch, listed again (Redis restarted empty)."""
        with lock:
            watched = {pair for pairs in watching.values() for pair in pairs}
        for branch, ticket_id in watched:
            bus.sadd(WATCHED.format(branch=branch), ticket_id)

    def send_states_again() -> None:
        """The writer's current state to every branch and ticket room held here (the message queue subscribed
        again: what was published meanwhile is lost), each room's sockets at once."""
        rooms = [name for name in list(io.server.manager.rooms.get("/", {})) if isinstance(name, str)]
        for name in rooms:
            kind, _, key = name.partition(":")
            if kind not in EVENT:
                continue
            try:
                state = writer.read(state_path(kind, key))
            except DomainError as error:  # a ticket gone since: its phones hear nothing more, as on the writer
                log.warning("cannot send room %s its state again: %s", name, error.message)
                continue
            io.emit(EVENT[kind], state, to=name, ignore_queue=True)

    def send_staff_states_again() -> None:
        """Each staff room held here its branch's staff state, read with one of its members' tokens (staff
        events published while the relay was away are lost)."""
        for branch in list(room.staff):
            for token in room.tokens(branch):
                try:
                    state = writer.read(f"/branches/{quote(branch, safe='')}/staff-state", token)
                except DomainError:  # this member's session has ended: another's may still read it
                    continue
                room.to_staff("staff_queue", state, branch)
                break

    def relay_staff_events() -> None:
        """The writer's staff events, each to this process's members of the branch's staff room; on each
        (re)subscription, the tickets watched here listed again and each staff room sent its state."""
        while True:
            try:
                events = redis.Redis.from_url(url).pubsub()
                events.subscribe(STAFF_CHANNEL.format(channel=channel))
                for message in events.listen():
                    if message["type"] == "subscribe":  # also when redis-py subscribed again by itself
                        list_watched_again()
                        send_staff_states_again()
                        continue
                    if message["type"] != "message":
                        continue
                    event = json.loads(message["data"])
                    room.to_staff(event["event"], event["payload"], event["branch"])
            except redis.RedisError as error:  # lost: listen again, as the message queue does
                log.warning("staff events: Redis does not answer (%s); trying again", error)
            except Exception:  # one bad push must not end the staff's live updates
                log.exception("relaying staff events failed")
            io.sleep(1)

    app.extensions["motcua.fanout.relay"] = relay_staff_events
    return app, io, room


def fanout(config: Config, port: int) -> None:
    """Serve Socket.IO on port until stopped; the writer is at the config's own host and port."""
    from motcua import logs
    from motcua.server_main import CannotServe, _gevent_server, _serve_until_interrupted, warm_heap
    from motcua.web.throttle import check_redis

    logs.configure(config.server.log_format)
    own = replace(config, server=replace(config.server, port=port))
    server = _gevent_server(own) if config.server.async_mode == "gevent" else None
    try:
        check_redis(config)
    except ConnectionError as error:
        raise CannotServe(str(error)) from None
    app, io, _ = create_fanout(config)
    io.start_background_task(app.extensions["motcua.fanout.relay"])
    warm_heap(config)
    print(f"motcua fanout on {own.server.host}:{port} for the writer at {writer_base(config)}", flush=True)
    if server is None:
        io.run(app, host=own.server.host, port=port, log_output=config.server.access_log, allow_unsafe_werkzeug=True)
        return
    server.application = app
    _serve_until_interrupted(server)
