"""`motcua kiosk`: the portrait touchscreen that issues tickets (Kivy).

Kivy reads its Config when its window module is first imported, so this module imports no
Kivy at the top: configure_kivy() runs first, then the UI modules are imported.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os

from motcua.kiosk.settings import KioskSettings

WINDOWED_SIZE = (540, 960)   # half of 1080 × 1920, for trying the kiosk on a desktop


def configure_kivy(settings: KioskSettings) -> None:
    """Kiosk window: fullscreen, no cursor, no screensaver, Escape does not quit, one touch at a time."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")          # argv belongs to the motcua CLI
    os.environ.setdefault("KIVY_NO_FILELOG", "1")       # no log files piling up in ~/.kivy
    from kivy.config import Config

    if settings.fullscreen:
        Config.set("graphics", "fullscreen", "auto")    # the screen's own resolution
        Config.set("graphics", "borderless", "1")
        Config.set("graphics", "show_cursor", "0")
        # Without a window manager (X started straight into the kiosk, or Xvfb) nobody makes the
        # window fullscreen and it stays 800 × 600: open it at the screen's size, top left.
        size = desktop_size()
        if size:
            Config.set("graphics", "width", str(size[0]))
            Config.set("graphics", "height", str(size[1]))
            Config.set("graphics", "position", "custom")
            Config.set("graphics", "left", "0")
            Config.set("graphics", "top", "0")
    else:
        Config.set("graphics", "fullscreen", "0")
        Config.set("graphics", "width", str(WINDOWED_SIZE[0]))
        Config.set("graphics", "height", str(WINDOWED_SIZE[1]))
    Config.set("graphics", "allow_screensaver", "0")
    Config.set("graphics", "resizable", "0")
    Config.set("kivy", "exit_on_escape", "0")
    # A mouse-emulated second finger would draw red dots and confuse taps on a touchscreen.
    Config.set("input", "mouse", "mouse,disable_multitouch")


class _DisplayMode(ctypes.Structure):
    _fields_ = [("format", ctypes.c_uint32), ("w", ctypes.c_int), ("h", ctypes.c_int),
                ("refresh_rate", ctypes.c_int), ("driverdata", ctypes.c_void_p)]


def desktop_size() -> tuple[int, int] | None:
    """The screen's size, asked of the SDL2 library Kivy itself uses; None if it cannot tell."""
    import kivy

    site = os.path.dirname(os.path.dirname(kivy.__file__))
    found = sorted(glob.glob(os.path.join(site, "Kivy.libs", "libSDL2-*.so*"))) or [ctypes.util.find_library("SDL2")]
    try:
        sdl = ctypes.CDLL(found[0])
        if sdl.SDL_InitSubSystem(0x20) != 0:          # SDL_INIT_VIDEO
            return None
        try:
            mode = _DisplayMode()
            if sdl.SDL_GetDesktopDisplayMode(0, ctypes.byref(mode)) == 0 and mode.w > 0 and mode.h > 0:
                return mode.w, mode.h
        finally:
            sdl.SDL_QuitSubSystem(0x20)
    except (OSError, AttributeError, TypeError):         # no SDL2 library where expected
        return None
    return None


def build_app(settings: KioskSettings, kiosk=None):
    """The app, not yet running (the test driver starts it itself); kiosk defaults to the real one."""
    configure_kivy(settings)
    from motcua.kiosk.flow import Kiosk
    from motcua.kiosk.ui_app import KioskApp

    return KioskApp(kiosk if kiosk is not None else Kiosk(settings), settings)


def run_kiosk(settings: KioskSettings) -> int:
    """Run until the window closes; the exit status for the CLI."""
    build_app(settings).run()
    return 0
