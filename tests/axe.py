"""An accessibility audit in the page: axe-core (vendored for the tests only, tests/vendor/axe-core)
run against WCAG 2.1 levels A and AA. Each call returns the violations as sentences, [] when clean."""
from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

RUN = """async ([scope, tags]) => {
  const result = await axe.run(document.querySelector(scope) || document,
                               {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map((v) => v.id + ' (' + v.impact + '): ' + v.help + ' at ' +
    v.nodes.slice(0, 5).map((n) => n.target.join(' ') + (n.failureSummary ? ' [' +
      n.failureSummary.replace(/\\s+/g, ' ').slice(0, 160) + ']' : '')).join('; ') +
    (v.nodes.length > 5 ? ' and ' + (v.nodes.length - 5) + ' more' : ''));
}"""


def violations(page, scope: str = "html", tags: list[str] | None = None) -> list[str]:
    """WCAG 2.1 A and AA violations axe-core finds in the page as it stands now (under scope)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN, [scope, tags or WCAG_21_AA])
