"""The kiosk's screen after a citizen's ID card (CCCD) was scanned: read (served first, or choose as usual) or not
a card. It names nobody: the kiosk stands in a public hall."""
from __future__ import annotations

from motcua.kiosk.screens import KioskScreen, notice
from motcua.kiosk.ui_widgets import INK_SOFT, Pictogram, Text, button, px, spacer


class CardScreen(KioskScreen):
    def render(self, priority: bool | None = None) -> None:
        """priority: the holder is served first (True) or not (False); None: what was scanned is not a card."""
        self.reset()
        self.add(spacer())
        if priority is None:
            self.add(*self.heading("kiosk.card_unreadable", 60))
            first, second = self.both("kiosk.card_unreadable_note")
            self.add(spacer(20), Text(first, 42), Text(second, 30, color=INK_SOFT))
        else:
            self.add(*self.heading("kiosk.card_read", 64))
            if priority:
                self.add(spacer(20), Pictogram("elderly", size_hint_y=None, height=px(220)))
                self.add(spacer(20), notice([self.both("kiosk.card_priority")], "ok", 44))
            first, second = self.both("kiosk.card_choose")
            self.add(spacer(20), Text(first, 42), Text(second, 30, color=INK_SOFT))
        self.add(spacer())
        first, second = self.both("kiosk.card_continue")
        self.add(self.target("continue", button(first, second, self.app.card_done, height=160, kind="green")))
