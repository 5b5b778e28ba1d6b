"""The wall display of a branch the administration closes: the whole screen says so in both languages, live,
and the calls and queues come back when it reopens (real Chromium against a real server)."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from conftest import screenshot
from motcua.i18n import text

WHOLE = """() => {
  const box = document.getElementById('closed').getBoundingClientRect();
  const cut = [...document.querySelectorAll('#closed > *')].filter((el) => {
    const b = el.getBoundingClientRect();
    return b.left < -0.5 || b.top < -0.5 || b.right > innerWidth + 0.5 || b.bottom > innerHeight + 0.5 ||
      el.scrollWidth > el.clientWidth + 1;
  }).map((el) => el.className);
  return {cut, covers: box.left <= 0 && box.top <= 0 && box.right >= innerWidth && box.bottom >= innerHeight};
}"""


def close(server, closed: bool) -> None:
    answer = requests.patch(f"{server.api}/admin/branches/hk-01", json={"closed": closed},
                            headers=server.auth("admin"), timeout=10)
    assert answer.ok, answer.text


@pytest.mark.parametrize("width, height", [(1920, 1080), (1080, 1920)])
def test_a_closed_branch_s_wall_says_it_is_closed_live_and_its_calls_return_when_reopened(server, chromium, width,
                                                                                        height):
    context = chromium.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.goto(server.base + "/display/hk-01")
        page.wait_for_function("() => document.body.dataset.closed === 'no'", timeout=10000)
        expect(page.locator("#closed")).to_be_hidden()
        close(server, True)
        expect(page.locator("#closed")).to_be_visible(timeout=10000)
        for lang in ("vi", "en"):
            expect(page.locator("#closed")).to_contain_text(text(lang, "display.branch_closed"))
            expect(page.locator("#closed")).to_contain_text(text(lang, "display.branch_closed_note"))
        assert page.evaluate(WHOLE) == {"cut": [], "covers": True}
        screenshot(page, f"wall-closed-{width}x{height}")
        close(server, False)
        expect(page.locator("#closed")).to_be_hidden(timeout=10000)
        expect(page.locator("#now")).to_be_visible()
    finally:
        close(server, False)
        context.close()
