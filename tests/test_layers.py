"""The layers import one way: api -> search, ingest -> indexer (../shared/DESIGN.md)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"indexer": {"ingest", "search", "api"}, "ingest": {"search", "api"},
             "search": {"ingest", "api"}, "api": set()}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_down(layer):
    files = list((ROOT / layer).rglob("*.py"))
    assert files
    wrong = {str(f.relative_to(ROOT)): imported_packages(f) & FORBIDDEN[layer] for f in files}
    assert {f: bad for f, bad in wrong.items() if bad} == {}
