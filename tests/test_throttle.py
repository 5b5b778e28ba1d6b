"""The sign-in and lookup limits on Redis when [server] message_queue names one (server/web/throttle.py):
counted across processes, refused at start while Redis is unreachable, in each process's memory while
Redis is lost, and in memory with no Redis at all."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from conftest import PASSWORD, Server, free_port
from redis_server import redis_server  # noqa: F401  (the fixture)

PER_MINUTE = 4   # login_per_minute_per_address in these tests


def config_file(folder: Path, message_queue: str) -> Path:
    path = folder / "config.toml"
    path.write_text(f'[server]\nmessage_queue = "{message_queue}"\n\n[auth]\n'
                    f"login_per_minute_per_address = {PER_MINUTE}\n", encoding="utf-8")
    return path


def start_server(folder: Path, template, message_queue: str) -> Server:
    folder.mkdir()
    server = Server(template.copy_to(folder / "motcua.db"), free_port(), folder / "server.log",
                    tokens=dict(template.tokens), args=("--config", str(config_file(folder, message_queue))))
    server.start()
    return server


def wrong_login(server: Server) -> int:
    answer = requests.post(server.api + "/auth/login", json={"username": "off1", "password": "not-" + PASSWORD},
                           timeout=10)
    assert answer.headers["Content-Type"] == "application/json", answer.text
    return answer.status_code


@pytest.fixture
def two_servers(tmp_path, real_template, redis_server):  # noqa: F811
    servers = [start_server(tmp_path / name, real_template, redis_server.url) for name in ("a", "b")]
    yield servers
    for server in servers:
        server.kill(signal.SIGTERM)


def test_the_login_limit_is_counted_across_processes_sharing_redis(two_servers):
    a, b = two_servers
    tries = [wrong_login(server) for server in (a, b, a, b)]
    assert tries == [401] * PER_MINUTE
    # Each process has seen two: in its own memory it would let both try again.
    assert wrong_login(a) == 429 and wrong_login(b) == 429


def test_with_redis_lost_while_serving_each_process_counts_in_its_memory(two_servers, redis_server):  # noqa: F811
    a, b = two_servers
    assert wrong_login(a) == 401
    redis_server.stop()
    tries = [wrong_login(a) for _ in range(PER_MINUTE)]
    assert tries == [401] * PER_MINUTE and wrong_login(a) == 429
    assert wrong_login(b) == 401  # b's memory has seen none of a's
    # Still serving, and saying what is wrong: /health names Redis until it is back.
    health = a.get("/health")
    assert health.status_code == 503 and "redis" in health.json()["error"]["message"], health.text


def test_a_server_whose_redis_is_unreachable_does_not_start(tmp_path, real_template):
    db = real_template.copy_to(tmp_path / "motcua.db")
    url = f"redis://127.0.0.1:{free_port()}/0"
    done = subprocess.run([sys.executable, "-m", "motcua.cli", "serve", "--db", str(db), "--port", str(free_port()),
                           "--config", str(config_file(tmp_path, url))], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done.stderr
    assert url in done.stderr and "message_queue" in done.stderr and "Traceback" not in done.stderr


def test_without_redis_each_app_counts_in_its_own_memory(app, client, config):
    from motcua.web.app import create_app

    other = create_app(config, runtime=app.extensions["motcua"]).test_client()
    wrong = {"username": "off1", "password": "not-" + PASSWORD}
    tries = 0
    while client.post("/api/v1/auth/login", json=wrong).status_code == 401:
        tries += 1
    assert tries == min(config.auth.login_per_minute_per_address, config.auth.login_failures_per_account)
    assert other.post("/api/v1/auth/login", json=wrong).status_code == 401
