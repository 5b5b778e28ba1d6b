"""The OpenAPI 3 description of every HTTP endpoint under /api/v1."""
from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}
TICKET = {"$ref": "#/components/schemas/Ticket"}
BEARER = [{"bearer": []}]


def _op(summary: str, answer: dict | None = None, status: str = "200", body: dict | None = None,
        auth: bool = False, errors: tuple[int, ...] = (404,)) -> dict:
    op: dict = {"summary": summary, "responses": {
        status: {"description": "success", "content": {"application/json": {"schema": answer or {"type": "object"}}}},
        **{str(code): {"description": "refused", "content": {"application/json": {"schema": ERROR}}}
           for code in errors}}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if auth:
        op["security"] = BEARER
    return op


def _obj(required: tuple[str, ...] = (), **props) -> dict:
    return {"type": "object", "required": list(required), "properties": props}


STR, INT, BOOL, NUM = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "number"}
STAFF_ERRORS = (400, 401, 403, 404, 409, 413)


def _ticket_action(verb: str) -> dict:
    return {"post": _op(f"{verb} (officer of the ticket's branch)", TICKET, auth=True,
                        errors=(401, 403, 404, 409))}


def spec() -> dict:
    """The document served at /api/v1/openapi.json."""
    paths = {
        "/health": {"get": _op("liveness", _obj(status=STR), errors=())},
        "/openapi.json": {"get": _op("this document", errors=())},
        "/auth/login": {"post": _op("staff login", _obj(token=STR, role=STR, branch=STR),
                                    body=_obj(("username", "password"), username=STR, password=STR),
                                    errors=(400, 401, 413))},
        "/branches": {"get": _op("branches and the services they offer", {"type": "array"}, errors=())},
        "/branches/{b}/state": {"get": _op("live state of a branch", {"$ref": "#/components/schemas/State"})},
        "/branches/{b}/tickets": {"post": _op(
            "issue a ticket (kiosk of the branch, or staff)", {"$ref": "#/components/schemas/Issued"}, "201",
            _obj(("service",), service=STR, priority=BOOL, lang={"type": "string", "enum": ["vi", "en"]}),
            auth=True, errors=STAFF_ERRORS)},
        "/tickets/{id}": {"get": _op("a ticket's status (no personal data)", TICKET)},
        "/tickets/{id}/recall": _ticket_action("call again"),
        "/tickets/{id}/start": _ticket_action("start serving"),
        "/tickets/{id}/done": _ticket_action("finish"),
        "/tickets/{id}/no-show": _ticket_action("mark as not showing up"),
        "/tickets/{id}/requeue": _ticket_action("put a no-show back in the queue the same day"),
        "/tickets/{id}/transfer": {"post": _op(
            "queue again for another service or branch, keeping the arrival time", TICKET,
            body=_obj(("service",), service=STR, branch=STR), auth=True, errors=STAFF_ERRORS)},
        "/tickets/{id}/redirect": {"post": _op(
            "a kiosk sends the citizen to a better branch offered: a new ticket there (new number, same "
            "issued_at), ranked by and not called before due_at, the expected arrival", TICKET, "201",
            _obj(("branch",), branch=STR), auth=True, errors=STAFF_ERRORS)},
        "/tickets/{id}/check-in": {"post": _op(
            "a kiosk of the ticket's branch checks in a redirected citizen: callable from now", TICKET,
            auth=True, errors=STAFF_ERRORS)},
        "/tickets/{id}/not-printed": {"post": _op(
            "a kiosk's printer failed: the ticket stays valid; staff get a `kiosk` event",
            _obj(ticket=STR, printed=BOOL, problem=STR), "201", _obj(("problem",), problem=STR), auth=True,
            errors=STAFF_ERRORS)},
        "/branches/{b}/tickets/{number}/rating": {"post": _op(
            "a kiosk rates today's ticket by the number the citizen types", _obj(ticket=STR, number=STR, score=INT),
            "201", _obj(("score",), score={"type": "integer", "minimum": 1, "maximum": 4},
                        reasons={"type": "array", "items": STR}, comment=STR), auth=True, errors=STAFF_ERRORS)},
        "/tickets/{id}/rating": {"post": _op(
            "rate a done ticket once", _obj(ticket=STR, score=INT), "201",
            _obj(("score",), score={"type": "integer", "minimum": 1, "maximum": 4},
                 reasons={"type": "array", "items": STR}, comment=STR), errors=(400, 404, 409, 413))},
        "/branches/{b}/counters/{c}/next": {"post": _op(
            "call the next ticket to a counter", _obj(ticket={"oneOf": [TICKET, {"type": "null"}]}),
            auth=True, errors=(401, 403, 404, 409))},
        "/branches/{b}/counters/{c}/call": {"post": _op(
            "call a chosen waiting or no-show ticket", _obj(ticket=TICKET),
            body=_obj(("ticket",), ticket=STR), auth=True, errors=STAFF_ERRORS)},
        "/branches/{b}/counters/{c}": {"post": _op(
            "change a counter's services or open it / close it (manager)", _obj(),
            body=_obj(services={"type": "array", "items": STR}, open=BOOL), auth=True, errors=STAFF_ERRORS)},
        "/branches/{b}/recommendations": {"get": _op(
            "counters each service needs to meet the wait target over the coming hours, and the moves that "
            "get there (manager)", _obj(branch=STR, at=STR, services={"type": "array", "items": _obj()},
                                        moves={"type": "array", "items": _obj()}),
            auth=True, errors=(401, 403, 404))},
    }
    for path, item in paths.items():
        params = [{"name": name, "in": "path", "required": True, "schema": STR}
                  for name in ("b", "c", "id", "number") if "{" + name + "}" in path]
        if params:
            item["parameters"] = params
    return {
        "openapi": "3.0.3",
        "info": {"title": "motcua", "version": "1", "description": "Queue management for public service centres"},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": _obj(("error",), error=_obj(("code", "message"), code=STR, message=STR)),
                "Ticket": _obj(("id", "number", "branch", "service", "status"), id=STR, number=STR, branch=STR,
                               service=STR, status={"type": "string", "enum": [
                                   "waiting", "called", "serving", "done", "no_show", "transferred"]},
                               position={"type": "integer", "nullable": True},
                               estimated_wait_min={"type": "integer", "nullable": True},
                               counter={"type": "string", "nullable": True},
                               due_at={"type": "string", "nullable": True}),
                "Issued": _obj(("id", "number", "service", "branch", "issued_at", "position",
                                "estimated_wait_min", "status_url", "alternatives"),
                               id=STR, number=STR, service=STR, branch=STR, issued_at=STR, position=INT,
                               estimated_wait_min={"type": "integer", "nullable": True}, status_url=STR,
                               alternatives={"type": "array", "items": _obj(
                                   branch=STR, estimated_wait_min=NUM, travel_min=NUM, distance_km=NUM)}),
                "State": _obj(("branch", "services", "counters", "recent_calls"), branch=STR,
                              services={"type": "array"}, counters={"type": "array"},
                              recent_calls={"type": "array"}),
            },
        },
    }
