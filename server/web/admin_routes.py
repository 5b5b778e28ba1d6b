"""Administration under /api/v1/admin (admins only): branches, services, counters, users, devices, live.

Network changes go through motcua.core.administration (committed, then applied, then broadcast);
users and devices through motcua.accounts, whose changes end the tokens they concern at once.
"""
from __future__ import annotations

import logging

from flask import Blueprint, g, jsonify, request

from motcua.core import administration
from motcua.core.model import Counter, Ticket, staff_actor
from motcua.core.readmodels import BranchSetup
from . import admin_schemas as schemas
from .bodies import json_body
from .events import broadcaster
from .guards import ADMIN, admin, at_branch, at_counter, at_service
from .openapi import operation
from .runtime import runtime
from .views import names, revoked_kiosk

bp = Blueprint("admin", __name__, url_prefix="/api/v1")
log = logging.getLogger("motcua")


@bp.after_app_request
def _note_change(answer):
    """Who changed what, in the server's log: the events table is the tickets' journal, not the network's."""
    who = g.get("admin")
    if who is not None and request.method != "GET" and answer.status_code < 300:
        log.info("administration by %s: %s %s", who.actor, request.method, request.path)
    return answer


# A user's or device's existence is not public, so their calls refuse a non-admin before looking
# anything up (ADMIN; the published 404-before-403 order is for branches, services and counters).
ADMIN_OF_BRANCH, ADMIN_OF_SERVICE, ADMIN_OF_COUNTER = admin(at_branch), admin(at_service), admin(at_counter)


# ---- the network ------------------------------------------------------------------------------

@bp.get("/admin/network")
@operation("every branch with its hours, services and counters, and every service (admin)", schemas.Network,
           caller=ADMIN)
def admin_network():
    network = runtime().engine.network()
    return jsonify({"branches": [setup_view(setup) for setup in network.branches],
                    "services": [service_view(s) for s in network.services]})


@bp.post("/admin/branches")
@operation("a new branch: names, address, location, hours and the unit code its dossier codes begin with; it "
           "offers a service once a counter there serves it (admin)", schemas.AdminBranch, status=201,
           body=schemas.NewBranch, caller=ADMIN, conflict=True)
def admin_add_branch():
    body = json_body()
    engine = runtime().engine
    address = body.address or schemas.AddressChange()
    branch = administration.add_branch(engine, body.id, body.name.vi, body.name.en, body.location.lat,
                                       body.location.lon, body.open, body.close, address.vi or "", address.en or "",
                                       body.unit_code or "")
    return jsonify(branch_view(engine, branch.id)), 201


@bp.patch("/admin/branches/<b>")
@operation("rename a branch, change its address, location, unit code, opening hours or the services it offers, "
           "or close or reopen it: a closed branch issues no tickets (409 branch_closed) and no citizen or ticket "
           "is sent there (admin)", schemas.AdminBranch, body=schemas.BranchChange, caller=ADMIN_OF_BRANCH, conflict=True)
def admin_update_branch(b):
    engine = runtime().engine
    body = json_body()
    name = body.name or schemas.NamesChange()
    address = body.address or schemas.AddressChange()
    administration.update_branch(engine, b, name_vi=name.vi, name_en=name.en, open=body.open, close=body.close,
                                 services=body.services, address_vi=address.vi, address_en=address.en,
                                 lat=body.location and body.location.lat, lon=body.location and body.location.lon,
                                 unit_code=body.unit_code, closed=body.closed)
    return jsonify(branch_view(engine, b))


@bp.post("/admin/services")
@operation("a new service; a branch offers it once a counter there serves it (admin)", schemas.AdminService,
           status=201, body=schemas.NewService, caller=ADMIN, conflict=True)
def admin_add_service():
    body = json_body()
    service = administration.add_service(runtime().engine, body.id, body.name.vi, body.name.en, body.letter,
                                         body.mean_min, body.description.vi, body.description.en)
    return jsonify(service_view(service)), 201


@bp.patch("/admin/services/<s>")
@operation("change a service's names, letter, kiosk description or mean service time (admin)",
           schemas.AdminService, body=schemas.ServiceChange, caller=ADMIN_OF_SERVICE, conflict=True)
def admin_update_service(s):
    engine = runtime().engine
    body = json_body()
    name = body.name or schemas.NamesChange()
    description = body.description or schemas.DescriptionChange()
    service = administration.update_service(engine, s, name_vi=name.vi, name_en=name.en, letter=body.letter,
                                            mean_min=body.mean_min, description_vi=description.vi,
                                            description_en=description.en)
    return jsonify(service_view(service))


@bp.post("/admin/branches/<b>/counters")
@operation("a new counter at a branch (admin)", schemas.AdminCounter, status=201, body=schemas.NewCounter,
           caller=ADMIN_OF_BRANCH, conflict=True)
def admin_add_counter(b):
    rt = runtime()
    body = json_body()
    counter = administration.add_counter(rt.engine, b, body.id, body.services, body.open)
    # The staffing advice hands services back to a counter's own: a new counter's are the ones it starts with.
    rt.home[(b, counter.id)] = counter.services
    return jsonify(counter_view(rt.engine, counter)), 201


