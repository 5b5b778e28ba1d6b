"""`motcua hw print-receipt`: a dossier's receipt on the counter's ticket printer, through the API.

The counter machine signs in as the officer, fetches `GET /dossiers/{code}/receipt` (what the
server decides: names, the public lookup URL for the QR code) and lays it out here with the
ticket's blocks, as the kiosk does with its tickets, so the printer's settings stay with the
machine it is wired to.

Exit codes as printer_cli: 0 printed, 1 the printer has a problem, 2 a bad printer address,
3 the server refused (unknown or mistyped code, another branch's dossier) or could not be reached.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
from urllib.parse import quote

import requests

from motcua import i18n
from motcua.hardware.printer_cli import print_job
from motcua.hardware.ticket_layout import PAPER_WIDTHS, LayoutSettings
from motcua.receipt import Receipt, receipt_bytes

REFUSED = 3
TIMEOUT_S = 10


class Refused(Exception):
    """The server said no, or did not answer: its message, for the officer."""


def fetch_receipt(server: str, code: str, username: str, password: str) -> dict:
    """The receipt's JSON view, signed in as username; Refused with the server's words otherwise."""
    base = server.rstrip("/") + "/api/v1"
    http = requests.Session()
    try:
        login = http.post(f"{base}/auth/login", json={"username": username, "password": password}, timeout=TIMEOUT_S)
        token = _answer(login)["token"]
        try:
            return _answer(http.get(f"{base}/dossiers/{quote(code, safe='')}/receipt",
                                    headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT_S))
        finally:
            _logout(http, base, token)
    except requests.RequestException as error:
        raise Refused(f"{server}: {error}") from None


def _logout(http: requests.Session, base: str, token: str) -> None:
    """The token was for this one print: end it rather than leave it to expire."""
    # The receipt is in hand: a lost logout only leaves the token to its expiry.
    with contextlib.suppress(requests.RequestException):
        http.post(f"{base}/auth/logout", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT_S)


def _answer(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code >= 400:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        raise Refused(f"{response.status_code} {error.get('code', '')}: {error.get('message', response.reason)}")
    return body


def print_receipt(server: str, code: str, printer_url: str, *, username: str, password: str, lang: str = "vi",
                  paper: str = "80mm", text_mode: str = "raster", qr_mode: str = "native", code_page: int = 52,
                  timeout_s: float = 2.0, out=None) -> int:
    """Fetch the dossier's receipt and print it; say how it went."""
    out = out or sys.stdout
    try:
        settings = LayoutSettings.for_paper(paper, text_mode=text_mode, qr_mode=qr_mode, code_page=code_page)
        found = Receipt.from_view(fetch_receipt(server, code, username, password), lang)
    except Refused as error:
        print(f"print-receipt {code}: {error}", file=out)
        return REFUSED
    except (KeyError, ValueError) as error:
        print(f"print-receipt: {error}", file=out)
        return 2
    job = receipt_bytes(found, settings)
    return print_job(printer_url, settings, timeout_s, lambda printer: printer.print_bytes(job),
                     f"the receipt of {found.code}", out)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments; the password comes from the caller (--password or MOTCUA_PASSWORD)."""
    parser.add_argument("--server", required=True, help="the server's base URL, e.g. http://10.0.0.2:8080")
    parser.add_argument("--code", required=True, help="the dossier code, e.g. HK01-261201-0007K")
    parser.add_argument("--printer", required=True, metavar="URL",
                        help="pyserial URL: /dev/ttyUSB0, socket://HOST:9100, loop://")
    parser.add_argument("--username", required=True, help="the counter officer's account")
    parser.add_argument("--password", help="its password (default: the MOTCUA_PASSWORD environment variable)")
    parser.add_argument("--lang", choices=i18n.LANGUAGES, default=i18n.LANGUAGES[0], help="the citizen's language, printed first")
    parser.add_argument("--paper", choices=tuple(PAPER_WIDTHS), default="80mm")
    parser.add_argument("--text-mode", choices=("raster", "cp1258"), default="raster")
    parser.add_argument("--qr-mode", choices=("native", "raster"), default="native")
    parser.add_argument("--code-page", type=int, default=52)
    parser.add_argument("--timeout", type=float, default=2.0, dest="timeout_s",
                        help="seconds to wait for each status byte (default 2)")
