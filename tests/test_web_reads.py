"""The web layer reads the engine only through its published reads, never its lock or its dicts."""
import re
from pathlib import Path

import pytest

import motcua.web

WEB = Path(motcua.web.__file__).parent
# The engine's lock, its dicts of state and its internals, however the engine is reached
# (`engine.`, `rt.engine.`, `self.engine.`, `runtime().engine.`), and any ticket or rating dict.
FORBIDDEN = re.compile(r"engine\.(lock|tickets|ratings|branches|services|counters|_\w)\b|engine\._"
                       r"|\.tickets[\[.]|\.ratings[\[.]")


def offences(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines() if FORBIDDEN.search(line)]


@pytest.mark.parametrize("line", [
    "with engine.lock:", "ticket = self.engine.tickets[event.ticket]", "rt.engine.ratings.values()",
    "engine._at_counter.get(key)", "for b in runtime().engine.branches.values():", "engine.services[s].letter",
    "list(engine.counters)", "tickets.get(x)".join(["engine.", ""]),
])
def test_the_scan_finds_a_reach_into_the_engine(line):
    assert offences(line) == [line]


@pytest.mark.parametrize("line", [
    "state = engine.branch_state(b)", "engine.ticket(ticket_id)", "for t in change.tickets:",
    "ratings=store.ratings(since)", "engine.counters_of(b)", "engine.service(s).letter",
])
def test_the_scan_passes_published_reads(line):
    assert offences(line) == []


@pytest.mark.parametrize("module", sorted(WEB.glob("*.py")), ids=lambda p: p.name)
def test_no_web_module_reaches_into_the_engine(module):
    assert offences(module.read_text(encoding="utf-8")) == []
