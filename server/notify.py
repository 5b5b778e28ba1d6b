"""Telling a citizen about their dossier: the Notifier interface, and the logging one used until an
SMS or Zalo gateway is plugged in."""
from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Protocol

from motcua.i18n import text

log = logging.getLogger("motcua.notify")


class Notifier(Protocol):
    """What a gateway provides; called after the change it reports is committed."""

    def result_ready(self, dossier: dict, phone: str) -> None:
        """The dossier (its public view) has a result waiting at its return branch; phone may be empty."""


def result_ready_message(dossier: dict, place: dict | None, lang: str = "vi") -> str:
    """The words a gateway sends the citizen when the result waits at the return branch.

    place: the return branch as a citizen finds it ({"name": {lang: …}, "address": {lang: …}}); without it
    (a branch since removed), its id."""
    names = (place or {}).get("name") or {}
    name = names.get(lang) or names.get("vi") or dossier["return_branch"]
    addresses = (place or {}).get("address") or {}
    address = addresses.get(lang) or addresses.get("vi")
    where = text(lang, "dossier.notice.place", name=name, address=address) if address else name
    return text(lang, "dossier.notice.result_ready", code=dossier["code"], branch=where)


class LoggingNotifier:
    """Writes each notification to the log: the gateway of a centre with no SMS or Zalo account yet."""

    def __init__(self, place: Callable[[str], dict | None] = lambda branch: None) -> None:
        self.place = place  # a branch's name and address by its id, as result_ready_message takes them
        # The last few, for whoever checks what was sent (tests, a status page); bounded for a server's lifetime.
        self.sent: deque[tuple[dict, str]] = deque(maxlen=100)

    def result_ready(self, dossier: dict, phone: str) -> None:
        self.sent.append((dossier, phone))
        # The phone's last digits only: the log is read by more people than the dossier is.
        log.info("to %s: %s", mask(phone) if phone else "nobody (no phone)",
                 result_ready_message(dossier, self.place(dossier["return_branch"])))


def mask(phone: str) -> str:
    """0912345678 -> ******5678."""
    return "*" * max(len(phone) - 4, 0) + phone[-4:]
