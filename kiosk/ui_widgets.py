"""Kivy building blocks of the kiosk: wrapped text, big touch cards, drawn pictures, the QR code.

Import only after motcua.kiosk.app.configure_kivy() (Kivy reads its Config when the window opens).
Sizes are given for a 1080 × 1920 portrait screen and scaled with px() to the real window.
"""
from __future__ import annotations

import math

from kivy.clock import Clock
from kivy.graphics import Color, Ellipse, Line, Mesh, Rectangle, RoundedRectangle
from kivy.graphics.texture import Texture
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.utils import escape_markup
from kivy.uix.widget import Widget

from motcua.hardware.qr import qr_matrix
from motcua.kiosk.flow import nfc

DESIGN_W, DESIGN_H = 1080, 1920
_scale = 1.0


def set_scale(width: int, height: int) -> None:
    """Fit the 1080 × 1920 design into the window (768 × 1366 gives 0.71)."""
    global _scale
    _scale = min(width / DESIGN_W, height / DESIGN_H)


def px(value: float) -> float:
    return value * _scale


def rgb(hex_colour: str, alpha: float = 1.0) -> tuple:
    value = hex_colour.lstrip("#")
    return tuple(int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)) + (alpha,)


# High contrast: near-black on near-white, white on deep colours (all ≥ 7:1 except the
# secondary grey, which is still ≥ 7:1 on the page colour).
PAGE = rgb("#F4F6F9")
CARD = rgb("#FFFFFF")
CARD_DOWN = rgb("#DCE8F7")
LINE_C = rgb("#8A97A8")
INK = rgb("#0F172A")
INK_SOFT = rgb("#334155")
WHITE = rgb("#FFFFFF")
HEADER = rgb("#9F1C1C")
BLUE = rgb("#0B4A8F")
BLUE_DOWN = rgb("#08335F")
GREEN = rgb("#14612C")
GREEN_DOWN = rgb("#0C431D")
GREY_BTN = rgb("#E2E8F0")
GREY_DOWN = rgb("#C3CCD8")
WARN_BG = rgb("#FFF1C2")
WARN_LINE = rgb("#A85F00")
WARN_INK = rgb("#4A2A00")
OK_BG = rgb("#DDF3E3")
SELECTED = rgb("#0B4A8F")
# One colour per service letter circle, distinct and dark enough for a white letter.
SERVICE_COLOURS = [rgb(c) for c in ("#0B4A8F", "#14612C", "#9A3F00", "#5B1E8C", "#00615A", "#8E1B3B", "#37474F")]
FACE_COLOURS = {4: rgb("#5DBB63"), 3: rgb("#B5D96A"), 2: rgb("#F4CF4B"), 1: rgb("#EE8B8B")}


def height_of(texts: list, width: float) -> float:
    """How tall these Texts stand one above the other at this width (laid out now, not next frame)."""
    total = 0.0
    for text in texts:
        text.width = width
        text.texture_update()
        total += text.texture_size[1]
    return total


class Text(Label):
    """A label that wraps to its width and is exactly as tall as its text."""

    def __init__(self, text: str = "", size: float = 40, bold: bool = False, color=INK, halign: str = "center",
                 **kwargs):
        kwargs.setdefault("size_hint_y", None)
        super().__init__(text=nfc(text), font_size=px(size), bold=bold, color=color, halign=halign,
                         valign="middle", **kwargs)
        self.bind(width=self._wrap, texture_size=self._fit, text=self._normalise)
        self._wrap()

    def _wrap(self, *_):
        self.text_size = (self.width, None)

    def _fit(self, *_):
        if self.size_hint_y is None:
            self.height = self.texture_size[1]

    def _normalise(self, *_):
        fixed = nfc(self.text)
        if fixed != self.text:
            self.text = fixed


class FitText(Label):
    """One line that takes the height left over and is as large as fits in it, up to `size`:
    the ticket number, which must stay on screen whatever else the ticket screen shows."""

    def __init__(self, text: str, size: float, **kwargs):
        super().__init__(text=nfc(text), bold=True, color=INK, font_size=px(size), **kwargs)
        self.max_size = px(size)
        self.bind(height=self._fit)

    def _fit(self, *_):
        self.font_size = max(px(60), min(self.max_size, self.height * 0.85))


def two_sizes(first: str, second: str, size: float, ratio: float = 0.7) -> str:
    """Markup for one line: the current language, then the other one smaller."""
    return f"{escape_markup(nfc(first))}  [size={round(px(size * ratio))}]{escape_markup(nfc(second))}[/size]"


