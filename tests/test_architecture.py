"""The package's shape (DESIGN.md, "Layers"): module size, no import cycles, and the layering rules.

Read from the source with `ast`, so nothing here imports the modules it checks, and every import
statement counts: module level, inside functions, and under `if TYPE_CHECKING:` (a cycle of
type-only imports is still two modules that cannot be read one without the other). Importing a
submodule is not counted as importing its parent package's `__init__` (Python runs that first
anyway, so it cannot make a cycle worth reporting).

Expected state while issue 16 is under way: provision/, migrate/ and budget/ (and the cli modules of
the provisioning commands: user, team, org, key) are being split and untangled in parallel branches,
so the module-size, cycle and cli checks may name those modules until the branches are merged.
Everything else passes now, and all of it must once they are.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from helpers import ROOT

PACKAGE = ROOT / "litellm_dbctl"
MAX_LINES = 500
# The layers below the command groups: who may import what, inside litellm_dbctl.
LOWER_LAYERS = {"common": {"common"}, "db": {"common", "db"}}
NOT_IN_COMMON = ("psycopg", "redis", "typer", "rich")  # common/ does no I/O and knows no CLI


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (a litellm_dbctl module, or the top-level name of another package)
    line: int

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} ({_path(self.source)}:{self.line})"


@cache
def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name, for its __init__)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _path(module: str) -> str:
    return str(modules()[module].relative_to(ROOT))


def _is_package(module: str) -> bool:
    return modules()[module].name == "__init__.py"


def _resolve(name: str) -> str:
    """The litellm_dbctl module `import name` loads: `name` itself, or the nearest module above it
    (`from litellm_dbctl.db.config import Target` imports litellm_dbctl.db.config)."""
    while name not in modules() and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


@cache
def imports(module: str) -> tuple[Import, ...]:
    return read_imports(module, modules()[module].read_text(), package=_is_package(module))


def read_imports(module: str, text: str, *, package: bool = False) -> tuple[Import, ...]:
    """What `module` (source `text`) imports anywhere in its body: litellm_dbctl modules by dotted
    name, other packages by their top-level name."""
    tree = ast.parse(text, module)
    parent = module if package else module.rsplit(".", 1)[0]
    found: dict[tuple[str, int], Import] = {}  # one per target and line: `from x import a, b` is one import of x
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = parent.rsplit(".", node.level - 1)[0] if node.level > 1 else parent
                base = f"{anchor}.{base}" if base else anchor
            # `from package import name` imports the submodule `name` when there is one.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules() else base for alias in node.names]
        else:
            continue
        for name in names:
            target = _resolve(name) if name.split(".")[0] == "litellm_dbctl" else name.split(".")[0]
            found.setdefault((target, node.lineno), Import(module, target, node.lineno))
    return tuple(found.values())


def internal_imports(module: str) -> Iterator[Import]:
    return (i for i in imports(module) if i.target in modules() and i.target != module)


def subpackage(module: str) -> str:
    """`db` for litellm_dbctl.db.config; '' for litellm_dbctl and litellm_dbctl.__main__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and f"litellm_dbctl.{parts[1]}" in modules() and _is_package(
        f"litellm_dbctl.{parts[1]}") else ""


SUBPACKAGES = sorted({subpackage(m) for m in modules()} - {""})


def test_every_form_of_import_is_read() -> None:
    """A guard for the checks below: function-level, type-only, relative and `from package import module`."""
    text = """
import re
from typing import TYPE_CHECKING

from litellm_dbctl.db import sqlfiles
from . import config
from ..common.errors import InvalidInput

if TYPE_CHECKING:
    import psycopg.rows

def later() -> None:
    from litellm_dbctl.migrate.indexes import REQUEST_LOG_INDEXES
"""
    found = {(i.target, i.line) for i in read_imports("litellm_dbctl.db.example", text)}
    assert found == {("re", 2), ("typing", 3), ("litellm_dbctl.db.sqlfiles", 5), ("litellm_dbctl.db.config", 6),
                     ("litellm_dbctl.common.errors", 7), ("psycopg", 10), ("litellm_dbctl.migrate.indexes", 13)}
    assert {"common", "db", "cli", "spend", "daily"} <= set(SUBPACKAGES)


@pytest.mark.parametrize("package", ["", *SUBPACKAGES])
def test_no_module_over_500_lines(package: str) -> None:
    over = [f"{_path(m)}: {len(p.read_text().splitlines())} lines" for m, p in modules().items()
            if subpackage(m) == package and len(p.read_text().splitlines()) > MAX_LINES]
    assert not over, f"modules over {MAX_LINES} lines (split them by concern):\n" + "\n".join(over)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return components


def test_cycles_are_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    graph = {m: {i.target for i in internal_imports(m)} for m in modules()}
    problems = []
    for component in _cycles(graph):
        edges = [str(i) for m in component for i in internal_imports(m) if i.target in component]
        problems.append("cycle among " + ", ".join(component) + ":\n  " + "\n  ".join(edges))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("layer", sorted(LOWER_LAYERS))
def test_lower_layers_import_only_what_is_below(layer: str) -> None:
    """common/ imports only common; db/ only common and db (DESIGN.md: cli -> group -> db -> PostgreSQL)."""
    allowed = LOWER_LAYERS[layer]
    wrong = [str(i) for m in modules() if subpackage(m) == layer for i in internal_imports(m)
             if subpackage(i.target) not in allowed]
    assert not wrong, f"{layer}/ may import only {', '.join(sorted(allowed))}:\n" + "\n".join(wrong)


def test_common_does_no_io() -> None:
    wrong = [str(i) for m in modules() if subpackage(m) == "common" for i in imports(m) if i.target in NOT_IN_COMMON]
    assert not wrong, "common/ has no database, Redis or CLI:\n" + "\n".join(wrong)


def test_library_does_not_import_the_cli() -> None:
    wrong = [str(i) for m in modules() if subpackage(m) != "cli" and m != "litellm_dbctl.__main__"
             for i in internal_imports(m) if subpackage(i.target) == "cli"]
    assert not wrong, "the library never imports the CLI:\n" + "\n".join(wrong)


def _cli_groups() -> set[str]:
    """The modules of the command groups, as cli/__init__.py's GROUPS names them."""
    tree = ast.parse(modules()["litellm_dbctl.cli"].read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "GROUPS":
            groups = ast.literal_eval(node.value) if node.value else {}
            return {module for module, _ in groups.values()}
    raise AssertionError("cli/__init__.py has no GROUPS")


@pytest.mark.parametrize("module", sorted(m for m in modules() if subpackage(m) == "cli"))
def test_cli_modules_do_not_import_another_groups(module: str) -> None:
    """A cli module imports cli/__init__, cli/common and other shared (non-group) cli modules, never a
    command group's module: what two groups share goes into a shared module."""
    groups = _cli_groups()
    assert "litellm_dbctl.cli.spend" in groups
    wrong = [str(i) for i in internal_imports(module) if i.target in groups]
    assert not wrong, "imports another command group's module:\n" + "\n".join(wrong)
