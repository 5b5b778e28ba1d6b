"""What one server process holds: the store, the engine loaded from it, the accounts."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app

from motcua.accounts import Accounts
from motcua.config import Config, build
from motcua.core.appointments import AppointmentRules, Bookings, parse_weekdays
from motcua.core.balancing import RedirectRules
from motcua.core.catalogue import LiveCatalogue
from motcua.core.clock import LocalTime, SystemClock
from motcua.core.dossiers import DossierRules, Dossiers, parse_holidays
from motcua.core.evaluations import Evaluations
from motcua.core.engine import EngineSettings, QueueEngine
from motcua.core.journeys import Journeys
from motcua.core.model import NotFound
from motcua.core.notices import NearTurn
from motcua.documents import Documents, open_documents
from motcua.doors import door_secret
from motcua.gateways import gateway_of
from motcua.notify import Notifier, appointment_reminder, parse_templates
from motcua.outbox import RetryRules, Sender
from motcua.store import Store
from motcua.web.advice import walk_in_forecast


@dataclass
class Runtime:
    config: Config
    store: Store
    engine: QueueEngine
    accounts: Accounts
    redirect: RedirectRules
    journeys: Journeys
    dossiers: Dossiers
    # Each counter's services as the process found them: what the staffing advice hands back to
    # once a service no longer needs the help of a counter it moved.
    home: dict = field(default_factory=dict)
    # The dossiers' documents; None when no document key is configured (the part is then off).
    documents: Documents | None = None
    # The procedure catalogue as the database holds it, changed live by an admin.
    catalogue: LiveCatalogue | None = None
    # Sends the outbox's messages (serve() runs it as a background task; tests call its send_due()).
    sender: Sender | None = None
    # Writes every message to citizens into the outbox (motcua.notify), with the change that causes it.
    notifier: Notifier | None = None
    # Appointments under the [appointments] rules, slots left from the walk-in forecast (motcua.web.advice).
    bookings: Bookings | None = None
    # Each dossier's one satisfaction evaluation (motcua.core.evaluations).
    evaluations: Evaluations | None = None


def engine_settings(config: Config) -> EngineSettings:
    return build(EngineSettings, config.queue)


def open_runtime(config: Config, clock=None) -> Runtime:
    """Open the database and rebuild the engine's state from it: yesterday's and today's tickets, and
    any older one still open, whose day is closed at once."""
    clock = clock or SystemClock()
    store = Store(config.server.db, config.server.sqlite_synchronous)
    settings = engine_settings(config)
    today = date.fromisoformat(LocalTime(settings.timezone).day(clock.now()))
    since = (today - timedelta(days=1)).isoformat()
    engine = QueueEngine(store.branches(), store.services(), store.counters(), clock, journal=store,
                         archive=store, settings=settings, tickets=store.tickets(since), ratings=store.ratings(since),
                         appointments=store.appointments(since))
    # A server down over midnight (or several): the days it missed are closed before it serves.
    engine.close_day()
    redirect = build(RedirectRules, config.balancing)
    home = {(counter.branch, counter.id): counter.services for counter in engine.all_counters()}
    catalogue = LiveCatalogue(store, config.dossiers.procedures or None)
    rules = DossierRules(settings.timezone, parse_holidays(config.dossiers.holidays), config.dossiers.supplement_days)
    sender = open_sender(config, store, clock)
    notifier = Notifier(config.notify.gateway, clock, parse_templates(config.notify.zns_templates),
                        lambda b: branch_place(engine, b), sender)
    store.message_observers.append(sender.wake)
    if config.notify.near_ahead > 0:
        engine.near_turn = NearTurn(config.notify.near_ahead, notifier.near_turn)
    engine.set_off_message = lambda ticket: notifier.set_off(ticket, engine.local)
    dossiers = Dossiers(store, clock, catalogue.current, rules, notifier)
    catalogue.listeners.append(dossiers.use)
    accounts = Accounts(store, clock, config.auth.token_ttl_hours, departments=catalogue.departments)
    journeys = Journeys(engine, redirect, config.remote.grace_min, door_secret(config.remote.door_secret, store.path),
                        config.remote.min_saving_min, config.remote.lead_min)
    rt = Runtime(config, store, engine, accounts, redirect, journeys, dossiers, home=home,
                 documents=open_documents(config.dossiers, store, clock), catalogue=catalogue,
                 sender=sender, notifier=notifier, evaluations=Evaluations(store, clock))
    # Slots never on a day the centres are shut: the days off that dossiers' due dates skip too. A slot counts
    # every counter of the branch when idle counters take on the services citizens wait for.
    rules = build(AppointmentRules, config.appointments, weekdays=parse_weekdays(config.appointments.weekdays),
                  holidays=parse_holidays(config.dossiers.holidays), pooled=config.staffing.idle_takes_on)
    rt.bookings = Bookings(engine, rules, lambda branch_id, day: walk_in_forecast(rt, branch_id, day),
                           lambda a: appointment_reminder(notifier, a, engine.service(a.service),
                                                          branch_place(engine, a.branch), engine.local, rules))
    return rt


def open_sender(config: Config, store: Store, clock) -> Sender:
    """The outbox's sender through the [notify] gateway."""
    settings = config.notify
    # A claim outlives two sends' timeouts: no other worker takes a message while its send may still succeed.
    return Sender(store, clock, gateway_of(settings), build(RetryRules, settings), lease_s=2 * settings.timeout_s,
                  poll_s=settings.poll_s)


def branch_place(engine, branch_id: str) -> dict | None:
    """A branch's names and addresses as the citizen's messages name it (None: a branch since removed)."""
    try:
        branch = engine.branch(branch_id)
    except NotFound:
        return None
    return {"name": {"vi": branch.name_vi, "en": branch.name_en},
            "address": {"vi": branch.address_vi, "en": branch.address_en}}


def runtime() -> Runtime:
    """The app's Runtime, for the request being served."""
    return current_app.extensions["motcua"]
