"""The shapes of the outbox's calls for administrators (/api/v1/admin/outbox), as pydantic models like
motcua.web.schemas."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .schemas import Answer

State = Literal["pending", "sent", "failed"]


class OutboxQuery(BaseModel):
    state: State = Field("failed", description="which messages: pending (to be tried), sent, failed (given up)")
    limit: int = Field(100, ge=1, le=1000, description="at most this many, newest first")


class OutboxMessage(Answer):
    id: int
    key: str = Field(description="the idempotency key the gateway receives with the message")
    kind: str = Field(description="what the message says, e.g. dossier.result_ready, ticket.turn_near")
    gateway: str
    recipient: str = Field(description="the phone, all but its last 4 digits masked, as the server's log shows it")
    lang: str | None
    state: State
    attempts: int
    created_at: str | None
    next_attempt_at: str | None = Field(description="when it is tried next (pending only)")
    sent_at: str | None
    failed_at: str | None
    last_error: str | None
