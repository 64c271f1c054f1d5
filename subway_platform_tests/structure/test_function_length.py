"""No function of ``subway_platform/assets/`` is longer than 60 lines (issue 21 floor 3):
a step is a plan, a publish and a judgment, each small enough to read and test alone."""

from __future__ import annotations

import ast
from pathlib import Path

from subway_platform_tests.structure.probe import PACKAGE

MAX_LINES = 60


def function_lengths(source: str) -> dict[str, int]:
    """Every function of ``source`` (nested ones included, by their dotted path) -> its
    lines, from its first decorator to its last line."""
    lengths: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                assert child.end_lineno is not None
                lengths[name] = child.end_lineno - first + 1
            visit(child, f"{name}." if name != prefix else prefix)

    visit(ast.parse(source), "")
    return lengths


def test_the_measure_counts_nested_functions_and_decorators() -> None:
    """A nested function is measured on its own, from its decorator, and inside its outer one."""
    body = "\n".join(f"        x{i} = {i}" for i in range(60))
    source = f"def outer():\n    @decorator\n    def inner():\n{body}\n    return inner\n"
    assert function_lengths(source) == {"outer": 64, "outer.inner": 62}


def test_no_function_of_assets_is_longer_than_60_lines() -> None:
    too_long = {
        f"{path.name}:{name}": lines
        for path in sorted(Path(PACKAGE, "assets").glob("*.py"))
        for name, lines in function_lengths(path.read_text(encoding="utf-8")).items()
        if lines > MAX_LINES
    }
    assert too_long == {}
