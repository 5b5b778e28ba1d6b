"""The durable outbox: messages to citizens written in the transaction of the change that causes them,
sent after the commit through one gateway (motcua.gateways), retried with backoff, never lost across a
restart and never sent twice.

A sender claims a row (a lease, in a write transaction) before sending it, so that two greenlets or
processes never send one row at once; the row is marked sent only after the gateway's 2xx. A message
whose answer was lost (a timeout) is sent again under the same idempotency key, by which the gateway
recognises it."""
from __future__ import annotations

import dataclasses
import json
import logging
import threading
import uuid

log = logging.getLogger("motcua.outbox")
PENDING, SENT, FAILED = "pending", "sent", "failed"
COLUMNS = ("key", "kind", "gateway", "recipient", "lang", "template_id", "params", "texts", "attempts", "created_at",
           "next_attempt_at")
INSERT_SQL = f"insert or ignore into outbox ({', '.join(COLUMNS)}) values ({', '.join('?' * len(COLUMNS))})"
# After a failed attempt, while the claim is still this worker's (one that lapsed may be another's attempt by now):
# tried again from next_attempt_at, or given up.
RETRY_SQL = ("update outbox set next_attempt_at = ?, claimed_until = null, last_error = ? "
             "where id = ? and claimed_by = ?")
GIVE_UP_SQL = "update outbox set failed_at = ?, claimed_until = null, last_error = ? where id = ? and claimed_by = ?"
DUE_SQL = ("select * from outbox where sent_at is null and failed_at is null and next_attempt_at <= ?1 "
           "and coalesce(claimed_until, 0) <= ?1 order by next_attempt_at, id limit 1")


# What an administrator lists, by state: newest first.
LIST_SQL = {PENDING: "select * from outbox where sent_at is null and failed_at is null order by id desc limit ?",
            SENT: "select * from outbox where sent_at is not null order by id desc limit ?",
            FAILED: "select * from outbox where sent_at is null and failed_at is not null order by id desc limit ?"}
# A message given up, handed back to the sender as new: its attempts start again, due at once.
RETRY_FAILED_SQL = ("update outbox set failed_at = null, attempts = 0, next_attempt_at = ?, claimed_until = null "
                    "where id = ? and sent_at is null and failed_at is not null")


