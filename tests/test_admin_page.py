"""The /admin page in real headless Chromium: an admin adds a service and a counter and the live state
shows them; disables an officer whose open session ends; bad input is said in the page's language."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from motcua.web.events import EXTENSION

from conftest import PASSWORD, screenshot


def shoot(page, name: str) -> None:
    screenshot(page, f"admin-{name}")


def sign_in(context, base: str, username: str, then: str = "/admin"):
    page = context.new_page()
    page.goto(f"{base}/login?next={then}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{base}{then}*")
    return page


@pytest.fixture
def admin_page(chromium, live_app, app):
    context = chromium.new_context(viewport={"width": 1920, "height": 1080})
    page = sign_in(context, live_app.base, "admin")
    page.on("dialog", lambda dialog: dialog.accept())
    page.wait_for_selector("body[data-ready='true']")
    # No background task sends live events here (serve() starts it): drain() sends what is pending.
    live_app.drain = app.extensions[EXTENSION].drain
    yield page, live_app
    context.close()


def issue(live_app, token: str) -> requests.Response:
    return requests.post(f"{live_app.api}/branches/hk-02/tickets", json={"service": "civil"},
                         headers={"Authorization": f"Bearer {token}"}, timeout=5)


def state(live_app, branch: str = "hk-01") -> dict:
    return requests.get(f"{live_app.api}/branches/{branch}/state", timeout=5).json()


def test_an_admin_adds_a_service_and_a_counter_and_the_state_shows_them(admin_page):
    page, live_app = admin_page
    assert page.locator("#branches tr").count() == 4
    page.click("[data-tab='services']")
    form = page.locator("#new-service")
    for name, value in {"id": "tax", "letter": "t", "name_vi": "Thuế", "name_en": "Tax",
                        "description_vi": "Kê khai và nộp thuế", "description_en": "Tax returns",
                        "mean_min": "12"}.items():
        form.locator(f"[name='{name}']").fill(value)
    form.locator("[name='letter']").fill("A")  # civil's letter: refused, in Vietnamese
    form.locator("button[type='submit']").click()
    page.wait_for_selector("#message.bad")
    assert page.text_content("#message") == "Chữ cái này đã được dịch vụ khác dùng."
    form.locator("[name='letter']").fill("t")
    form.locator("button[type='submit']").click()
    page.wait_for_selector("#services tr[data-service='tax']")
    assert page.locator("#message.ok").count() == 1
    shoot(page, "services")

    page.click("[data-tab='counters']")
    page.select_option("#counter-branch", "hk-01")
    page.fill("#new-counter [name='id']", "9")
    page.locator("#new-counter label.check", has_text="Thuế").locator("input").check()
    page.click("#new-counter button[type='submit']")
    page.wait_for_selector("#counters tr[data-counter='9']")
    now = state(live_app)
    assert {"id": "9", "services": ["tax"], "open": True, "serving": None} in now["counters"]
    assert next(s for s in now["services"] if s["id"] == "tax")["name"] == {"vi": "Thuế", "en": "Tax"}
    kiosk = next(b for b in requests.get(f"{live_app.api}/branches", timeout=5).json() if b["id"] == "hk-01")
    assert {"vi": "Kê khai và nộp thuế", "en": "Tax returns"} in [s["description"] for s in kiosk["services"]]

    # A counter holding a ticket is not removed: the page says why.
    live_app.post("/branches/hk-01/tickets", "kiosk1", {"service": "tax"})
    called = live_app.post("/branches/hk-01/counters/9/next", "off1").json()["ticket"]
    live_app.drain()
    expect(page.locator("#counters tr[data-counter='9'] .serving")).to_have_text(called["number"])  # live
    page.locator("#counters tr[data-counter='9'] button.danger").click()
    page.wait_for_selector("#message.bad")
    assert "đang giữ một số thứ tự" in page.text_content("#message")
    shoot(page, "counters")


def test_a_disabled_officer_s_session_ends_at_once(admin_page, chromium):
    page, live_app = admin_page
    officer_context = chromium.new_context(viewport={"width": 1280, "height": 800})
    try:
        officer = sign_in(officer_context, live_app.base, "off1")
        officer.wait_for_selector("#not-admin:not([hidden])")  # signed in, and no admin
        page.click("[data-tab='users']")
        row = page.locator("#users tr[data-user='off1']")
        row.locator("button.danger").click()
        page.wait_for_selector("#users tr[data-user='off1'].disabled")
        assert page.text_content("#message") == "Đã khóa off1; người đó đã bị đăng xuất."
        shoot(page, "users")
        assert officer_context.request.get(f"{live_app.api}/auth/session").status == 401
        officer.reload()
        officer.wait_for_url(f"{live_app.base}/login*")
        officer.fill("#username", "off1")
        officer.fill("#password", PASSWORD)
        officer.click("#login-submit")
        officer.wait_for_selector("#login-error:not([hidden])")
        assert officer.text_content("#login-error") == "Tài khoản này đã bị khóa. Hãy liên hệ quản trị viên."
    finally:
        officer_context.close()


def test_devices_are_registered_with_a_token_shown_once_and_revoked(admin_page):
    page, live_app = admin_page
    page.click("#staff-lang")  # English now
    page.click("[data-tab='devices']")
    before = page.locator("#devices tr").count()
    page.select_option("#new-device [name='kind']", "kiosk")
    page.select_option("#new-device [name='branch']", "hk-02")
    page.click("#new-device button[type='submit']")
    page.wait_for_selector("#device-token:not([hidden])")
    token = page.text_content("#device-token-value")
    assert page.locator("#devices tr").count() == before + 1
    assert issue(live_app, token).status_code == 201
    shoot(page, "devices")
    added = page.get_attribute("#device-token", "data-device")
    page.locator(f"#devices tr[data-device='{added}'] button.danger").click()
    expect(page.locator("#devices tr")).to_have_count(before)
    assert page.text_content("#message").startswith("Device ") and page.text_content("#message").endswith(" revoked.")
    assert issue(live_app, token).status_code == 401


def test_a_branch_stops_offering_a_service_no_counter_serves_and_keeps_one_still_served(admin_page):
    page, live_app = admin_page
    row = page.locator("#branches tr[data-branch='hk-03']")
    served = row.locator("label.check", has_text="Hộ tịch").locator("input")
    served.uncheck()
    row.locator("button.primary").click()
    page.wait_for_selector("#message.bad")
    assert page.text_content("#message") == "Còn quầy phục vụ dịch vụ này."
    admin_token = {"Authorization": f"Bearer {live_app.tokens['admin']}"}
    requests.post(f"{live_app.api}/admin/services", headers=admin_token, timeout=5, json={
        "id": "tax", "name": {"vi": "Thuế", "en": "Tax"}, "letter": "T", "mean_min": 12})
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    row = page.locator("#branches tr[data-branch='hk-03']")
    row.locator("label.check", has_text="Thuế").locator("input").check()
    row.locator("input[name='close']").fill("16:30")
    row.locator("button.primary").click()
    page.wait_for_selector("#message.ok")
    assert "tax" in [s["id"] for s in state(live_app, "hk-03")["services"]]
    row = page.locator("#branches tr[data-branch='hk-03']")
    row.locator("label.check", has_text="Thuế").locator("input").uncheck()
    row.locator("button.primary").click()
    expect(page.locator("#branches tr[data-branch='hk-03'] label.check", has_text="Thuế").locator("input")).not_to_be_checked()
    assert "tax" not in [s["id"] for s in state(live_app, "hk-03")["services"]]
    network = requests.get(f"{live_app.api}/admin/network", headers=admin_token, timeout=5).json()
    assert next(b for b in network["branches"] if b["id"] == "hk-03")["close"] == "16:30"
    shoot(page, "branches")
