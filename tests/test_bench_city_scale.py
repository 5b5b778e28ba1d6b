"""bench/city_scale.py at a tiny size, so that it cannot rot: its city is what the issue asks for, it
runs against a real server and prints every figure beside the reference's, and the targets."""
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
    for target in ("issue p99", "branch state p99", "city view p99"):
        assert re.search(rf"^  {target}\s+{NUMBER} ms  \(target ≤ \d+ ms\): (met|NOT met)$", out, re.MULTILINE), out
