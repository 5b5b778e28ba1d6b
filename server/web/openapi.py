"""The OpenAPI 3.1 document of /api/v1, generated from the routes and the models they declare.

Each route carries an `@operation(...)` naming its body and answer models (motcua.web.schemas);
the handler checks its body against that same model (bodies.json_body), so the document and the
validation cannot drift apart. The Socket.IO events are described beside the paths, under
`x-socketio`, from models too.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from . import schemas

PREFIX = "/api/v1"
# Every answer of the API says so (motcua.web.app's headers), refusals too.
NO_STORE = {"Cache-Control": {"required": True, "schema": {"type": "string", "const": "no-store"}}}
REFS = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Operation:
    """What the document says of one route: its answer, its body, who may call it, how it refuses."""

    summary: str
    answer: type[BaseModel] | None   # None: not JSON, a `media` document
    status: int
    body: type[schemas.Body] | None
    many: bool
    auth: str          # "none", "optional" (a token is checked when given) or "required": the caller's
    errors: tuple[int, ...]
    query: type[BaseModel] | None = None
    media: str | tuple[str, ...] = "application/json"   # a file's types: one of them, as the file is
    form: type[BaseModel] | None = None   # a multipart/form-data body, beside or instead of the JSON one
    caller: object = None   # who may call (motcua.web.guards.Caller); None: anyone


def operation(summary: str, answer: type[BaseModel] | None, *, status: int = 200,
              body: type[schemas.Body] | None = None, many: bool = False, caller=None, conflict: bool = False,
              errors: tuple[int, ...] = (), query: type[BaseModel] | None = None,
              media: str | tuple[str, ...] = "application/json", form: type[BaseModel] | None = None):
    """Declare a route's operation: answer (a list of them when many), body or form, query; 409 when conflict.

    caller (a motcua.web.guards.Caller; None: anyone, no token) is who may call: the route enforces it
    before its handler runs, and the document declares it, so the two cannot drift apart."""
    auth = "none" if caller is None else caller.auth
    refusals = set(errors) | (caller.refusals if caller is not None else set())
    if body is not None or form is not None:
        refusals |= {400, 413}
    if query is not None:
        refusals.add(400)
    if conflict:
        refusals.add(409)
    declared = Operation(summary, answer, status, body, many, auth, tuple(sorted(refusals)), query, media, form, caller)

    def declare(view):
        view = view if caller is None else caller.guard(view)
        view.operation = declared
        return view
    return declare


# Events the server emits: the payload model each room hears, and when.
SERVER_EVENTS = {
    "called": ({"branch:{branch}": schemas.CalledEvent, "ticket:{ticket}": schemas.OwnCalledEvent,
                "staff:{branch}": schemas.OwnCalledEvent},
               "a ticket called to a counter (recall: true when called again), within 100 ms of the call's answer"),
    "queue": ({"branch:{branch}": schemas.State},
              "the branch's state as GET /branches/{b}/state, on subscribing and whenever it changes"),
    "ticket": ({"ticket:{ticket}": schemas.Ticket},
               "the ticket as GET /tickets/{id}, on subscribing and whenever it changes"),
    "kiosk": ({"staff:{branch}": schemas.KioskProblem}, "a kiosk's problem: a ticket it could not print, or the kiosk "
                                                       "out of service (its token revoked by an admin)"),
    "staff_queue": ({"staff:{branch}": schemas.StaffState},
                    "the branch as GET /branches/{b}/staff-state, on subscribing and whenever it changes"),
    "error": ({"the subscribing socket": schemas.Error},
              "a client event refused, its acknowledgement saying the same code: `malformed` for anything but "
              "one object of the published form (no argument, null, another type, one argument too many); to "
              "a staff room's socket, `session_ended` when its session ended, in place of the event it "
              "would have heard"),
}
SUBSCRIPTIONS = (schemas.SubscribeBranch, schemas.SubscribeTicket)


def spec(app: Flask) -> dict:
    """The document served at /api/v1/openapi.json: every route under /api/v1, whichever blueprint has it."""
    documented = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        declared = getattr(app.view_functions[rule.endpoint], "operation", None)
        if rule.rule.startswith(PREFIX + "/") and declared is not None:
            documented.append((rule, declared))
    models = {(m, "validation" if issubclass(m, schemas.Body) else "serialization")
              for _, op in documented for m in (op.answer, op.body, op.form, schemas.Error) if m is not None}
    models |= {(m, "serialization") for rooms, _ in SERVER_EVENTS.values() for m in rooms.values()}
    models |= {(schemas.Subscribed, "serialization")}
    models |= {(m, "validation") for m in (*SUBSCRIPTIONS, schemas.SubscribeStaff)}
    refs, top = models_json_schema(sorted(models, key=lambda m: (m[0].__name__, m[1])), ref_template=REFS)
    ref = {model: schema for (model, _), schema in refs.items()}

    paths: dict = {}
    for rule, op in documented:
        path = rule.rule.removeprefix(PREFIX).replace("<", "{").replace(">", "}")
        item = paths.setdefault(path, {})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            item[method.lower()] = _operation(rule.endpoint, op, ref, bool(rule.arguments), method != "GET")
        if rule.arguments:
            item["parameters"] = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                                  for name in sorted(rule.arguments)]
    return {
        "openapi": "3.1.0",
        "info": {"title": "motcua", "version": "1",
                 "description": "Queue management for public administration service centres. Every answer "
                                "is Cache-Control: no-store: no cache keeps personal data or a token."},
        "servers": [{"url": PREFIX}],
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": top.get("$defs", {})},
        "x-socketio": _socketio(ref),
    }


def _operation(endpoint: str, op: Operation, ref: dict, has_path_parameters: bool, writes: bool) -> dict:
    if op.answer is None:
        answer = {"type": "string"}
    else:
        answer = {"type": "array", "items": ref[op.answer]} if op.many else ref[op.answer]
    # A write may find the disk full or read-only: 503 storage_unavailable, and it resumes by itself.
    refusals = sorted(set(op.errors) | ({404} if has_path_parameters else set()) | ({503} if writes else set()))
    described = {
        "operationId": endpoint.rpartition(".")[2],
        "summary": op.summary,
        "responses": {
            str(op.status): {"description": "success", "headers": NO_STORE, "content": {
                media: {"schema": answer} for media in ((op.media,) if isinstance(op.media, str) else op.media)}},
            **{str(code): {"description": "refused", "headers": NO_STORE,
                           "content": {"application/json": {"schema": ref[schemas.Error]}}} for code in refusals},
        },
    }
    if op.query is not None:
        fields = op.query.model_json_schema(by_alias=True)
        described["parameters"] = [{"name": name, "in": "query", "required": name in fields.get("required", ()),
                                    "schema": schema} for name, schema in fields["properties"].items()]
    content = {}
    if op.form is not None:
        content["multipart/form-data"] = {"schema": ref[op.form]}
    if op.body is not None:
        content["application/json"] = {"schema": ref[op.body]}
    if content:
        described["requestBody"] = {"required": True, "content": content}
    if op.auth == "required":
        described["security"] = [{"bearer": []}]
    elif op.auth == "optional":
        described["security"] = [{}, {"bearer": []}]
    declared = op.caller.declared() if op.caller is not None else None
    if declared is not None:
        described["x-caller"] = declared
    return described


def _socketio(ref: dict) -> dict:
    subscription = {"oneOf": [ref[m] for m in SUBSCRIPTIONS]}
    return {
        "path": "/socket.io",
        "client": {
            "subscribe": {"payload": subscription, "ack": ref[schemas.Subscribed],
                          "description": "join a branch's room or a ticket's; answered at once with `queue` or "
                                         "`ticket`, the current state"},
            "unsubscribe": {"payload": subscription, "ack": ref[schemas.Subscribed], "description": "leave the room"},
            "subscribe_staff": {"payload": ref[schemas.SubscribeStaff], "ack": ref[schemas.Subscribed],
                                "description": "join a branch's staff room (officer of the branch or above); "
                                               "answered at once with `staff_queue`. The session is checked "
                                               "again before every event the room hears: once it has ended "
                                               "(signed out, account disabled or moved, expired) the socket "
                                               "hears `error` session_ended instead and leaves the room"},
        },
        "server": {name: _event(rooms, said, ref) for name, (rooms, said) in SERVER_EVENTS.items()},
    }


def _event(rooms: dict, said: str, ref: dict) -> dict:
    """An event's rooms and payload; where rooms hear different payloads, each room's under `payloads`."""
    models = list(dict.fromkeys(rooms.values()))
    described = {"payload": ref[models[0]] if len(models) == 1 else {"anyOf": [ref[m] for m in models]},
                 "rooms": list(rooms), "description": said}
    if len(models) > 1:
        described["payloads"] = {room: ref[model] for room, model in rooms.items()}
    return described
