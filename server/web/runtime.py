"""What one server process holds: the store, the engine loaded from it, the accounts."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from ..accounts import Accounts
from ..config import Config
from ..core.balancing import RedirectRules
from ..core.clock import LocalTime, SystemClock
from ..core.engine import EngineSettings, QueueEngine
from motcua.core.journeys import Journeys
from ..store import Store


@dataclass
class Runtime:
    config: Config
    store: Store
    engine: QueueEngine
    accounts: Accounts
    redirect: RedirectRules
    journeys: Journeys
    # Each counter's services as the process found them: what the staffing advice hands back to
    # once a service no longer needs the help of a counter it moved.
    home: dict = field(default_factory=dict)


def engine_settings(config: Config) -> EngineSettings:
    return EngineSettings(timezone=config.queue_timezone, priority_boost_min=config.queue_priority_boost_min,
                          learn_min_samples=config.queue_learn_min_samples,
                          learn_window=config.queue_learn_window, recent_calls=config.queue_recent_calls,
                          enforce_hours=config.queue_enforce_hours)


def open_runtime(config: Config, clock=None) -> Runtime:
    """Open the database and rebuild the engine's state from it: yesterday's and today's tickets."""
    clock = clock or SystemClock()
    store = Store(config.server_db, config.server_sqlite_synchronous)
    settings = engine_settings(config)
    today = date.fromisoformat(LocalTime(settings.timezone).day(clock.now()))
    since = (today - timedelta(days=1)).isoformat()
    engine = QueueEngine(store.branches(), store.services(), store.counters(), clock, journal=store,
                         settings=settings, tickets=store.tickets(since), ratings=store.ratings(since))
    redirect = RedirectRules(config.balancing_max_km, config.balancing_max_travel_min, config.balancing_speed_kmh,
                             config.balancing_detour_factor, config.balancing_min_saving_min,
                             config.balancing_max_offers)
    home = {key: counter.services for key, counter in engine.counters.items()}
    return Runtime(config, store, engine, Accounts(store, clock, config.auth_token_ttl_hours), redirect,
                   Journeys(engine, redirect), home=home)
