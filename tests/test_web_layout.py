"""The web layer's modules (motcua.web): each imports on its own, and none imports another that imports it
back, at the top or inside a function."""
from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import motcua.web

PACKAGE = "motcua.web"
MODULES = sorted(m.name for m in pkgutil.iter_modules(motcua.web.__path__))


def imported(module: str) -> set[str]:
    """The modules of motcua.web that module imports, wherever in it the import stands."""
    tree = ast.parse(Path(motcua.web.__path__[0], module + ".py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                base = node.module
            elif node.level == 0 and (node.module or "").startswith(PACKAGE + "."):
                base = node.module.removeprefix(PACKAGE + ".")
            else:
                continue
            if base is None:   # from . import a, b
                found |= {alias.name for alias in node.names}
            else:
                found.add(base.partition(".")[0])
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix(PACKAGE + ".").partition(".")[0] for a in node.names
                      if a.name.startswith(PACKAGE + ".")}
    return found & set(MODULES)


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as the modules along it (the first again at the end), or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_one():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_on_its_own(module):
    importlib.import_module(f"{PACKAGE}.{module}")


def test_no_module_of_the_web_layer_imports_one_that_imports_it_back():
    graph = {module: imported(module) - {module} for module in MODULES}
    assert cycle(graph) is None, " -> ".join(cycle(graph))


def test_only_the_guards_read_a_route_s_caller_from_the_request():
    """A route's caller is checked by the Caller its @operation names (motcua.web.guards), not in its handler."""
    reading = [m for m in MODULES if m != "guards"
               if "bearer(" in Path(motcua.web.__path__[0], m + ".py").read_text(encoding="utf-8")]
    assert reading == []
