"""The kiosk's screens. Each one rebuilds itself in render() from what the app hands it, so a
language switch or a new ticket never leaves stale text behind. Screens only lay things out:
every decision (network calls, where to go next) is the app's (ui_app.KioskApp).

Touch targets are named in `targets` so the test driver can touch the real widget.
"""
from __future__ import annotations

from kivy.core.window import Window
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from motcua.core.engine import RATING_CODE_DIGITS
from motcua.kiosk.ui_widgets import (BLUE, BLUE_DOWN, CARD, CARD_DOWN, GREEN, HEADER, INK,
                                      INK_SOFT, LINE_C, OK_BG, SELECTED, SERVICE_COLOURS, WARN_BG, WARN_INK, WARN_LINE,
                                      WHITE, Arrow, Face, FitText, LetterBadge, Panel, Pictogram, QrCode, Spinner, Tap,
                                      Text, TimelineMark, button, height_of, px, rgb, spacer, two_sizes)

PRIORITY_GROUPS = ("elderly", "disabled", "pregnant", "merit")
SCORES = (4, 3, 2, 1)
MAX_NUMBER_LEN = 6
MAX_CODE_LEN = 32     # longer than any dossier code: a stuck key cannot grow the field forever
CODE_KEYS = ("1234567890", "ABCDEFG", "HIJKLMN", "OPQRSTU", "VWXYZ-")
# A check-in: an appointment's code (letters and digits), an ID number (12 digits) or a ticket's number.
CHECK_IN_KEYS = ("1234567890", "ABCDEFG", "HIJKLMN", "OPQRSTU", "VWXYZ")
MAX_CHECK_IN_LEN = 12


class KioskScreen(Screen):
    """A screen with a padded vertical body and named touch targets."""

    def __init__(self, app, **kwargs):
        super().__init__(**kwargs)
        self.app = app
        self.targets: dict[str, Widget] = {}
        self.body = BoxLayout(orientation="vertical", padding=(px(48), px(40)), spacing=px(24))
        self.add_widget(self.body)

    def reset(self) -> None:
        self.stop_spinners()
        self.body.clear_widgets()
        self.targets = {}

    def stop_spinners(self) -> None:
        for widget in self.walk():
            if isinstance(widget, Spinner):
                widget.stop()

    def target(self, name: str, widget: Widget) -> Widget:
        self.targets[name] = widget
        return widget

    def add(self, *widgets: Widget) -> None:
        for widget in widgets:
            self.body.add_widget(widget)

    def both(self, key: str, **values) -> tuple[str, str]:
        return self.app.pair(key, **values)

    def heading(self, key: str, size: float = 64, **values) -> list[Widget]:
        """The current language large and bold, the other one smaller and softer below."""
        first, second = self.both(key, **values)
        return [Text(first, size, bold=True), Text(second, size * 0.6, color=INK_SOFT)]

    def service_head(self, names: dict) -> None:
        """The back key, then the service's name in both languages: the head of a screen about one service."""
        self.add(self.back_row(self.app.home))
        first, second = self.app.name_pair(names)
        self.add(Text(first, 56, bold=True), Text(second, 34, color=INK_SOFT))

    def back_row(self, on_tap) -> BoxLayout:
        row = BoxLayout(size_hint_y=None, height=px(120))
        first, second = self.both("kiosk.back")
        back = button(first, second, on_tap, height=120, kind="grey", size=40)
        back.size_hint_x = None
        back.width = px(320)
        row.add_widget(self.target("back", back))
        row.add_widget(Widget())
        return row

    def visible_texts(self) -> list[str]:
        return [w.text for w in self.walk() if isinstance(w, Label) and w.text]

    def on_leave(self, *args):
        self.stop_spinners()                     # a hidden spinner would still redraw 30 times a second


def notice(pairs: list[tuple[str, str]], kind: str = "info", size: float = 40) -> Panel:
    """A framed block of (current language, other language) lines: info, ok or warn."""
    fill, outline, ink, ink2 = {"info": (CARD, LINE_C, INK, INK_SOFT), "ok": (OK_BG, GREEN, INK, INK_SOFT),
                                "warn": (WARN_BG, WARN_LINE, WARN_INK, WARN_INK)}[kind]
    box = Panel(fill=fill, outline=outline, line_width=4, size_hint_y=None, padding=(px(28), px(20)),
                spacing=px(8))
    box.bind(minimum_height=box.setter("height"))
    for first, second in pairs:
        box.add_widget(Text(first, size, bold=True, color=ink))
        if second:
            box.add_widget(Text(second, size * 0.68, color=ink2))
    return box


# ---- home -------------------------------------------------------------------------------------

# The elderly-size type of a service card, in design pixels: never smaller, however many services.
NAME_SIZE, OTHER_SIZE, LINE_SIZE = 54, 34, 30
CARD_PAD, BADGE_W, CARD_GAP, LIST_GAP, MIN_CARD_H = (26, 16), 130, 26, 18, 150
PAGE_KEYS_PER_ROW, NAV_ROW_H = 8, 100
# The home screen's three actions below the services (check in, look up, rate): a third of the width
# each, so their first language a little smaller than elsewhere, the other at the kiosk's smallest type.
ACTION_SIZE, ACTION_SECOND_SIZE = 34, 24
# A field's button: its name in the type of the home screen's buttons, never smaller.
FIELD_SIZE, FIELD_PAD, FIELD_GAP, MIN_FIELD_H, FIELD_COLUMNS = 44, (18, 10), 14, 88, 4
OTHER_FIELD = "other"   # the target name of the "other services" button (services taking no procedure)