def spacer(height: float | None = None) -> Widget:
    """Flexible empty space, or a fixed gap of `height` design pixels."""
    if height is None:
        return Widget()
    return Widget(size_hint_y=None, height=px(height))


class Panel(BoxLayout):
    """A vertical box with a rounded coloured background (and an optional outline)."""

    def __init__(self, fill=CARD, outline=None, radius: float = 28, line_width: float = 3, **kwargs):
        kwargs.setdefault("orientation", "vertical")
        super().__init__(**kwargs)
        self._radius, self._line_width = radius, line_width
        with self.canvas.before:
            self.fill_colour = Color(*fill)
            self._bg = RoundedRectangle(radius=[px(radius)])
            self.outline_colour = Color(*(outline or fill))
            self._outline = Line(width=px(line_width))
        self.bind(pos=self._redraw, size=self._redraw)

    def _redraw(self, *_):
        self._bg.pos, self._bg.size = self.pos, self.size
        # Whole pixels: a fractional outline is drawn with a visible one-pixel step.
        inset = round(px(self._line_width) / 2)
        x, y, w, h = (round(v) for v in (self.x, self.y, self.width, self.height))
        self._outline.rounded_rectangle = (x + inset, y + inset, max(w - 2 * inset, 1), max(h - 2 * inset, 1),
                                           round(px(self._radius)))

    def set_colours(self, fill, outline=None) -> None:
        self.fill_colour.rgba = fill
        self.outline_colour.rgba = outline or fill


class Tap(ButtonBehavior, Panel):
    """A big touch card: darker while pressed; on_tap() runs when the finger lifts."""

    def __init__(self, on_tap=None, fill=CARD, down=CARD_DOWN, outline=LINE_C, **kwargs):
        super().__init__(fill=fill, outline=outline, **kwargs)
        self._fill, self._down, self._line = fill, down, outline
        self.bind(state=self._pressed)
        if on_tap:
            self.bind(on_release=lambda *_: on_tap())

    def _pressed(self, *_):
        self.fill_colour.rgba = self._down if self.state == "down" else self._fill

    def restyle(self, fill, down, outline=None) -> None:
        self._fill, self._down, self._line = fill, down, outline or fill
        self.set_colours(fill, self._line)


def button(primary: str, secondary: str = "", on_tap=None, height: float = 150, kind: str = "blue",
           size: float = 48, secondary_size: float | None = None) -> Tap:
    """A full-width button: the current language large, the other smaller below it (0.62 of it unless given)."""
    fill, down, ink, ink2 = {
        "blue": (BLUE, BLUE_DOWN, WHITE, rgb("#DCE7F5")),
        "green": (GREEN, GREEN_DOWN, WHITE, rgb("#DDF0E2")),
        "grey": (GREY_BTN, GREY_DOWN, INK, INK_SOFT),
        "white": (CARD, CARD_DOWN, INK, INK_SOFT),
    }[kind]
    tap = Tap(on_tap=on_tap, fill=fill, down=down, outline=LINE_C if kind in ("grey", "white") else fill,
              size_hint_y=None, height=px(height), padding=(px(20), px(8)))
    tap.add_widget(spacer())
    tap.add_widget(Text(primary, size, bold=True, color=ink))
    if secondary:
        tap.add_widget(Text(secondary, secondary_size or size * 0.62, color=ink2))
    tap.add_widget(spacer())
    return tap


# ---- drawn pictures ---------------------------------------------------------------------------

class Drawing(Widget):
    """A square picture drawn with lines in unit coordinates (0..1), redrawn on resize."""

    ink = INK

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bind(pos=self.redraw, size=self.redraw)

    margin = 0.9                      # of the square: thick strokes stay inside the widget

    def frame(self) -> tuple[float, float, float]:
        side = min(self.width, self.height) * self.margin
        return self.center_x - side / 2, self.center_y - side / 2, side

    def pt(self, x: float, y: float) -> tuple[float, float]:
        left, bottom, side = self.frame()
        return left + x * side, bottom + y * side

    def points(self, *coords) -> list[float]:
        out: list[float] = []
        for x, y in zip(coords[::2], coords[1::2]):
            out += self.pt(x, y)
        return out

    def stroke(self, *coords, width: float = 0.045) -> None:
        Line(points=self.points(*coords), width=self.frame()[2] * width, cap="round", joint="round")

    def dot(self, x: float, y: float, r: float) -> None:
        side = self.frame()[2]
        cx, cy = self.pt(x, y)
        Ellipse(pos=(cx - r * side, cy - r * side), size=(2 * r * side, 2 * r * side))

    def arc(self, x: float, y: float, r: float, start: float, end: float, width: float = 0.045) -> None:
        """Kivy angles: 0 is straight up, clockwise."""
        side = self.frame()[2]
        cx, cy = self.pt(x, y)
        Line(circle=(cx, cy, r * side, start, end), width=side * width, cap="round")

    def redraw(self, *_):
        self.canvas.clear()
        with self.canvas:
            Color(*self.ink)
            self.draw()

    def draw(self) -> None:
        raise NotImplementedError