@bp.patch("/admin/branches/<b>/counters/<c>")
@operation("change a counter's services (the branch offers them from now on) or open or close it (admin)",
           schemas.AdminCounter, body=schemas.CounterChange, caller=ADMIN_OF_COUNTER, conflict=True)
def admin_update_counter(b, c):
    rt = runtime()
    body = json_body()
    counter = administration.update_counter(rt.engine, b, c, body.services, body.open)
    if body.services is not None:  # an admin sets up the counter: these are its own services now
        rt.home[(b, c)] = counter.services
    return jsonify(counter_view(rt.engine, counter))


@bp.delete("/admin/branches/<b>/counters/<c>")
@operation("take a counter away; refused while it holds a ticket (admin)", schemas.Removed, caller=ADMIN_OF_COUNTER,
           conflict=True)
def admin_remove_counter(b, c):
    rt = runtime()
    administration.remove_counter(rt.engine, b, c)
    rt.home.pop((b, c), None)
    return jsonify({"removed": c})


# ---- users ------------------------------------------------------------------------------------

@bp.get("/admin/users")
@operation("every staff account (admin)", schemas.User, many=True, caller=ADMIN)
def admin_users():
    return jsonify(runtime().accounts.users())


@bp.post("/admin/users")
@operation("a new staff account (admin)", schemas.User, status=201, body=schemas.NewUser, caller=ADMIN,
           conflict=True, errors=(404,))
def admin_add_user():
    body = json_body()
    accounts = runtime().accounts
    accounts.add_user(body.username, body.password, body.role, body.branch, replace=False,
                      department=body.department)
    return jsonify(user_view(accounts, body.username)), 201


@bp.patch("/admin/users/<username>")
@operation("change a user's role or branch, or disable or enable it; its sessions end at once and the counters "
           "it holds are free (admin)", schemas.User, body=schemas.UserChange, caller=ADMIN, conflict=True)
def admin_update_user(username):
    body = json_body()
    user = runtime().accounts.update_user(username, body.role, body.branch, body.disabled, body.department)
    runtime().engine.release_held_by(staff_actor(username))
    return jsonify(user)


@bp.post("/admin/users/<username>/password")
@operation("give a user a new password; its sessions end at once (admin)", schemas.User,
           body=schemas.NewPassword, caller=ADMIN)
def admin_reset_password(username):
    accounts = runtime().accounts
    accounts.set_password(username, json_body().password)
    return jsonify(user_view(accounts, username))


# ---- devices ----------------------------------------------------------------------------------

@bp.get("/admin/devices")
@operation("every kiosk and display (admin)", schemas.Device, many=True, caller=ADMIN)
def admin_devices():
    return jsonify([device_view(d) for d in runtime().accounts.devices()])


@bp.post("/admin/devices")
@operation("register a kiosk or display; its token is shown this once (admin)", schemas.DeviceAdded, status=201,
           body=schemas.NewDevice, caller=ADMIN, errors=(404,))
def admin_add_device():
    body = json_body()
    added, token = runtime().accounts.register_device(body.kind, body.branch)
    return jsonify({**device_view(added), "token": token}), 201


@bp.delete("/admin/devices/<device_id>")
@operation("revoke a device: its token stops at once; a kiosk's branch staff hear a `kiosk` event saying it is "
           "out of service (admin)", schemas.Removed, caller=ADMIN)
def admin_revoke_device(device_id):
    device = runtime().accounts.revoke_device(device_id)
    if device["kind"] == "kiosk":
        broadcaster().to_staff("kiosk", revoked_kiosk(runtime().engine, device), device["branch"])
    return jsonify({"removed": device_id})


# ---- views ------------------------------------------------------------------------------------

def branch_view(engine, branch_id: str) -> dict:
    return setup_view(engine.branch_setup(branch_id))


def setup_view(setup: BranchSetup) -> dict:
    branch = setup.branch
    return {"id": branch.id, "name": names(branch), "address": {"vi": branch.address_vi, "en": branch.address_en},
            "lat": branch.lat, "lon": branch.lon, "unit_code": branch.unit_code, "closed": branch.closed,
            "open": branch.open, "close": branch.close,
            "services": list(branch.services),
            "counters": [held_view(line.counter, line.ticket) for line in setup.counters]}


def counter_view(engine, counter) -> dict:
    return held_view(counter, engine.serving_at(counter.branch, counter.id))


def held_view(counter: Counter, held: Ticket | None) -> dict:
    return {"id": counter.id, "branch": counter.branch, "services": list(counter.services), "open": counter.open,
            "serving": held.number if held else None}


def service_view(service) -> dict:
    return {"id": service.id, "name": names(service),
            "description": {"vi": service.description_vi, "en": service.description_en},
            "letter": service.letter, "mean_min": service.mean_min}


def user_view(accounts, username: str) -> dict:
    return next(u for u in accounts.users() if u["username"] == username)


def device_view(device: dict) -> dict:
    return {**device, "created_at": runtime().engine.local.iso(device["created_at"])}
