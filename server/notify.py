"""Telling a citizen: the Notifier writes each message into the outbox (motcua.outbox) in the transaction of
the change that causes it, rendered in every language, and wakes the sender once that change is committed."""
from __future__ import annotations

from collections.abc import Callable

from motcua.i18n import text
from motcua.outbox import Message, add

LANGUAGES = ("vi", "en")


class Notifier:
    """One notifier for every message: the dossier's result ready now, later "your turn is near" and reminders.

    A caller adds its message inside its own write (`store.write(fn)`, fn calling `notifier.add(db, …)`), so
    that the message exists exactly when the change does, and calls `wake()` after the commit."""

    def __init__(self, gateway: str, clock, templates: dict[str, str] | None = None,
                 place: Callable[[str], dict | None] = lambda branch: None, sender=None) -> None:
        self.gateway = gateway  # the [notify] gateway's name, recorded with each message
        self.clock = clock
        self.templates = templates or {}  # a template gateway's id by message kind ([notify] zns_templates)
        self.place = place  # a branch's name and address by its id, as result_ready_message takes them
        self.sender = sender  # what wake() wakes (motcua.outbox.Sender); None: messages wait for a sender

    def add(self, db, kind: str, key: str, recipient: str, texts: dict[str, str], params: dict,
            lang: str = "vi") -> bool:
        """In the caller's transaction: a message of kind to recipient under idempotency key (unique: a
        message added twice under one key is sent once); False when the key was there already."""
        message = Message(key, kind, recipient, texts, lang, self.templates.get(kind, ""), params)
        return add(db, message, self.gateway, self.clock.now())

    def wake(self) -> None:
        """After the commit of a change that added a message."""
        if self.sender is not None:
            self.sender.wake()

    def result_ready(self, db, dossier: dict, phone: str) -> bool:
        """In the move's transaction: the dossier (its row or public view) has a result waiting at its return
        branch. Nothing for a dossier without a phone."""
        if not phone:
            return False
        place = self.place(dossier["return_branch"])
        texts = {lang: result_ready_message(dossier, place, lang) for lang in LANGUAGES}
        params = {"code": dossier["code"], "branch": _name(dossier, place, "vi")}
        return self.add(db, "result_ready", f"dossier:{dossier['code']}:result_ready:{dossier['updated_at']!r}",
                        phone, texts, params)


def parse_templates(setting: str) -> dict[str, str]:
    """[notify] zns_templates as {kind: template id}; ValueError names a bad entry."""
    templates = {}
    for part in filter(None, (p.strip() for p in setting.split(","))):
        kind, _, template = (x.strip() for x in part.partition("="))
        if not kind or not template:
            raise ValueError(f"[notify] zns_templates: {part!r} is not kind=template_id")
        templates[kind] = template
    return templates


def result_ready_message(dossier: dict, place: dict | None, lang: str = "vi") -> str:
    """The words a gateway sends the citizen when the result waits at the return branch.

    place: the return branch as a citizen finds it ({"name": {lang: …}, "address": {lang: …}}); without it
    (a branch since removed), its id."""
    name = _name(dossier, place, lang)
    addresses = (place or {}).get("address") or {}
    address = addresses.get(lang) or addresses.get("vi")
    where = text(lang, "dossier.notice.place", name=name, address=address) if address else name
    return text(lang, "dossier.notice.result_ready", code=dossier["code"], branch=where)


def _name(dossier: dict, place: dict | None, lang: str) -> str:
    names = (place or {}).get("name") or {}
    return names.get(lang) or names.get("vi") or dossier["return_branch"]
