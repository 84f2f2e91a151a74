"""risk/GUARDS.md and the code agree: the same rule names, every rule used by the code, every test
named in the table exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import kalshi_trader.risk as risk_package
from kalshi_trader.risk.decisions import Rule

RISK_DIR = Path(risk_package.__file__).parent
GUARDS = RISK_DIR / "GUARDS.md"
ROOT = RISK_DIR.parents[2]
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::([\w:]+)`")


def _rule_rows() -> dict[str, list[str]]:
    """Rule name → its row's cells, from the table of pre-trade rules."""
    section = GUARDS.read_text().split("## Pre-trade rules", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells
    return rows


def _defined_names(path: Path) -> set[str]:
    """Test functions and classes of a module, as ``name`` and ``Class::name``."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names |= {f"{node.name}::{n.name}" for n in node.body if isinstance(n, ast.FunctionDef)}
        if isinstance(node, ast.Assign):  # TestX = Machine.TestCase
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def test_every_rule_has_exactly_one_row() -> None:
    rows = _rule_rows()
    assert set(rows) == {r.value for r in Rule}
    for name, (_, blocks, why, proof) in rows.items():
        assert blocks, f"{name}: say what it blocks"
        assert why, f"{name}: say why it exists"
        assert TEST_REF.search(proof), f"{name}: name the test that proves it"


def test_every_test_named_in_guards_exists() -> None:
    refs = TEST_REF.findall(GUARDS.read_text())
    assert len(refs) > len(Rule)
    for file, name in refs:
        path = ROOT / file
        assert path.is_file(), f"GUARDS.md names {file}, which does not exist"
        assert name in _defined_names(path), f"GUARDS.md names {file}::{name}, which does not exist"


def test_the_code_uses_every_rule() -> None:
    """No rule in the table is dead: each is referenced outside the module that declares it."""
    source = "\n".join(p.read_text() for p in RISK_DIR.glob("*.py") if p.name != "decisions.py")
    unused = [r.name for r in Rule if f"Rule.{r.name}" not in source]
    assert unused == []
