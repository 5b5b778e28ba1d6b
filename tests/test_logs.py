"""The server's logs (server/logs.py): one line per event, a JSON object a line with [server] log_format = "json"."""
from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest
import requests

from conftest import free_port, make_server
from motcua.logs import JsonLine, TextLine


def record_with_traceback() -> logging.LogRecord:
    try:
        raise RuntimeError("disk on fire\nsecond line")
    except RuntimeError:
        return logging.LogRecord("motcua", logging.ERROR, __file__, 1, "sending %s failed", ("a call",),
                                 sys.exc_info())


@pytest.mark.parametrize("formatter", [TextLine(), JsonLine()], ids=["text", "json"])
def test_an_event_with_its_traceback_is_one_line(formatter):
    line = formatter.format(record_with_traceback())
    assert "\n" not in line
    assert "sending a call failed" in line and "RuntimeError" in line


def test_a_json_line_names_time_level_logger_message_and_the_exception():
    line = json.loads(JsonLine().format(record_with_traceback()))
    assert (line["level"], line["logger"], line["message"]) == ("ERROR", "motcua", "sending a call failed")
    assert line["time"].endswith("+00:00") and "disk on fire\nsecond line" in line["exception"]


def test_a_server_asked_for_json_logs_writes_every_event_as_one_json_object(tmp_path, real_template):
    server = make_server(tmp_path, real_template, '[server]\nlog_format = "json"\naccess_log = true\n')
    log = server.log
    try:
        assert requests.get(server.api + "/branches/hk-01/state", timeout=10).ok
        assert server.post("/auth/login", json={"username": "off1", "password": "wrong"}).status_code == 401
    finally:
        server.kill(subprocess.signal.SIGTERM)
    # stdout's one line says where the server listens, for the person who started it; the rest are the logs.
    lines = [line for line in log.read_text().splitlines() if not line.startswith("motcua serving")]
    events = [json.loads(line) for line in lines]
    assert {"time", "level", "logger", "message"} <= set(events[0])
    access = [e["message"] for e in events if e["logger"] == "motcua.access"]
    assert any("GET /api/v1/branches/hk-01/state" in m for m in access)
    assert any("POST /api/v1/auth/login" in m and " 401 " in m for m in access)
    # The document key's warning at start, a log of motcua's own.
    assert any(e["logger"] == "motcua" and e["level"] == "WARNING" for e in events)


def test_an_unknown_log_format_is_refused_at_start(tmp_path, real_template):
    settings = tmp_path / "config.toml"
    settings.write_text('[server]\nlog_format = "xml"\n')
    done = subprocess.run([sys.executable, "-m", "motcua.cli", "serve", "--db", str(real_template.copy_to(
        tmp_path / "m.db")), "--port", str(free_port()), "--config", str(settings)], capture_output=True, text=True,
        timeout=60)
    assert done.returncode == 2 and "log_format" in done.stderr
