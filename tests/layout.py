"""Layout checks by program, in the page: text clipped in a table cell, a table wider than its card,
cards overlapping, anything past the window's right edge. Each returns what it found, [] when clean."""
from __future__ import annotations

PROBLEMS = """(scope) => {
  const found = [];
  const root = document.querySelector(scope) || document.body;
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
    ' "' + (el.textContent || '').trim().slice(0, 40) + '"';
  for (const cell of root.querySelectorAll('th, td')) {
    if (shown(cell) && cell.scrollWidth > cell.clientWidth + 1) found.push('clipped ' + name(cell));
  }
  for (const table of root.querySelectorAll('table')) {
    const card = table.closest('.card, .scroll');
    if (!card || !shown(table)) continue;
    const outer = card.getBoundingClientRect(), inner = table.getBoundingClientRect();
    if (inner.right > outer.right + 1 || inner.left < outer.left - 1) found.push('table past its card ' + name(table));
  }
  const cards = [...root.querySelectorAll('.card, section, .counter-card')].filter(shown);
  for (let i = 0; i < cards.length; i++) {
    for (let j = i + 1; j < cards.length; j++) {
      const a = cards[i], b = cards[j];
      if (a.contains(b) || b.contains(a)) continue;
      const p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
      if (p.left < q.right - 1 && q.left < p.right - 1 && p.top < q.bottom - 1 && q.top < p.bottom - 1) {
        found.push('overlap ' + name(a) + ' / ' + name(b));
      }
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth) {
    found.push('page wider than the window: ' + document.documentElement.scrollWidth + ' > ' + window.innerWidth);
  }
  return found;
}"""


def problems(page, scope: str = "body") -> list[str]:
    """What is wrong with the layout under scope (a CSS selector), as sentences."""
    return page.evaluate(PROBLEMS, scope)


def scrolls_inside(page, selector: str) -> bool:
    """The element's content is taller than the element, and the element scrolls it (not the page)."""
    return page.eval_on_selector(selector, "(el) => el.scrollHeight > el.clientHeight + 1 && "
                                           "['auto', 'scroll'].includes(getComputedStyle(el).overflowY)")
