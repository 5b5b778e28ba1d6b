"""What the branch's staff read: the branch as its counters see it, tickets' ids included."""
from __future__ import annotations

from flask import jsonify

from . import schemas
from .openapi import operation
from .guards import bearer, require_staff
from .runtime import runtime
from .routes import api
from .views import staff_state


@api.get("/branches/<b>/staff-state")
@operation("the branch as its staff see it: counters with their tickets' ids, the waiting list",
           schemas.StaffState, auth="required")
def branch_staff_state(b):
    who = bearer()
    engine = runtime().engine
    engine.branch(b)
    require_staff(who, b)
    return jsonify(staff_state(engine, b))
