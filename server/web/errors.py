"""The web layer's refusals: its own errors beside the core's, each error's HTTP status, the JSON they answer.

Refusals come in the published order: 401 without a valid token, 404 for an unknown branch,
counter or ticket, 403 for a role or branch that may not act, 400/413 for the body, 409 for the
state.
"""
from __future__ import annotations

from flask import jsonify

from motcua.accounts import AccountDisabled
from motcua.core.model import Conflict, DomainError, Invalid, NotFound, StorageUnavailable, WrongCode


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"


STATUS_OF = {NotFound: 404, Conflict: 409, Invalid: 400, Unauthorized: 401, Forbidden: 403,
             UnsupportedMediaType: 415, StorageUnavailable: 503, AccountDisabled: 403, WrongCode: 403}


def error_response(status: int, code: str, message: str, details: dict | None = None):
    error = {"code": code, "message": message, **({"details": details} if details else {})}
    return jsonify({"error": error}), status
