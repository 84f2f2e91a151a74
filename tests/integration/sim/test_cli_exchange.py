"""``kalshi-trader exchange`` as a user runs it: a subprocess, its printed URLs, its key files."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.http import SignedClient

from kalshi_trader.kalshi.auth import KeyType, key_type, load_private_key

CLI = str(Path(sys.executable).with_name("kalshi-trader"))
URL_TIMEOUT_S = 30.0


@contextmanager
def running_cli(*args: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [CLI, "exchange", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    found: dict[str, str] = {}
    try:
        deadline = time.monotonic() + URL_TIMEOUT_S
        assert proc.stdout is not None
        while not {"rest", "ws", "key_id_file", "key_file"} <= found.keys():
            assert time.monotonic() < deadline, "the exchange did not print its URLs in time"
            line = proc.stdout.readline()
            assert line, f"the exchange exited early: {proc.wait()} {proc.stderr.read() if proc.stderr else ''}"
            if m := re.match(r"^REST:\s+(\S+)", line):
                found["rest"] = m.group(1)
            elif m := re.match(r"^WS:\s+(\S+)", line):
                found["ws"] = m.group(1)
            elif m := re.match(r"^API key id file:\s+(\S+) \((created|reused)", line):
                found["key_id_file"], found["key_state"] = m.group(1), m.group(2)
            elif m := re.match(r"^Private key file:\s+(\S+) \((\S+)\)", line):
                found["key_file"], found["key_type"] = m.group(1), m.group(2)
        yield proc, found
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=15)
    return proc.returncode, err


async def _call(rest: str, key_id: str, key_file: str) -> tuple[int, int, int]:
    async with SignedClient(rest, key_id, load_private_key(key_file)) as client:
        status = await client.get("/exchange/status", sign=False)
        balance = await client.get("/portfolio/balance")
        return status.status, balance.status, balance.body["balance"]


def test_exchange_command_serves_with_written_credentials(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_cli("--port", "0", "--data-dir", str(data)) as (proc, found):
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/trade-api/v2", found["rest"])
        assert found["ws"] == found["rest"].replace("http://", "ws://").replace("/trade-api/v2", "/trade-api/ws/v2")
        assert found["key_state"] == "created"
        assert found["key_type"] == "Ed25519"  # as Kalshi's web app makes them
        key_file = Path(found["key_file"])
        assert key_file == data / "api-key.pem"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key_id = (data / "api-key-id").read_text().strip()
        assert asyncio.run(_call(found["rest"], key_id, str(key_file))) == (200, 200, 1_000_000)
        code, err = _stop(proc)
    assert code == 0, err
    assert "Traceback" not in err
    with running_cli("--port", "0", "--data-dir", str(data)) as (proc, found):
        assert found["key_state"] == "reused"
        assert (data / "api-key-id").read_text().strip() == key_id
        assert asyncio.run(_call(found["rest"], key_id, str(key_file)))[1] == 200
        code, err = _stop(proc)
    assert code == 0, err


def test_key_type_rsa_is_written_once_then_the_existing_key_is_reused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_cli("--port", "0", "--data-dir", str(data), "--key-type", "rsa") as (proc, found):
        assert (found["key_state"], found["key_type"]) == ("created", "RSA")
        key_file = Path(found["key_file"])
        assert key_file.read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")
        assert key_type(load_private_key(key_file)) is KeyType.RSA
        key_id = (data / "api-key-id").read_text().strip()
        assert asyncio.run(_call(found["rest"], key_id, str(key_file)))[1] == 200
        code, err = _stop(proc)
    assert code == 0, err
    with running_cli("--port", "0", "--data-dir", str(data), "--key-type", "ed25519") as (proc, found):
        assert (found["key_state"], found["key_type"]) == ("reused", "RSA")
        assert asyncio.run(_call(found["rest"], key_id, str(key_file)))[1] == 200
        code, err = _stop(proc)
    assert code == 0, err
    assert "--key-type ed25519 not applied: the data dir already holds an RSA key" in err


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, "exchange", *args], capture_output=True, text=True, timeout=60)


def test_port_in_use_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _run("--port", str(port), "--data-dir", str(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"127.0.0.1:{port}" in lines[0]


def test_unusable_data_dir_and_bad_flags_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for args, needle in (
        (("--port", "0", "--data-dir", str(blocker)), "not a directory"),
        (("--port", "99999", "--data-dir", str(tmp_path)), "port"),
        (("--port", "abc"), "--port"),
        (("--bogus",), "--bogus"),
    ):
        result = _run(*args)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert needle in lines[0]
        assert "Traceback" not in result.stderr
