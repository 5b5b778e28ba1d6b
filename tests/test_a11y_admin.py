"""The admin page (every tab, its forms with an error shown, a device's token shown, a procedure being edited),
the department's page (its long list, a dossier opened, the note form open, a refusal shown) and the sign-in
page (empty, a failed sign-in, nothing typed) in real headless Chromium at 1920×1080 and 1366×768, on a real
size city (tests/big_city.py: 25 services at hk-01, 20 counters, 50 branches) and the shipped catalogue (a
hundred and ninety procedures): axe-core finds no WCAG 2.1 A or AA violation in any state, the layout checks
find nothing clipped or past its card or the window, and each state is screenshot to be looked at."""
from __future__ import annotations

import pytest
import requests

from axe import violations
from big_city import big_server, big_template  # noqa: F401  (fixtures)
from conftest import PASSWORD, screenshot
from test_intake import waived_for
from layout import focus_ring_contrast, problems

SIZES = ((1920, 1080), (1366, 768))
WAIT_MS = 15000
TABS = ("branches", "services", "counters", "users", "devices", "departments", "procedures", "kinds")
DOSSIERS = 30
# What a form's result changes on the admin page: the message (the live region) and the tab it was sent from.
ADMIN_CHANGE = {tab: ("#message", f"#tab-{tab}") for tab in TABS}
CITIZEN = {"id_number": "001090012345", "name": "Nguyễn Thị Phương Thảo Hoàng", "phone": "0987654321"}


def call(server, method: str, path: str, who: str, json=None) -> dict:
    answer = requests.request(method, f"{server.api}{path}", json=json, timeout=30,
                              headers={"Authorization": f"Bearer {server.tokens[who]}"})
    assert answer.status_code < 300, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def site(big_server):
    """The big city with a department user and a long queue of dossiers sent on to the finance department."""
    call(big_server, "POST", "/admin/users", "admin", {"username": "fin1", "password": PASSWORD, "role": "department",
                                                       "branch": None, "department": "finance"})
    for n in range(DOSSIERS):
        made = call(big_server, "POST", "/dossiers", "off1", {"procedure": ("KD-TL", "KD-TD", "KD-CD")[n % 3],
                                                              "citizen": CITIZEN})
        for status in ("digitized", "processing"):
            call(big_server, "POST", f"/dossiers/{made['code']}/status", "off1",
                 {"status": status, "note": None, "missing": waived_for(made)})
    return big_server


@pytest.fixture(scope="module")
def browser_context(chromium):
    context = chromium.new_context(viewport={"width": SIZES[0][0], "height": SIZES[0][1]}, bypass_csp=True)
    yield context
    context.close()


def signed_in(context, server, who: str, path: str, ready: str):
    """A page of the context signed in as who, at path, once ready (a selector) shows."""
    context.clear_cookies()
    signed = context.request.post(server.api + "/auth/session", data={"username": who, "password": PASSWORD})
    assert signed.ok, signed.text()
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(server.base + path)
    page.wait_for_selector(ready, state="attached", timeout=WAIT_MS)
    return page


