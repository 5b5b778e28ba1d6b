"""One writer per database: a second `motcua serve` or `motcua demo` on a database a server holds is
refused, and a server killed outright never blocks the next start (server/backup.py `writer`)."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from contextlib import closing

from conftest import free_port


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "motcua.cli", *args], capture_output=True, text=True, timeout=60)


def issue(server) -> dict:
    answer = server.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_second_server_on_a_database_is_refused_and_the_first_keeps_serving(fresh_server):
    first = issue(fresh_server)
    refused = run("serve", "--db", str(fresh_server.db), "--port", str(free_port()))
    assert refused.returncode == 2, refused.stderr
    assert str(fresh_server.db.resolve()) in refused.stderr and "--db" in refused.stderr
    assert f"pid {fresh_server.proc.pid}" in refused.stderr and "Traceback" not in refused.stderr
    # The first one numbers on as if nothing had happened.
    assert issue(fresh_server)["number"] != first["number"]
    assert fresh_server.proc.poll() is None


def test_the_demo_refuses_a_database_a_server_holds_and_deletes_nothing(fresh_server):
    held = issue(fresh_server)["id"]
    refused = run("demo", "--db", str(fresh_server.db), "--fresh", "--port", str(free_port()), "--duration", "1")
    assert refused.returncode == 2 and str(fresh_server.db.resolve()) in refused.stderr, refused.stderr
    with closing(sqlite3.connect(fresh_server.db)) as conn:
        assert conn.execute("select count(*) from tickets where id = ?", (held,)).fetchone()[0] == 1
    assert fresh_server.get(f"/tickets/{held}").status_code == 200


def test_a_server_killed_outright_does_not_block_the_next_start(fresh_server):
    before = issue(fresh_server)
    fresh_server.kill(signal.SIGKILL)
    fresh_server.start()  # raises when the new process exits instead of answering
    assert fresh_server.get(f"/tickets/{before['id']}").status_code == 200
    issue(fresh_server)
