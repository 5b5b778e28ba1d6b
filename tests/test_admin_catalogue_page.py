"""The /admin page's catalogue tabs in real headless Chromium: an admin adds a department, a document kind,
a procedure for a new service and a branch live, finds a procedure among a hundred and fifty by typing a
few unaccented letters, and the next citizen's dossier at the counter follows the new procedure. Each
tab is laid out at 1920×1080 and 1366×768 with nothing clipped or outside the viewport."""
from __future__ import annotations

import requests
from playwright.sync_api import expect

from conftest import PASSWORD, screenshot
from test_admin_page import sign_in

LONG_VI = "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất"
LONG_EN = "Registration of changes to land-use rights and to ownership of assets attached to land"
CITIZEN = {"id_number": "001090012345", "name": "Trần Thị Bình", "phone": "0987654321"}
SIZES = ((1920, 1080), (1366, 768))
MANY = 150

# Every element of the shown tab that holds text or takes input: none wider than it shows, none outside
# the window's width, no two overlapping (per row of the table: its cells).
LAYOUT = """(tab) => {
  const section = document.getElementById("tab-" + tab);
  const faults = [];
  const width = document.documentElement.clientWidth;
  const shown = (el) => el.getClientRects().length > 0;
  for (const el of section.querySelectorAll("h2, h3, p, label, th, td, input, select, button, span")) {
    if (!shown(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.left < 0 || box.right > width + 0.5) faults.push(`${el.tagName}.${el.className} outside: ${box.left}-${box.right}`);
    const clips = getComputedStyle(el).overflowX !== "visible" || el.tagName === "INPUT";
    if (!clips && el.scrollWidth > el.clientWidth + 1 && el.tagName !== "TD" && el.tagName !== "SPAN")
      faults.push(`${el.tagName}.${el.className} clipped: ${el.scrollWidth} > ${el.clientWidth}`);
  }
  for (const row of section.querySelectorAll("tr")) {
    const cells = Array.from(row.children).map((c) => c.getBoundingClientRect());
    for (let i = 1; i < cells.length; i++)
      if (cells[i].left < cells[i - 1].right - 0.5) faults.push(`cells overlap in ${row.dataset.procedure || row.rowIndex}`);
  }
  if (section.scrollWidth > section.clientWidth + 1) faults.push(`tab scrolls sideways: ${section.scrollWidth}`);
  return faults;
}"""


def admin_call(live_app, method: str, path: str, json=None) -> dict:
    answer = requests.request(method, f"{live_app.api}/admin{path}", json=json, timeout=10,
                              headers={"Authorization": f"Bearer {live_app.tokens['admin']}"})
    assert answer.status_code < 300, answer.text
    return answer.json()


def fill(form, values: dict) -> None:
    for name, value in values.items():
        form.locator(f"[name='{name}']").fill(value)


