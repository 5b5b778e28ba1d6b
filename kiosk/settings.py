"""The kiosk's settings: the [kiosk] section of config.toml, as motcua.config defines it."""
from __future__ import annotations

import dataclasses

from motcua.config import Kiosk as KioskSettings
from motcua.config import load_config

__all__ = ["KioskSettings", "load_kiosk_settings"]


def load_kiosk_settings(config_path, **overrides) -> KioskSettings:
    """The [kiosk] section of the file, with overrides such as fullscreen=False (None: not given)."""
    settings = load_config(config_path, kiosk=overrides).kiosk
    if not settings.branch or not settings.token:
        raise ValueError("the kiosk needs [kiosk] branch and token in its config")
    return dataclasses.replace(settings, server_url=settings.server_url.rstrip("/"))
