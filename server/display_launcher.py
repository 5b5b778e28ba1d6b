"""`motcua display`: the wall display full screen on a display PC, in Chromium's kiosk mode.

Kiosk mode hides every browser control; the autoplay flag lets the announcements sound with
nobody there to tap the screen (without it the page shows that sound is blocked and asks for
one tap). A profile of its own keeps the display apart from anyone's browser on the same PC.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess  # nosec B404  # it starts the browser
from pathlib import Path
from urllib.parse import quote

KIOSK_FLAGS = ("--kiosk", "--autoplay-policy=no-user-gesture-required", "--noerrdialogs", "--disable-infobars",
               "--no-first-run", "--disable-sync", "--disable-translate", "--disable-session-crashed-bubble",
               "--check-for-update-interval=31536000")
# The translate bubble would cover the clock: Chromium offers it for a Vietnamese page on an
# English system. The pages also say translate="no"; the flag covers a page that does not.
DISABLED_FEATURES = ("Translate",)


def display_url(config, branch: str, url: str | None = None) -> str:
    base = (url or config.server.public_url or f"http://{_reachable(config.server.host)}:{config.server.port}")
    return f"{base.rstrip('/')}/display/{quote(branch)}"


def _reachable(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # nosec B104  # a bind-all address made one to connect to


def command(config, branch: str, url: str | None, profile: Path, extra: list[str]) -> list[str]:
    browser = shutil.which(config.display.chromium) or config.display.chromium
    # Chromium keeps only the last --disable-features it is given: the operator's join ours.
    disabled = list(DISABLED_FEATURES)
    for arg in extra:
        if arg.startswith("--disable-features="):
            disabled += [f for f in arg.split("=", 1)[1].split(",") if f and f not in disabled]
    others = [arg for arg in extra if not arg.startswith("--disable-features=")]
    # Chromium refuses to start as root with its sandbox on (display PCs set up quickly often
    # run everything as root): there it has to run without it.
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    sandbox = ["--no-sandbox"] if as_root and "--no-sandbox" not in others else []
    return [browser, *KIOSK_FLAGS, f"--disable-features={','.join(disabled)}", *sandbox,
            f"--user-data-dir={profile}", *others, display_url(config, branch, url)]


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
