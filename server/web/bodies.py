"""A request's JSON body, read as the model its route's @operation declares."""
from __future__ import annotations

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from . import schemas


def json_body():
    """The body as the model the route's @operation declares; 413 past the size limit, 400 naming the field.

    Handlers call it after authorising and looking up, so refusals keep the published order.
    """
    declared = getattr(current_app.view_functions[request.endpoint], "operation", None)
    if declared is None or declared.body is None:
        raise RuntimeError(f"{request.endpoint} reads a body but its @operation declares none")
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    # A chunked body has no Content-Length to refuse up front: werkzeug stops reading at the limit,
    # so a body that fills it is too large if anything follows.
    if request.content_length is None and limit is not None and len(raw) >= limit \
            and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()
    return schemas.parse(declared.body, raw)
