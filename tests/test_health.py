"""`GET /health` (server/web/ops_routes.py) checks for real: a write committed to the database, the broadcaster's
tasks turning, Redis answering when configured; 503 naming what fails."""
from __future__ import annotations

import resource
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import free_port, make_server
from motcua.web.events import EXTENSION


def probe_at(db: Path) -> float | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute("select at from probe where id = 1").fetchone()
    return row and row[0]


def wait_until(condition, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_health_commits_a_write_each_time(app, client, clock):
    db = Path(app.extensions["motcua"].config.server.db)
    answer = client.get("/api/v1/health")
    assert answer.status_code == 200 and answer.json == {"status": "ok", "checks": {"store": "ok"}}
    assert probe_at(db) == clock.now()
    clock.advance(60)
    assert client.get("/api/v1/health").status_code == 200
    # Read from the file by another connection: committed, not merely written in the server's transaction.
    assert probe_at(db) == clock.now()


class TaskEnded(BaseException):
    """What ends a task that nothing in it catches: its loop is gone."""


def test_a_broadcaster_whose_task_died_fails_the_check(app, client, api):
    broadcaster = app.extensions[EXTENSION]

    def run():
        try:
            broadcaster.run()
        except TaskEnded:
            pass
    task = threading.Thread(target=run, daemon=True)
    task.start()
    answer = client.get("/api/v1/health")
    assert answer.status_code == 200, answer.text
    assert answer.json["checks"] == {"store": "ok", "broadcaster": "ok"}

    def ended(force=False):
        raise TaskEnded()
    broadcaster.step = ended
    api.issue()  # the commit wakes the task, which ends
    task.join(10)
    assert not task.is_alive()
    answer = client.get("/api/v1/health")
    assert answer.status_code == 503
    error = answer.json["error"]
    assert error["code"] == "unhealthy" and error["message"] == "failing: broadcaster"
    assert error["details"]["store"] == "ok" and "sends" in error["details"]["broadcaster"]


@pytest.fixture
def server(tmp_path, real_template):
    # The log goes to /dev/null: the file size limit would stop a log file's writes as well.
    srv = make_server(tmp_path, real_template, log=Path("/dev/null"))
    yield srv
    srv.kill(signal.SIGTERM)


def test_a_database_that_cannot_be_written_fails_health_until_it_can(server):
    answer = server.get("/health")
    assert answer.status_code == 200 and answer.json()["checks"] == {"store": "ok", "broadcaster": "ok"}
    pid = server.proc.pid
    limits = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    # The file size limit makes every write of the server's fail (EFBIG), root's too.
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (1024, limits[1]))
    try:
        failing = server.get("/health")
        assert failing.status_code == 503, failing.text
        error = failing.json()["error"]
        assert error["message"] == "failing: store" and error["details"]["broadcaster"] == "ok"
        assert "cannot be written" in error["details"]["store"]
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, limits)
    assert server.get("/health").status_code == 200


@pytest.fixture
def redis_server(tmp_path):
    """Debian's redis-server on a free port of loopback, with nothing saved."""
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)

    def answers() -> bool:
        try:
            import redis
            return redis.Redis(port=port, socket_timeout=1).ping()
        except Exception:
            return False
    assert wait_until(answers), "redis-server did not start"
    yield proc, port
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def test_redis_that_stops_answering_fails_health(tmp_path, real_template, redis_server):
    proc, port = redis_server
    srv = make_server(tmp_path, real_template, f'[server]\nmessage_queue = "redis://127.0.0.1:{port}/0"\n')
    try:
        answer = srv.get("/health")
        assert answer.status_code == 200, answer.text
        assert answer.json()["checks"] == {"store": "ok", "broadcaster": "ok", "redis": "ok"}
        proc.terminate()
        proc.wait(10)
        failing = srv.get("/health")
        assert failing.status_code == 503, failing.text
        error = failing.json()["error"]
        assert error["message"] == "failing: redis" and error["details"]["store"] == "ok"
        assert error["details"]["redis"].startswith("Redis does not answer")
    finally:
        srv.kill(signal.SIGTERM)
