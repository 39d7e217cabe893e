"""Library code of the store and the campaign logs through ``logging``; it never prints.

Entry points (``__main__`` modules) and the demo's summary (user output on the console it is
given) are the exceptions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = sorted(
    p
    for folder in ("design/store", "design/campaign")
    for p in (ROOT / folder).glob("*.py")
    if p.name != "__main__.py"
)


def _calls(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                names.append(func.id)
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                names.append(f"{func.value.id}.{func.attr}")
    return names


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_print_no_stderr_writes_no_warnings_module(path):
    tree = ast.parse(path.read_text())
    calls = _calls(tree)
    assert "print" not in calls
    assert not [c for c in calls if c in ("sys.stderr.write", "warnings.warn")]
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "sys" not in imported


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(ROOT)))
def test_loggers_are_named_after_their_module(path):
    text = path.read_text()
    if "logging" in text:
        assert "logger = logging.getLogger(__name__)" in text
        assert "logging.basicConfig" not in text
