"""``kalshi-trader check`` and ``kalshi-trader markets`` as a user runs them: subprocesses against
an embedded exchange started with ``kalshi-trader exchange``, key files in ``./data``."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kalshi_trader import cli

CLI = str(Path(sys.executable).with_name("kalshi-trader"))
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
pytestmark = pytest.mark.xdist_group("cli_check")  # one exchange for the module

for _name in [n for n in ENV if n.startswith("KALSHI_TRADER_")]:
    del ENV[_name]


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60, cwd=cwd, env=ENV)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, Path]]:
    """(working dir holding ./data, REST URL, admin token file) of a running ``kalshi-trader exchange``."""
    cwd = tmp_path_factory.mktemp("cli")
    proc = subprocess.Popen(
        [CLI, "exchange", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=ENV
    )
    try:
        rest = token = None
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while rest is None or token is None:
            assert time.monotonic() < deadline, "the exchange did not start in time"
            line = proc.stdout.readline()
            assert line, f"the exchange exited: {proc.wait()} {proc.stderr.read() if proc.stderr else ''}"
            if m := re.match(r"^REST:\s+(\S+)", line):
                rest = m.group(1)
            elif m := re.match(r"^Admin token file:\s+(\S+)", line):
                token = m.group(1)
        yield cwd, rest, cwd / token
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return result.stdout.strip().splitlines()


def assert_no_secrets(cwd: Path, *outputs: str) -> None:
    pem = (cwd / "data" / "api-key.pem").read_text()
    token = (cwd / "data" / "admin-token").read_text().strip()
    body = pem.splitlines()[1]
    for out in outputs:
        assert body not in out
        assert token not in out
        assert "Traceback" not in out


def test_check_passes_with_the_key_files_in_data(served: tuple[Path, str, Path]) -> None:
    cwd, rest, _ = served
    result = run(cwd, "check", "--api-url", rest)
    assert result.returncode == 0, result.stdout + result.stderr
    out = lines(result)
    assert [line.split()[:2] for line in out] == [
        ["✓", "reachable"],
        ["✓", "authenticated"],
        ["✓", "balance"],
        ["✓", "clock"],
    ]
    assert rest in out[0]
    assert out[1].endswith("(Ed25519) accepted")  # the exchange writes an Ed25519 key, as Kalshi's web app
    assert "$10,000.00 available" in out[2]
    assert result.stderr == ""
    assert_no_secrets(cwd, result.stdout, result.stderr)


def test_a_key_file_others_can_read_works_with_a_warning_naming_chmod_600(
    served: tuple[Path, str, Path], tmp_path: Path
) -> None:
    cwd, rest, _ = served
    loose = tmp_path / "loose.pem"
    loose.write_bytes((cwd / "data" / "api-key.pem").read_bytes())
    loose.chmod(0o644)
    key_id = (cwd / "data" / "api-key-id").read_text().strip()
    result = run(cwd, "check", "--api-url", rest, "--key-id", key_id, "--key-file", str(loose))
    assert result.returncode == 0, result.stdout + result.stderr
    assert lines(result)[1].startswith("✓ authenticated")
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 1, result.stderr
    assert "key_file_readable_by_others" in warnings[0]
    assert f"chmod 600 {loose}" in warnings[0]
    assert_no_secrets(cwd, result.stdout, result.stderr)


def test_check_fails_clearly(served: tuple[Path, str, Path], tmp_path: Path) -> None:
    cwd, rest, _ = served
    wrong_key = run(cwd, "check", "--api-url", rest, "--key-id", "not-a-key", "--key-file", "data/api-key.pem")
    assert wrong_key.returncode == 1
    out = lines(wrong_key)
    assert out[0].startswith("✓ reachable")
    assert out[1].startswith("✗ authenticated")
    assert "401 unauthorized: unknown API key id" in out[1]
    assert out[2].startswith("✗ balance")

    no_key = run(tmp_path, "check", "--api-url", rest)  # no ./data here
    assert no_key.returncode == 1
    assert "no API key id" in lines(no_key)[1]

    nothing = run(cwd, "check", "--api-url", "http://127.0.0.1:9/trade-api/v2")
    assert nothing.returncode == 1
    assert lines(nothing)[0].startswith("✗ reachable")
    assert "Cannot connect" in lines(nothing)[0]
    assert_no_secrets(cwd, wrong_key.stdout, wrong_key.stderr, no_key.stdout, nothing.stdout, nothing.stderr)


def test_check_sees_faults_switched_through_the_admin_api(served: tuple[Path, str, Path]) -> None:
    cwd, rest, token_file = served
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    base = rest.removesuffix("/trade-api/v2")

    def put(spec: str) -> None:
        request = urllib.request.Request(
            base + "/admin/faults",
            data=f'{{"spec": "{spec}"}}'.encode(),
            method="PUT",
            headers={"Authorization": f"Bearer {token_file.read_text().strip()}"},
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert reply.status == 200

    put("http_5xx=1")
    try:
        result = run(cwd, "check", "--api-url", rest)
    finally:
        put("none")
    assert result.returncode == 1
    assert re.match(r"^✗ reachable .*: 50[023] \w+: injected fault", lines(result)[0])


def test_markets_table(served: tuple[Path, str, Path]) -> None:
    cwd, rest, _ = served
    result = run(cwd, "markets", "--api-url", rest, "--status", "open", "--limit", "5")
    assert result.returncode == 0, result.stderr
    out = lines(result)
    assert out[0].split() == ["Ticker", "Title", "Yes", "bid", "Yes", "ask", "Volume", "Closes", "(UTC)"]
    rows = out[1:]
    assert len(rows) == 5
    for row in rows:
        assert re.match(r"^KX[A-Z0-9.-]+ ", row)
        assert re.search(r"(\d\.\d{2,4}|—)\s+(\d\.\d{2,4}|—)\s+[\d.]+\s+\d{4}-\d\d-\d\d \d\d:\d\d$", row), row
    series = run(cwd, "markets", "--api-url", rest, "--series", "KXHIGHCHI", "--limit", "100")
    assert series.returncode == 0
    assert {row.split()[0].split("-")[0] for row in lines(series)[1:]} == {"KXHIGHCHI"}
    none = run(cwd, "markets", "--api-url", rest, "--series", "KXNOSUCH")
    assert (none.returncode, none.stdout.strip()) == (0, "No markets match.")


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("markets", "--api-url", "http://127.0.0.1:9/trade-api/v2"), 1, "cannot list markets"),
        (("markets", "--status", "bogus"), 2, "--status"),
        (("check", "--api-url", "ftp://x"), 2, "not an http(s) URL"),
        (("check", "--config", "missing.toml"), 2, "missing.toml does not exist"),
        (("markets", "--env", "staging"), 2, "--env"),
        (("exchange", "--faults", "http_429=2"), 2, "--faults: http_429 must be a probability"),
    ],
)
def test_mistakes_are_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    code: int,
    needle: str,
) -> None:
    """In process (the same ``main`` the console script runs), to keep the suite quick."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["kalshi-trader", *args])
    monkeypatch.setattr(cli, "quiet_logging", lambda: None)  # leave the test process's logging alone
    for name in [n for n in os.environ if n.startswith("KALSHI_TRADER_")]:
        monkeypatch.delenv(name)
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == code
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1, captured.err
    assert needle in err[0]
    assert "Traceback" not in captured.err
