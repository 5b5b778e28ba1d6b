"""Prometheus metrics of one app (`GET /metrics`): timings observed as they happen, the rest read at each scrape
from what the server publishes (branch states, the broadcaster's backlog, Socket.IO's rooms)."""
from __future__ import annotations

import ipaddress

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from .views import branch_state

METRICS = "motcua.metrics"
# Seconds: a commit syncs to disk (milliseconds), a call reaches its sockets within 100 ms when all is well.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
ROOM_KINDS = ("branch", "ticket")
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)


class Metrics:
    """The registry of one app: its own, so that two apps in one process (tests) never share a count."""

    def __init__(self, runtime, broadcaster, io, networks: list) -> None:
        self.registry = CollectorRegistry()
        self.networks = networks  # allowed_networks([server] metrics_from)
        commit = Histogram("motcua_commit_seconds", "Seconds to write and commit one operation's change to the "
                           "database", buckets=BUCKETS, registry=self.registry)
        lag = Histogram("motcua_emit_lag_seconds", "Seconds from an operation's commit to its event sent to every "
                        "room (called: a call; kiosk: a kiosk's problem)", ["event"], buckets=BUCKETS,
                        registry=self.registry)
        batch = Histogram("motcua_commit_batch_writes", "Writes committed together in one transaction (group "
                          "commit: those queued while the writer committed the last)", buckets=BATCH_BUCKETS,
                          registry=self.registry)
        runtime.store.commit_observers.append(commit.observe)
        runtime.store.batch_observers.append(batch.observe)
        broadcaster.lag_observers.append(lambda event, seconds: lag.labels(event).observe(seconds))
        self.registry.register(Live(runtime, broadcaster, io))

    def allows(self, address: str | None) -> bool:
        try:
            return address is not None and any(ipaddress.ip_address(address) in n for n in self.networks)
        except ValueError:
            return False

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def allowed_networks(setting: str) -> list:
    """[server] metrics_from as networks: addresses or CIDR networks, comma-separated; ValueError names a bad one."""
    networks = []
    for part in filter(None, (p.strip() for p in setting.split(","))):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"[server] metrics_from: {part!r} is not an address or a network") from None
    return networks


class Live:
    """What is read at each scrape: queues and estimates against the target, sockets, the broadcaster's backlog."""

    def __init__(self, runtime, broadcaster, io) -> None:
        self.runtime, self.broadcaster, self.io = runtime, broadcaster, io

    def collect(self):
        target = self.runtime.config.staffing.target_wait_min
        waiting = GaugeMetricFamily("motcua_waiting", "Tickets waiting, by branch and service",
                                    labels=["branch", "service"])
        estimate = GaugeMetricFamily("motcua_estimated_wait_minutes", "Estimated wait of a ticket taken now, by "
                                     "branch and service", labels=["branch", "service"])
        over = GaugeMetricFamily("motcua_estimated_wait_target_ratio", "Estimated wait over the wait target "
                                 "([staffing] target_wait_min): above 1, a citizen taking a ticket now waits longer "
                                 "than the target", labels=["branch", "service"])
        for branch in self.runtime.engine.branch_ids():
            for service in branch_state(self.runtime.engine, branch)["services"]:
                labels = [branch, service["id"]]
                waiting.add_metric(labels, service["waiting"])
                if service["estimated_wait_min"] is not None:
                    estimate.add_metric(labels, service["estimated_wait_min"])
                    over.add_metric(labels, service["estimated_wait_min"] / target if target else 0.0)
        yield waiting
        yield estimate
        yield over
        yield GaugeMetricFamily("motcua_wait_target_minutes", "The wait target ([staffing] target_wait_min)",
                                value=target)
        sockets = GaugeMetricFamily("motcua_sockets", "Socket.IO connections of this process, by the kind of room "
                                    "they are in (all: every connection)", labels=["room"])
        for kind, count in self._sockets().items():
            sockets.add_metric([kind], count)
        yield sockets
        backlog = GaugeMetricFamily("motcua_broadcast_backlog", "Committed but not yet sent: calls, changes for "
                                    "phones, branches whose queue push is due", labels=["kind"])
        for kind, count in self.broadcaster.backlog().items():
            backlog.add_metric([kind], count)
        yield backlog
        outbox = GaugeMetricFamily("motcua_outbox_messages", "Messages to citizens not sent: pending (to be tried) "
                                   "and failed (given up after [notify] max_attempts)", labels=["state"])
        for state, count in self.runtime.sender.depth().items():
            outbox.add_metric([state], count)
        yield outbox
        yield GaugeMetricFamily("motcua_commit_queued", "Writes waiting for the writer (group commit's queue)",
                                value=self.runtime.store.queued)

    def _sockets(self) -> dict[str, int]:
        rooms = dict(self.io.server.manager.rooms.get("/", {})) if self.io.server else {}
        counts = {"all": len(rooms.get(None, ()))}
        for kind in ROOM_KINDS:
            counts[kind] = len({sid for room, members in rooms.items()
                                if isinstance(room, str) and room.startswith(kind + ":") for sid in members})
        counts["staff"] = self.broadcaster.staff_sockets()
        return counts
