"""A request's JSON body and query string, read as the models its route's @operation declares."""
from __future__ import annotations

from flask import current_app, request
from pydantic import ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from motcua.core.model import Invalid
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


def query_args():
    """The query string as the model the route's @operation declares, or Invalid (400 bad_query) naming what is
    wrong."""
    declared = getattr(current_app.view_functions[request.endpoint], "operation", None)
    if declared is None or declared.query is None:
        raise RuntimeError(f"{request.endpoint} reads a query but its @operation declares none")
    try:
        return declared.query.model_validate(request.args.to_dict())
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in error.errors(include_url=False))
        raise Invalid(problems, "bad_query") from None
