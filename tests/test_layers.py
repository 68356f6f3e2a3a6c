"""The package's layers: each folder depends only on the folders before it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "intermt_schema"
LAYERS = ["_errors", "schema", "validation", "tree", "io", "formats", "sampling", "scale",
          "publish", "viewer", "cli"]  # fmt: skip
"""Lowest first; ``testing`` and the package's ``__init__`` sit on top."""


def _layer(module: str) -> int:
    first = module.split(".")[0]
    return LAYERS.index(first) if first in LAYERS else len(LAYERS)


def _runtime_imports(path: Path) -> list[tuple[int, str]]:
    """``(line, imported module relative to the package)`` of every import that runs,
    inside functions too; ``if TYPE_CHECKING:`` blocks are left out."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for child in node.body for n in ast.walk(child)}
    package = path.relative_to(PACKAGE).parent.parts
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or id(node) in skipped or not node.level:
            continue
        base = list(package[: len(package) - (node.level - 1)])
        target = ".".join([*base, *(node.module or "").split(".")]).strip(".")
        if node.module is None:  # from . import a, b: each name is a module
            found += [(node.lineno, ".".join([*base, a.name])) for a in node.names]
        else:
            found.append((node.lineno, target))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_the_layers(path: Path) -> None:
    own = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    upward = [
        f"line {line}: {target}"
        for line, target in _runtime_imports(path)
        if target and _layer(target) > _layer(own)
    ]
    assert not upward, f"{own} imports from a higher layer: {upward}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_420_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 420


def test_the_public_surface_is_curated_and_cheap_to_import() -> None:
    import subprocess
    import sys
    import types

    import intermt_schema as im

    assert sorted(dir(im)) == sorted(im.__all__)
    for name in im.__all__:
        value = getattr(im, name)
        function = isinstance(value, types.FunctionType)
        if function or (isinstance(value, type) and issubclass(value, Exception)):
            assert value.__module__ == "intermt_schema", name  # as users import it
    code = "import sys, intermt_schema; print('pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # pydantic is imported only when it is needed
    assert im.pydantic_model(im.DialogueTree).__name__ == "DialogueTree"
