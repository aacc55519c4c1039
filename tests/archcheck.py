"""Static architecture checks over ``src/hyperpunch`` (used by ``tests/test_architecture.py``).

Run ``python tests/archcheck.py`` for the counts (circles, private names, hidden imports, ignores).

What it measures, from the source text only (nothing is imported):

* the module import graph, counting every import: top level, inside functions and under
  ``if TYPE_CHECKING:``; its strongly connected components of two or more modules are circles;
* private names (``_x``, not dunders) imported from another hyperpunch module;
* private attribute reaches: ``obj._x`` (read or written) where this module defines no ``_x`` (as
  a function, class, module- or class-level name, slot, or ``self._x = ...`` assignment). A subclass using its base
  class's private state counts as a reach too;
* imports of asyncio, a clock or threads in the modules declared as sans-IO cores.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src" / "hyperpunch"

# Modules that import none of these may call themselves sans-IO cores.
IO_MODULES = frozenset({"asyncio", "time", "socket", "selectors", "threading", "concurrent"})

# Private names of the standard library's public types that are public API in disguise.
STDLIB_PRIVATE_API = frozenset({"_replace", "_asdict", "_fields", "_make", "_field_defaults"})


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    is_package: bool
    imports: list[tuple[str, int, str]] = field(default_factory=list)  # (target, line, kind)
    defined_private: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Finding:
    module: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.text}"


def module_name(root: Path, path: Path) -> tuple[str, bool]:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def load(root: Path = ROOT) -> dict[str, Module]:
    mods: dict[str, Module] = {}
    for path in sorted(root.rglob("*.py")):
        name, is_package = module_name(root, path)
        tree = ast.parse(path.read_text(), str(path))
        mods[name] = Module(name, path, tree, is_package)
    top = root.name
    for mod in mods.values():
        _collect_imports(mod, mods, top)
        mod.defined_private = _defined_private(mod.tree)
    return mods


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _walk_with_context(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """Yield (node, kind): kind is 'function', 'type_checking' or 'top'."""

    def visit(node: ast.AST, kind: str) -> Iterator[tuple[ast.AST, str]]:
        for child in ast.iter_child_nodes(node):
            child_kind = kind
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                child_kind = "function"
            yield child, child_kind
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    yield stmt, "type_checking"
                    yield from visit(stmt, "type_checking")
                for stmt in child.orelse:
                    yield stmt, child_kind
                    yield from visit(stmt, child_kind)
                continue
            yield from visit(child, child_kind)

    yield from visit(tree, "top")


def _resolve_relative(mod: Module, level: int, target: str | None) -> str:
    base = mod.name.split(".")
    if not mod.is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def _collect_imports(mod: Module, mods: dict[str, Module], top: str) -> None:
    for node, kind in _walk_with_context(mod.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == top or alias.name.startswith(top + "."):
                    mod.imports.append((_nearest_module(alias.name, mods), node.lineno, kind))
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_relative(mod, node.level, node.module) if node.level else (node.module or "")
            if not (base == top or base.startswith(top + ".")):
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}"
                target = full if full in mods else _nearest_module(base, mods)
                mod.imports.append((target, node.lineno, kind))


def _nearest_module(name: str, mods: dict[str, Module]) -> str:
    while name not in mods and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _defined_private(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls")
        ):
            names.add(node.attr)  # writing another object's private field is a reach, not a definition
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("_"):
            names.add(node.value)  # __slots__ entries, getattr/setattr with a literal name
    return {n for n in names if _is_private(n)}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def import_graph(mods: dict[str, Module]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in mods}
    for mod in mods.values():
        for target, _line, _kind in mod.imports:
            if target in mods and target != mod.name:
                graph[mod.name].add(target)
    return graph


def circles(mods: dict[str, Module]) -> list[list[str]]:
    """Strongly connected components of two or more modules (Tarjan, iterative)."""
    graph = import_graph(mods)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            advanced = False
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def private_imports(mods: dict[str, Module]) -> list[Finding]:
    out: list[Finding] = []
    top = ROOT.name if not mods else next(iter(mods)).split(".")[0]
    for mod in mods.values():
        for node in ast.walk(mod.tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = _resolve_relative(mod, node.level, node.module) if node.level else (node.module or "")
            if not (base == top or base.startswith(top + ".")):
                continue
            for alias in node.names:
                if _is_private(alias.name) and f"{base}.{alias.name}" not in mods:
                    out.append(Finding(mod.name, node.lineno, f"imports {alias.name} from {base}"))
    return out


def private_reaches(mods: dict[str, Module]) -> list[Finding]:
    out: list[Finding] = []
    for mod in mods.values():
        for node in ast.walk(mod.tree):
            if not isinstance(node, ast.Attribute) or not _is_private(node.attr):
                continue
            if node.attr in mod.defined_private or node.attr in STDLIB_PRIVATE_API:
                continue
            out.append(Finding(mod.name, node.lineno, f"reaches .{node.attr} ({ast.unparse(node)})"))
    return out


def hidden_imports(mods: dict[str, Module]) -> tuple[list[Finding], list[Finding]]:
    """(function-level imports of hyperpunch modules, TYPE_CHECKING imports of hyperpunch modules)."""
    in_functions: list[Finding] = []
    type_checking: list[Finding] = []
    for mod in mods.values():
        for target, line, kind in mod.imports:
            if kind == "function":
                in_functions.append(Finding(mod.name, line, f"imports {target} inside a function"))
            elif kind == "type_checking":
                type_checking.append(Finding(mod.name, line, f"imports {target} under TYPE_CHECKING"))
    return in_functions, type_checking


def io_in_cores(mods: dict[str, Module], cores: Iterable[str]) -> list[Finding]:
    out: list[Finding] = []
    for name in cores:
        mod = mods.get(name)
        if mod is None:
            out.append(Finding(name, 0, "declared as a core but no such module"))
            continue
        for node in ast.walk(mod.tree):
            roots: list[str] = []
            if isinstance(node, ast.Import):
                roots = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = [node.module.split(".")[0]]
            for root in roots:
                if root in IO_MODULES:
                    out.append(Finding(name, node.lineno, f"a sans-IO core imports {root}"))
    return out


def type_ignores(root: Path = ROOT) -> int:
    return sum(p.read_text().count("type: ignore") for p in root.rglob("*.py"))


def main(argv: list[str]) -> int:
    mods = load()
    found = circles(mods)
    in_functions, type_checking = hidden_imports(mods)
    reaches = private_reaches(mods)
    imports = private_imports(mods)
    verbose = "-v" in argv
    print(f"modules: {len(mods)}")
    print(f"import circles: {len(found)} over {sum(len(c) for c in found)} modules")
    for c in found:
        print("  circle:", ", ".join(c))
    print(f"private names imported across modules: {len(imports)}")
    print(f"private attribute reaches across modules: {len(reaches)}")
    print(f"hyperpunch imports inside functions: {len(in_functions)}")
    print(f"hyperpunch imports under TYPE_CHECKING: {len(type_checking)}")
    print(f"type: ignore comments: {type_ignores()}")
    if verbose:
        for f in [*imports, *reaches, *in_functions, *type_checking]:
            print("  ", f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
