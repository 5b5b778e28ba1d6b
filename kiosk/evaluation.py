"""The kiosk's statutory evaluation of a dossier (motcua.core.evaluations), reached from a looked-up dossier whose
result is returned: the nine indicators and the two answers of satisfaction, one question a screen with big buttons,
then sent as the kiosk's. The flow's calls, the app's steps (a mixin of KioskApp) and the screen.

Import the screen only after motcua.kiosk.app.configure_kivy(), as the other screens.
"""
from __future__ import annotations

from motcua.core.evaluations import ANSWERS, INDICATORS
from motcua.kiosk.client import ServerRefused

SCORES = (2, 1, 0)
# The questions in order: (catalogue key of the question, the choices, the catalogue key of a choice).
QUESTIONS = tuple((f"evaluation.indicator.{key}", SCORES, "evaluation.score.{}") for key in INDICATORS) + tuple(
    (f"evaluation.question.{name}", ANSWERS, "evaluation.answer.{}") for name in ("convenience", "overall"))
REFUSALS = {400: "bad_code", 404: "not_found"}


def state(kiosk, code: str) -> str:
    """"open" (returned, not evaluated), "evaluated", "not_returned", "bad_code" or "not_found"."""
    try:
        found = kiosk.client.evaluation_state(code)
    except ServerRefused as refusal:
        if refusal.status in REFUSALS:
            return REFUSALS[refusal.status]
        raise
    if found.get("evaluated"):
        return "evaluated"
    return "open" if found.get("returned") else "not_returned"


def send(kiosk, code: str, answers: list) -> str:
    """"ok", or the refusal's code (already_evaluated, not_returned…)."""
    nine = list(answers[:len(INDICATORS)])
    try:
        kiosk.client.evaluate(code, nine, answers[len(INDICATORS)], answers[len(INDICATORS) + 1])
    except ServerRefused as refusal:
        if refusal.status == 409:
            return refusal.code
        raise
    return "ok"


class EvaluationSteps:
    """KioskApp's steps of an evaluation: its state asked first, the questions, the sending, the answer."""

    THANKS_S = 8.0

    def start_evaluation(self, found) -> None:
        self.evaluating = found
        self.go("waiting", hold=0, key="kiosk.lookup_searching")
        self.background(lambda: state(self.kiosk, found.code), self._may_evaluate, self.failed)

    def _may_evaluate(self, result: str) -> None:
        if result == "open":
            self.go("evaluate", code=self.evaluating.code, at=0, answers=[])
        else:
            self._refused(result)

    def evaluation_back(self) -> None:
        """Back from the first question: the dossier as it was looked up."""
        self.go("lookup_result", found=self.evaluating)

    def send_evaluation(self, code: str, answers: list) -> None:
        self.go("waiting", hold=0, key="kiosk.sending")
        self.background(lambda: send(self.kiosk, code, answers), self._evaluated, self.failed)

    def _evaluated(self, result: str) -> None:
        if result == "ok":
            self.go("message", hold=self.THANKS_S, title="evaluation.thanks", body="evaluation.thanks_hint",
                    picture="thanks")
        else:
            self._refused(result)

    def _refused(self, result: str) -> None:
        key = {"evaluated": "already_evaluated"}.get(result, result)
        if key in ("already_evaluated", "not_returned"):
            self.go("message", title=f"evaluation.error.{key}", home_button=True)
        else:
            self.trouble()


def screens() -> dict:
    """The evaluation's screens by name, for the app's screen manager."""
    from motcua.kiosk.evaluation_screen import EvaluateScreen
    return {"evaluate": EvaluateScreen}
