"""The settings every page embeds (motcua.web.rendering.embedded_settings): a branch named like markup
leaves the wall display, the phone page and the dossier page whole in real headless Chromium, and
nothing it holds runs."""
from __future__ import annotations

import dataclasses
import json

import pytest

from motcua.web.rendering import embedded_settings

WAIT_MS = 5000
HOSTILE = {
    "comment-script": "<!--<script>",
    "closing-tag": "</script><script>alert(1)</script>",
    "comment": "<!--",
    "line-separator": "Hoàn\u2028Kiếm",
    "cdata-entity": "]]><img src=x onerror=alert(2)>&amp;&lt;",
}
CITIZEN = {"id_number": "001090012345", "name": "Trần Thị Bình", "phone": "0987654321"}


def named(app, api, name: str) -> None:
    """hk-02 named `name`, in both languages: through the admin API, as an admin would; a line
    separator, which that API refuses, as a scenario file loaded by `motcua init` may still bring it."""
    answer = api.request("PATCH", "/admin/branches/hk-02", "admin", {"name": {"vi": name, "en": name + " en"}})
    if answer.status_code != 200:
        assert "\u2028" in name, answer.text
        engine = app.extensions["motcua"].engine
        engine.branches["hk-02"] = dataclasses.replace(engine.branches["hk-02"], name_vi=name, name_en=name + " en")


@pytest.fixture
def browser(chromium):
    """A page with the CSP bypassed, so that only the embedding keeps a name's markup from running;
    the dialogs it opened and the errors it met."""
    context = chromium.new_context(bypass_csp=True)
    page = context.new_page()
    ran, errors = [], []
    page.on("dialog", lambda dialog: (ran.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, ran, errors
    context.close()


def script_sources(page) -> list[str]:
    return page.eval_on_selector_all("script", "all => all.map(s => s.getAttribute('src') || s.type)")


@pytest.mark.parametrize("name", HOSTILE.values(), ids=HOSTILE.keys())
def test_pages_render_a_hostile_branch_name_as_text_and_run_none_of_it(app, api, live_app, browser, name):
    page, ran, errors = browser
    named(app, api, name)
    ticket = api.issue("civil", who="kiosk2", branch="hk-02")
    dossier = api.post("/dossiers", "off1", {"procedure": "KD-TL", "citizen": CITIZEN, "return_branch": "hk-02"})
    assert dossier.status_code == 201, dossier.text

    page.goto(live_app.base + "/display/hk-02")
    page.wait_for_selector("[data-service='civil']", timeout=WAIT_MS)   # a card or a row of the table
    assert page.text_content("#branch-vi") == name and page.text_content("#branch-en") == name + " en"
    wall_scripts = script_sources(page)

    page.goto(f"{live_app.base}/t/{ticket['id']}")
    page.wait_for_selector("#card:not([hidden])", timeout=WAIT_MS)
    assert page.text_content("#branch .vi") == name

    page.goto(live_app.base + "/d/" + dossier.json["lookup_url"].split("/d/")[1])   # its code and check
    page.wait_for_selector("#dossier:not([hidden])", timeout=WAIT_MS)
    assert page.text_content("#return-branch").startswith(name)

    assert ran == [] and errors == []
    # The settings block and the page's own script files, nothing a name added.
    assert "application/json" in wall_scripts and all(s == "application/json" or s.startswith("/display/assets/")
                                                      for s in wall_scripts)


@pytest.mark.parametrize("name", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_embedded_settings_hold_no_markup_and_read_back_whole(name):
    settings = {"branch": {"name": {"vi": name}}, "texts": {"x": name + "\u2029&"}}
    block = embedded_settings(settings)
    assert not set(block) & set("<>&\u2028\u2029")
    assert json.loads(block) == settings


@pytest.mark.parametrize("path", ["/login", "/counter", "/manager", "/admin", "/department", "/display/hk-02",
                                  "/t/nope", "/d/", "/d/HK-01", "/r/"])
def test_every_page_embeds_its_settings_the_one_way(app, api, path):
    """Staff pages and public pages alike: whatever they carry reaches them escaped, and reads back."""
    named(app, api, "<!--<script>")
    html = api.client.get(path).get_data(as_text=True)
    opening = '<script id="motcua-settings" type="application/json">'
    start = html.index(opening) + len(opening)
    block = html[start:html.index("</script>", start)]
    assert not set(block) & set("<>&")
    assert json.loads(block)["texts"]


def test_the_start_page_lists_a_hostile_branch_name_as_text(app, api):
    named(app, api, "</script><script>alert(1)</script>")
    html = api.client.get("/").get_data(as_text=True)
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