@dataclasses.dataclass(frozen=True)
class RetryRules:
    """When a message that failed is tried again, and when it is given up."""

    retry_base_s: float = 30.0   # the wait after the first failure, doubled after each next one
    retry_max_s: float = 3600.0  # the longest wait between two attempts
    max_attempts: int = 10       # attempts before the message is marked failed

    def delay_s(self, attempts: int) -> float:
        """Seconds to wait after the attempts-th failed attempt (1, 2, ...): exponential, capped."""
        return min(self.retry_base_s * 2 ** max(attempts - 1, 0), self.retry_max_s)

    def gives_up(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


@dataclasses.dataclass(frozen=True)
class Message:
    """One message to one recipient. key: its idempotency key, unique in the outbox; texts: by language;
    template_id and params: what a template gateway (Zalo ZNS) sends instead of the text."""

    key: str
    kind: str
    recipient: str
    texts: dict
    lang: str = "vi"
    template_id: str = ""
    params: dict = dataclasses.field(default_factory=dict)

    def text(self) -> str:
        return self.texts.get(self.lang) or self.texts.get("vi") or ""


def row(message: Message, gateway: str, now: float) -> dict:
    """The outbox row of a message through gateway, due at once."""
    return {"key": message.key, "kind": message.kind, "gateway": gateway, "recipient": message.recipient,
            "lang": message.lang, "template_id": message.template_id,
            "params": json.dumps(message.params, ensure_ascii=False),
            "texts": json.dumps(message.texts, ensure_ascii=False), "attempts": 0, "created_at": now,
            "next_attempt_at": now}


def insert(db, rows: list[dict]) -> int:
    """In the caller's transaction (db: the store's write connection): the rows; those of a key already
    there are left out (the change was made twice: told once). How many were new."""
    return sum(db.execute(INSERT_SQL, [values[c] for c in COLUMNS]).rowcount for values in rows)


def state_of(row: dict) -> str:
    return SENT if row["sent_at"] is not None else FAILED if row["failed_at"] is not None else PENDING


def message_of(row: dict) -> Message:
    return Message(row["key"], row["kind"], row["recipient"], json.loads(row["texts"]), row["lang"],
                   row["template_id"] or "", json.loads(row["params"] or "{}"))


class GatewayError(Exception):
    """The gateway did not take the message (an error answer, no answer in time, no connection)."""


class Sender:
    """Sends the outbox's due messages through one gateway, on an injected clock."""

    def __init__(self, store, clock, gateway, rules: RetryRules | None = None, lease_s: float = 60.0,
                 poll_s: float = 5.0) -> None:
        self.store, self.clock, self.gateway = store, clock, gateway
        self.rules = rules or RetryRules()
        self.lease_s = lease_s  # longer than a send may take: a claim outlives the send it guards
        self.poll_s = poll_s
        self.worker = uuid.uuid4().hex  # whose claim a row holds
        self.woken = threading.Event()  # gevent's under serve(), which patches threading

    def wake(self) -> None:
        """After a commit that added a message: send it now rather than at the next poll."""
        self.woken.set()

    def claim(self) -> dict | None:
        """The next due message, claimed for this worker (its attempt counted), or None."""
        now = self.clock.now()

        def write(db) -> dict | None:
            rows = list(db.query(DUE_SQL, [now]))
            if not rows:
                return None
            db.execute("update outbox set claimed_until = ?, claimed_by = ?, attempts = attempts + 1 where id = ?",
                       [now + self.lease_s, self.worker, rows[0]["id"]])
            return {**rows[0], "attempts": rows[0]["attempts"] + 1}
        return self.store.write(write)

    def send_one(self, row: dict) -> str:
        """Send a claimed row and record the outcome: sent, pending (tried again later) or failed."""
        try:
            self.gateway.send(message_of(row))
        except GatewayError as error:
            return self._failed(row, str(error))
        except Exception as error:  # noqa: BLE001  a fault of the gateway's code: recorded, the sender goes on
            log.exception("gateway %s failed on message %s", row["gateway"], row["key"])
            return self._failed(row, repr(error))
        self.store.write(lambda db: db.execute(
            "update outbox set sent_at = ?, claimed_until = null, last_error = null where id = ?",
            [self.clock.now(), row["id"]]))
        return SENT

    def _failed(self, row: dict, error: str) -> str:
        now, attempts = self.clock.now(), row["attempts"]
        if self.rules.gives_up(attempts):
            log.error("message %s to %s given up after %d attempts: %s", row["key"], row["gateway"], attempts, error)
            sql, at, outcome = GIVE_UP_SQL, now, FAILED
        else:
            log.warning("message %s to %s failed (attempt %d): %s", row["key"], row["gateway"], attempts, error)
            sql, at, outcome = RETRY_SQL, now + self.rules.delay_s(attempts), PENDING
        self.store.write(lambda db: db.execute(sql, [at, error[:500], row["id"], self.worker]))
        return outcome

    def send_due(self) -> dict[str, int]:
        """Send every message due now, each once; how many ended sent, pending and failed."""
        outcomes = {SENT: 0, PENDING: 0, FAILED: 0}
        while (row := self.claim()) is not None:
            outcomes[self.send_one(row)] += 1
        return outcomes

    def next_due_s(self) -> float | None:
        """Seconds until the next pending message falls due (0: now), None when none waits."""
        rows = self.store.query("select min(max(next_attempt_at, coalesce(claimed_until, 0))) as at from outbox "
                                "where sent_at is null and failed_at is null")
        at = rows[0]["at"]
        return None if at is None else max(at - self.clock.now(), 0.0)

    def depth(self) -> dict[str, int]:
        """Messages not sent: pending (to be tried) and failed (given up), for /metrics."""
        rows = self.store.query("select count(*) filter (where failed_at is null) as pending, "
                                "count(*) filter (where failed_at is not null) as failed "
                                "from outbox where sent_at is null")
        return {PENDING: rows[0]["pending"] or 0, FAILED: rows[0]["failed"] or 0}

    def listing(self, state: str, limit: int) -> list[dict]:
        """The newest `limit` messages in a state (pending, sent, failed), each with its state."""
        return [{**row, "state": state} for row in self.store.query(LIST_SQL[state], [limit])]

    def retry(self, message_id: int) -> bool:
        """A failed message tried again from its first attempt (the gateway is back): True, or False when no
        failed message has that id. Its key is kept, so a gateway that took it meanwhile knows it."""
        def write(db) -> bool:
            return db.execute(RETRY_FAILED_SQL, [self.clock.now(), message_id]).rowcount == 1
        retried = self.store.write(write)
        if retried:
            self.wake()
        return retried

    def get(self, message_id: int) -> dict | None:
        """A message with its state, None when no message has that id."""
        rows = self.store.query("select * from outbox where id = ?", [message_id])
        return {**rows[0], "state": state_of(rows[0])} if rows else None

    def run(self) -> None:
        """The background task (started by serve()): what was pending at the last stop first, then as woken."""
        while True:
            self.woken.clear()  # before looking: a wake during the sends is not lost
            try:
                self.send_due()
                due = self.next_due_s()
            except Exception:  # noqa: BLE001  the database down a moment: the messages wait in it
                log.exception("sending the outbox failed")
                due = None
            self.woken.wait(self.poll_s if due is None else min(due, self.poll_s))