class Pictogram(Drawing):
    """The four priority groups as plain stick figures (no font has these glyphs)."""

    def __init__(self, kind: str, **kwargs):
        self.kind = kind
        super().__init__(**kwargs)

    def draw(self) -> None:
        getattr(self, "_" + self.kind)()

    def _elderly(self):
        self.dot(0.40, 0.84, 0.075)
        self.stroke(0.42, 0.74, 0.46, 0.62, 0.48, 0.42)              # back, a little bent
        self.stroke(0.45, 0.64, 0.66, 0.54)                          # arm to the cane
        self.stroke(0.60, 0.60, 0.66, 0.60, 0.69, 0.08)              # cane with its handle
        self.stroke(0.48, 0.42, 0.40, 0.08)
        self.stroke(0.48, 0.42, 0.58, 0.08)

    def _disabled(self):
        self.dot(0.40, 0.86, 0.075)
        self.stroke(0.40, 0.75, 0.40, 0.50, 0.64, 0.50, 0.72, 0.26)  # seated body and leg
        self.stroke(0.40, 0.66, 0.58, 0.62)                          # arm
        self.arc(0.42, 0.32, 0.22, 20, 340)                          # wheel

    def _pregnant(self):
        self.dot(0.46, 0.86, 0.075)
        self.stroke(0.44, 0.75, 0.42, 0.30)                          # back
        self.arc(0.46, 0.52, 0.17, 20, 170)                          # belly
        self.stroke(0.44, 0.40, 0.42, 0.30)
        self.stroke(0.42, 0.30, 0.38, 0.06)
        self.stroke(0.48, 0.34, 0.54, 0.06)
        self.stroke(0.45, 0.70, 0.56, 0.58)                          # arm on the belly

    def _merit(self):
        self.stroke(0.32, 0.92, 0.45, 0.62, width=0.07)             # ribbon
        self.stroke(0.68, 0.92, 0.55, 0.62, width=0.07)
        self.dot(0.5, 0.38, 0.26)                                    # medal
        Color(*WHITE)
        self._star(0.5, 0.38, 0.19, 0.08)

    def _star(self, x, y, outer, inner):
        cx, cy = self.pt(x, y)
        side = self.frame()[2]
        vertices = [cx, cy, 0, 0]
        for i in range(11):
            r = (outer if i % 2 == 0 else inner) * side
            angle = math.pi / 2 + i * math.pi / 5
            vertices += [cx + r * math.cos(angle), cy + r * math.sin(angle), 0, 0]
        Mesh(vertices=vertices, indices=list(range(12)), mode="triangle_fan")


class Arrow(Drawing):
    """A large filled triangle pointing left or right: the page arrows."""

    ink = INK

    def __init__(self, pointing_right: bool, **kwargs):
        self.pointing_right = pointing_right     # not `right`: a Widget's right is its right edge
        super().__init__(**kwargs)

    def draw(self) -> None:
        tip, back = (0.78, 0.28) if self.pointing_right else (0.22, 0.72)
        points = [*self.pt(tip, 0.5), *self.pt(back, 0.12), *self.pt(back, 0.88)]
        Mesh(vertices=[v for x, y in zip(points[::2], points[1::2]) for v in (x, y, 0, 0)], indices=[0, 1, 2],
             mode="triangles")


class Face(Drawing):
    """Score faces 4 (very satisfied) … 1 (not satisfied)."""

    def __init__(self, score: int, **kwargs):
        self.score = score
        super().__init__(**kwargs)

    def redraw(self, *_):
        self.canvas.clear()
        with self.canvas:
            Color(*FACE_COLOURS[self.score])
            self.dot(0.5, 0.5, 0.46)
            Color(*INK)
            self.arc(0.5, 0.5, 0.46, 0, 360, width=0.03)
            self.dot(0.35, 0.62, 0.055)
            self.dot(0.65, 0.62, 0.055)
            mouth = {4: (0.5, 0.42, 0.24, 100, 260), 3: (0.5, 0.44, 0.18, 120, 240),
                     1: (0.5, 0.12, 0.22, -55, 55)}
            if self.score == 2:
                self.stroke(0.33, 0.32, 0.67, 0.32, width=0.04)
            else:
                self.arc(*mouth[self.score], width=0.04)


