"""`motcua display`: the wall display full screen on a display PC, in Chromium's kiosk mode.

Kiosk mode hides every browser control; the autoplay flag lets the announcements sound with
nobody there to tap the screen (without it the page shows that sound is blocked and asks for
one tap). A profile of its own keeps the display apart from anyone's browser on the same PC.
"""
from __future__ import annotations

import shutil
import signal
import subprocess  # nosec B404  # it starts the browser
from pathlib import Path
from urllib.parse import quote

KIOSK_FLAGS = ("--kiosk", "--autoplay-policy=no-user-gesture-required", "--noerrdialogs", "--disable-infobars",
               "--no-first-run", "--disable-sync", "--disable-translate", "--disable-session-crashed-bubble",
               "--disable-features=Translate", "--check-for-update-interval=31536000")


def display_url(config, branch: str, url: str | None = None) -> str:
    base = (url or config.server.public_url or f"http://{_reachable(config.server.host)}:{config.server.port}")
    return f"{base.rstrip('/')}/display/{quote(branch)}"


def _reachable(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # nosec B104  # a bind-all address made one to connect to


def command(config, branch: str, url: str | None, profile: Path, extra: list[str]) -> list[str]:
    browser = shutil.which(config.display.chromium) or config.display.chromium
    return [browser, *KIOSK_FLAGS, f"--user-data-dir={profile}", *extra, display_url(config, branch, url)]


def launch(config, branch: str, url: str | None = None, profile: Path | None = None,
           extra: list[str] = ()) -> int:
    """Run the browser until it is closed; its exit status."""
    profile = profile or Path.home() / ".cache" / "motcua" / f"display-{branch}"
    profile.mkdir(parents=True, exist_ok=True)
    args = command(config, branch, url, profile, list(extra))
    if shutil.which(args[0]) is None:
        raise ValueError(f"{config.display.chromium} is not installed (set [display] chromium in config.toml)")
    print("motcua display:", args[-1], flush=True)
    browser = subprocess.Popen(args)  # nosec B603  # no shell; the browser the operator's config.toml names
    # Stopping the command (a service manager's SIGTERM, Ctrl-C) closes the browser with it.
    signal.signal(signal.SIGTERM, lambda *_: browser.terminate())
    try:
        return browser.wait()
    except KeyboardInterrupt:
        browser.terminate()
        return browser.wait()
