"""Configuration enters in one place: no module of the package reads ``os.environ`` except
the composition root (``resources/environment.py``), ``configuration.py`` and the
command-line entry points (``subway-platform`` and its embedded services under
``platform/``, the ``dashboard`` command and its embedded Superset).

Read from the source (AST), so that a read inside a function the tests never call counts
too. Setting a process default (``os.environ.setdefault``, an assignment) is not a read.
"""

from __future__ import annotations

import ast
from pathlib import Path

from subway_platform_tests.structure.probe import PACKAGE, REPO

ALLOWED_MODULES = (
    "subway_platform/resources/environment.py",
    "subway_platform/configuration.py",
    "subway_platform/platform/",
    "subway_platform/dashboard/cli.py",
    "subway_platform/dashboard/server.py",
)
ALLOWED_FUNCTIONS: set[tuple[str, str]] = set()
"""(module, function) pairs allowed to read the environment: none today."""
_WRITES = {"setdefault"}


def environment_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, function)`` of every read of ``os.environ`` or ``os.getenv`` in ``tree``
    (``function``: the innermost enclosing function's name, ``""`` at module level)."""
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node

    def function_of(node: ast.AST) -> str:
        while node in parents:
            node = parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node.name
        return ""

    def is_os(node: ast.AST, attr: str) -> bool:
        return (
            isinstance(node, ast.Attribute)
            and node.attr == attr
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        )

    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if is_os(node, "getenv") or is_os(node, "getenvb"):
            found.append((node.lineno, function_of(node)))
        elif is_os(node, "environ"):
            parent = parents.get(node)
            if isinstance(parent, ast.Attribute) and parent.attr in _WRITES:
                continue
            if isinstance(parent, ast.Subscript) and isinstance(parent.ctx, ast.Store | ast.Del):
                continue
            found.append((node.lineno, function_of(node)))
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            if any(alias.name in ("environ", "getenv") for alias in node.names):
                found.append((node.lineno, function_of(node)))
    return sorted(found)


def test_the_rule_sees_reads_and_ignores_writes() -> None:
    source = (
        "import os\n"
        "A = os.environ.get('A')\n"
        "def f():\n"
        "    return os.environ['B'], os.getenv('C'), dict(os.environ)\n"
        "def g():\n"
        "    os.environ.setdefault('D', '1')\n"
        "    os.environ['E'] = '1'\n"
        "from os import environ\n"
    )
    assert environment_reads(ast.parse(source)) == [(2, ""), (4, "f"), (4, "f"), (4, "f"), (8, "")]


def test_only_the_composition_root_and_entry_points_read_the_environment() -> None:
    offenders: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(REPO).as_posix()
        if module.startswith(ALLOWED_MODULES):
            continue
        for line, function in environment_reads(ast.parse(path.read_text(encoding="utf-8"))):
            if (module, function) not in ALLOWED_FUNCTIONS:
                offenders.append(f"{module}:{line} ({function or 'module level'})")
    assert offenders == [], (
        "os.environ read outside resources/environment.py, configuration.py and the "
        "command-line entry points; make it a resource field wired in the composition "
        f"root, or pass it from the entry point: {offenders}"
    )


def test_the_exceptions_still_exist() -> None:
    """An allowed function that no longer reads the environment is taken off the list."""
    for module, function in ALLOWED_FUNCTIONS:
        tree = ast.parse((REPO / module).read_text(encoding="utf-8"))
        assert function in {f for _, f in environment_reads(tree)}, (module, function)
    for prefix in ALLOWED_MODULES:
        assert any(Path(REPO, prefix).parent.glob("*")), prefix
