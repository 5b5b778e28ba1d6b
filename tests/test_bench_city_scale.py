"""bench/city_scale.py and bench/history_start.py at a tiny size, so that they cannot rot: the city is
what the issue asks for, each runs against a real server and prints every figure, beside its
reference, and the targets."""
from __future__ import annotations

import math
import re
import subprocess
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from city_scale import city  # noqa: E402  (lives in bench/, not in the package)

NUMBER = r"(\d+\.\d)"


def km(a: dict, b: dict) -> float:
    north = (a["lat"] - b["lat"]) * 111.32
    east = (a["lon"] - b["lon"]) * 111.32 * math.cos(math.radians(a["lat"]))
    return math.hypot(north, east)


def test_the_generated_city_has_the_issue_s_shape():
    data = city(350)
    branches = data["branches"]
    assert len(branches) == 350
    for branch in branches:
        served = {s for c in branch["counters"] for s in c["services"]}
        assert 10 <= len(served) <= 25 and 4 <= len(branch["counters"]) <= 20
        assert any(0 < km(branch, other) <= 5 for other in branches if other is not branch)
    assert {a["branch"] for a in data["arrivals"]} == {b["id"] for b in branches}


def test_the_bench_prints_every_figure_of_a_tiny_city_and_its_reference():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "city_scale.py"), "--branches", "6", "--seconds", "3",
                           "--rate", "5", "--waiting", "3", "--reference", "5"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for name in ("6 branches", r"5 branches \(reference\)"):
        # issued/s, issue p50 and p99, state p99, call→display p99, city p50 and p99: all measured, none nan
        row = re.search(rf"^{name}\s+{NUMBER}" + rf"\s+{NUMBER}" * 6 + r"\s+(\d+)\s+(\d+)$", out, re.MULTILINE)
        assert row, out
        assert float(row[1]) > 0 and int(row[8]) > 0 and int(row[9]) > 0, row[0]
    assert "staff consoles subscribed 6" in out and "staff consoles subscribed 5" in out, out
    assert len(re.findall(r"the server's writer: [1-9]\d* commits/s, mean \d+\.\d ms", out)) == 2, out
    for target in ("issue p99", "branch state p99", "city view p99"):
        assert re.search(rf"^  {target}\s+{NUMBER} ms  \(target ≤ \d+ ms\): (met|NOT met)$", out, re.MULTILINE), out


def test_history_start_prints_the_start_and_memory_of_each_database_and_the_targets(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "history_start.py"), "--days", "3", "--branches", "3",
                           "--citizens", "60", "--repeats", "1", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(r"history: .*: \d[\d,]* tickets, \d[\d,]* events, \d[\d,]* ratings", out), out
    for name in ("empty", "yesterday", "3 days"):
        # load s, load RSS, tickets in memory, serve s, serve RSS
        assert re.search(rf"^{name}\s+{NUMBER}\d\s+\d+M\s+\d+\s+{NUMBER}\d\s+\d+M$", out, re.MULTILINE), out
    assert re.search(r"^target: start ≤ 5 s: .*: (met|NOT met)$", out, re.MULTILINE), out
    assert re.search(r"^target: RSS within 1.5× of empty: .*: (met|NOT met)$", out, re.MULTILINE), out
    assert re.search(r"^the history's CSV report of the busiest branch \(\d+ rows.*: \d+\.\d\d s", out,
                     re.MULTILINE), out
