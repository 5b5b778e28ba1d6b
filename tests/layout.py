"""Layout checks by program, in the page: text clipped in a table cell, a table wider than its card,
cards overlapping, anything past the window's right edge. Each returns what it found, [] when clean."""
from __future__ import annotations

PROBLEMS = """(scope) => {
  const found = [];
  const root = document.querySelector(scope) || document.body;
  // What is read by a screen reader only (.visually-hidden, clipped to nothing) is not laid out to be seen.
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden' &&
    !el.closest('.visually-hidden');
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


# WCAG's contrast ratio of two CSS colours as the page computes them (rgb()/rgba(), alpha ignored).
CONTRAST = """(pair) => {
  const lum = (css) => {
    const [r, g, b] = css.match(/[\\d.]+/g).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [a, b] = [lum(pair[0]), lum(pair[1])];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""

# The colour behind an element: its own background, else the nearest ancestor's that is not transparent.
BACKGROUND = """(el) => {
  for (let at = el; at; at = at.parentElement) {
    const bg = getComputedStyle(at).backgroundColor;
    if (bg && bg !== 'transparent' && !/rgba\\(.*,\\s*0\\)$/.test(bg)) return bg;
  }
  return 'rgb(255, 255, 255)';
}"""


def contrast(page, first: str, second: str) -> float:
    return page.evaluate(CONTRAST, [first, second])


def text_contrasts(page, selector: str) -> dict[str, float]:
    """Each shown element's text against what is behind it, by its text."""
    found = page.eval_on_selector_all(selector, f"""(els) => els.filter((el) => el.getClientRects().length)
        .map((el) => [el.textContent.trim(), getComputedStyle(el).color, ({BACKGROUND})(el)])""")
    return {text: contrast(page, color, back) for text, color, back in found}


def focus_ring_contrast(page, selector: str) -> float:
    """The focus outline of the (focused) element against what is around it; 0 without an outline."""
    ring, width, around = page.eval_on_selector(selector, f"""(el) => [getComputedStyle(el).outlineColor,
        parseFloat(getComputedStyle(el).outlineWidth) || 0, ({BACKGROUND})(el.parentElement)]""")
    return contrast(page, ring, around) if width >= 2 else 0.0
