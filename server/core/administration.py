"""Live administration of the network: branches, services and counters changed without a restart.

Each change is checked against the engine's current state, committed through the engine's
journal like any queue operation (`QueueEngine.change_network`) and only then applied in
memory, so the next call, the next estimate, the kiosks' `GET /branches` and the displays'
`queue` event see it at once.
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable

from .clock import hhmm_minutes
from .dossier_codes import UNIT_CODE, code_unit
from .engine import QueueEngine
from .model import ACTIVE_AT_COUNTER, NO_SHOW, WAITING, Branch, Change, Conflict, Counter, Invalid, Service
from .text import check_text

SERVICE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
BRANCH_ID = SERVICE_ID
MAX_ADDRESS_CHARS = 200
# A counter's id is spoken and shown on one-line displays, as the voice route accepts it.
COUNTER_ID = re.compile(r"^[0-9A-Za-z-]{1,8}$")
LETTER = re.compile(r"^[A-Z]{1,2}$")
HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
MAX_NAME_CHARS = 100
# A procedure's official name is long: the national catalogue's run to 250 characters and more.
MAX_PROCEDURE_NAME_CHARS = 300
MAX_DESCRIPTION_CHARS = 200
MEAN_MIN_RANGE = (0.5, 240.0)


def add_branch(engine: QueueEngine, branch_id: str, name_vi: str, name_en: str, lat: float, lon: float,
               open: str | None = None, close: str | None = None, address_vi: str = "", address_en: str = "",
               unit_code: str = "") -> Branch:
    """A new branch, open (hours left None: Branch's) and offering nothing until a counter there serves a service."""
    def build() -> Change:
        if not BRANCH_ID.match(branch_id or ""):
            raise Invalid("a branch id is 1-32 small letters, digits, - or _", "bad_id")
        if branch_id in engine.branches:
            raise Conflict(f"there is a branch {branch_id!r} already", "branch_exists")
        branch = Branch(branch_id, name_vi, name_en, lat, lon, ())
        return Change(branches=[_checked_branch(engine, branch, name_vi=name_vi, name_en=name_en, open=open,
                                                close=close, address_vi=address_vi, address_en=address_en,
                                                unit_code=unit_code, lat=lat, lon=lon)])
    return engine.change_network(build).branches[0]


def update_branch(engine: QueueEngine, branch_id: str, *, name_vi: str | None = None, name_en: str | None = None,
                  open: str | None = None, close: str | None = None,
                  services: Iterable[str] | None = None, **changes) -> Branch:
    """Rename a branch, change its hours, address, location, unit code or the services it offers, or close
    or reopen it (closed: it issues no tickets and no citizen or ticket is sent there)."""
    def build() -> Change:
        branch = engine.branch(branch_id)
        unknown = changes.keys() - {"address_vi", "address_en", "unit_code", "lat", "lon", "closed"}
        if unknown:
            raise Invalid(f"a branch has no field {', '.join(sorted(unknown))}")
        checked = _checked_branch(engine, branch, name_vi=name_vi, name_en=name_en, open=open, close=close,
                                  **{k: v for k, v in changes.items() if v is not None})
        if services is not None:
            checked = dataclasses.replace(checked, services=_offer(engine, branch, tuple(dict.fromkeys(services))))
        return Change(branches=[checked])
    return engine.change_network(build).branches[0]


def _checked_branch(engine: QueueEngine, branch: Branch, *, name_vi: str | None, name_en: str | None,
                    open: str | None, close: str | None, **given) -> Branch:
    """The branch with the changes given, each checked (texts trimmed and NFC), or Invalid/Conflict."""
    changes = {**checked_names(name_vi, name_en), **given}
    opens, closes = open or branch.open, close or branch.close
    for value in (opens, closes):
        if not HHMM.match(value):
            raise Invalid(f"opening hours are HH:MM, not {value!r}", "bad_hours")
    if hhmm_minutes(opens) >= hhmm_minutes(closes):
        raise Invalid("a branch opens before it closes", "bad_hours")
    changes.update(open=opens, close=closes)
    for field in ("address_vi", "address_en"):
        if field in changes:
            _check_text(changes[field], field, MAX_ADDRESS_CHARS, required=False)
            changes[field] = unicodedata.normalize("NFC", changes[field].strip())
    for field, limit in (("lat", 90), ("lon", 180)):
        value = changes.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not -limit <= value <= limit):
            raise Invalid(f"{field} is a number from -{limit} to {limit}", "bad_location")
        if value is not None:
            changes[field] = float(value)
    if changes.get("unit_code"):
        changes["unit_code"] = changes["unit_code"].upper()
        if not UNIT_CODE.match(changes["unit_code"]):
            raise Invalid("a unit code is an identifier under QCVN 102:2016/BTTTT, such as 000.00.12.H29",
                          "bad_unit_code")
    # Dossier codes begin with it: two branches beginning theirs alike would give two dossiers one code.
    unit = code_unit(branch.id, changes.get("unit_code", branch.unit_code))
    if any(code_unit(b.id, b.unit_code) == unit for b in engine.branches.values() if b.id != branch.id):
        raise Conflict(f"another branch's dossier codes begin with {unit}", "unit_code_taken")
    if "closed" in changes:
        changes["closed"] = bool(changes["closed"])
    return dataclasses.replace(branch, **changes)