class LetterBadge(Widget):
    """A service letter in a coloured circle: the picture of a service."""

    def __init__(self, letter: str, colour, **kwargs):
        super().__init__(**kwargs)
        self.label = Label(text=letter, bold=True, color=WHITE)
        self.add_widget(self.label)
        with self.canvas.before:
            Color(*colour)
            self._circle = Ellipse()
        self.bind(pos=self._redraw, size=self._redraw)

    def _redraw(self, *_):
        side = min(self.width, self.height)
        self._circle.pos = (self.center_x - side / 2, self.center_y - side / 2)
        self._circle.size = (side, side)
        self.label.size = (side, side)
        self.label.center = self.center
        self.label.font_size = side * (0.55 if len(self.label.text) < 2 else 0.4)   # AB stays in its circle


class Spinner(Widget):
    """A calm turning arc; turns only while on screen."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.angle = 0.0
        self._event = None
        with self.canvas:
            Color(*rgb("#C9D4E2"))
            self._track = Line(width=px(14))
            Color(*BLUE)
            self._arc = Line(width=px(14), cap="round")
        self.bind(pos=self._redraw, size=self._redraw)

    def start(self) -> None:
        if self._event is None:
            self._event = Clock.schedule_interval(self._turn, 1 / 30)

    def stop(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None

    def _turn(self, dt):
        self.angle = (self.angle + 240 * dt) % 360
        self._redraw()

    def _redraw(self, *_):
        r = min(self.width, self.height) / 2 - px(14)
        self._track.circle = (self.center_x, self.center_y, r)
        self._arc.circle = (self.center_x, self.center_y, r, self.angle, self.angle + 100)


class QrCode(Widget):
    """A QR code drawn as a texture of whole-pixel modules (so phones and zbar read the screen)."""

    def __init__(self, data: str = "", **kwargs):
        super().__init__(**kwargs)
        self._texture = None
        with self.canvas:
            Color(*WHITE)
            self._paper = Rectangle()
            Color(1, 1, 1, 1)
            self._code = Rectangle()
        self.bind(pos=self._redraw, size=self._redraw)
        if data:
            self.set_data(data)

    def set_data(self, data: str) -> None:
        rows = qr_matrix(data, "M", border=4)
        side = len(rows)
        pixels = bytearray()
        for row in reversed(rows):               # a texture's first row is the bottom one
            for dark in row:
                pixels += b"\x00\x00\x00\xff" if dark else b"\xff\xff\xff\xff"
        texture = Texture.create(size=(side, side), colorfmt="rgba")
        texture.blit_buffer(bytes(pixels), colorfmt="rgba", bufferfmt="ubyte")
        texture.mag_filter = texture.min_filter = "nearest"
        self._texture, self._modules = texture, side
        self._code.texture = texture
        self._redraw()

    def _redraw(self, *_):
        side = min(self.width, self.height)
        if self._texture is not None:
            side = max(1, int(side // self._modules)) * self._modules   # whole pixels per module
        x, y = int(self.center_x - side / 2), int(self.center_y - side / 2)
        self._paper.pos = self._code.pos = (x, y)
        self._paper.size = self._code.size = (side, side)


class TimelineMark(Widget):
    """A step of a timeline: a dot on a vertical line; the current step's dot larger and filled."""

    def __init__(self, current: bool, first: bool, last: bool, **kwargs):
        super().__init__(**kwargs)
        self.current, self.first, self.last = current, first, last
        self.bind(pos=self._redraw, size=self._redraw)

    def _redraw(self, *_):
        self.canvas.clear()
        r = px(24) if self.current else px(16)
        cx, cy = self.center_x, self.top - px(34)
        with self.canvas:
            Color(*LINE_C)
            # The line joins this step's dot to the next one below (to the row's bottom), not past the last.
            top = self.top if not self.first else cy
            bottom = cy if self.last else self.y
            Line(points=[cx, top, cx, bottom], width=px(4))
            Color(*(GREEN if self.current else BLUE))
            Ellipse(pos=(cx - r, cy - r), size=(2 * r, 2 * r))
