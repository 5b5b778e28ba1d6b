"""`GET /metrics` (server/web/metrics.py): scraped after real operations, parsed with Prometheus' own parser."""
from __future__ import annotations

import dataclasses

import pytest
from prometheus_client.parser import text_string_to_metric_families

from motcua.config import override
from motcua.web.app import create_app
from motcua.web.events import EXTENSION, socketio as io


def scrape(client, address: str = "127.0.0.1", **headers) -> dict[tuple, float]:
    """Every sample of a scrape: (name, labels as sorted pairs) -> value."""
    answer = client.get("/api/v1/metrics", environ_base={"REMOTE_ADDR": address}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.content_type.startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.get_data(as_text=True)) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_commits_are_timed_one_sample_each(client, api):
    before = value(scrape(client), "motcua_commit_seconds_count")
    for _ in range(3):
        api.issue("civil")
    after = scrape(client)
    assert value(after, "motcua_commit_seconds_count") == before + 3
    assert value(after, "motcua_commit_seconds_sum") > 0
    # Every commit took less than the largest bucket's bound, as a healthy disk does.
    assert value(after, "motcua_commit_seconds_bucket", le="+Inf") == before + 3
    # Issued one after another, each went alone: three transactions of one write (group commit's batches).
    assert value(after, "motcua_commit_batch_writes_bucket", le="1.0") >= 3
    assert value(after, "motcua_commit_batch_writes_sum") == value(after, "motcua_commit_batch_writes_count")
    assert ("motcua_commit_queued", ()) in after


def test_queues_and_estimates_per_branch_and_service_against_the_target(app, client, api):
    for service in ("civil", "civil", "land"):
        api.issue(service)
    samples = scrape(client)
    target = app.extensions["motcua"].config.staffing.target_wait_min
    assert value(samples, "motcua_wait_target_minutes") == target
    state = api.get("/branches/hk-01/state").json
    for service in state["services"]:
        labels = {"branch": "hk-01", "service": service["id"]}
        assert value(samples, "motcua_waiting", **labels) == service["waiting"]
        assert value(samples, "motcua_estimated_wait_minutes", **labels) == service["estimated_wait_min"]
        assert value(samples, "motcua_estimated_wait_target_ratio", **labels) == pytest.approx(
            service["estimated_wait_min"] / target)
    assert value(samples, "motcua_waiting", branch="hk-01", service="civil") == 2
    assert value(samples, "motcua_waiting", branch="hk-02", service="civil") == 0


def test_sockets_per_room_kind_and_the_lag_of_calls(app, client, api):
    ticket = api.issue("civil")
    display, phone = io.test_client(app, flask_test_client=client), io.test_client(app, flask_test_client=client)
    try:
        display.emit("subscribe", {"branch": "hk-01"}, callback=True)
        phone.emit("subscribe", {"ticket": ticket["id"]}, callback=True)
        samples = scrape(client)
        assert value(samples, "motcua_sockets", room="all") == 2
        assert value(samples, "motcua_sockets", room="branch") == 1
        assert value(samples, "motcua_sockets", room="ticket") == 1
        assert value(samples, "motcua_sockets", room="staff") == 0
        assert value(samples, "motcua_emit_lag_seconds_count", event="called") == 0

        assert api.post("/branches/hk-01/counters/1/next", "off1").status_code == 200
        # Committed, not yet sent: the call waits in the broadcaster's backlog.
        assert value(scrape(client), "motcua_broadcast_backlog", kind="calls") == 1
        app.extensions[EXTENSION].drain()
        samples = scrape(client)
        assert value(samples, "motcua_broadcast_backlog", kind="calls") == 0
        assert value(samples, "motcua_emit_lag_seconds_count", event="called") == 1
    finally:
        display.disconnect()
        phone.disconnect()
    assert value(scrape(client), "motcua_sockets", room="all") == 0


@pytest.fixture
def make_app(config, clock):
    made = []

    def make(**server):
        app = create_app(override(config, server=server), clock)
        app.config["TESTING"] = True
        made.append(app)
        return app.test_client()
    yield make
    for app in made:
        app.extensions["motcua"].store.close()


def status(client, address: str, **headers) -> int:
    return client.get("/api/v1/metrics", environ_base={"REMOTE_ADDR": address}, headers=headers).status_code


def test_only_the_allowed_addresses_read_metrics(make_app):
    client = make_app()
    assert status(client, "127.0.0.1") == 200
    answer = client.get("/api/v1/metrics", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert answer.status_code == 403 and answer.json["error"]["code"] == "metrics_not_allowed"
    # A forged X-Forwarded-For is nobody's pass on a bare server.
    assert status(client, "198.51.100.7", **{"X-Forwarded-For": "127.0.0.1"}) == 403
    networks = make_app(metrics_from="10.1.0.0/16")
    assert status(networks, "10.1.200.3") == 200 and status(networks, "127.0.0.1") == 403
    assert status(make_app(metrics_from=""), "127.0.0.1") == 403


def test_behind_a_proxy_on_loopback_the_client_it_saw_is_the_one_checked(make_app):
    client = make_app(trusted_proxies=1)
    assert status(client, "127.0.0.1", **{"X-Forwarded-For": "203.0.113.5"}) == 403
    assert status(client, "127.0.0.1", **{"X-Forwarded-For": "127.0.0.1"}) == 200


def test_a_bad_address_in_the_setting_is_refused_at_start(config, clock):
    with pytest.raises(ValueError, match="metrics_from"):
        create_app(override(config, server={"metrics_from": "127.0.0.1, localhost"}), clock)


def test_a_real_server_is_scraped_after_a_call(fresh_server):
    """`motcua serve` under gevent: the broadcaster's own task sends the call and times it."""
    import time

    import requests

    def scraped() -> dict:
        answer = requests.get(fresh_server.api + "/metrics", timeout=10)
        assert answer.status_code == 200, answer.text
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(answer.text) for s in family.samples}

    assert fresh_server.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).status_code == 201
    assert fresh_server.post("/branches/hk-01/counters/1/next", "off1").status_code == 200
    deadline = time.monotonic() + 10
    while value(samples := scraped(), "motcua_emit_lag_seconds_count", event="called") < 1:
        assert time.monotonic() < deadline, "the call's emit was never timed"
        time.sleep(0.05)
    assert value(samples, "motcua_commit_seconds_count") >= 2
    assert value(samples, "motcua_emit_lag_seconds_bucket", event="called", le="+Inf") == 1
    assert value(samples, "motcua_emit_lag_seconds_sum", event="called") > 0


def test_the_outbox_depth_pending_and_failed(app, client):
    runtime = app.extensions["motcua"]
    notifier, sender = runtime.dossiers.notifier, runtime.sender
    for key in ("k1", "k2"):
        runtime.store.write(lambda db: notifier.add(db, "result_ready", key, "0912345678", {"vi": "x"}, {}))
    samples = scrape(client)
    assert value(samples, "motcua_outbox_messages", state="pending") == 2
    assert value(samples, "motcua_outbox_messages", state="failed") == 0

    class Down:
        def send(self, message):
            raise ConnectionError("gateway down")
    sender.gateway, sender.rules = Down(), dataclasses.replace(sender.rules, max_attempts=1)
    sender.send_one(sender.claim())
    samples = scrape(client)
    assert value(samples, "motcua_outbox_messages", state="pending") == 1
    assert value(samples, "motcua_outbox_messages", state="failed") == 1
