"""An import-linter contract that no module of the package takes part in an import cycle.

import-linter's own ``acyclic_siblings`` compares siblings only, so it misses a package whose
``__init__`` imports a submodule that imports the package back (``sonar.cli`` registering
``sonar.cli.users``, which imports ``sonar.cli``). This contract looks at every module: any
strongly connected group of modules, however their imports are placed (top level, inside a
function, under ``TYPE_CHECKING``), breaks it. Named in pyproject.toml as ``acyclic_modules``.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


class AcyclicModulesContract(Contract):
    """Options: ``package``, the root package whose modules are checked."""

    package = fields.StringField()

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        root = str(self.package)
        modules = sorted(m for m in graph.modules if m == root or m.startswith(root + "."))
        edges = {m: sorted(i for i in graph.find_modules_directly_imported_by(m)
                           if i == root or i.startswith(root + "."))
                 for m in modules}
        cycles = []
        for group in _strongly_connected(edges):
            path = _cycle_through(group[0], set(group), edges)
            cycles.append([(a, b, sorted({int(d["line_number"]) for d in
                                          graph.get_import_details(importer=a, imported=b)}))
                           for a, b in pairwise(path)])
        return ContractCheck(kept=not cycles, metadata={"cycles": cycles})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error(f"Import cycle through {cycle[0][0]}:", bold=True)
            for importer, imported, lines in cycle:
                output.print(f"    {importer} -> {imported} "
                             f"(l.{', l.'.join(str(n) for n in lines)})")
            output.new_line()


def _strongly_connected(edges: dict[str, list[str]]) -> Iterator[list[str]]:
    """Tarjan's algorithm, iteratively; yields each group of two or more modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for start, imported in edges.items():
        if start in index:
            continue
        work = [(start, iter(imported))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    yield sorted(group)


def _cycle_through(start: str, group: set[str], edges: dict[str, list[str]]) -> list[str]:
    """The shortest path from ``start`` back to itself inside its group."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in edges[node]:
                if child not in group or child in came_from:
                    continue
                came_from[child] = node
                if child == start:
                    path = [start]
                    while path[-1] != start or len(path) == 1:
                        path.append(came_from[path[-1]])
                    return path[::-1]
                following.append(child)
        frontier = following
    return [start, start]
