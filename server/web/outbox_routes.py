"""The outbox for administrators (/api/v1/admin/outbox): which messages to citizens wait, went out or were given
up, and a given-up one handed back to the sender once its gateway works again. The phone is shown masked: an
administrator needs to tell messages apart, not to read citizens' numbers."""
from __future__ import annotations

from flask import Blueprint, jsonify

from motcua.core.model import Conflict, NotFound
from motcua.gateways import mask
from motcua.outbox import FAILED, PENDING
from .bodies import query_args
from .guards import ADMIN
from .openapi import operation
from .outbox_schemas import OutboxMessage, OutboxQuery
from .runtime import runtime

bp = Blueprint("outbox", __name__, url_prefix="/api/v1")


@bp.get("/admin/outbox")
@operation("the newest messages to citizens in a state (pending: to be tried, with their attempts and next try; "
           "sent; failed: given up after [notify] max_attempts, with the last error), newest first; the recipient "
           "masked (admin)", OutboxMessage, many=True, query=OutboxQuery, caller=ADMIN)
def outbox_list():
    query = query_args()
    rt = runtime()
    return jsonify([message_view(row, rt.engine.local.iso) for row in rt.sender.listing(query.state, query.limit)])


@bp.post("/admin/outbox/<message_id>/retry")
@operation("a failed message tried again from its first attempt, under the same idempotency key (a gateway that "
           "took it meanwhile drops the copy); 409 not_failed for a message pending or sent (admin)", OutboxMessage,
           caller=ADMIN, conflict=True, errors=(404,))
def outbox_retry(message_id: str):
    sender = runtime().sender
    number = int(message_id) if message_id.isdigit() and len(message_id) < 19 else -1   # beyond SQLite's integers
    retried = sender.retry(number)
    message = sender.get(number)
    if message is None:
        raise NotFound(f"no message {message_id} in the outbox")
    if not retried:
        raise Conflict(f"message {message_id} is {message['state']}, not {FAILED}: only a failed message is tried "
                       "again", "not_failed")
    return jsonify(message_view(message, runtime().engine.local.iso))


def message_view(row: dict, iso) -> dict:
    """An outbox row as an administrator sees it: times in local ISO, the phone masked, no texts."""
    return {"id": row["id"], "key": row["key"], "kind": row["kind"], "gateway": row["gateway"],
            "recipient": mask(row["recipient"] or ""),
            "lang": row["lang"], "state": row["state"], "attempts": row["attempts"], "created_at": iso(row["created_at"]),
            "next_attempt_at": iso(row["next_attempt_at"]) if row["state"] == PENDING else None,
            "sent_at": iso(row["sent_at"]), "failed_at": iso(row["failed_at"]), "last_error": row["last_error"]}
