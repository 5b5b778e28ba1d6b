"""The kiosk's evaluation screen: one question at a time, its three answers as big buttons the width of the screen,
the question's number and the dossier's code above; after the eleventh, the send button (motcua.kiosk.evaluation).

Import only after motcua.kiosk.app.configure_kivy().
"""
from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout

from motcua.kiosk.evaluation import QUESTIONS
from motcua.kiosk.screens import KioskScreen
from motcua.kiosk.ui_widgets import (CARD, CARD_DOWN, GREEN, INK, INK_SOFT, SELECTED, WARN_LINE, Tap, Text, button, px,
                                     rgb, spacer, two_sizes)

# Each answer's outline: good green, middling amber, bad red (and said in words, never by colour alone).
TONES = (GREEN, WARN_LINE, rgb("#B3261E"))
CHOICE_H, CHOICE_SIZE = 190, 52


class EvaluateScreen(KioskScreen):
    """Question `at` of QUESTIONS (0-based) for dossier `code`, answers so far kept for going back; at the end, send."""

    def render(self, code: str, at: int, answers: list) -> None:
        self.reset()
        self.code, self.at, self.answers = code, at, list(answers)
        self.body.spacing = px(20)
        self.add(self.back_row(self._back))
        first, second = self.both("evaluation.title")
        self.add(Text(two_sizes(first, second, 34), 34, color=INK_SOFT, markup=True), Text(code, 44, bold=True))
        if at == len(QUESTIONS):
            self._confirm()
            return
        key, choices, choice_key = QUESTIONS[at]
        first, second = self.both("evaluation.step", n=at + 1, of=len(QUESTIONS))
        self.add(spacer(8), Text(two_sizes(first, second, 38), 38, bold=True, color=INK_SOFT, markup=True))
        first, second = self.both(key)
        self.add(Text(first, 50, bold=True), Text(second, 32, color=INK_SOFT), spacer(12))
        box = BoxLayout(orientation="vertical", size_hint_y=None, spacing=px(24))
        box.bind(minimum_height=box.setter("height"))
        for value, tone in zip(choices, TONES):
            box.add_widget(self._choice(value, choice_key.format(value), tone, len(self.answers) > at
                                        and self.answers[at] == value))
        self.add(box, spacer())

    def _choice(self, value, key: str, tone, chosen: bool) -> Tap:
        card = Tap(on_tap=lambda: self._pick(value), outline=SELECTED if chosen else tone, size_hint_y=None,
                   height=px(CHOICE_H), padding=(px(28), px(10)), line_width=8 if chosen else 5,
                   fill=rgb("#DCE8F7") if chosen else CARD, down=CARD_DOWN)
        first, second = self.both(key)
        card.add_widget(spacer())
        card.add_widget(Text(first, CHOICE_SIZE, bold=True, color=INK))
        card.add_widget(Text(second, CHOICE_SIZE * 0.62, color=INK_SOFT))
        card.add_widget(spacer())
        return self.target(f"choice:{value}", card)

    def _confirm(self) -> None:
        first, second = self.both("evaluation.thanks_hint")
        self.add(spacer(60), Text(first, 44), Text(second, 30, color=INK_SOFT), spacer(60))
        first, second = self.both("evaluation.send")
        self.add(self.target("send", button(first, second, self._send, height=200, kind="green", size=56)), spacer())

    def _pick(self, value) -> None:
        answers = self.answers[:self.at] + [value] + self.answers[self.at + 1:]
        self.app.go("evaluate", code=self.code, at=self.at + 1, answers=answers)

    def _back(self) -> None:
        if self.at == 0:
            self.app.evaluation_back()
        else:
            self.app.go("evaluate", code=self.code, at=self.at - 1, answers=self.answers)

    def _send(self) -> None:
        self.app.send_evaluation(self.code, self.answers[:len(QUESTIONS)])
