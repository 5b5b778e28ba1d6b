"""The kiosk's statutory evaluation of a looked-up dossier: the flow's calls against a real server (fast), then the real
app under Xvfb, touched answer by answer (tests/kiosk_driver.py), at both screen sizes."""
from __future__ import annotations

import json
import sqlite3

import pytest

from motcua.core.evaluations import INDICATORS
from motcua.i18n import text
from motcua.kiosk import evaluation

from test_kiosk import drive, shot
from test_kiosk_lookup import kiosk_for, mistyped, opened, typed

RETURNED = ("digitized", "processing", "result_ready", "returned")
ANSWERS = [2, 1, 2, 0, 2, 2, 1, 2, 2, "satisfied", "very_satisfied"]


def evaluations(live_app) -> list[dict]:
    db = sqlite3.connect(live_app.db)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("select * from dossier_evaluations")]
    finally:
        db.close()


@pytest.fixture
def live(live_app, config):
    live_app.db = config.server.db
    return live_app


def test_the_flow_asks_first_then_sends_once_as_the_kiosks(live):
    kiosk = kiosk_for(live)
    waiting = opened(live, "digitized")["code"]
    assert evaluation.state(kiosk, waiting) == "not_returned"
    assert evaluation.send(kiosk, waiting, ANSWERS) == "not_returned"
    assert evaluation.state(kiosk, mistyped(waiting)) == "bad_code"
    code = opened(live, *RETURNED)["code"]
    assert evaluation.state(kiosk, code) == "open"
    assert evaluation.send(kiosk, code, ANSWERS) == "ok"
    assert evaluation.state(kiosk, code) == "evaluated"
    assert evaluation.send(kiosk, code, ANSWERS) == "already_evaluated"
    [row] = evaluations(live)
    assert (row["code"], row["channel"], json.loads(row["indicators"]), row["overall"]) == \
        (code, "kiosk", ANSWERS[:9], "very_satisfied")


@pytest.mark.parametrize("screen, suffix", [("1080x1920", ""), ("768x1366", "-768")])
def test_a_citizen_evaluates_a_returned_dossier_at_the_kiosk_with_touches(live, tmp_path, screen, suffix):
    code = opened(live, *RETURNED)["code"]
    result = drive(live, "evaluate", tmp_path, screen=screen, suffix=suffix, code=typed(code),
                   answers=",".join(map(str, ANSWERS)))
    assert result["chosen_before"] == [ANSWERS[0]]   # going back shows the answer given
    assert len(result["questions"]) == 11
    for shown, key in zip(result["questions"], INDICATORS):
        assert text("vi", f"evaluation.indicator.{key}") in shown
        assert text("vi", "evaluation.score.2") in shown and text("en", "evaluation.score.0") in shown
    assert text("vi", "evaluation.question.overall") in result["questions"][-1]
    assert text("vi", "evaluation.answer.dissatisfied") in result["questions"][-1]
    assert text("vi", "evaluation.thanks") in result["thanks"]
    assert text("vi", "evaluation.error.already_evaluated") in result["again"]
    assert result["problems"] == []
    [row] = evaluations(live)
    assert (row["code"], row["channel"], json.loads(row["indicators"]), row["total"], row["convenience"],
            row["overall"]) == (code, "kiosk", ANSWERS[:9], sum(ANSWERS[:9]), "satisfied", "very_satisfied")
    for name in ("evaluate-lookup-result", "evaluate-question-1", "evaluate-question-last", "evaluate-send",
                 "evaluate-thanks", "evaluate-again"):
        shot(name + suffix)
