"""``kalshi-trader backtest`` as a user runs it: the README's first backtest on the shipped sample
(a table and an HTML report that needs no network), a sweep whose printed row commands rerun to
the same figures, and mistakes answered with one line and exit code 2."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from tests.support.node import CLI, _env

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "kalshi_trader" / "samples" / "weather-day"
TO = "2025-11-22T23:00"
"""Three hours of the sample (it starts at 20:00 UTC): enough for a sweep."""


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=_env(), cwd=cwd, timeout=600, check=False)


def test_the_first_backtest_prints_the_table_and_writes_a_report_that_opens_offline(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    done = _run(
        "backtest",
        "--data",
        str(SAMPLE),
        "--report",
        str(report),
        "--data-dir",
        str(tmp_path),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    for figure in ("P&L realized", "fees", "fills", "win rate", "max drawdown", "max total exposure", "entry price"):
        assert figure in done.stdout
    page = report.read_text()
    assert "<svg" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)


def test_a_sweep_prints_one_row_per_combination_and_each_rerun_command_gives_its_figures(tmp_path: Path) -> None:
    args = ["backtest", "--data", str(SAMPLE), "--to", TO, "--strategy", "weather_mm", "--data-dir", str(tmp_path)]
    done = _run(*args, "--sweep", "risk.max_open_orders=1,40", "--jobs", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    commands = re.findall(r"^\s+\d+\. (.+)$", done.stdout, re.M)
    assert len(commands) == 2
    assert all("--set risk.max_open_orders=" in c for c in commands)
    rows = [line for line in done.stdout.splitlines() if line.startswith("│ 1 ") or line.startswith("│ 40 ")]
    assert len(rows) == 2
    net_of_first_row = rows[0].split("│")[2].strip()
    again = _run(*shlex.split(commands[0])[1:], cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert re.search(rf"net P&L \(\$\)\s+│\s+{re.escape(net_of_first_row)} ", again.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "/nonexistent/recording"], "does not exist"),
        (["--set", "risk.nope=1"], "risk has no field 'nope'"),
        (["--sweep", "risk.max_open_orders"], "--sweep"),
        (["--from", "yesterday"], "--from 'yesterday' is not a date"),
        (["--strategy", "nope"], "--strategy must be one of"),
    ],
)
def test_a_mistake_is_one_line_and_exit_code_2(tmp_path: Path, args: list[str], message: str) -> None:
    base = ["backtest", "--data", str(SAMPLE), "--data-dir", str(tmp_path)]
    done = _run(*base, *args, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert message in lines[0]
