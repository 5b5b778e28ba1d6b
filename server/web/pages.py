"""The pages people look at: the start page, the waiting-room wall display, the citizen's phone page.

The display and phone pages are static HTML and JavaScript from the `display/` folder; the
server fills in only a small JSON block (branch, service names, the catalogue texts) so that no
citizen-facing text lives in code. The start page is plain HTML filled from the catalogues. Their assets, the Socket.IO client included, are served from here: displays
often have no internet. The announcement audio is made on this machine (motcua.voice).
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cache

from flask import (Blueprint, Response, abort, current_app, render_template_string, request, send_from_directory,
                   url_for)

from motcua.core.model import NotFound
from motcua.i18n import LANGUAGES, catalogue, rating_reasons, text
from motcua.voice import VoiceUnavailable, chime
from .rendering import ASSETS, HEADERS, page, template, texts
from .runtime import runtime
from .staff_pages import PAGES


pages = Blueprint("pages", __name__)
NUMBER = re.compile(r"^[A-Za-zĐđ]{1,2}[0-9]{1,4}$")
COUNTER = re.compile(r"^[0-9A-Za-z-]{1,8}$")
DOSSIER_CODE = re.compile(r"^[0-9A-Za-z_. -]{0,64}$")
DOSSIER_CHECK = re.compile(r"^[0-9A-Za-z]{0,4}$")
VOICE = "motcua.voice"   # the app's Voice, in app.extensions
BOOKING_DAYS_SHOWN = 7
BOOKING_PAGE = "pages.booking_page"   # the appointments' booking page, when there is one (the start page links it)
# What the pages load from /display/assets: nothing else there (the package's .py, the HTML
# templates, READMEs) is served.
ASSET_TYPES = (".js", ".css", ".svg", ".png", ".woff2")


def _services(engine, ids) -> list[dict]:
    services = [engine.service(s) for s in ids]
    return [{"id": s.id, "letter": s.letter, "name": {"vi": s.name_vi, "en": s.name_en}} for s in services]


@pages.get("/")
def start_page():
    """Links to every page: a citizen's actions first, each branch's wall display, what the phone page is, the API."""
    html = render_template_string(template("start.html"), branches=runtime().engine.all_branches(),
                                  staff_pages=[name for name in PAGES if name != "login"],
                                  vi=catalogue("vi"), en=catalogue("en"), demo=_demo_notice(), booking=_booking_page())
    return Response(html, mimetype="text/html", headers=HEADERS)


def _booking_page() -> str | None:
    """Where the start page's second action ("Đặt lịch hẹn") leads: the booking page once this server has one
    (an endpoint named BOOKING_PAGE), else None and the action is not shown."""
    return url_for(BOOKING_PAGE) if BOOKING_PAGE in current_app.view_functions else None


@pages.get("/r/")
def remote_page():
    """A ticket taken from a phone before the trip: service, where (the phone's location or a list), phone number."""
    return _citizen_page({"mode": "remote"})


@pages.get("/h/")
def booking_page():
    """An appointment booked from a phone: service, where, a day and a slot, phone number; then its code, which the
    phone keeps to move or cancel it."""
    rt = runtime()
    today = date.fromisoformat(rt.engine.local.day(rt.engine.now()))
    rules = rt.bookings.rules
    # The days slots are offered on (no weekend, no holiday), a week of them at most: a citizen books the next
    # days, and a row of chips stays readable.
    days = [d for d in (today + timedelta(days=n) for n in range(rules.days_ahead + 1)) if rules.open_on(d)]
    return _citizen_page({"mode": "appointment", "days": [d.isoformat() for d in days[:BOOKING_DAYS_SHOWN]]})


def _citizen_page(mode: dict) -> Response:
    """The citizen's page of a ticket or an appointment taken from a phone: the services and branches to choose."""
    rt = runtime()
    engine, catalogue_now = rt.engine, rt.catalogue.current
    open_branches = [b for b in engine.all_branches() if not b.closed]
    offered = {s for b in open_branches for s in b.services}

    def group(service_id: str) -> dict | None:
        fields = catalogue_now.fields_of(service_id)
        return dict(zip(("vi", "en"), rt.catalogue.field(fields[0]))) if fields else None

    services = [{"id": s.id, "letter": s.letter, "name": {"vi": s.name_vi, "en": s.name_en},
                 "description": {"vi": s.description_vi, "en": s.description_en}, "group": group(s.id)}
                for s in map(engine.service, engine.service_ids()) if s.id in offered]
    # Grouped by field (lĩnh vực), as the kiosk groups them; those of no field last.
    services.sort(key=lambda s: (s["group"] is None, (s["group"] or {}).get("vi", ""), s["name"]["vi"]))
    return page("remote.html", {
        **mode,
        "services": services,
        "branches": [{"id": b.id, "name": {"vi": b.name_vi, "en": b.name_en},
                      "address": {"vi": b.address_vi, "en": b.address_en}, "services": list(b.services)}
                     for b in open_branches],
        "texts": texts(("rpage.", "bpage.", "weekday")),
    })


def _demo_notice() -> dict | None:
    """What the demo simulates, by language, when this server runs it (serve's `demo`); else None."""
    demo = current_app.config.get("MOTCUA_DEMO")
    if not demo:
        return None
    try:
        branch = runtime().engine.branch(demo["branch"])
    except NotFound:
        branch = None
    return {lang: text(lang, "start.demo", speed=f"{demo['speed']:g}", counter=demo["counter"],
                       branch=getattr(branch, f"name_{lang}", demo["branch"])) for lang in LANGUAGES}


@pages.get("/display/<b>")
def wall_display(b):
    engine = runtime().engine
    branch = engine.branch(b)
    config = runtime().config
    return page("wall.html", {
        "branch": {"id": b, "name": {"vi": branch.name_vi, "en": branch.name_en}},
        "services": _services(engine, branch.services),
        "voice": [lang for lang in config.display.voice_languages.split(",") if lang in LANGUAGES],
        "timezone": config.queue.timezone,
        "recent_calls": config.queue.recent_calls,
        "page_seconds": config.display.page_seconds,
        "voice_max_lag_s": config.display.voice_max_lag_s,
        "target_wait_min": config.staffing.target_wait_min,
        "texts": texts(("display.", "weekday")),
    })


@pages.get("/t/<ticket_id>")
def phone_page(ticket_id):
    engine = runtime().engine
    return page("phone.html", {
        "ticket": ticket_id,
        "services": _services(engine, engine.service_ids()),
        "branches": {b.id: {"vi": b.name_vi, "en": b.name_en} for b in engine.all_branches()},
        "reasons": rating_reasons(),
        "texts": texts(("phone.", "rating.")),
    })


@pages.get("/door/<b>")
def door_page(b):
    """What the QR code at a branch's door opens (GET /api/v1/branches/{b}/door): the phone's check-in there."""
    engine = runtime().engine
    branch = engine.branch(b)
    return page("door.html", {
        "branch": {"id": b, "name": {"vi": branch.name_vi, "en": branch.name_en}},
        "services": _services(engine, branch.services),
        "texts": texts(("door.",)),
    })


@pages.get("/d/")
@pages.get("/d/<code>")
def dossier_page(code=""):
    """The public lookup of a dossier, from the receipt's QR code: status timeline and due date, no personal data.

    The page asks the public view (GET /api/v1/dossiers/{code}?check=, the check the receipt's QR link
    carries) for the dossier: a mistyped or unknown code, or a missing or wrong check, is answered there, in words, with a box to type it again; /d/ alone is that box."""
    rt = runtime()
    # Only the letters of a code and its check reach the page's settings; anything else is mistyped anyway.
    typed = code if DOSSIER_CODE.match(code) else ""
    check = request.args.get("check", "")
    check = check if DOSSIER_CHECK.match(check) else ""
    return page("dossier.html", {
        "code": typed,
        "check": check,
        "mistyped": typed != code,
        "procedures": {p.code: {"vi": p.name_vi, "en": p.name_en} for p in rt.dossiers.catalogue.procedures.values()},
        "branches": {b.id: {"vi": b.name_vi, "en": b.name_en} for b in rt.engine.all_branches()},
        "texts": texts(("dossier.status.", "dossier.code", "dossier.error.bad_code", "dossier.error.unknown_dossier",
                        "dossier.error.check_needed", "dossier.error.bad_check", "dpages.d.", "supplement.",
                        "weekday", "evaluation.start")),
    })


@pages.get("/favicon.ico")
def favicon():
    """Every page's icon (display/favicon.svg drawn at 16–64 px): browsers ask for it even when a page names none."""
    return send_from_directory(ASSETS, "favicon.ico", mimetype="image/x-icon", max_age=86400)


@pages.get("/display/assets/<path:name>")
def asset(name):
    if not name.endswith(ASSET_TYPES):
        abort(404)
    return send_from_directory(ASSETS, name, max_age=300)


@pages.get("/display/chime.wav")
def chime_wav():
    return Response(_chime(), mimetype="audio/wav", headers={"Cache-Control": "public, max-age=86400"})


@cache
def _chime() -> bytes:
    return chime()


@pages.get("/display/voice/<lang>/<number>/<counter>.wav")
def announcement(lang, number, counter):
    """The spoken call: "Mời công dân có số thứ tự B007 đến quầy số 3"; /recall/ variant for recalls."""
    return _announcement(lang, [(number, counter)], recall=False)


@pages.get("/display/voice/<lang>/recall/<number>/<counter>.wav")
def re_announcement(lang, number, counter):
    return _announcement(lang, [(number, counter)], recall=True)


@pages.get("/display/voice/<lang>/calls/<calls>.wav")
def burst_announcement(lang, calls):
    """Calls made in a burst, said short in one breath: "Mời số A012 quầy 3, A013 quầy 4"; calls are
    NUMBER-COUNTER joined by commas, at most [queue] recent_calls of them (what the display shows)."""
    return _announcement(lang, _burst(calls), recall=False, short=True)


@pages.get("/display/voice/<lang>/recall/calls/<calls>.wav")
def burst_re_announcement(lang, calls):
    """A recall in a burst, said short: "Mời lại số B001 quầy 3"."""
    return _announcement(lang, _burst(calls), recall=True, short=True)


def _burst(calls: str) -> list[tuple[str, str]]:
    items = [item.partition("-")[::2] for item in calls.split(",")]
    if len(items) > runtime().config.queue.recent_calls:
        abort(404)
    return items


def _announcement(lang: str, calls: list[tuple[str, str]], recall: bool, short: bool = False):
    """The clip, with X-Voice-Marks: when each call is said in it ("turn-number said-counter said" in seconds,
    comma-separated), so that the display may cut it short between calls."""
    if lang not in LANGUAGES:
        abort(404)
    for number, counter in calls:
        if not NUMBER.match(number) or not COUNTER.match(counter) or not _called_somewhere(runtime().engine, number, counter):
            abort(404)
    try:
        audio, marks = current_app.extensions[VOICE].announcement_many(
            lang, [(number.upper(), counter) for number, counter in calls], recall, short)
    except VoiceUnavailable as error:
        abort(503, description=str(error))
    return Response(audio, mimetype="audio/wav", headers={
        "Cache-Control": "public, max-age=86400",
        "X-Voice-Marks": ",".join("-".join(f"{x:.2f}" for x in mark) for mark in marks)})


def _called_somewhere(engine, number: str, counter: str) -> bool:
    """A branch has this counter and today's ticket of this number: only real calls are rendered and cached."""
    for at in engine.all_counters():
        if at.id != counter:
            continue
        try:
            engine.ticket_numbered(at.branch, number)
        except NotFound:
            continue
        return True
    return False
