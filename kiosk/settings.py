"""The kiosk's settings: the [kiosk] section of config.toml."""
from __future__ import annotations

from dataclasses import dataclass

from ..config import load_config


@dataclass(frozen=True)
class KioskSettings:
    server_url: str
    branch: str
    token: str
    printer: str = ""          # pyserial URL; "" = no printer fitted
    language: str = "vi"
    fullscreen: bool = True
    idle_s: float = 30.0
    paper: str = "80mm"
    printer_text: str = "raster"   # or "cp1258": a fiftieth of the bytes, for slow serial lines
    printer_code_page: int = 52


def load_kiosk_settings(config_path: str | None, **overrides) -> KioskSettings:
    config = load_config(config_path)
    settings = KioskSettings(config.kiosk_server_url.rstrip("/"), config.kiosk_branch, config.kiosk_token,
                             config.kiosk_printer, config.kiosk_language, config.kiosk_fullscreen,
                             config.kiosk_idle_s, config.kiosk_paper, config.kiosk_printer_text,
                             config.kiosk_printer_code_page)
    settings = KioskSettings(**{**settings.__dict__, **{k: v for k, v in overrides.items() if v is not None}})
    if not settings.branch or not settings.token:
        raise ValueError("the kiosk needs [kiosk] branch and token in its config")
    return settings
