"""Telling a citizen: the Notifier writes each message into the outbox (motcua.outbox) in the transaction of
the change that causes it, rendered in every language, and wakes the sender once that change is committed."""
from __future__ import annotations

from collections.abc import Callable

from motcua.i18n import LANGUAGES, text
from motcua.outbox import Message, insert, row


class Notifier:
    """One notifier for every message: the dossier's result ready, "your turn is near", later reminders.

    The message exists exactly when the change that causes it does: a caller of `store.write(fn)` adds it in fn
    (`notifier.add(db, …)`) and calls `wake()` after the commit; the engine's operations put it in their Change
    (`change.messages.append(notifier.message(…))`), and the store wakes the sender when it commits one."""

    def __init__(self, gateway: str, clock, templates: dict[str, str] | None = None,
                 place: Callable[[str], dict | None] = lambda branch: None, sender=None) -> None:
        self.gateway = gateway  # the [notify] gateway's name, recorded with each message
        self.clock = clock
        self.templates = templates or {}  # a template gateway's id by message kind ([notify] zns_templates)
        self.place = place  # a branch's name and address by its id, as result_ready_message takes them
        self.sender = sender  # what wake() wakes (motcua.outbox.Sender); None: messages wait for a sender

    def message(self, kind: str, key: str, recipient: str, texts: dict[str, str], params: dict,
                lang: str = "vi") -> dict:
        """The outbox row of a message of kind to recipient under idempotency key (unique: a message given twice
        under one key is sent once): for a Change's messages, which the store commits with the change."""
        return row(Message(key, kind, recipient, texts, lang, self.templates.get(kind, ""), params), self.gateway,
                   self.clock.now())

    def add(self, db, kind: str, key: str, recipient: str, texts: dict[str, str], params: dict,
            lang: str = "vi") -> bool:
        """In the caller's transaction (inside its store.write): the message (see message()); False when its key
        was there already."""
        return insert(db, [self.message(kind, key, recipient, texts, params, lang)]) == 1

    def wake(self) -> None:
        """After the commit of a change that added a message."""
        if self.sender is not None:
            self.sender.wake()

    def result_ready(self, db, dossier: dict, phone: str, lang: str = "vi") -> bool:
        """In the move's transaction: the dossier (its row or public view) has a result waiting at its return
        branch. Nothing for a dossier without a phone."""
        if not phone:
            return False
        place = self.place(dossier["return_branch"])
        texts = {lang: result_ready_message(dossier, place, lang) for lang in LANGUAGES}
        params = {"code": dossier["code"], "branch": _name(dossier["return_branch"], place, "vi")}
        return self.add(db, "result_ready", f"dossier:{dossier['code']}:result_ready:{dossier['updated_at']!r}",
                        phone, texts, params, lang)

    def supplement_requested(self, db, dossier: dict, asked: dict) -> bool:
        """In the move's transaction: the dossier (its row) waits for the supplement `asked` (what, which kinds, by
        when, from which department: motcua.core.supplements.view). Nothing for a dossier without a phone."""
        phone, lang = dossier["citizen_phone"], dossier["citizen_lang"]
        if not phone:
            return False
        texts = {lang: supplement_message(dossier["code"], asked, lang) for lang in LANGUAGES}
        params = {"code": dossier["code"], "due": _day(asked["due"])}
        return self.add(db, "supplement_requested",
                        f"dossier:{dossier['code']}:supplement_requested:{dossier['updated_at']!r}", phone, texts,
                        params, lang)

    def near_turn(self, ticket, ahead: int) -> dict:
        """The outbox row telling a ticket's phone its turn is near, in its language, once per ticket (a Change's
        message, motcua.core.notices)."""
        place = self.place(ticket.branch)
        texts = {lang: near_turn_message(ticket, place, ahead, lang) for lang in LANGUAGES}
        params = {"number": ticket.number, "branch": _name(ticket.branch, place, "vi"),
                  "ahead": ahead}
        return self.message("turn_near", f"ticket:{ticket.id}:turn_near", ticket.phone, texts, params,
                            ticket.lang if ticket.lang in LANGUAGES else "vi")


    def set_off(self, ticket, local) -> dict:
        """The outbox row telling a remote ticket's phone to set off now, in its language, once per ticket (a
        Change's message, motcua.core.remote)."""
        place = self.place(ticket.branch)
        until = local.iso(ticket.window_end)[11:16]
        texts = {lang: text(lang, "notice.set_off", number=ticket.number, branch=_name(ticket.branch, place, lang),
                            until=until) for lang in LANGUAGES}
        params = {"number": ticket.number, "branch": _name(ticket.branch, place, "vi"), "until": until}
        return self.message("set_off", f"ticket:{ticket.id}:set_off", ticket.phone, texts, params,
                            ticket.lang if ticket.lang in LANGUAGES else "vi")


def appointment_reminder(notifier: Notifier, appointment, service, place: dict | None, local, rules) -> dict:
    """The outbox row of an appointment's reminder (motcua.core.appointments.Appointment), in every language,
    under a key of its slot: a moved appointment is reminded of its new slot, never twice of one."""
    def said(lang: str) -> str:
        return text(lang, "appointment.notice.reminder", code=appointment.code,
                    service=getattr(service, f"name_{lang}"), time=clock(appointment.start),
                    date=day(appointment.start), branch=_name(appointment.branch, place, lang),
                    **{"from": clock(appointment.start - rules.early_min * 60),
                       "until": clock(appointment.start + rules.grace_min * 60)})

    def clock(t: float) -> str:
        return local.iso(t)[11:16]

    def day(t: float) -> str:
        return _day(local.iso(t)[:10])

    params = {"code": appointment.code, "time": clock(appointment.start), "date": day(appointment.start)}
    return notifier.message("appointment_reminder", f"appointment:{appointment.id}:reminder:{appointment.start!r}",
                            appointment.phone, {lang: said(lang) for lang in LANGUAGES}, params, appointment.lang)


def near_turn_message(ticket, place: dict | None, ahead: int, lang: str = "vi") -> str:
    """The words telling a ticket's phone that `ahead` people are ahead of it (motcua.core.notices)."""
    return text(lang, "notice.near_turn", number=ticket.number, branch=_name(ticket.branch, place, lang), ahead=ahead)


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
    name = _name(dossier["return_branch"], place, lang)
    addresses = (place or {}).get("address") or {}
    address = addresses.get(lang) or addresses.get("vi")
    where = text(lang, "dossier.notice.place", name=name, address=address) if address else name
    return text(lang, "dossier.notice.result_ready", code=dossier["code"], branch=where)


def supplement_message(code: str, asked: dict, lang: str = "vi") -> str:
    """The words telling a citizen what to bring for dossier code, by when and where (motcua.core.supplements)."""
    kinds = ", ".join((k["name"] or {}).get(lang) or k["kind"] for k in asked["kinds"])
    department = (asked["department_name"] or {}).get(lang) or ""
    said = [text(lang, "supplement.notice", code=code, note=asked["note"].rstrip(". ")),
            text(lang, "supplement.notice.kinds", kinds=kinds) if kinds else "",
            text(lang, "supplement.notice.where", due=_day(asked["due"]), department=department)]
    return " ".join(filter(None, said))


def _day(iso: str) -> str:
    """An ISO date as Vietnam writes it: 24/11/2026."""
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def _name(branch_id: str, place: dict | None, lang: str) -> str:
    """A branch's name in lang as a citizen's message names it (its id: a branch since removed)."""
    names = (place or {}).get("name") or {}
    return names.get(lang) or names.get("vi") or branch_id