def test_an_admin_sets_up_a_department_kind_procedure_and_branch_and_the_next_dossier_follows(chromium, live_app):
    admin_call(live_app, "POST", "/services", {"id": "vehicles", "name": {"vi": "Phương tiện", "en": "Vehicles"},
                                               "letter": "V", "mean_min": 10})
    admin_call(live_app, "POST", "/branches/hk-01/counters", {"id": "9", "services": ["vehicles"]})
    for n in range(MANY):  # a real catalogue's size, names as long as the national catalogue's
        admin_call(live_app, "POST", "/procedures", {
            "code": f"X-{n:03d}", "name": {"vi": f"{LONG_VI} (trường hợp {n})", "en": f"{LONG_EN} (case {n})"},
            "field": "land", "department": "land-env", "statutory_days": 10, "documents": ["id_card"],
            "services": ["land"]})
    context = chromium.new_context(viewport={"width": 1920, "height": 1080})
    try:
        page = sign_in(context, live_app.base, "admin")
        page.wait_for_selector("body[data-ready='true']")

        page.click("[data-tab='departments']")
        form = page.locator("#new-department")
        fill(form, {"code": "transport", "name_vi": "Phòng Quản lý giao thông", "name_en": "Transport Division"})
        form.locator("button[type='submit']").click()
        page.wait_for_selector("#departments tr[data-department='transport']")
        assert page.text_content("#message") == "Đã thêm phòng Phòng Quản lý giao thông."

        page.click("[data-tab='kinds']")
        form = page.locator("#new-kind")
        fill(form, {"kind": "boat_papers", "name_vi": "Giấy tờ tàu thuyền", "name_en": "Boat papers"})
        form.locator("[name='reusable']").check()
        form.locator("button[type='submit']").click()
        expect(page.locator("#kinds tr[data-kind='boat_papers'] .pill")).to_have_text("Dùng lại được")
        expect(page.locator("#kinds tr[data-kind='civil_form'] .pill")).to_have_text("Chỉ một hồ sơ")

        page.click("[data-tab='procedures']")
        form = page.locator("#procedure-form")
        fill(form, {"code": "GT-DK", "name_vi": "Đăng ký xe mô tô, xe gắn máy", "name_en": "Motorbike registration",
                    "field": "transport", "statutory_days": "3"})
        form.locator("[name='department']").select_option("transport")
        for label in ("Thẻ căn cước / Căn cước công dân", "Giấy tờ tàu thuyền"):
            form.locator("#procedure-documents label.check", has_text=label).locator("input").check()
        form.locator("#procedure-services label.check", has_text="Phương tiện").locator("input").check()
        form.locator("button[type='submit']").click()
        page.wait_for_selector("#procedures tr[data-procedure='GT-DK']")
        assert page.locator("#procedures tr").count() > MANY
        page.fill("#procedure-filter", "dang ky xe mo to")  # no accents, as typed in a hurry
        expect(page.locator("#procedures tr")).to_have_count(1)
        assert page.get_attribute("#procedures tr", "data-procedure") == "GT-DK"
        page.fill("#procedure-filter", "trường hợp 14")
        expect(page.locator("#procedures tr")).to_have_count(11)  # 14 and 140-149
        page.fill("#procedure-filter", "")

        page.click("[data-tab='branches']")
        form = page.locator("#new-branch")
        fill(form, {"id": "hd-01", "name_vi": "Trung tâm Hà Đông", "name_en": "Ha Dong Centre",
                    "address_vi": "1 Quang Trung, Hà Đông", "address_en": "1 Quang Trung, Ha Dong",
                    "lat": "20,97", "lon": "105.78", "unit_code": "000.00.15.h29"})
        form.locator("button[type='submit']").click()
        page.wait_for_selector("#branches tr[data-branch='hd-01']")

        page.click("[data-tab='users']")
        form = page.locator("#new-user")
        fill(form, {"username": "gt1", "password": PASSWORD})
        form.locator("[name='role']").select_option("department")
        form.locator("button[type='submit']").click()
        page.wait_for_selector("#message.bad")  # no department chosen
        assert page.text_content("#message") == "Hãy chọn phòng."
        form.locator("[name='department']").select_option("transport")
        form.locator("button[type='submit']").click()
        page.wait_for_selector("#users tr[data-user='gt1']")
        assert page.locator("#users tr[data-user='gt1'] [name='department']").input_value() == "transport"

        # The next citizen of the new service: their dossier follows the new procedure, to the new department.
        ticket = live_app.post("/branches/hk-01/tickets", "kiosk1", {"service": "vehicles"}).json()
        assert live_app.post("/branches/hk-01/counters/9/next", "off1").json()["ticket"]["id"] == ticket["id"]
        offered = requests.get(f"{live_app.api}/procedures?service=vehicles", timeout=5).json()
        assert [(p["code"], [d["kind"] for d in p["documents"]]) for p in offered] == [
            ("GT-DK", ["id_card", "boat_papers"])]
        opened = live_app.post("/dossiers", "off1", {"procedure": "GT-DK", "citizen": CITIZEN, "ticket": ticket["id"]})
        assert opened.status_code == 201, opened.text
        assert (opened.json()["department"], opened.json()["due_date"] > opened.json()["received_at"][:10]) == (
            "transport", True)
        branch = requests.get(f"{live_app.api}/admin/network", timeout=5,
                              headers={"Authorization": f"Bearer {live_app.tokens['admin']}"}).json()
        assert next(b for b in branch["branches"] if b["id"] == "hd-01")["unit_code"] == "000.00.15.H29"

        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            for tab in ("departments", "procedures", "kinds"):
                page.click(f"[data-tab='{tab}']")
                assert page.evaluate(LAYOUT, tab) == [], (tab, width)
                screenshot(page, f"admin-{tab}-{width}x{height}")
    finally:
        context.close()
