"""The staff's pages: sign-in, and the consoles of officers, managers and admins.

Each page is static HTML from `display/` with a JSON block of settings and catalogue texts, like
the wall display. The HTML holds no data: the page asks the API for everything with its session
cookie, and sends anyone without a session to /login (display/staff.js).
"""
from __future__ import annotations

from flask import Blueprint, abort

from . import rendering
from .runtime import runtime

staff_pages = Blueprint("staff_pages", __name__)
# page name -> (its HTML in display/, the catalogue prefixes it reads besides "staff.")
PAGES = {
    "login": ("login.html", ()),
    "counter": ("counter.html", ("counter.", "cdossier.", "dossier.", "document.", "intake.", "list.", "supplement.",
                                 "cccd.")),
    "admin": ("admin.html", ("admin.",)),
    "manager": ("manager.html", ("manager.", "report.", "rating.", "dreports.", "list.")),
    "department": ("department.html", ("dpages.dept.", "dossier.", "intake.reason.", "supplement.", "document.")),
}


def staff_page(name: str, prefixes: tuple[str, ...], settings: dict | None = None):
    """A staff page with its texts and the settings every staff page shares."""
    config = runtime().config
    return rendering.page(name, {
        "texts": rendering.texts(("staff.", *prefixes)),
        "timezone": config.queue.timezone,
        "target_wait_min": config.staffing.target_wait_min,
        **(settings or {}),
    })


@staff_pages.get("/<any(login, counter, manager, admin, department):page>")
def page(page):
    if page not in PAGES:
        abort(404)
    template, prefixes = PAGES[page]
    return staff_page(template, prefixes)