class Audit:
    """What axe-core and the layout checks found in each state at each size, with its screenshot."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def ring(self, page, selector: str) -> None:
        """The focus ring of the element, focused, at least 3:1 against what is around it (WCAG 1.4.11)."""
        page.focus(selector)
        ratio = focus_ring_contrast(page, selector)
        self.require(ratio >= 3, f"the focus ring of {selector} at 3:1 ({ratio:.2f})")

    def done(self, page) -> None:
        """The page closed, and nothing found in any of its states."""
        page.close()
        assert not self.found, "\n".join(self.found)

    def require(self, holds: bool, what: str) -> None:
        """A rule of the page that must hold, reported with the rest rather than stopping the test."""
        if not holds:
            self.found.append("not so: " + what)

    def check(self, page, name: str, changed: tuple[str, ...] = ("html",), act=None, in_view: tuple[str, ...] = ()) -> None:
        """Each size: axe-core's violations in what changed (the whole page unless told; a state of a tab
        already audited whole needs only its tab and the message looked at again), the layout's problems,
        and what must be in the window (in_view) once act() (what brings the state about, done again at this
        size) is done."""
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            where = f"{name} {width}x{height}"
            if act:
                act()
            self.found += [f"{where}: {v}" for scope in changed for v in violations(page, scope)]
            self.found += [f"{where}: {p}" for p in problems(page)]
            for selector in in_view:
                box = page.locator(selector).bounding_box()
                self.require(box is not None and box["y"] >= -1 and box["y"] + box["height"] <= height + 1,
                             f"{where}: {selector} in the window ({box})")
            screenshot(page, f"a11y-{name}-{width}x{height}")
        page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})


def refused(page, submit: str, said: str):
    """Submitting what is refused, again: the page's word on it is waited for (cleared first)."""
    def act() -> None:
        page.eval_on_selector(said.split(":")[0].split(".")[0], "(el) => { el.hidden = true; el.classList.remove('bad'); }")
        page.click(submit)
        page.wait_for_selector(said)
    return act


def test_the_sign_in_page_is_clean_empty_failed_and_untyped(browser_context, site):
    audit = Audit()
    context = browser_context
    context.clear_cookies()
    page = context.new_page()
    page.goto(site.base + "/login")
    page.wait_for_selector("#login-submit:text-matches('.+')")
    audit.check(page, "login")
    audit.ring(page, "#username")
    page.click("#login-submit")
    page.wait_for_selector("#login-error:not([hidden])")
    audit.check(page, "login-missing")
    page.fill("#username", "admin")
    page.fill("#password", "not-the-password")
    page.click("#login-submit")
    page.wait_for_selector("#login-error:not([hidden])")
    page.wait_for_function("() => !document.getElementById('login-submit').disabled")
    # The error is tied to what it is about, and said when it comes.
    audit.require(page.get_attribute("#password", "aria-invalid") == "true", "the password marked invalid")
    audit.require("login-error" in (page.get_attribute("#password", "aria-describedby") or "").split(),
                  "the password described by the error")
    audit.check(page, "login-failed")
    audit.done(page)