class HomeScreen(KioskScreen):
    """The services as large cards, as many as fit on a page (never a scroll bar). When they do not fit
    one page and they span fields (lĩnh vực), the fields instead, as large buttons: a field's services
    are one touch away (FieldScreen). "Search" above either way, for a name."""

    def render(self, page: int = 0) -> None:
        self.reset()
        self.body.padding = (0, 0, 0, px(40))
        self.add(self._header())
        inner = BoxLayout(orientation="vertical", padding=(px(48), 0), spacing=px(22))
        inner.add_widget(self._languages())
        first, second = self.both("kiosk.search_button")
        inner.add_widget(self.target("search", button(first, second, self.app.start_search, height=120, size=44)))
        services = sorted(self.app.kiosk.services(), key=lambda s: (len(s.letter), s.letter))
        fields = self.app.kiosk.fields()
        key = (self.app.kiosk.language, tuple(services), tuple(fields))
        if getattr(self, "_paged", (None,))[0] != key:          # measured once per language and services
            titles = self._titles("kiosk.choose_service")
            pages, with_lines = self._pages(services, self._room(titles), gaps=5)
            grouped = fields if len(pages) > 1 else []
            layout = self._field_layout(grouped, self._titles("kiosk.choose_field")) if grouped else None
            self._paged = (key, pages, with_lines, grouped, layout)
        _, service_pages, with_lines, self.fields, layout = self._paged
        if self.fields:
            self.pages, self.with_other = layout
        else:
            self.pages = service_pages
        self.page = max(0, min(page, len(self.pages) - 1))
        for title in self._titles("kiosk.choose_field" if self.fields else "kiosk.choose_service"):
            inner.add_widget(title)
        if self.fields:
            inner.add_widget(self._field_grid(self.pages[self.page]))
        else:
            inner.add_widget(self._cards(self.pages[self.page], with_lines))
        if len(self.pages) > 1:
            inner.add_widget(self._page_keys(self._nav_rows()))
        actions = BoxLayout(size_hint_y=None, height=px(140), spacing=px(20))
        for name, key, on_tap, kind in (("checkin", "kiosk.checkin_button", self.app.start_check_in, "green"),
                                        ("lookup", "kiosk.lookup_button", self.app.start_lookup, "white"),
                                        ("rate", "kiosk.rate_button", self.app.start_rating, "white")):
            first, second = self.both(key)
            actions.add_widget(self.target(name, button(first, second, on_tap, height=140, kind=kind, size=ACTION_SIZE,
                                                        secondary_size=ACTION_SECOND_SIZE)))
        inner.add_widget(actions)
        self.add(inner)

    def to_page(self, number: int) -> None:
        self.render(number)

    def _titles(self, key: str) -> list[Text]:
        first, second = self.both(key)
        return [Text(first, 52, bold=True), Text(second, 34, color=INK_SOFT)]

    def _room(self, titles: list[Text]) -> float:
        """Height left for the cards (or fields) and their page keys: the window less every fixed part
        (known now: the kiosk never resizes)."""
        return Window.height - px(40 + 210 + 24 + 120 + 120 + 140 + 4) - height_of(titles, Window.width - px(96))

    def _nav_rows(self) -> int:
        return -(-len(self.pages) // PAGE_KEYS_PER_ROW) if len(self.pages) > 1 else 0

    def _cards(self, page: list, with_lines: bool) -> BoxLayout:
        cards = BoxLayout(orientation="vertical", spacing=px(LIST_GAP))
        for index, service, height in page:
            cards.add_widget(self._service_card(index, service, self._card_texts(service, with_lines), height))
        cards.add_widget(Widget())
        return cards

    def _pages(self, services, fixed: float, gaps: int) -> tuple[list[list], bool]:
        """The pages of (index, service, card height), and whether cards carry their other lines; fixed is
        the room for cards and page keys, gaps the spacings between the other parts."""
        pages = self._paginate(services, fixed, px(22) * gaps, with_lines=True)
        if len(pages) == 1:
            return pages, True
        for _ in range(3):                   # the page keys' rows take room from the cards: settle both
            rows = -(-len(pages) // PAGE_KEYS_PER_ROW)
            pages = self._paginate(services, fixed - rows * px(NAV_ROW_H) - (rows - 1) * px(12), px(22) * (gaps + 1),
                                   with_lines=False)
        return pages, False

    def _paginate(self, services, room: float, gaps: float, with_lines: bool) -> list[list]:
        """Services in letter order, cut into pages of cards that fit `room` less `gaps`; each card
        measured with its own texts. The other language and the description only when every service
        fits on one page: more cards a page, never smaller type."""
        room -= gaps
        words_w = Window.width - px(96 + 2 * CARD_PAD[0] + BADGE_W + CARD_GAP)
        pages, used = [[]], 0.0
        for index, service in enumerate(services):
            texts = self._card_texts(service, with_lines)
            height = max(px(MIN_CARD_H), height_of(texts, words_w) + 2 * px(CARD_PAD[1]))
            step = height + (px(LIST_GAP) if pages[-1] else 0)
            if pages[-1] and used + step > room:
                pages.append([])
                used, step = 0.0, height
            pages[-1].append((index, service, height))
            used += step
        if with_lines and len(pages) > 1:
            return [[]] * len(pages)        # asked again without descriptions, with room for the page keys
        return pages

    # ---- fields ----

    def _field_texts(self, field, with_other: bool) -> list[Text]:
        first, second = self.app.name_pair(field.name)
        texts = [Text(first, FIELD_SIZE, bold=True)]
        if with_other and second:
            texts.append(Text(second, OTHER_SIZE, color=INK_SOFT))
        return texts

    def _field_layout(self, fields, titles: list[Text]) -> tuple[list[list], bool]:
        """The fields in alphabetical order as rows of buttons [(height, [(field, width)…])…], cut into
        pages, and whether each carries its other language: as many to a row as their names fit on one
        line (a long name alone, wrapped), with the other language only if every field then fits one
        page, else names only; paged only if even those do not fit. Type never smaller."""
        room = self._room(titles) - px(22) * 5
        for other in (True, False):
            rows = self._field_rows(fields, other)
            if self._rows_height(rows) <= room:
                return [rows], other
        pages = [[]]
        for row in rows:
            if pages[-1] and self._rows_height(pages[-1] + [row]) > room - px(NAV_ROW_H) - px(22):
                pages.append([])
            pages[-1].append(row)
        return pages, False

    def _field_rows(self, fields, other: bool) -> list[tuple[float, list]]:
        width = Window.width - px(96)
        pad, gap = 2 * px(FIELD_PAD[0]), px(FIELD_GAP)
        narrowest = (width - (FIELD_COLUMNS - 1) * gap) / FIELD_COLUMNS
        rows, row, used = [], [], 0.0
        for field in fields:
            texts = self._field_texts(field, other)
            for text in texts:
                text.text_size = (None, None)
                text.texture_update()
            need = min(width, max(narrowest, max(t.texture_size[0] for t in texts) + pad + px(4)))
            if row and used + gap + need > width:
                rows.append(row)
                row, used = [], 0.0
            used += need + (gap if row else 0)
            row.append((field, need))
        if row:
            rows.append(row)
        laid = []
        for row in rows:                         # the row's spare width shared out: a row is always full
            spare = (width - (len(row) - 1) * gap) / sum(need for _, need in row)
            widths = [(field, need * spare) for field, need in row]
            height = max(max(px(MIN_FIELD_H), height_of(self._field_texts(field, other), w - pad) + 2 * px(FIELD_PAD[1]))
                         for field, w in widths)
            laid.append((height, widths))
        return laid

    @staticmethod
    def _rows_height(rows: list) -> float:
        return sum(height for height, _ in rows) + max(0, len(rows) - 1) * px(FIELD_GAP)

    def _field_grid(self, rows: list) -> BoxLayout:
        box = BoxLayout(orientation="vertical", spacing=px(FIELD_GAP))
        for height, row in rows:
            line = BoxLayout(spacing=px(FIELD_GAP), size_hint_y=None, height=height)
            for field, width in row:
                tap = self._field_button(field)
                tap.size_hint_x, tap.width = None, width
                line.add_widget(tap)
            box.add_widget(line)
        box.add_widget(Widget())
        return box

    def _field_button(self, field) -> Tap:
        tap = Tap(on_tap=lambda: self.app.open_field(field, self.page), padding=(px(FIELD_PAD[0]), px(FIELD_PAD[1])),
                  outline=BLUE, line_width=4)
        tap.add_widget(spacer())
        for text in self._field_texts(field, self.with_other):
            tap.add_widget(text)
        tap.add_widget(spacer())
        return self.target(f"field:{field.id or OTHER_FIELD}", tap)

    def _card_texts(self, service, with_line: bool) -> list[Text]:
        first, second = self.app.name_pair(service.name)
        texts = [Text(first, NAME_SIZE, bold=True, halign="left")]
        if with_line and second:
            texts.append(Text(second, OTHER_SIZE, color=INK_SOFT, halign="left"))
        line = self.app.name_pair(service.line)[0]
        if with_line and line:
            texts.append(Text(line, LINE_SIZE, color=INK_SOFT, halign="left"))
        return texts

    def _header(self) -> Panel:
        header = Panel(fill=HEADER, radius=0, size_hint_y=None, height=px(210), padding=(px(40), px(20)))
        first, second = self.app.name_pair(self.app.branch_name())
        header.add_widget(spacer())
        header.add_widget(Text(first, 46, bold=True, color=WHITE))
        header.add_widget(Text(second, 30, color=rgb("#F8E1E1")))
        header.add_widget(spacer())
        return header

    def _languages(self) -> BoxLayout:
        row = BoxLayout(size_hint_y=None, height=px(120), spacing=px(16), padding=(px(120), 0))
        for lang, key in (("vi", "kiosk.lang_vi"), ("en", "kiosk.lang_en")):
            chosen = self.app.kiosk.language == lang
            tap = Tap(on_tap=lambda lang=lang: self.app.set_language(lang), fill=BLUE if chosen else CARD,
                      down=BLUE_DOWN if chosen else CARD_DOWN, outline=BLUE, line_width=4)
            tap.add_widget(spacer())
            tap.add_widget(Text(self.app.kiosk.text(key), 44, bold=True, color=WHITE if chosen else INK))
            tap.add_widget(spacer())
            row.add_widget(self.target(f"lang:{lang}", tap))
        return row

    def _service_card(self, index: int, service, texts: list, height: float) -> Tap:
        card = service_card(service, index, texts, height, lambda: self.app.choose_service(service))
        return self.target(f"service:{service.id}", card)

    def _page_keys(self, rows: int) -> BoxLayout:
        nav = BoxLayout(size_hint_y=None, height=rows * px(NAV_ROW_H) + (rows - 1) * px(12), spacing=px(16))
        last = len(self.pages) - 1
        nav.add_widget(self._arrow("prev", False, self.page - 1 if self.page > 0 else None))
        keys = GridLayout(cols=min(len(self.pages), PAGE_KEYS_PER_ROW), spacing=px(12))
        for number in range(len(self.pages)):
            here = number == self.page
            key = Tap(on_tap=lambda number=number: self.to_page(number), fill=BLUE if here else CARD,
                      down=BLUE_DOWN if here else CARD_DOWN, outline=BLUE if here else LINE_C)
            key.add_widget(spacer())
            key.add_widget(Text(str(number + 1), 44, bold=True, color=WHITE if here else INK))
            key.add_widget(spacer())
            keys.add_widget(self.target(f"page:{number}", key))
        nav.add_widget(keys)
        nav.add_widget(self._arrow("next", True, self.page + 1 if self.page < last else None))
        return nav

    def _arrow(self, name: str, right: bool, to: int | None) -> Tap:
        """A large arrow to the page `to`; greyed, doing nothing, at either end."""
        arrow = Tap(on_tap=(lambda: self.to_page(to)) if to is not None else None, size_hint_x=None,
                    width=px(150), padding=(px(12), px(12)))
        arrow.add_widget(Arrow(right))
        arrow.opacity = 1 if to is not None else 0.3
        return self.target(f"page:{name}", arrow)


class FieldScreen(HomeScreen):
    """A field's services as the home screen's cards, paged with the same arrows and keys when they do
    not fit, under a large Back to the fields."""

    def render(self, field=None, page: int = 0) -> None:
        self.reset()
        self.field = field
        self.fields = []
        self.body.padding = (0, 0, 0, px(40))
        self.add(self._header())
        inner = BoxLayout(orientation="vertical", padding=(px(48), 0), spacing=px(22))
        inner.add_widget(self.back_row(lambda: self.app.go("home", page=self.app.fields_page)))
        first, second = self.app.name_pair(field.name)
        titles = [Text(first, 52, bold=True), Text(second, 34, color=INK_SOFT)]
        services = self.app.kiosk.services_in(field.id)
        key = (self.app.kiosk.language, field, tuple(services))
        if getattr(self, "_paged", (None,))[0] != key:
            room = Window.height - px(40 + 210 + 120 + 4) - height_of(titles, Window.width - px(96))
            self._paged = (key, *self._pages(services, room, gaps=3))
        _, self.pages, with_lines = self._paged
        self.page = max(0, min(page, len(self.pages) - 1))
        for title in titles:
            inner.add_widget(title)
        inner.add_widget(self._cards(self.pages[self.page], with_lines))
        if len(self.pages) > 1:
            inner.add_widget(self._page_keys(self._nav_rows()))
        self.add(inner)

    def to_page(self, number: int) -> None:
        self.render(self.field, number)


def service_card(service, index: int, texts: list[Text], height: float, on_tap) -> Tap:
    """A service as a large card: its letter in a coloured circle, then its measured texts."""
    card = Tap(on_tap=on_tap, orientation="horizontal", size_hint_y=None, height=height,
               padding=(px(CARD_PAD[0]), px(CARD_PAD[1])), spacing=px(CARD_GAP))
    colour = SERVICE_COLOURS[index % len(SERVICE_COLOURS)]
    card.add_widget(LetterBadge(service.letter, colour, size_hint=(None, None), size=(px(BADGE_W), px(BADGE_W)),
                                pos_hint={"center_y": 0.5}))
    words = BoxLayout(orientation="vertical")
    words.add_widget(spacer())
    for text in texts:
        words.add_widget(text)
    words.add_widget(spacer())
    card.add_widget(words)
    return card


# ---- priority ---------------------------------------------------------------------------------

class PriorityScreen(KioskScreen):
    def render(self) -> None:
        self.reset()
        self.add(self.back_row(self.app.home))
        self.add(*self.heading("kiosk.priority_question", 66))
        first, second = self.both("kiosk.priority_note")
        self.add(Text(first, 38, color=INK_SOFT), Text(second, 28, color=INK_SOFT))
        grid = GridLayout(cols=2, spacing=px(24))
        for group in PRIORITY_GROUPS:
            grid.add_widget(self._picture(group))
        self.add(grid)
        first, second = self.both("kiosk.priority_yes")
        self.add(self.target("yes", button(first, second, lambda: self.app.take_ticket(True), height=160,
                                           kind="green")))
        first, second = self.both("kiosk.priority_no")
        self.add(self.target("no", button(first, second, lambda: self.app.take_ticket(False), height=160)))

    def _picture(self, group: str) -> Tap:
        # Touching a picture answers "yes": people point at the one that is them.
        card = Tap(on_tap=lambda: self.app.take_ticket(True), padding=(px(16), px(20)), spacing=px(10))
        card.add_widget(Pictogram(group))
        first, second = self.both(f"kiosk.priority.{group}")
        card.add_widget(Text(first, 40, bold=True))
        card.add_widget(Text(second, 28, color=INK_SOFT))
        return self.target(f"group:{group}", card)


# ---- waiting ----------------------------------------------------------------------------------

class WaitingScreen(KioskScreen):
    def render(self, key: str = "kiosk.getting_number") -> None:
        self.reset()
        self.add(spacer())
        spinner = Spinner(size_hint_y=None, height=px(260))
        self.add(spinner, spacer(40), *self.heading(key, 64))
        self.add(spacer())
        spinner.start()


# ---- ticket -----------------------------------------------------------------------------------

class TicketScreen(KioskScreen):
    """The number, the wait and the QR code; the print status underneath changes as printing goes."""

    def render(self, issued, moved_to=None, note: str | None = None) -> None:
        self.reset()
        self.body.spacing = px(14)
        ticket = issued.ticket
        first, second = self.app.name_pair(issued.branch_name)
        self.add(Text(first, 40, bold=True), Text(second, 28, color=INK_SOFT))
        if moved_to is not None:
            self.add(notice([self.both("kiosk.moved_note"), self.app.name_pair(moved_to.directions)], "ok", 38))
        if note:
            self.add(notice([self.both(note)], "warn"))
        first, second = self.both("kiosk.your_number")
        self.add(spacer(6), Text(two_sizes(first, second, 40), 40, color=INK_SOFT, markup=True))
        self.number = FitText(ticket.get("number", "?"), 300)    # takes the height left over
        self.add(self.number)
        first, second = self.app.name_pair(issued.service_name)
        self.add(Text(first, 54, bold=True), Text(second, 34, color=INK_SOFT))
        if ticket.get("priority"):
            self.add(Text(two_sizes(*self.both("kiosk.priority_badge"), 36), 36, bold=True, color=GREEN, markup=True))
        self.add(spacer(6), *self._wait_lines(ticket))
        self.add(self._qr(ticket.get("status_url", "")))
        self.status = BoxLayout(orientation="vertical", size_hint_y=None)
        self.status.bind(minimum_height=self.status.setter("height"))
        self.add(self.status)
        first, second = self.both("kiosk.done")
        self.add(self.target("done", button(first, second, self.app.done, height=140, kind="grey", size=44)))
        self.show_print("printing")

    def _wait_lines(self, ticket: dict) -> list[Widget]:
        position = ticket.get("position")
        if position is None:
            ahead = None
        elif position <= 1:
            ahead = self.both("kiosk.you_are_next")
        elif position == 2:
            ahead = self.both("kiosk.one_ahead")
        else:
            ahead = self.both("kiosk.people_ahead", count=position - 1)
        wait = ticket.get("estimated_wait_min")
        span = ticket.get("estimated_wait_range_min")
        if wait is None:
            waited = self.both("kiosk.wait_unknown")
        elif wait < 1:
            waited = self.both("kiosk.wait_soon")
        elif span and len(span) == 2 and span[0] is not None and span[1] is not None:
            waited = self.both("kiosk.wait_range", min=round(wait), low=round(span[0]), high=round(span[1]))
        else:
            waited = self.both("kiosk.wait", min=round(wait))
        lines = []
        for pair in (ahead, waited):
            if pair:
                lines += [spacer(8), Text(pair[0], 44, bold=True), Text(pair[1], 30, color=INK_SOFT)]
        return lines

    def _qr(self, url: str) -> BoxLayout:
        row = BoxLayout(size_hint_y=None, height=px(400), spacing=px(30))
        row.add_widget(self.target("qr", QrCode(url, size_hint_x=None, width=px(400))))
        words = BoxLayout(orientation="vertical")
        first, second = self.both("kiosk.scan_qr")
        words.add_widget(spacer())
        words.add_widget(Text(first, 38, halign="left"))
        words.add_widget(spacer(10))
        words.add_widget(Text(second, 28, color=INK_SOFT, halign="left"))
        words.add_widget(spacer())
        row.add_widget(words)
        return row

    def show_print(self, state: str) -> None:
        """state: printing, printed, problem or no_printer."""
        self.status.clear_widgets()
        if state == "printing":
            self.status.add_widget(notice([self.both("kiosk.printing")], "info", 44))
        elif state == "printed":
            self.status.add_widget(notice([self.both("kiosk.take_ticket")], "ok", 48))
        elif state == "no_printer":
            self.status.add_widget(notice([self.both("kiosk.no_printer")], "warn", 42))
        else:
            self.status.add_widget(notice([self.both("kiosk.print_problem"), self.both("kiosk.staff_told")],
                                             "warn", 40))


# ---- better branch ----------------------------------------------------------------------------

class BetterScreen(KioskScreen):
    """Before printing: nearby branches that would serve sooner. Staying is always one touch."""

    MAX_SHOWN = 3

    def render(self, issued) -> None:
        self.reset()
        self.add(*self.heading("kiosk.better_title", 62))
        ticket = issued.ticket
        wait = ticket.get("estimated_wait_min")
        key = "kiosk.better_here" if wait is not None else "kiosk.better_here_unknown"
        first, second = self.both(key, number=ticket.get("number", "?"), min=round(wait or 0))
        self.add(Text(first, 42, bold=True, color=INK_SOFT), Text(second, 30, color=INK_SOFT))
        for index, alternative in enumerate(issued.alternatives[:self.MAX_SHOWN]):
            self.add(self._card(index, alternative))
        self.add(spacer())
        first, second = self.both("kiosk.stay")
        self.add(self.target("stay", button(first, second, self.app.stay_here, height=160, kind="grey")))

    def _card(self, index: int, alternative) -> Panel:
        card = Panel(fill=CARD, outline=LINE_C, size_hint_y=None, padding=(px(32), px(26)), spacing=px(12))
        card.bind(minimum_height=card.setter("height"))
        first, second = self.app.name_pair(alternative.name)
        card.add_widget(Text(first, 46, bold=True, halign="left"))
        card.add_widget(Text(second, 30, color=INK_SOFT, halign="left"))
        first, second = self.both("kiosk.alt_facts", km=float(alternative.distance_km),
                                  travel=round(alternative.travel_min), wait=round(alternative.wait_min))
        card.add_widget(Text(first, 38, halign="left"))
        card.add_widget(Text(second, 28, color=INK_SOFT, halign="left"))
        first, second = self.both("kiosk.alt_saving", min=round(alternative.saving_min))
        card.add_widget(Text(first, 44, bold=True, color=GREEN, halign="left"))
        card.add_widget(Text(second, 30, color=GREEN, halign="left"))
        card.add_widget(spacer(6))
        first, second = self.both("kiosk.go_there")
        card.add_widget(self.target(f"go:{index}", button(first, second, lambda: self.app.go_there(alternative),
                                                          height=140, kind="green", size=46)))
        return card


# ---- a later slot instead of the queue ------------------------------------------------------------

class LaterScreen(KioskScreen):
    """Before the number, to a walk-in whose wait is over the target: a slot later today, to come back for,
    booked with one touch; or the number all the same."""

    def render(self, offer) -> None:
        self.reset()
        self.offer = offer
        self.body.spacing = px(24)
        self.service_head(offer.service_name)
        self.add(notice([self.both("kiosk.later_title", wait=offer.wait_min),
                         self.both("kiosk.later_note", time=offer.time)], "info", 42))
        self.add(spacer())
        first, second = self.both("kiosk.later_book", time=offer.time)
        self.add(self.target("book", button(first, second, lambda: self.app.book_later(offer), height=180,
                                            kind="green", size=56)))
        first, second = self.both("kiosk.later_queue")
        self.add(self.target("queue", button(first, second, self.app.take_number_anyway, height=160, kind="grey",
                                             size=48)))


# ---- a service nobody serves here now ------------------------------------------------------------

class UnservedScreen(KioskScreen):
    """Before any number: no open counter here serves the service; the branches that do, one touch
    each; taking a number here anyway (it waits for a counter to open) is one touch too."""

    MAX_SHOWN = 3

    def render(self, unserved) -> None:
        self.reset()
        self.unserved = unserved
        self.body.spacing = px(20)
        self.service_head(unserved.service_name)
        self.add(notice([self.both("kiosk.unserved_title"), self.both("kiosk.unserved_here")], "warn", 42))
        if unserved.alternatives:
            first, second = self.both("kiosk.unserved_elsewhere")
            self.add(spacer(6), Text(first, 42, bold=True), Text(second, 30, color=INK_SOFT))
            for index, alternative in enumerate(unserved.alternatives[:self.MAX_SHOWN]):
                self.add(self._card(index, alternative))
        else:
            self.add(notice([self.both("kiosk.unserved_nowhere")], "info", 40))
        self.add(spacer())
        first, second = self.both("kiosk.take_here_anyway")
        self.add(self.target("here", button(first, second, self.app.take_here_anyway, height=150, kind="grey",
                                            size=44)))

    def _card(self, index: int, alternative) -> Panel:
        card = Panel(fill=CARD, outline=LINE_C, size_hint_y=None, padding=(px(32), px(24)), spacing=px(10))
        card.bind(minimum_height=card.setter("height"))
        first, second = self.app.name_pair(alternative.name)
        card.add_widget(Text(first, 44, bold=True, halign="left"))
        card.add_widget(Text(second, 30, color=INK_SOFT, halign="left"))
        first, second = self.both("kiosk.alt_facts", km=float(alternative.distance_km),
                                  travel=round(alternative.travel_min), wait=round(alternative.wait_min))
        card.add_widget(Text(first, 38, halign="left"))
        card.add_widget(Text(second, 28, color=INK_SOFT, halign="left"))
        card.add_widget(spacer(6))
        first, second = self.both("kiosk.take_there")
        card.add_widget(self.target(f"go:{index}", button(first, second, lambda: self.app.take_elsewhere(alternative),
                                                          height=140, kind="green", size=44)))
        return card


# ---- rating -----------------------------------------------------------------------------------

class KeypadScreen(KioskScreen):
    """A screen of big keys; each touch goes to self._press(name)."""

    def _key(self, name: str, label: str, size: float = 72, kind: str = "white",
             under: tuple[str, str] | None = None) -> Tap:
        fill, down = (CARD, CARD_DOWN) if kind == "white" else (rgb("#E2E8F0"), rgb("#C3CCD8"))
        key = Tap(on_tap=lambda: self._press(name), fill=fill, down=down, outline=LINE_C)
        key.add_widget(spacer())
        key.add_widget(Text(label, size, bold=True, markup=True))
        if under:
            key.add_widget(Text(under[0], 28, bold=True, color=INK_SOFT))
        key.add_widget(spacer())
        return self.target(f"key:{name}", key)

    def _press(self, name: str) -> None:
        raise NotImplementedError

    def _code_head(self, code: str, problem: tuple[str, str] | None, title: str, prompt: str, shown: Text,
                   height: float) -> None:
        """What a screen that types one code shows above its keys: back, the title and what to type, the code
        typed so far (in `shown`, on a panel `height` tall), the complaint about it if any."""
        self.reset()
        self.code = code
        self.body.spacing = px(18)
        self.add(self.back_row(self.app.home))
        self.add(*self.heading(title, 60))
        first, second = self.both(prompt)
        self.add(Text(first, 40), Text(second, 28, color=INK_SOFT))
        panel = Panel(fill=CARD, outline=BLUE, line_width=5, size_hint_y=None, height=px(height))
        self.shown = shown
        panel.add_widget(shown)
        self.add(panel)
        self.problem = notice([problem], "warn", 36) if problem else None
        if self.problem:
            self.add(self.problem)

    def _type(self, name: str, most: int, empty: str) -> None:
        """A key of a screen that types one code: delete its last character, or add one while under `most`;
        `empty` is shown while nothing is typed."""
        self._clear_problem()
        if name == "delete":
            self.code = self.code[:-1]
        elif len(self.code) < most:
            self.code += name
        self.shown.text = self.code or empty

    def _clear_problem(self) -> None:
        """A key touched: the complaint on screen was about what is being changed now."""
        if self.problem is not None:
            self.body.remove_widget(self.problem)
            self.problem = None

    def _code_keys(self, rows: tuple[str, ...], go: Tap) -> BoxLayout:
        """Big keys in alphabetical rows (many users have never used a QWERTY keyboard), then delete and go."""
        keys = BoxLayout(orientation="vertical", spacing=px(14))
        for row in rows:
            line = BoxLayout(spacing=px(14))
            for char in row:
                # The dash says its name too: "-" alone is easy to miss on a key.
                under = self.both("kiosk.key_dash") if char == "-" else None
                key = self._key(char, "–" if char == "-" else char, 80 if char == "-" else 62, under=under)
                if char == "-":
                    key.size_hint_x = 2          # room for its name under it
                line.add_widget(key)
            keys.add_widget(line)
        last = BoxLayout(spacing=px(14), size_hint_y=1.15)
        last.add_widget(self._key("delete", two_sizes(*self.both("kiosk.key_delete"), 44, 0.6), size=44, kind="grey"))
        go.size_hint_y = 1
        last.add_widget(go)
        keys.add_widget(last)
        return keys

    def _number_keys(self, go: Tap) -> BoxLayout:
        """The keys of a ticket number: the service letters (self.letters), the digits, delete, then go."""
        keys = BoxLayout(orientation="vertical", spacing=px(16))
        self.letters = BoxLayout(spacing=px(16))
        for letter in sorted({s.letter for s in self.app.kiosk.services()}):
            self.letters.add_widget(self._key(letter, letter))
        keys.add_widget(self.letters)
        for row in ("123", "456", "789"):
            line = BoxLayout(spacing=px(16))
            for digit in row:
                line.add_widget(self._key(digit, digit))
            keys.add_widget(line)
        last = BoxLayout(spacing=px(16))
        last.add_widget(self._key("delete", two_sizes(*self.both("kiosk.key_delete"), 44, 0.6), size=44,
                                  kind="grey"))
        last.add_widget(self._key("0", "0"))
        last.add_widget(go)
        go.size_hint_y = 1
        keys.add_widget(last)
        return keys


class RateNumberScreen(KeypadScreen):
    """The number on a ticket (e.g. B007) and its rating code side by side, typed on one keypad of
    digits and the service letters. The number is on the wall display for all to see; the code is
    printed on the ticket alone, so together they are the holder's."""

    def render(self, number: str = "", code: str = "", problem: tuple[str, str] | None = None,
               field: str | None = None) -> None:
        self.reset()
        self.number, self.code = number, code
        self.add(self.back_row(self.app.home))
        self.add(*self.heading("kiosk.rate_title", 62))
        first, second = self.both("kiosk.rate_type_number")
        self.add(Text(first, 40), Text(second, 28, color=INK_SOFT))
        row = BoxLayout(size_hint_y=None, height=px(230), spacing=px(16))
        self.fields = {"number": self._field("number", "kiosk.rate_number_label", 0.55),
                       "code": self._field("code", "kiosk.rate_code_label", 0.45)}
        for box in self.fields.values():
            row.add_widget(box)
        self.add(row)
        self.problem = notice([problem], "warn", 38) if problem else None
        if self.problem:
            self.add(self.problem)
        self.add(self._keys())
        self._focus(field or ("code" if whole_number(number) else "number"))

    def _field(self, name: str, key: str, share: float) -> Tap:
        box = Tap(on_tap=lambda: self._focus(name), size_hint_x=share, padding=(px(12), px(16)), spacing=px(4))
        box.add_widget(Text(two_sizes(*self.both(key), 30, 0.75), 30, bold=True, color=INK_SOFT, markup=True))
        box.value = Text("", 110, bold=True, size_hint_y=1)
        box.add_widget(box.value)
        return self.target(f"field:{name}", box)

    def _keys(self) -> BoxLayout:
        first, second = self.both("kiosk.next")
        return self._number_keys(self.target("next", button(first, second, self._next, height=150, kind="green",
                                                            size=44)))

    def _focus(self, name: str) -> None:
        """Keys type into this field: outlined in blue; a code has no letters, so they fade."""
        self.field = name
        for other, box in self.fields.items():
            box.restyle(CARD, CARD_DOWN, BLUE if other == name else LINE_C)
            box._outline.width = px(7 if other == name else 3)
        self.letters.opacity = 0.35 if name == "code" else 1
        self._show()

    def _show(self) -> None:
        self.fields["number"].value.text = self.number or "–"
        # Dots for the digits still to come: the citizen sees how many the code has.
        self.fields["code"].value.text = self.code + "·" * (RATING_CODE_DIGITS - len(self.code))

    def _press(self, name: str) -> None:
        self._clear_problem()
        if name == "delete":
            if self.field == "code" and not self.code:
                self._focus("number")            # deleting on from an empty code goes back into the number
            if self.field == "code":
                self.code = self.code[:-1]
            else:
                self.number = self.number[:-1]
        elif self.field == "code":
            if name.isdigit() and len(self.code) < RATING_CODE_DIGITS:
                self.code += name
        elif len(self.number) < MAX_NUMBER_LEN:
            self.number += name
            if whole_number(self.number):
                self._focus("code")              # a whole number typed: the code comes next
        self._show()

    def _next(self) -> None:
        if not self.number:
            self._focus("number")
        elif len(self.code) < RATING_CODE_DIGITS:
            self.render(self.number, self.code, self.both("kiosk.rate_code_missing", digits=RATING_CODE_DIGITS), "code")
        else:
            self.app.rate_number_typed(self.number, self.code)


def whole_number(number: str) -> bool:
    """A ticket number as printed: the service's letters, then three digits (B007)."""
    letters = number.rstrip("0123456789")
    return bool(letters) and letters.isalpha() and len(number) - len(letters) == 3


class RateScoreScreen(KioskScreen):
    """Four faces and optional reason chips for one ticket number."""

    def render(self, number: str, code: str, reasons: list[str]) -> None:
        self.reset()
        self.number, self.code, self.score, self.chosen = number, code, None, []
        self.add(self.back_row(self.app.start_rating))
        self.add(*self.heading("kiosk.rate_question", 56, number=number))
        faces = BoxLayout(size_hint_y=None, height=px(330), spacing=px(16))
        self.face_cards = {}
        for score in SCORES:
            faces.add_widget(self._face(score))
        self.add(faces)
        first, second = self.both("kiosk.rate_why")
        self.add(spacer(6), Text(first, 40, bold=True), Text(second, 28, color=INK_SOFT))
        chips = GridLayout(cols=2, spacing=px(16), size_hint_y=None)
        chips.bind(minimum_height=chips.setter("height"))
        self.chips = {}
        for reason in reasons:
            chips.add_widget(self._chip(reason))
        self.add(chips)
        self.hint = Text("", 38, bold=True, color=WARN_INK, markup=True)
        self.add(self.hint, spacer())
        first, second = self.both("kiosk.send")
        self.add(self.target("send", button(first, second, self._send, height=160, kind="green")))

    def _face(self, score: int) -> Tap:
        card = Tap(on_tap=lambda: self._pick(score), padding=(px(8), px(16)), spacing=px(8))
        card.add_widget(Face(score))
        first, second = self.both(f"kiosk.score.{score}")
        card.add_widget(Text(first, 32, bold=True))
        card.add_widget(Text(second, 24, color=INK_SOFT))
        self.face_cards[score] = card
        return self.target(f"face:{score}", card)

    def _chip(self, reason: str) -> Tap:
        chip = Tap(on_tap=lambda: self._toggle(reason), size_hint_y=None, height=px(130), padding=(px(16), px(8)))
        first, second = self.both(f"rating.reasons.{reason}")
        chip.words = [Text(first, 36, bold=True), Text(second, 24, color=INK_SOFT)]
        chip.add_widget(spacer())
        for word in chip.words:
            chip.add_widget(word)
        chip.add_widget(spacer())
        self.chips[reason] = chip
        return self.target(f"reason:{reason}", chip)

    def _pick(self, score: int) -> None:
        self.score = score
        self.hint.text = ""
        for value, card in self.face_cards.items():
            if value == score:
                card.restyle(rgb("#DCE8F7"), rgb("#C5D8F0"), SELECTED)
                card._outline.width = px(8)
            else:
                card.restyle(CARD, CARD_DOWN, LINE_C)
                card._outline.width = px(3)

    def _toggle(self, reason: str) -> None:
        chip = self.chips[reason]
        on = reason not in self.chosen
        if on:
            self.chosen.append(reason)
        else:
            self.chosen.remove(reason)
        chip.restyle(BLUE if on else CARD, BLUE_DOWN if on else CARD_DOWN, BLUE if on else LINE_C)
        chip.words[0].color = WHITE if on else INK
        chip.words[1].color = rgb("#DCE7F5") if on else INK_SOFT

    def _send(self) -> None:
        if self.score is None:
            self.hint.text = two_sizes(*self.both("kiosk.pick_score"), 38)
            return
        self.app.send_rating(self.number, self.code, self.score, list(self.chosen))


# ---- searching by name -------------------------------------------------------------------------

SEARCH_KEYS = ("ABCDĐEFG", "HIJKLMNO", "PQRSTUVW")
MAX_SEARCH_LEN = 40


class SearchScreen(KeypadScreen):
    """A few letters of what the citizen came for ("khai sinh", accents not needed) on large keys in
    alphabetical order; the services that match, or take a procedure that does, as large cards."""

    def render(self, typed: str = "") -> None:
        self.reset()
        self.typed = typed
        self.body.spacing = px(18)
        self.add(self.back_row(self.app.home))
        first, second = self.both("kiosk.search_title")
        titles = [Text(first, 52, bold=True), Text(second, 34, color=INK_SOFT)]
        self.add(*titles)
        shown = Panel(fill=CARD, outline=BLUE, line_width=5, size_hint_y=None, height=px(130))
        self.shown = Text(typed, 64, bold=True, size_hint_y=1)
        shown.add_widget(self.shown)
        self.add(shown)
        room = Window.height - px(80 + 120 + 130 + 560 + 18 * 5 + 4) - height_of(titles, Window.width - px(96))
        self.results = BoxLayout(orientation="vertical", spacing=px(LIST_GAP), size_hint_y=None, height=room)
        self.add(self.results)
        self.add(self._keys())
        self._show()

    def _show(self) -> None:
        self.shown.text = self.typed
        self.results.clear_widgets()
        for name in [n for n in self.targets if n.startswith("result:")]:
            del self.targets[name]
        width = Window.width - px(96)
        if not self.typed.strip():
            first, second = self.both("kiosk.search_hint")
            self.results.add_widget(Text(first, 40, color=INK_SOFT))
            self.results.add_widget(Text(second, 30, color=INK_SOFT))
            self.results.add_widget(Widget())
            return
        found = self.app.kiosk.search(self.typed)
        if not found:
            self.results.add_widget(notice([self.both("kiosk.search_none")], "warn", 40))
            self.results.add_widget(Widget())
            return
        first, second = self.both("kiosk.search_more", count=len(found))
        more = Text(two_sizes(first, second, 34), 34, color=INK_SOFT, markup=True)
        room = self.results.height - height_of([more], width) - px(LIST_GAP)
        words_w = width - px(2 * CARD_PAD[0] + BADGE_W + CARD_GAP)
        used, shown = 0.0, 0
        for match in found:
            texts = self._texts(match)
            height = max(px(MIN_CARD_H), height_of(texts, words_w) + 2 * px(CARD_PAD[1]))
            step = height + (px(LIST_GAP) if shown else 0)
            if used + step > room:
                break
            card = service_card(match.service, shown, texts, height,
                                lambda service=match.service: self.app.choose_service(service))
            self.results.add_widget(self.target(f"result:{match.service.id}", card))
            used, shown = used + step, shown + 1
        if shown < len(found):
            first, second = self.both("kiosk.search_more", count=len(found) - shown)
            more.text = two_sizes(first, second, 34)
            self.results.add_widget(more)
        self.results.add_widget(Widget())

    def _texts(self, match) -> list[Text]:
        first, second = self.app.name_pair(match.service.name)
        texts = [Text(first, NAME_SIZE, bold=True, halign="left")]
        # Why it was found: the procedure typed, else the description (or the other language's name).
        line = self.app.name_pair(match.service.line)[0]
        if match.procedure:
            texts.append(Text(self.app.name_pair(match.procedure)[0], OTHER_SIZE, bold=True, color=BLUE, halign="left"))
        elif line or second:
            texts.append(Text(line or second, OTHER_SIZE, color=INK_SOFT, halign="left"))
        return texts

    def _keys(self) -> BoxLayout:
        keys = BoxLayout(orientation="vertical", spacing=px(14), size_hint_y=None, height=px(560))
        for row in SEARCH_KEYS:
            line = BoxLayout(spacing=px(14))
            for char in row:
                line.add_widget(self._key(char, char, 56))
            keys.add_widget(line)
        last = BoxLayout(spacing=px(14))
        for char in "XYZ":
            last.add_widget(self._key(char, char, 56))
        space = self._key("space", self.both("kiosk.key_space")[0], 40)
        space.size_hint_x = 3
        last.add_widget(space)
        delete = self._key("delete", self.both("kiosk.key_delete")[0], 40, "grey")
        delete.size_hint_x = 2
        last.add_widget(delete)
        keys.add_widget(last)
        return keys

    def _press(self, name: str) -> None:
        if name == "delete":
            self.typed = self.typed[:-1]
        elif len(self.typed) < MAX_SEARCH_LEN:
            self.typed += " " if name == "space" else name
        self._show()


# ---- checking in --------------------------------------------------------------------------------

class CheckInScreen(KeypadScreen):
    """Check in with what the citizen holds: an appointment's code or the ID number it was booked with, or the
    number of a ticket taken from a phone; every letter and digit, in alphabetical rows."""

    def render(self, code: str = "", problem: tuple[str, str] | None = None) -> None:
        self._code_head(code, problem, "kiosk.checkin_title", "kiosk.checkin_type",
                        Text(code or "–", 96, bold=True, size_hint_y=1), 170)
        self.add(self._keys())

    def _keys(self) -> BoxLayout:
        first, second = self.both("kiosk.checkin_go")
        return self._code_keys(CHECK_IN_KEYS, self.target("go", button(first, second, self._go, kind="green", size=48)))

    def _press(self, name: str) -> None:
        self._type(name, MAX_CHECK_IN_LEN, "–")

    def _go(self) -> None:
        self.app.check_in_typed(self.code)


# ---- looking up a dossier ----------------------------------------------------------------------

class LookupCodeScreen(KeypadScreen):
    """Large keys for a dossier code (letters, digits, dash), in alphabetical order: many users have
    never used a QWERTY keyboard."""

    def render(self, code: str = "", problem: tuple[str, str] | None = None) -> None:
        # Empty when nothing is typed: a placeholder dash would read as the code's own dash.
        self._code_head(code, problem, "kiosk.lookup_title", "kiosk.lookup_type_code",
                        Text(code, 76, bold=True, size_hint_y=1), 170)
        if not self.problem:
            first, second = self.both("kiosk.lookup_example")
            self.example = Text(two_sizes(first, second, 32), 32, color=INK_SOFT, markup=True)
            self.add(self.example)
        self.add(self._keys())

    def _keys(self) -> BoxLayout:
        first, second = self.both("kiosk.lookup_go")
        return self._code_keys(CODE_KEYS, self.target("go", button(first, second, self._go, kind="green", size=48)))

    def _press(self, name: str) -> None:
        self._type(name, MAX_CODE_LEN, "")

    def _go(self) -> None:
        if self.code:
            self.app.lookup_typed(self.code)


class LookupResultScreen(KioskScreen):
    """A dossier's public view: status now, due date, where to collect, the steps so far."""

    MAX_STEPS = 5

    def render(self, found) -> None:
        self.reset()
        self.found = found
        self.body.spacing = px(14)
        self.add(self.back_row(self.app.start_lookup))
        self.add(Text(found.code, 60, bold=True))
        first, second = self.app.name_pair(found.procedure)
        self.add(Text(first, 44, bold=True), Text(second, 30, color=INK_SOFT))
        kind = "warn" if found.overdue or found.status in ("supplement_requested", "rejected") else (
            "ok" if found.status in ("result_ready", "returned") else "info")
        lines = [self.both("kiosk.lookup_status_now"), self.both(f"dossier.status.{found.status}")]
        status = notice([], kind, 40)
        first, second = lines[0]
        status.add_widget(Text(two_sizes(first, second, 32), 32, color=INK_SOFT, markup=True))
        first, second = lines[1]
        status.add_widget(Text(first, 58, bold=True))
        status.add_widget(Text(second, 36, color=INK_SOFT))
        self.add(self.target("status", status))
        first, second = self.both("kiosk.lookup_due", date=found.due_date)
        self.add(spacer(4), Text(first, 46, bold=True), Text(second, 30, color=INK_SOFT))
        if found.overdue:
            self.add(notice([self.both("kiosk.lookup_overdue")], "warn", 36))
        first, second = self.app.name_pair(found.return_branch)
        where = self.both("kiosk.lookup_return_at", branch=first)
        self.add(Text(where[0], 36), Text(self.both("kiosk.lookup_return_at", branch=second or first)[1], 26,
                                          color=INK_SOFT))
        first, second = self.both("kiosk.lookup_history")
        self.add(spacer(16), Text(two_sizes(first, second, 40), 40, bold=True, markup=True, halign="left"))
        self.add(self._timeline(found.history))
        self.add(spacer())
        row = BoxLayout(size_hint_y=None, height=px(140), spacing=px(20))
        if found.status == "returned":   # the result handed back: the citizen may evaluate the dossier
            first, second = self.both("evaluation.start")
            row.add_widget(self.target("evaluate", button(first, second, lambda: self.app.start_evaluation(found),
                                                          height=140, kind="green", size=40)))
        else:
            first, second = self.both("kiosk.lookup_another")
            row.add_widget(self.target("another", button(first, second, self.app.start_lookup, height=140, size=40)))
        first, second = self.both("kiosk.home")
        row.add_widget(self.target("home", button(first, second, self.app.done, height=140, kind="grey", size=40)))
        self.add(row)

    def _timeline(self, steps: list) -> BoxLayout:
        """Newest first: the step that matters is at the top; earlier ones follow down the line (the
        newest MAX_STEPS: a dossier sent back for supplements many times must not push the buttons off)."""
        box = BoxLayout(orientation="vertical", size_hint_y=None)
        box.bind(minimum_height=box.setter("height"))
        shown = list(reversed(steps))[:self.MAX_STEPS]
        for index, step in enumerate(shown):
            row = BoxLayout(size_hint_y=None, height=px(118), spacing=px(20))
            row.add_widget(TimelineMark(index == 0, index == 0, index == len(shown) - 1, size_hint_x=None,
                                        width=px(60)))
            words = BoxLayout(orientation="vertical")
            first, second = self.both(f"dossier.status.{step.status}")
            words.add_widget(Text(two_sizes(first, second, 44, 0.68), 44, bold=index == 0, markup=True,
                                  halign="left"))
            words.add_widget(Text(step.day, 32, color=INK_SOFT, halign="left"))
            words.add_widget(spacer())
            row.add_widget(words)
            box.add_widget(row)
        return box


# ---- message ----------------------------------------------------------------------------------

class MessageScreen(KioskScreen):
    """Calm full-screen text: server unreachable (with a countdown), refusals, thanks."""

    def render(self, title: str, body: str | None = None, picture: str | None = None, countdown: bool = False,
               home_button: bool = False, **values) -> None:
        self.reset()
        self.add(spacer())
        if picture == "spinner":
            spinner = Spinner(size_hint_y=None, height=px(200))
            self.add(spinner, spacer(30))
            spinner.start()
        elif picture == "thanks":
            self.add(Face(4, size_hint_y=None, height=px(300)), spacer(30))
        self.add(*self.heading(title, 64, **values))
        if body:
            first, second = self.both(body, **values)
            self.add(spacer(20), Text(first, 42), Text(second, 30, color=INK_SOFT))
        self.countdown = Text("", 44, bold=True, color=BLUE)
        self.countdown_en = Text("", 30, color=INK_SOFT)
        if countdown:
            self.add(spacer(30), self.countdown, self.countdown_en)
        self.add(spacer())
        first, second = self.both("kiosk.ask_staff")
        self.add(Text(first, 36, color=INK_SOFT), Text(second, 26, color=INK_SOFT))
        if home_button:
            first, second = self.both("kiosk.home")
            self.add(spacer(20), self.target("home", button(first, second, self.app.done, height=150, kind="grey")))

    def show_countdown(self, seconds: int | None) -> None:
        """Seconds until the next try, or None while trying."""
        if seconds is None:
            first, second = self.both("kiosk.retrying")
        else:
            first, second = self.both("kiosk.retry_in", seconds=seconds)
        self.countdown.text, self.countdown_en.text = first, second


SCREENS = {"home": HomeScreen, "field": FieldScreen, "search": SearchScreen, "priority": PriorityScreen, "waiting": WaitingScreen, "ticket": TicketScreen,
           "better": BetterScreen, "unserved": UnservedScreen, "rate_number": RateNumberScreen, "rate_score": RateScoreScreen,
           "check_in": CheckInScreen, "lookup_code": LookupCodeScreen, "lookup_result": LookupResultScreen,
           "message": MessageScreen, "later": LaterScreen}
