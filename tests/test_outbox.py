"""The durable outbox (server/outbox.py) and its gateways (server/gateways.py), against a local HTTP server that
plays the gateway with its failures: 5xx, a slow answer past the timeout, a restart with messages pending."""
from __future__ import annotations

import hmac
import json
import sqlite3
import threading
import time
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from motcua.config import ConfigError, load_config
from motcua.core.clock import FakeClock
from motcua.gateways import SIGNATURE_HEADER, SmsGateway, WebhookGateway, ZaloZnsGateway, gateway_of, sign
from motcua.notify import Notifier, parse_templates
from motcua.outbox import Message, RetryRules, Sender
from motcua.store import Store

from conftest import MORNING

SECRET = "s3cret-of-the-webhook"
TIMEOUT_S = 0.5


class FakeGateway:
    """A gateway on a free port of this process: answers each request as scripted (200, a status, or "slow":
    takes the message and answers after the client's timeout), dedupes by idempotency key as a real one does."""

    def __init__(self, secret: str = SECRET, answer: dict | None = None) -> None:
        self.script: list = []       # the answers of the next requests, in order; then 200
        self.requests: list[dict] = []
        self.delivered: dict[str, dict] = {}  # each key's message, once
        self.accepted = 0                     # requests answered 2xx
        self.bad_signatures = 0
        self.lock = threading.Lock()
        self.release = threading.Event()  # ends every slow answer (at the test's end)
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with gateway.lock:
                    how = gateway.script.pop(0) if gateway.script else 200
                    gateway.requests.append({"headers": dict(self.headers), "body": json.loads(body)})
                    signature = self.headers.get(SIGNATURE_HEADER)
                    if signature is not None and not hmac.compare_digest(signature, "sha256=" + sign(secret, body)):
                        gateway.bad_signatures += 1
                        how = 401
                    if how in (200, "slow"):
                        gateway.delivered.setdefault(self.headers["Idempotency-Key"], json.loads(body))
                        gateway.accepted += 1
                if how == "slow":  # taken, but the answer comes after the client gave up on it
                    gateway.release.wait(10 * TIMEOUT_S)
                    how = 200
                reply = json.dumps(answer if answer is not None else {"ok": True}).encode()
                self.send_response(how)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.http.server_port}/send"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def gateway():
    fake = FakeGateway()
    yield fake
    fake.close()


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "motcua.db")
    yield store
    store.close()


@pytest.fixture
def clock():
    return FakeClock(MORNING)


def notifier_for(clock, gateway="webhook", templates=None) -> Notifier:
    return Notifier(gateway, clock, templates)


def add_one(store, notifier, key="dossier:X:result_ready:1", phone="0912345678") -> None:
    store.write(lambda db: notifier.add(db, "result_ready", key, phone, {"vi": "Hồ sơ X đã có kết quả.",
                                                                       "en": "Dossier X is ready."},
                                        {"code": "X"}))


def webhook_sender(store, clock, gateway, **rules) -> Sender:
    return Sender(store, clock, WebhookGateway(gateway.url, SECRET, TIMEOUT_S), RetryRules(**rules), lease_s=60)


# ---- the pure part: backoff, give-up, claims, on the fake clock -----------------------------------------

def test_backoff_doubles_from_the_base_up_to_its_cap():
    rules = RetryRules(retry_base_s=30, retry_max_s=200, max_attempts=5)
    assert [rules.delay_s(n) for n in range(1, 6)] == [30, 60, 120, 200, 200]
    assert not rules.gives_up(4) and rules.gives_up(5)


def test_a_message_of_a_transaction_that_rolls_back_is_never_sent(store, clock, gateway):
    notifier = notifier_for(clock)

    def change_that_fails(db):
        notifier.add(db, "result_ready", "k-rolled-back", "0912345678", {"vi": "x"}, {})
        raise RuntimeError("the change is refused after its message was added")
    with pytest.raises(RuntimeError):
        store.write(change_that_fails)
    sender = webhook_sender(store, clock, gateway)
    assert sender.send_due() == {"sent": 0, "pending": 0, "failed": 0}
    assert gateway.requests == [] and sender.depth() == {"pending": 0, "failed": 0}


