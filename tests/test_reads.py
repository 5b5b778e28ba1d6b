"""The read executor: a long read runs on its threads and, past its limit, is answered 503
read_timed_out at once rather than left hanging."""
from __future__ import annotations

import threading
import time

import pytest

from motcua.config import load_config
from motcua.reads import Reads, ReadTimedOut
from motcua.web import report_routes

LIMIT_S = 0.2
HELD_S = 30.0   # how long a stuck read would hang: far past the limit


@pytest.fixture
def stuck():
    """A read that does not end until the test lets it go."""
    release = threading.Event()
    yield lambda *args: release.wait(HELD_S)
    release.set()


def test_a_read_within_its_limit_answers_and_one_past_it_is_refused_at_once(stuck):
    reads = Reads(LIMIT_S)
    assert reads.run(sum, [1, 2, 3]) == 6
    started = time.monotonic()
    with pytest.raises(ReadTimedOut) as refused:
        reads.run(stuck)
    assert refused.value.code == "read_timed_out"
    assert time.monotonic() - started < HELD_S / 2
    assert reads.run(max, 4, 5) == 5   # the other thread still reads


@pytest.fixture
def config(tmp_path, morning_template):
    db = morning_template.copy_to(tmp_path / "motcua.db")
    return load_config(server={"db": str(db), "async_mode": "threading", "read_limit_s": LIMIT_S})


@pytest.mark.parametrize("form", ["json", "csv"])
def test_a_report_that_overruns_the_read_limit_answers_503_with_a_json_error(api, monkeypatch, stuck, form):
    monkeypatch.setattr(report_routes, "work_out", stuck)
    started = time.monotonic()
    answer = api.get(f"/branches/hk-01/report.{form}?from=2026-11-01&to=2026-11-24", "mgr1")
    assert time.monotonic() - started < HELD_S / 2
    assert answer.status_code == 503, answer.text
    assert answer.json["error"]["code"] == "read_timed_out"