def add_service(engine: QueueEngine, service_id: str, name_vi: str, name_en: str, letter: str, mean_min: float,
                description_vi: str = "", description_en: str = "") -> Service:
    """A new kind of transaction; branches offer it once a counter serves it."""
    def build() -> Change:
        if not SERVICE_ID.match(service_id):
            raise Invalid("a service id is 1-32 small letters, digits, - or _", "bad_id")
        if service_id in engine.services:
            raise Conflict(f"there is a service {service_id!r} already", "service_exists")
        service = Service(service_id, name_vi, name_en, letter, mean_min, description_vi=description_vi,
                          description_en=description_en)
        return Change(services=[_checked_service(engine, service)])
    return engine.change_network(build).services[0]


def update_service(engine: QueueEngine, service_id: str, **changes) -> Service:
    """Change a service's names, letter, description or mean service time (fields left None stay)."""
    def build() -> Change:
        service = engine.service(service_id)
        given = {k: v for k, v in changes.items() if v is not None}
        unknown = given.keys() - {"name_vi", "name_en", "letter", "mean_min", "description_vi", "description_en"}
        if unknown:
            raise Invalid(f"a service has no field {', '.join(sorted(unknown))}")
        return Change(services=[_checked_service(engine, dataclasses.replace(service, **given))])
    return engine.change_network(build).services[0]


def add_counter(engine: QueueEngine, branch_id: str, counter_id: str, services: Iterable[str],
                open: bool = True) -> Counter:
    """A new counter at a branch; the branch offers every service it serves from now on."""
    def build() -> Change:
        branch = engine.branch(branch_id)
        if not COUNTER_ID.match(counter_id):
            raise Invalid("a counter id is 1-8 letters, digits or -", "bad_id")
        if (branch_id, counter_id) in engine.counters:
            raise Conflict(f"{branch_id} has a counter {counter_id} already", "counter_exists")
        counter = Counter(branch_id, counter_id, _served(engine, services), bool(open))
        return _with_offer(engine, branch, Change(counters=[counter]))
    return engine.change_network(build).counters[0]


def update_counter(engine: QueueEngine, branch_id: str, counter_id: str, services: Iterable[str] | None = None,
                   open: bool | None = None) -> Counter:
    """Change a counter's services (the branch offers them from now on) or open or close it."""
    def build() -> Change:
        counter = engine.counter(branch_id, counter_id)
        changes = {} if open is None else {"open": bool(open)}
        if services is not None:
            changes["services"] = _served(engine, services)
        return _with_offer(engine, engine.branch(branch_id), Change(counters=[dataclasses.replace(counter, **changes)]))
    return engine.change_network(build).counters[0]