def test_one_key_is_one_message_however_often_it_is_added(store, clock, gateway):
    notifier = notifier_for(clock)
    add_one(store, notifier)
    add_one(store, notifier)
    sender = webhook_sender(store, clock, gateway)
    assert sender.send_due()["sent"] == 1
    assert len(gateway.requests) == 1


def test_5xx_is_retried_after_the_backoff_and_the_message_sent_once(store, clock, gateway):
    add_one(store, notifier_for(clock))
    gateway.script = [503, 500]
    sender = webhook_sender(store, clock, gateway, retry_base_s=30)
    assert sender.send_due() == {"sent": 0, "pending": 1, "failed": 0}
    assert sender.next_due_s() == 30
    assert sender.send_due()["pending"] == 0          # not due yet: nothing tried
    clock.advance(30)
    assert sender.send_due()["pending"] == 1          # second failure: the wait doubles
    assert sender.next_due_s() == 60
    clock.advance(60)
    assert sender.send_due()["sent"] == 1
    assert len(gateway.requests) == 3 and len(gateway.delivered) == 1
    [row] = store.query("select * from outbox")
    assert row["attempts"] == 3 and row["sent_at"] == clock.now() and row["last_error"] is None
    clock.advance(3600)
    assert sender.send_due()["sent"] == 0 and len(gateway.requests) == 3   # sent stays sent


def test_a_slow_answer_is_retried_and_the_gateway_recognises_the_duplicate_by_its_key(store, clock, gateway):
    add_one(store, notifier_for(clock))
    gateway.script = ["slow"]
    sender = webhook_sender(store, clock, gateway)
    assert sender.send_due() == {"sent": 0, "pending": 1, "failed": 0}
    assert "Timeout" in store.query("select last_error from outbox")[0]["last_error"]
    clock.advance(sender.next_due_s())
    assert sender.send_due()["sent"] == 1
    keys = [r["headers"]["Idempotency-Key"] for r in gateway.requests]
    assert len(keys) == 2 and len(set(keys)) == 1      # sent twice under one key
    assert len(gateway.delivered) == 1                 # delivered once


def test_after_max_attempts_a_message_is_marked_failed_and_counted(store, clock, gateway):
    add_one(store, notifier_for(clock))
    gateway.script = [500] * 10
    sender = webhook_sender(store, clock, gateway, retry_base_s=1, max_attempts=3)
    for _ in range(3):
        sender.send_due()
        clock.advance(3600)
    assert sender.send_due() == {"sent": 0, "pending": 0, "failed": 0}
    assert len(gateway.requests) == 3
    [row] = store.query("select * from outbox")
    assert row["failed_at"] is not None and row["last_error"] == "webhook: HTTP 500" and row["sent_at"] is None
    assert sender.depth() == {"pending": 0, "failed": 1}


def test_a_claimed_message_is_not_sent_by_another_worker_until_its_claim_lapses(tmp_path, clock, gateway):
    # Two stores on one file: two processes. The first claims the message and dies before sending it.
    first, second = Store(tmp_path / "motcua.db"), Store(tmp_path / "motcua.db")
    try:
        add_one(first, notifier_for(clock))
        dying = webhook_sender(first, clock, gateway)
        assert dying.claim() is not None
        other = webhook_sender(second, clock, gateway)
        assert other.claim() is None and other.send_due()["sent"] == 0
        clock.advance(60)                               # the dead worker's lease lapses
        assert other.send_due()["sent"] == 1
        assert len(gateway.requests) == 1
    finally:
        first.close()
        second.close()


