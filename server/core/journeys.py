"""A citizen's way through the branches: a ticket with better branches offered, a redirect to one
of them, a check-in on arrival, an officer's transfer and the options for it. The kiosk's routes and
the simulator both go through here, so a simulated day keeps the rules the server keeps.

The rule for a ticket on its way (README, "Decisions written down"): a redirect makes the new
ticket at the target at once, ranked by the citizen's expected arrival there (now + travel), so
it is in that queue exactly once and counts once in every estimate there; an offer not taken
counts nowhere. `next` does not call it before that time unless the citizen checks in earlier at
a kiosk of the target; from then it ranks by the check-in. A citizen who never arrives is called
once due, and is a no-show like any citizen absent when called.
"""
from __future__ import annotations

import dataclasses
import hmac
import secrets
from dataclasses import dataclass, field

from .balancing import Alternative, RedirectRules, alternatives, nearby, reachable, serving_elsewhere, sooner
from .engine import QueueEngine
from .model import WAITING, Conflict, NotFound, Service, Ticket, WrongCode
from .readmodels import ServiceLine
from .routing import awaiting_check_in
from .remote import RemoteRules, check_door_code, door_code
from .transfers import Destination, destinations, due_at


@dataclass(frozen=True)
class Issued:
    ticket: Ticket
    alternatives: list[Alternative] = field(default_factory=list)


@dataclass(frozen=True)
class Availability:
    """Whether a service is served at a branch now, before any ticket: the wait a ticket would get
    (None: no open counter serves it) and, when it is not served, the branches that serve it now."""

    estimated_wait_min: float | None
    elsewhere: list[Alternative] = field(default_factory=list)


@dataclass(frozen=True)
class Redirected:
    ticket: Ticket      # the new ticket at the branch taken
    travel_min: float


@dataclass(frozen=True)
class TransferOption:
    """A service a citizen may be transferred to: its queue here (None: not offered here) and the
    other branches offering it, soonest served first."""

    service: Service
    here: ServiceLine | None
    elsewhere: list[Destination]


def expected(ticket: Ticket) -> float | None:
    """When a citizen still on the way from elsewhere (a remote ticket not checked in) is expected at the
    ticket's branch: not at another branch before either, where the server does not know the phone is."""
    return ticket.due_at if awaiting_check_in(ticket) else None