def remove_counter(engine: QueueEngine, branch_id: str, counter_id: str) -> Counter:
    """Take a counter away; refused while it holds a ticket (finish or move it first)."""
    def build() -> Change:
        counter = engine.counter(branch_id, counter_id)
        held = engine.serving_at(branch_id, counter_id)
        if held is not None and held.status in ACTIVE_AT_COUNTER:
            raise Conflict(f"counter {counter_id} holds ticket {held.number}: finish it first", "counter_busy")
        return Change(removed_counters=[counter])
    return engine.change_network(build).removed_counters[0]


# ---- checks --------------------------------------------------------------------------------

def checked_names(name_vi: str | None, name_en: str | None, limit: int = MAX_NAME_CHARS) -> dict:
    given = {"name_vi": name_vi, "name_en": name_en}
    for field, value in given.items():
        if value is not None:
            _check_text(value, field, limit, required=True)
    return {k: unicodedata.normalize("NFC", v.strip()) for k, v in given.items() if v is not None}


def _check_text(value: str, field: str, limit: int, required: bool) -> None:
    if not isinstance(value, str) or (required and not value.strip()):
        raise Invalid(f"{field} is needed, not only spaces", "bad_value")
    if len(value) > limit:
        raise Invalid(f"{field} is at most {limit} characters", "bad_value")
    check_text(value, field, "bad_value")


def _checked_service(engine: QueueEngine, service: Service) -> Service:
    """The service with its texts trimmed and NFC, or Invalid/Conflict naming what is wrong."""
    checked_names(service.name_vi, service.name_en)  # checked; trimmed below with the descriptions
    for field in ("description_vi", "description_en"):
        _check_text(getattr(service, field), field, MAX_DESCRIPTION_CHARS, required=False)
    if not LETTER.match(service.letter):
        raise Invalid("a ticket letter is one or two capital letters A-Z", "bad_letter")
    taken = next((s for s in engine.services.values() if s.letter == service.letter and s.id != service.id), None)
    if taken is not None:
        # Numbers are the letter and a sequence: two services with one letter would share numbers.
        raise Conflict(f"the letter {service.letter} is {taken.id}'s", "letter_taken")
    low, high = MEAN_MIN_RANGE
    if isinstance(service.mean_min, bool) or not low <= float(service.mean_min) <= high:
        raise Invalid(f"the mean service time is {low:g} to {high:g} minutes", "bad_mean")
    texts = {f: unicodedata.normalize("NFC", getattr(service, f).strip())
             for f in ("name_vi", "name_en", "description_vi", "description_en")}
    return dataclasses.replace(service, mean_min=float(service.mean_min), **texts)


def _served(engine: QueueEngine, services: Iterable[str]) -> tuple[str, ...]:
    served = tuple(dict.fromkeys(services))
    if not served:
        raise Invalid("a counter serves at least one service (to stop it: close it)", "no_services")
    for service_id in served:
        engine.service(service_id)
    return served


def _with_offer(engine: QueueEngine, branch: Branch, change: Change) -> Change:
    """The change, and the branch's offer grown by the services its counters now serve."""
    served = [s for c in change.counters for s in c.services if s not in branch.services]
    if served:
        change.branches.append(dataclasses.replace(branch, services=branch.services + tuple(dict.fromkeys(served))))
    return change


def _offer(engine: QueueEngine, branch: Branch, services: tuple[str, ...]) -> tuple[str, ...]:
    """The services a branch is to offer, once each is known and none dropped is still in use."""
    for service_id in services:
        engine.service(service_id)
    for dropped in set(branch.services) - set(services):
        serving = sorted(c.id for c in engine.counters_of(branch.id) if dropped in c.services)
        if serving:
            raise Conflict(f"counters {', '.join(serving)} still serve {dropped}", "service_served")
        if any(t.service == dropped and t.status in (WAITING, NO_SHOW, *ACTIVE_AT_COUNTER)
               for t in engine.tickets_of(branch.id, engine.local.day(engine.now()))):
            raise Conflict(f"tickets of {dropped} are still open at {branch.id}", "service_has_tickets")
    return services