def test_every_admin_tab_and_form_state_is_clean_at_both_sizes(browser_context, site):
    audit = Audit()
    page = signed_in(browser_context, site, "admin", "/admin", "body[data-ready='true']")
    assert page.locator("#services tr").count() >= 25 and page.locator("#procedures tr").count() >= 150
    for tab in TABS:
        page.click(f"[data-tab='{tab}']")
        audit.check(page, f"admin-{tab}")

    # Every input of the tables is named for its row and its column.
    page.click("[data-tab='services']")
    name = page.input_value("#services tr[data-service='civil'] [name='name_vi']")
    audit.require(page.get_attribute("#services tr[data-service='civil'] [name='name_vi']", "aria-label") ==
                  f"Tên tiếng Việt của dịch vụ {name}", "a table's input named for its row and column")

    # A form refused in the page: the message says why, the input it is about is marked and points to it.
    form = page.locator("#new-service")
    form.locator("[name='id']").fill("tax")
    form.locator("[name='name_vi']").fill("Thuế")
    form.locator("[name='name_en']").fill("Tax")
    form.locator("[name='letter']").fill("9")
    refuse = refused(page, "#new-service button[type='submit']", "#message.bad")
    refuse()
    audit.require(page.get_attribute("#new-service [name='letter']", "aria-invalid") == "true", "the letter marked invalid")
    audit.require(page.get_attribute("#new-service [name='letter']", "aria-describedby") == "message",
                  "the letter described by the message")
    audit.check(page, "admin-services-refused", ADMIN_CHANGE["services"], act=refuse,
                in_view=("#message", "#new-service [name='letter']"))
    audit.ring(page, "#services tr[data-service='civil'] [name='name_vi']")

    page.click("[data-tab='users']")
    form = page.locator("#new-user")
    form.locator("[name='username']").fill("gt1")
    form.locator("[name='password']").fill(PASSWORD)
    form.locator("[name='role']").select_option("department")
    form.locator("button[type='submit']").click()
    page.wait_for_selector("#message.bad")
    audit.require(page.get_attribute("#new-user [name='department']", "aria-invalid") == "true",
                  "the department marked invalid")
    audit.check(page, "admin-users-refused", ADMIN_CHANGE["users"], in_view=("#message",))
    form.locator("[name='department']").select_option("finance")
    form.locator("button[type='submit']").click()
    page.wait_for_selector("#users tr[data-user='gt1']")
    audit.require(page.get_attribute("#message", "role") == "status", "the result said in a live region")
    audit.require(page.get_attribute("#new-user [name='department']", "aria-invalid") is None,
                  "the department no longer marked invalid once saved")
    audit.check(page, "admin-users-added", ADMIN_CHANGE["users"])

    page.click("[data-tab='devices']")
    page.locator("#new-device button[type='submit']").click()
    page.wait_for_selector("#device-token:not([hidden])")
    audit.check(page, "admin-devices-token", ADMIN_CHANGE["devices"])

    page.click("[data-tab='procedures']")
    page.locator("#procedures tr[data-procedure='KD-TL'] button").first.click()
    page.fill("#procedure-form [name='statutory_days']", "0")
    refuse = refused(page, "#procedure-form button[type='submit']", "#message.bad")
    audit.check(page, "admin-procedures-refused", ADMIN_CHANGE["procedures"], act=refuse,
                in_view=("#message", "#procedure-form [name='statutory_days']"))
    page.fill("#procedure-filter", "dang ky")
    audit.check(page, "admin-procedures-filtered", ADMIN_CHANGE["procedures"])

    # In English: the page says its language, and the rows' inputs are named in English.
    page.click("#staff-lang")
    page.click("[data-tab='services']")
    name = page.input_value("#services tr[data-service='civil'] [name='name_en']")
    audit.require(page.get_attribute("html", "lang") == "en", "the page's language English")
    audit.require(page.is_hidden("#message"), "no result of another tab in another language left said")
    audit.require(page.get_attribute("#services tr[data-service='civil'] [name='name_vi']", "aria-label") ==
                  f"Name in Vietnamese of service {name}", "a table's input named in English")
    audit.check(page, "admin-services-en", ADMIN_CHANGE["services"])
    page.click("#staff-lang")   # the context's next pages in Vietnamese again
    audit.done(page)


def test_the_department_page_list_dossier_and_note_are_clean(browser_context, site):
    audit = Audit()
    page = signed_in(browser_context, site, "fin1", "/department", "#queue tbody tr")
    assert page.locator("#queue tbody tr").count() == DOSSIERS
    audit.check(page, "department-list")
    page.locator("#queue tbody tr button.open").first.click()
    page.wait_for_selector("#dossier:not([hidden])")
    audit.require(page.get_attribute("#queue tbody tr.selected button.open", "aria-current") == "true",
                  "the opened dossier's row marked current, not only tinted")
    audit.check(page, "department-dossier")
    reject = lambda: page.click("#actions button[data-move='rejected']")  # noqa: E731  (opens the note, focused)
    reject()
    page.wait_for_selector("#note-form:not([hidden])")
    audit.check(page, "department-note", act=reject, in_view=("#note",))
    audit.ring(page, "#note")
    refuse = refused(page, "#note-send", "#action-error:not([hidden])")   # no reason given: said beside the note
    refuse()
    audit.require(page.get_attribute("#note", "aria-invalid") == "true", "the note marked invalid")
    audit.require(page.get_attribute("#note", "aria-describedby") == "action-error", "the note described by the refusal")
    audit.check(page, "department-note-refused", act=refuse, in_view=("#note", "#action-error"))
    page.close()
    page = signed_in(browser_context, site, "admin", "/department?department=finance", "#queue tbody tr")
    audit.check(page, "department-admin")
    audit.done(page)