class Journeys:
    """Issuing with offers, redirecting and checking in, over one engine and its redirect rules."""

    def __init__(self, engine: QueueEngine, rules: RedirectRules, grace_min: float = RemoteRules.grace_min,
                 door_secret: bytes | None = None, offer_saving_min: float = RemoteRules.min_saving_min,
                 lead_min: float = RemoteRules.lead_min) -> None:
        self.engine = engine
        self.rules = rules
        # What a waiting ticket is offered (offer()): the redirect's trips, with the [remote] saving.
        self.offering = dataclasses.replace(rules, min_saving_min=offer_saving_min)
        # What the doors' codes are made under (motcua.core.remote.door_code); none given: this process's own.
        self.door_secret = door_secret or secrets.token_bytes(32)
        # A remote ticket's citizen may come from as far as any branch is offered (motcua.core.remote).
        self.remote = RemoteRules(rules.max_travel_min, grace_min, offer_saving_min, lead_min)

    def nearby(self, lat: float, lon: float, service_id: str, limit: int | None = None) -> list[Alternative]:
        """The branches a citizen at (lat, lon) can reach that serve the service today, soonest called first;
        the first `limit`."""
        self.engine.service(service_id)
        return nearby(self.engine.published(), lat, lon, service_id, self.rules, limit)

    def issue_remote(self, branch_id: str, service_id: str, phone: str, lang: str = "vi",
                     actor: str | None = None, travel_min: float | None = None) -> Ticket:
        """A remote ticket at the branch, with its arrival window (motcua.core.remote); travel_min: the citizen's
        trip as the phone knows it (None: the longest offered)."""
        return self.engine.issue_remote(branch_id, service_id, phone, lang, self.remote, actor, travel_min)

    def set_off(self, ticket_id: str) -> float | None:
        """Minutes until the remote ticket's citizen should set off, told at 0 (QueueEngine.set_off)."""
        return self.engine.set_off(ticket_id, self.remote)

    def tell_set_off(self) -> int:
        """Tell every remote ticket's citizen whose time has come to set off (the server's sweep)."""
        return self.engine.tell_set_off(self.remote)

    def issue(self, branch_id: str, service_id: str, priority: bool = False, lang: str = "vi",
              actor: str | None = None) -> Issued:
        """A ticket here, and the nearby branches that would call the citizen sooner (none for
        priority citizens: they are served first wherever they are)."""
        with self.engine.operating(branch_id):
            self.engine.service(service_id)
            offers = []
            if not priority and self.rules.max_offers > 0:
                # Before the ticket joins here: the comparison is with the wait it is about to get,
                # and with the waits the neighbours published (their locks are theirs).
                offers = alternatives(self.engine.published(), branch_id, service_id, self.rules)
            return Issued(self.engine.issue(branch_id, service_id, priority, lang, actor), offers)

    def availability(self, branch_id: str, service_id: str) -> Availability:
        """What a kiosk tells a citizen who picks a service, before issuing anything."""
        with self.engine.hold(branch_id):
            branch = self.engine.branch(branch_id)
            self.engine.service(service_id)
            if service_id not in branch.services:
                raise NotFound(f"{branch_id} does not offer {service_id!r}", "unknown_service")
            here = self.engine.estimate_new(branch_id, service_id)
            if here is not None:
                return Availability(here)
            return Availability(None, serving_elsewhere(self.engine.published(), branch_id, service_id, self.rules))

    def redirect(self, ticket_id: str, branch_id: str, actor: str | None = None) -> Redirected:
        """The citizen takes another branch: a new ticket there, due when they can be there."""
        ticket = self.engine.ticket(ticket_id)
        self.engine.branch(branch_id)
        with self.engine.operating(ticket.branch, branch_id):
            ticket = self.engine.ticket(ticket_id)
            travel = reachable(self.engine, ticket.branch, branch_id, ticket.service, self.rules)
            if travel is None:
                raise Conflict(f"{branch_id} is not a branch this citizen can be sent to now", "not_reachable")
            due_at = max(self.engine.now() + travel * 60, expected(ticket) or 0.0)
            moved = self.engine.transfer(ticket_id, ticket.service, branch_id, actor, due_at=due_at, rules=self.remote)
            return Redirected(moved, travel)

    def offer(self, ticket_id: str) -> Alternative | None:
        """The branch a waiting ticket's holder is offered now on its phone page: the best that would call
        the citizen at least [remote] min_saving_min sooner, travel included, than the ticket's own wait
        (balancing.sooner, as the kiosk offers at issue); None for a priority citizen, a ticket without a code
        to take it with (issued before codes), or when none does."""
        ticket = self.engine.ticket(ticket_id)
        if ticket.status != WAITING or ticket.priority or not ticket.rating_code:
            return None
        wait = self.engine.estimate(ticket)[1]
        found = sooner(self.engine.published(), ticket.branch, ticket.service, wait, self.offering,
                       not_before=expected(ticket))
        return found[0] if found else None

    def take_offer(self, ticket_id: str, branch_id: str, code: str, actor: str | None = None) -> Redirected:
        """The ticket's holder (who holds its rating code, as its phone page does) takes the branch offered:
        redirected there as from a kiosk, ranked by the arrival there. Refused with a wrong code
        (wrong_rating_code), or when that branch is not what the ticket is offered now (offer_gone)."""
        ticket = self.engine.ticket(ticket_id)
        if not ticket.rating_code or not hmac.compare_digest(code.encode(), ticket.rating_code.encode()):
            raise WrongCode("this is not the ticket's code", "wrong_rating_code")
        offered = self.offer(ticket_id)
        if offered is None or offered.branch != branch_id:
            raise Conflict(f"{branch_id} is not offered to this ticket now", "offer_gone")
        return self.redirect(ticket_id, branch_id, actor)

    def check_in(self, ticket_id: str, actor: str | None = None) -> Ticket:
        """The citizen is at the ticket's branch: callable from now."""
        return self.engine.check_in(ticket_id, actor)

    def door_code(self, branch_id: str) -> str:
        """The code the branch's door shows today (motcua.core.remote)."""
        self.engine.branch(branch_id)
        return door_code(self.door_secret, branch_id, self.engine.local.day(self.engine.now()))

    def check_in_phone(self, branch_id: str, phone: str, code: object, actor: str | None = None) -> list[Ticket]:
        """The phone at the branch's door, with the door's code of today: its remote tickets there callable
        from now (a wrong code: WrongCode wrong_door_code)."""
        self.engine.branch(branch_id)
        check_door_code(self.door_secret, branch_id, self.engine.local.day(self.engine.now()), code)
        return self.engine.check_in_phone(branch_id, phone, actor)

    def transfer(self, ticket_id: str, service_id: str, branch_id: str | None = None,
                 actor: str | None = None) -> Ticket:
        """An officer queues the citizen again for another service or branch; sent to another branch,
        the citizen is expected there once the trip is made (transfers.due_at)."""
        ticket = self.engine.ticket(ticket_id)
        elsewhere = branch_id not in (None, ticket.branch) and branch_id in self.engine.branch_ids()
        with self.engine.operating(ticket.branch, *([branch_id] if elsewhere else [])):
            ticket = self.engine.ticket(ticket_id)
            due = due_at(self.engine, ticket.branch, branch_id, self.rules) if elsewhere else None
            return self.engine.transfer(ticket_id, service_id, branch_id, actor=actor, due_at=due, rules=self.remote)

    def transfer_options(self, branch_id: str) -> list[TransferOption]:
        """Every service a citizen of the branch may be transferred to, as one moment saw the queues."""
        with self.engine.hold(branch_id):
            branch = self.engine.branch(branch_id)
            options = []
            for service in self.engine.all_services():
                here = None
                if service.id in branch.services:
                    here = ServiceLine(service, self.engine.waiting(branch_id, service.id),
                                       self.engine.estimate_new(branch_id, service.id))
                options.append(TransferOption(service, here, destinations(self.engine.published(), branch_id,
                                                                          service.id, self.rules)))
            return options
