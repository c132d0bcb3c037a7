"""The package's shape is checked, not hoped for: layers, imports at module level, module sizes."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

PACKAGE = ROOT / "lib" / "insats"
MAX_LINES = 600
"""A module above this many lines must say at its top why it is one module."""


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_layer_contract_holds():
    """import-linter's layers contract (pyproject.toml): a wrong-way import fails the suite."""
    exe = Path(sys.executable).parent / "lint-imports"
    cmd = [str(exe)] if exe.exists() else [shutil.which("lint-imports") or "lint-imports"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def _nested_imports(path: Path) -> list[tuple[int, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []

    def visit(node: ast.AST, inside: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if inside and isinstance(child, (ast.Import, ast.ImportFrom)):
                here = lines[child.lineno - 1]
                k = child.lineno - 2  # the line above the block of imports this one belongs to
                while k >= 0 and lines[k].strip().startswith(("import ", "from ")):
                    k -= 1
                above = lines[k] if k >= 0 else ""
                if "#" not in here and not above.strip().startswith("#"):
                    found.append((child.lineno, here.strip()))
            visit(child, inside or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(ast.parse("\n".join(lines)), False)
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_inside_functions_say_why(path):
    """Imports belong at module level; one inside a function carries a comment saying why
    (a heavy or optional dependency, or keeping ``insats --help`` fast)."""
    assert _nested_imports(path) == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_are_small_or_say_why(path):
    text = path.read_text(encoding="utf-8")
    if text.count("\n") > MAX_LINES:
        head = ast.get_docstring(ast.parse(text)) or ""
        assert "One module because" in head, f"{path.name} has {text.count(chr(10))} lines and no reason at its top"


def test_no_references_to_a_design_file_outside_the_repository():
    """The design lives in docs/design.md; nothing points to a DESIGN.md a user who clones the
    project does not have."""
    offenders = []
    for path in [
        *_modules(),
        ROOT / "README.md",
        *(ROOT / "docs").glob("*.md"),
        *(ROOT / "notebooks").rglob("*.ipynb"),
    ]:
        if "DESIGN.md" in path.read_text(encoding="utf-8"):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
    assert (ROOT / "docs" / "design.md").is_file()
