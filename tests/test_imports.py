"""The import graph of ``guard``: no cycles, and the training code kept apart from the demo's data.

The graph is built from the source with :mod:`ast`, not by importing anything, so every
import counts wherever it is written: at module level, under ``if TYPE_CHECKING:``, inside
a function or a ``try``. A cycle closed by a type-only or a deferred import still ties the
modules into one design (neither can be understood, moved or tested without the other); the
deferral only hides it from the interpreter. Imports built at run time
(``importlib.import_module``) are not seen.

A node is a module: ``guard/x/y.py`` is ``guard.x.y`` and ``guard/x/__init__.py`` is
``guard.x``. An edge is an import written in the source:

- ``import guard.x.y`` is an edge to ``guard.x.y``;
- ``from guard.x import y`` is an edge to ``guard.x.y`` when that is a module, else to
  ``guard.x`` (a name defined or re-exported by the package's ``__init__``); relative
  imports are resolved against the importing module's package first;
- a name that is no module at all resolves to its longest prefix that is one.

Packages: a package's ``__init__`` importing its own submodules (``guard.x`` ->
``guard.x.y``) is an ordinary edge. So is a submodule importing its package's ``__init__``
by name (``from guard.x import Name`` in ``guard.x.y``, ``guard.x.y`` -> ``guard.x``): the
submodule then depends on the facade that depends on it, and it runs against a half-loaded
``__init__``, so with an ``__init__`` that imports it this is reported as a cycle, as it
should be. What is *not* an edge is the parent package that Python loads implicitly before
any submodule (``import guard.x.y`` runs ``guard/x/__init__.py`` first): counting it would
make every package whose ``__init__`` re-exports a submodule that imports a sibling look
cyclic, although the ``__init__`` is only a facade nothing inside depends on. The
reachability check below does add those implicit loads, because there the question is what
importing the training code loads at run time, not how the design is layered.
"""

from __future__ import annotations

import ast
import textwrap
from collections import deque
from collections.abc import Iterator
from pathlib import Path

GUARD = Path(__file__).resolve().parent.parent / "guard"
TRAINING = "guard.learn"
DEMO_DATA = "guard.demo.data"

Graph = dict[str, dict[str, list[int]]]
"""Module -> imported module -> the lines of the importing file that import it."""


def module_files(root: Path) -> dict[str, Path]:
    """Every module of the package at ``root``, by dotted name."""
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _known_prefix(name: str, known: dict[str, Path]) -> str | None:
    """``name`` if it is a module, else its longest prefix that is one."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _targets(module: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """The package modules that ``module`` imports, each with the line importing it."""
    top = module.partition(".")[0]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == top or alias.name.startswith(f"{top}."):
                    target = _known_prefix(alias.name, known)
                    if target is not None:
                        yield target, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            if source != top and not source.startswith(f"{top}."):
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                target = submodule if submodule in known else _known_prefix(source, known)
                if target is not None:
                    yield target, node.lineno


def import_graph(root: Path) -> Graph:
    """The import graph of the package at ``root``, as the module docstring defines it."""
    known = module_files(root)
    graph: Graph = {module: {} for module in known}
    for module, path in known.items():
        for target, line in _targets(module, path, known):
            lines = graph[module].setdefault(target, [])
            if line not in lines:
                lines.append(line)
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components with more than one module, and self-importing
    modules, each sorted, in sorted order (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while not component or component[-1] != node:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def describe(graph: Graph, component: list[str]) -> str:
    """A cycle's modules, then each import inside it with its lines."""
    members = set(component)
    lines = [", ".join(component)]
    for module in component:
        for target, at in sorted(graph[module].items()):
            if target in members:
                where = ", ".join(map(str, at))
                lines.append(f"    {module} -> {target} (line {where})")
    return "\n".join(lines)


def with_implicit_parents(graph: Graph) -> Graph:
    """``graph`` plus an edge from each module to its parent package, which Python loads
    first."""
    loaded: Graph = {module: dict(targets) for module, targets in graph.items()}
    for module, targets in loaded.items():
        parent = module.rpartition(".")[0]
        if parent in loaded:
            targets.setdefault(parent, [])
    return loaded


def path_to(graph: Graph, start: str, goal: str) -> list[str] | None:
    """A shortest chain of imports from ``start`` to ``goal``, if there is one."""
    came_from: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            chain = [node]
            while (previous := came_from[chain[-1]]) is not None:
                chain.append(previous)
            return chain[::-1]
        for target in sorted(graph[node]):
            if target not in came_from:
                came_from[target] = node
                queue.append(target)
    return None


def test_the_graph_builder_sees_every_kind_of_import(tmp_path: Path) -> None:
    """Type-only, deferred, relative and package imports all become edges, as documented."""
    files = {
        "pkg/__init__.py": "from pkg.sub import a\n",
        "pkg/sub/__init__.py": "from . import a, b\n",
        "pkg/sub/a.py": """
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from pkg.sub.b import Thing
            """,
        "pkg/sub/b.py": """
            def later() -> None:
                from ..sub import a, helper
            """,
        "pkg/c.py": "import pkg.sub.a\nfrom .c import Name\nfrom pkg.nowhere import x\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    graph = import_graph(tmp_path / "pkg")
    assert {module: sorted(targets) for module, targets in graph.items()} == {
        "pkg": ["pkg.sub.a"],
        "pkg.sub": ["pkg.sub.a", "pkg.sub.b"],
        "pkg.sub.a": ["pkg.sub.b"],
        "pkg.sub.b": ["pkg.sub", "pkg.sub.a"],
        "pkg.c": ["pkg", "pkg.c", "pkg.sub.a"],
    }
    assert cycles(graph) == [["pkg.c"], ["pkg.sub", "pkg.sub.a", "pkg.sub.b"]]
    assert path_to(graph, "pkg.sub.a", "pkg") is None
    assert path_to(with_implicit_parents(graph), "pkg.sub.a", "pkg") == [
        "pkg.sub.a",
        "pkg.sub",
        "pkg",
    ]


def test_guard_has_no_import_cycles() -> None:
    """No module of guard imports itself or, through other guard modules, one that imports it."""
    graph = import_graph(GUARD)
    assert {"guard", "guard.learn.simulate", DEMO_DATA} <= set(graph)
    found = cycles(graph)
    report = "\n".join(f"  {describe(graph, component)}" for component in found)
    assert not found, f"{len(found)} import cycle(s) in guard:\n{report}"


def test_training_code_does_not_import_the_demo_data() -> None:
    """No module of guard.learn loads guard.demo.data, directly or through other guard modules."""
    graph = with_implicit_parents(import_graph(GUARD))
    training = sorted(m for m in graph if m == TRAINING or m.startswith(f"{TRAINING}."))
    assert "guard.learn.simulate" in training
    chains = {module: path_to(graph, module, DEMO_DATA) for module in training}
    found = [" -> ".join(chain) for chain in chains.values() if chain is not None]
    report = "\n".join(f"  {chain}" for chain in found)
    assert not found, f"guard.learn reaches {DEMO_DATA}:\n{report}"
