"""Debian's redis-server on a free port of loopback, for the tests that share state through Redis
(.ci/run installs it): nothing saved to disk, stopped with the test."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import redis

from conftest import free_port


class RedisServer:
    """One redis-server process; url is what [server] message_queue is set to."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=(self.folder / "redis.log").open("a"), stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start: " + (self.folder / "redis.log").read_text())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    """A Redis of the test's own, started and stopped with it."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