def test_concurrent_workers_send_each_message_once(store, clock, gateway):
    notifier = notifier_for(clock)
    for n in range(20):
        add_one(store, notifier, key=f"k{n}")
    senders = [webhook_sender(store, clock, gateway) for _ in range(4)]
    threads = [threading.Thread(target=s.send_due) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(gateway.requests) == 20 and len(gateway.delivered) == 20


def test_a_message_pending_at_a_stop_is_sent_once_after_the_start(tmp_path, clock, gateway):
    store = Store(tmp_path / "motcua.db")
    add_one(store, notifier_for(clock))
    gateway.script = [502]
    webhook_sender(store, clock, gateway).send_due()   # the gateway was down when the server stopped
    store.close()
    clock.advance(3600)
    again = Store(tmp_path / "motcua.db")
    try:
        sender = webhook_sender(again, clock, gateway)
        assert sender.send_due()["sent"] == 1
        assert len(gateway.delivered) == 1 and sender.depth() == {"pending": 0, "failed": 0}
    finally:
        again.close()


def test_the_run_loop_sends_what_was_pending_then_what_a_commit_wakes_it_for(store, gateway):
    from motcua.core.clock import SystemClock

    clock = SystemClock()
    notifier = notifier_for(clock)
    add_one(store, notifier, key="before-start")
    sender = Sender(store, clock, WebhookGateway(gateway.url, SECRET, TIMEOUT_S), poll_s=30)
    notifier.sender = sender
    threading.Thread(target=sender.run, daemon=True).start()
    wait_for(lambda: "before-start" in gateway.delivered)
    add_one(store, notifier, key="after-start")
    notifier.wake()                                      # long before the 30 s poll
    wait_for(lambda: "after-start" in gateway.delivered)


def wait_for(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.01)


# ---- each gateway's request ---------------------------------------------------------------------------

MESSAGE = Message("dossier:HK-01:result_ready:1", "result_ready", "0912345678",
                  {"vi": "Hồ sơ HK-01 đã có kết quả.", "en": "Dossier HK-01 is ready."}, "vi", "231456",
                  {"code": "HK-01", "branch": "Hàng Bạc"})


def test_the_webhook_is_signed_and_a_wrong_secret_is_refused(gateway):
    WebhookGateway(gateway.url, SECRET, TIMEOUT_S).send(MESSAGE)
    [request] = gateway.requests
    assert request["body"]["text"] == "Hồ sơ HK-01 đã có kết quả." and request["body"]["to"] == "0912345678"
    assert request["body"]["texts"]["en"] == "Dossier HK-01 is ready."
    assert gateway.bad_signatures == 0
    with pytest.raises(Exception, match="HTTP 401"):
        WebhookGateway(gateway.url, "another secret", TIMEOUT_S).send(MESSAGE)
    assert gateway.bad_signatures == 1


def test_the_sms_gateway_posts_brand_phone_text_and_key(gateway):
    SmsGateway(gateway.url, "api-key-1", TIMEOUT_S, "UBND-HK").send(MESSAGE)
    [request] = gateway.requests
    assert request["body"] == {"api_key": "api-key-1", "brandname": "UBND-HK", "phone": "0912345678",
                               "message": "Hồ sơ HK-01 đã có kết quả.", "request_id": MESSAGE.key}


def test_zalo_zns_posts_the_template_by_international_phone_and_reads_zalo_s_error():
    accepting, refusing = FakeGateway(answer={"error": 0, "message": "Success"}), FakeGateway(answer={"error": -124})
    try:
        ZaloZnsGateway(accepting.url, "zalo-token", TIMEOUT_S).send(MESSAGE)
        [request] = accepting.requests
        assert request["body"] == {"phone": "84912345678", "template_id": "231456",
                                   "template_data": {"code": "HK-01", "branch": "Hàng Bạc"},
                                   "tracking_id": MESSAGE.key}
        assert request["headers"]["access_token"] == "zalo-token"
        with pytest.raises(Exception, match="error -124"):   # 200, yet refused
            ZaloZnsGateway(refusing.url, "zalo-token", TIMEOUT_S).send(MESSAGE)
    finally:
        accepting.close()
        refusing.close()


def test_the_configured_gateway_and_its_secret_from_the_environment(monkeypatch, gateway):
    monkeypatch.setenv("MOTCUA_NOTIFY_SECRET", SECRET)
    config = load_config(notify={"gateway": "webhook", "url": gateway.url, "secret": "not this one"})
    gateway_of(config.notify).send(MESSAGE)
    assert gateway.bad_signatures == 0
    assert gateway_of(load_config().notify).name == "log"
    assert gateway_of(load_config(notify={"gateway": "zalo_zns"}).notify).url.startswith("https://")
    for bad in ({"gateway": "pigeon"}, {"gateway": "sms"}):
        with pytest.raises(ValueError):
            gateway_of(load_config(notify=bad).notify)
    with pytest.raises(ConfigError):
        load_config(notify={"timeout_s": "soon"})
    assert parse_templates("result_ready=231456, turn_near = 99") == {"result_ready": "231456", "turn_near": "99"}
    with pytest.raises(ValueError):
        parse_templates("result_ready")


# ---- a real server killed with a message pending, and started again ---------------------------------------

@pytest.fixture
def pending_server(tmp_path, real_template, gateway):
    """A real `motcua serve` (not started) on a database holding a message committed while no server ran."""
    from motcua.core.clock import SystemClock

    from conftest import Server, free_port

    db = real_template.copy_to(tmp_path / "motcua.db")
    store = Store(db)
    add_one(store, notifier_for(SystemClock()), key="pending-at-the-stop")
    store.close()
    (tmp_path / "config.toml").write_text(f'[notify]\ngateway = "webhook"\nurl = "{gateway.url}"\n'
                                          f'secret = "{SECRET}"\ntimeout_s = 1.0\nretry_base_s = 0.1\n'
                                          'retry_max_s = 0.2\nmax_attempts = 1000\n')
    server = Server(db, free_port(), tmp_path / "server.log", args=("--config", str(tmp_path / "config.toml")))
    yield server
    server.kill()


def test_a_real_server_killed_while_the_gateway_is_down_sends_the_message_once_after_its_restart(
        pending_server, gateway):
    gateway.script = [503] * 100000                    # the gateway is down
    pending_server.start()
    wait_for(lambda: len(gateway.requests) >= 2)       # tried, and tried again
    pending_server.kill()                               # SIGKILL: no clean stop
    assert gateway.delivered == {}
    gateway.script = []                                 # the gateway is back
    pending_server.start()
    wait_for(lambda: "pending-at-the-stop" in gateway.delivered, timeout_s=30)
    wait_for(lambda: sent_at(pending_server.db) is not None)
    assert gateway.accepted == 1 and gateway.bad_signatures == 0


def test_a_real_server_killed_waiting_for_the_gateway_s_answer_sends_again_under_the_same_key(
        pending_server, gateway):
    gateway.script = ["slow"]                           # taken, and the answer comes after the kill
    pending_server.start()
    wait_for(lambda: len(gateway.requests) >= 1)
    pending_server.kill()
    pending_server.start()                              # once the dead one's claim lapses, sent again
    wait_for(lambda: sent_at(pending_server.db) is not None, timeout_s=30)
    keys = {r["headers"]["Idempotency-Key"] for r in gateway.requests}
    assert len(gateway.requests) >= 2 and keys == {"pending-at-the-stop"}
    assert list(gateway.delivered) == ["pending-at-the-stop"]


def sent_at(db) -> float | None:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return conn.execute("select sent_at from outbox where key = 'pending-at-the-stop'").fetchone()[0]


def test_the_sender_finds_due_messages_through_an_index_not_the_whole_history(store):
    from motcua.outbox import DUE_SQL

    plan = " ".join(row["detail"] for row in store.query("explain query plan " + DUE_SQL, [0.0]))
    assert plan.startswith("SEARCH outbox USING INDEX") and "SCAN" not in plan


# ---- a Change carries its messages: the engine's operations commit them with their change ------------------

def test_a_change_commits_its_messages_with_it_and_wakes_the_sender(store, clock):
    from motcua.core.model import Change, Rating

    notifier, woken = notifier_for(clock, templates={"turn_near": "88"}), []
    store.message_observers.append(lambda: woken.append(True))
    rating = Rating("t1", 4, (), "", clock.now())
    store.commit(Change(ratings=[rating], messages=[
        notifier.message("turn_near", "ticket:t1:turn_near", "0912345678", {"vi": "Sắp đến lượt", "en": "Soon"},
                         {"number": "A001"})]))
    assert woken == [True]
    [row] = store.query("select * from outbox")
    assert (row["kind"], row["template_id"], row["gateway"], json.loads(row["params"])) == \
        ("turn_near", "88", "webhook", {"number": "A001"})
    # A change that fails (the same rating twice) writes none of its messages, and wakes nobody.
    with pytest.raises(Exception):
        store.commit(Change(ratings=[rating], messages=[
            notifier.message("turn_near", "ticket:t2:turn_near", "0912345678", {"vi": "x"}, {})]))
    assert [r["key"] for r in store.query("select key from outbox")] == ["ticket:t1:turn_near"]
    assert woken == [True]


def test_a_worker_whose_claim_lapsed_leaves_the_next_worker_s_claim_alone(store, clock, gateway):
    add_one(store, notifier_for(clock))
    slow, other = webhook_sender(store, clock, gateway), webhook_sender(store, clock, gateway)
    late = slow.claim()
    clock.advance(60)                                    # its lease lapsed: another worker takes the message
    taken = other.claim()
    gateway.script = [500]
    assert slow.send_one(late) == "pending"              # the late failure is not recorded over the new claim
    [row] = store.query("select * from outbox")
    assert row["claimed_by"] == other.worker and row["claimed_until"] == clock.now() + 60
    assert other.send_one(taken) == "sent"


# ---- the outbox for administrators: what failed, and handing it back once the gateway works ------------------

@pytest.fixture
def outbox_api(tmp_path, morning_template, clock, gateway, tokens):
    """The app on the fake clock whose sender posts to the local gateway and gives a message up after 2 attempts."""
    from motcua.web.app import create_app

    from conftest import Api

    db = morning_template.copy_to(tmp_path / "motcua.db")
    config = load_config(server={"db": str(db), "async_mode": "threading"},
                         notify={"gateway": "webhook", "url": gateway.url, "secret": SECRET, "timeout_s": TIMEOUT_S,
                                 "retry_base_s": 1.0, "max_attempts": 2})
    app = create_app(config, clock)
    app.config["TESTING"] = True
    yield Api(app.test_client(), tokens), app.extensions["motcua"]
    app.extensions["motcua"].store.close()


def test_an_admin_lists_the_failed_messages_masked_and_hands_one_back_that_is_then_sent_once(outbox_api, clock,
                                                                                            gateway):
    api, rt = outbox_api
    add_one(rt.store, rt.notifier, key="given-up")
    add_one(rt.store, rt.notifier, key="still-trying", phone="0987654321")
    gateway.script = [500, 500, 500]
    rt.sender.send_due()               # both tried once: 500, 500
    clock.advance(2)
    rt.sender.send_due()               # the first given up (500), the second sent
    failed = api.get("/admin/outbox", "admin")
    assert failed.status_code == 200, failed.text
    [message] = failed.json
    assert (message["key"], message["state"], message["attempts"]) == ("given-up", "failed", 2)
    assert message["recipient"] == "******5678" and message["last_error"] == "webhook: HTTP 500"
    assert message["failed_at"] and message["next_attempt_at"] is None and "texts" not in message
    assert [m["key"] for m in api.get("/admin/outbox?state=sent", "admin").json] == ["still-trying"]
    # Handed back: pending from its first attempt, sent at the sender's next turn, once.
    retried = api.post(f"/admin/outbox/{message['id']}/retry", "admin")
    assert retried.status_code == 200, retried.text
    assert (retried.json["state"], retried.json["attempts"], retried.json["failed_at"]) == ("pending", 0, None)
    assert rt.sender.send_due() == {"sent": 1, "pending": 0, "failed": 0}
    assert list(gateway.delivered) == ["still-trying", "given-up"]
    assert api.get("/admin/outbox", "admin").json == []
    again = api.post(f"/admin/outbox/{message['id']}/retry", "admin")
    assert (again.status_code, again.json["error"]["code"]) == (409, "not_failed")


@pytest.mark.parametrize("call, status, code", [
    (("GET", "/admin/outbox", "mgr1"), 403, None),
    (("GET", "/admin/outbox", None), 401, None),
    (("GET", "/admin/outbox?state=lost", "admin"), 400, "bad_query"),
    (("GET", "/admin/outbox?limit=0", "admin"), 400, "bad_query"),
    (("POST", "/admin/outbox/999/retry", "admin"), 404, "not_found"),
    (("POST", "/admin/outbox/999/retry", "mgr1"), 403, None),
])
def test_the_outbox_is_for_admins_and_a_bad_query_or_unknown_message_is_a_json_error(outbox_api, call, status, code):
    api, _ = outbox_api
    method, path, who = call
    answer = api.request(method, path, who)
    assert answer.status_code == status, answer.text
    assert "error" in answer.json
    if code:
        assert answer.json["error"]["code"] == code
