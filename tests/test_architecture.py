"""The shape of the code: layers import one way, public names match ``__all__``.

Layers: ``physics`` imports nothing of ours; ``surrogate`` imports ``physics``;
``experiments`` imports ``physics``; ``design`` may import all three. Only the console entry
point (``design.cli``) imports the CLI package. Checked on the source text (every import
statement, at module level or inside functions), so a lazy import cannot hide a wrong one.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("physics", "surrogate", "experiments", "design")
ALLOWED: dict[str, set[str]] = {
    "physics": {"physics"},
    "surrogate": {"physics", "surrogate"},
    "experiments": {"physics", "experiments"},
    "design": {"physics", "surrogate", "experiments", "design"},
}


def _modules() -> list[Path]:
    return sorted(p for layer in LAYERS for p in (ROOT / layer).rglob("*.py"))


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) of every import statement of our packages in ``path``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return [(n, m) for n, m in out if m.split(".")[0] in LAYERS]


def test_layers_import_one_way():
    wrong = []
    for path in _modules():
        layer = path.relative_to(ROOT).parts[0]
        for line, module in _imports(path):
            if module.split(".")[0] not in ALLOWED[layer]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_only_the_entry_point_imports_the_cli():
    wrong = []
    for path in _modules():
        rel = path.relative_to(ROOT)
        if rel.parts[:2] == ("design", "cli"):
            continue
        for line, module in _imports(path):
            if module == "design.cli" or module.startswith("design.cli."):
                wrong.append(f"{rel}:{line} imports {module}")
    assert not wrong, "library code importing the CLI:\n" + "\n".join(wrong)


def _all_modules() -> list[str]:
    names = []
    for layer in LAYERS:
        pkg = importlib.import_module(layer)
        names.append(layer)
        for info in pkgutil.walk_packages(pkg.__path__, f"{layer}."):
            if not info.name.endswith("__main__"):
                names.append(info.name)
    return names


@pytest.mark.parametrize("name", _all_modules())
def test_public_names_match_all(name):
    """Every module declares ``__all__``; each name in it exists, and every public function or
    class defined in the module is listed."""
    module = importlib.import_module(name)
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it lacks: {missing}"
    defined = [
        n
        for n, obj in vars(module).items()
        if not n.startswith("_")
        and getattr(obj, "__module__", None) == name
        and (isinstance(obj, type) or callable(obj))
    ]
    unlisted = sorted(set(defined) - set(module.__all__))
    assert not unlisted, f"{name} defines public names missing from __all__: {unlisted}"
