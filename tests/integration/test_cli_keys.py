"""API keys at the command line: ``keygen`` writes a pair that the exchange accepts once registered;
every unusable key file is one line naming what was found and exit code 2, for every command that
signs (``check``, ``orders``, ``run``), before anything is sent."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tests.support.exchange import running_exchange
from tests.support.http import SignedClient

from kalshi_trader import cli
from kalshi_trader.kalshi.auth import KeyType, generate_private_key, key_type, load_private_key, public_key_pem

CLI = str(Path(sys.executable).with_name("kalshi-trader"))
NOWHERE = "http://127.0.0.1:9/trade-api/v2"
PASSPHRASE = "let me in"


def main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run the CLI in process (the ``main`` the console script runs): (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["kalshi-trader", *args])
    monkeypatch.setattr(cli, "quiet_logging", lambda: None)  # leave the test process's logging alone
    for name in [n for n in os.environ if n.startswith("KALSHI_TRADER_")]:
        monkeypatch.delenv(name)
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    code: object = 0
    try:
        cli.main()
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return (code if isinstance(code, int) else 0), out.out, out.err


@pytest.mark.parametrize("kind", list(KeyType))
def test_keygen_writes_a_pair_the_exchange_accepts_once_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], kind: KeyType
) -> None:
    out_file = tmp_path / "keys" / "kalshi.key"
    code, out, err = main(monkeypatch, capsys, "keygen", "--type", kind.value, "--out", str(out_file))
    assert (code, err) == (0, "")
    public_file = tmp_path / "keys" / "kalshi.key.pub"
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600
    key = load_private_key(out_file)
    assert key_type(key) is kind
    assert public_file.read_bytes() == public_key_pem(key)
    assert public_file.read_text().strip() in out  # printed to paste into Kalshi's form
    assert out_file.read_text().splitlines()[1] not in out  # the private key is never printed
    assert str(out_file) in out
    assert ("Ed25519" if kind is KeyType.ED25519 else "RSA 2048-bit") in out

    async def register_and_use() -> int:
        async with running_exchange() as ex, ex.client(ex.trader) as trader:
            reply = await trader.post("/api_keys", {"name": "mine", "public_key": public_file.read_text()})
            async with SignedClient(ex.rest_url, reply.body["api_key_id"], key) as mine:
                return (await mine.get("/portfolio/balance")).status

    assert asyncio.run(register_and_use()) == 200


def test_keygen_never_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "kalshi.key"
    assert main(monkeypatch, capsys, "keygen", "--out", str(out_file))[0] == 0
    before = out_file.read_bytes(), (tmp_path / "kalshi.key.pub").read_bytes()
    code, out, err = main(monkeypatch, capsys, "keygen", "--type", "rsa", "--out", str(out_file))
    assert code == 2
    assert out == ""
    assert err.strip().splitlines() == [
        f"kalshi-trader: error: {out_file} already exists; not overwriting it (choose another --out or move it away)"
    ]
    assert (out_file.read_bytes(), (tmp_path / "kalshi.key.pub").read_bytes()) == before
    code, _, err = main(monkeypatch, capsys, "keygen", "--type", "dsa", "--out", str(tmp_path / "x"))
    assert code == 2
    assert "--type" in err


def _pem(key: object, passphrase: str | None = None) -> bytes:
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)  # type: ignore[attr-defined,no-any-return]


BAD: dict[str, tuple[Callable[[], bytes] | None, str, dict[str, str]]] = {
    "ec": (lambda: _pem(ec.generate_private_key(ec.SECP256R1())), "holds an EC (secp256r1) key", {}),
    "public": (lambda: public_key_pem(generate_private_key()), "holds a public key, not the private key", {}),
    "garbage": (lambda: b"ssh-ed25519 AAAAC3Nz... me@host\n", "is not a PEM file", {}),
    "empty": (lambda: b"", "is empty", {}),
    "directory": (None, "is a directory, not a key file", {}),
    "no-passphrase": (lambda: _pem(generate_private_key(), PASSPHRASE), "KALSHI_TRADER_API__KEY_PASSPHRASE", {}),
    "wrong-passphrase": (
        lambda: _pem(generate_private_key(), PASSPHRASE),
        "cannot be decrypted",
        {"KALSHI_TRADER_API__KEY_PASSPHRASE": "let me out"},
    ),
}


def _bad_file(tmp_path: Path, name: str) -> Path:
    make = BAD[name][0]
    path = tmp_path / "bad.pem"
    if make is None:
        path.mkdir()
    else:
        path.write_bytes(make())
        path.chmod(0o600)
    return path


@pytest.mark.parametrize("command", ["check", "orders"])
@pytest.mark.parametrize("name", list(BAD))
def test_an_unusable_key_file_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str, name: str
) -> None:
    path = _bad_file(tmp_path, name)
    args = (command, "--api-url", NOWHERE, "--key-id", "my-key", "--key-file", str(path))
    code, out, err = main(monkeypatch, capsys, *args, env=BAD[name][2])
    assert code == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("kalshi-trader: error: private key file ")
    assert str(path) in lines[0]
    assert BAD[name][1] in lines[0]
    assert out == ""  # check stopped before probing the API
    assert PASSPHRASE not in err
    assert "let me out" not in err


def test_run_with_an_unusable_key_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = _bad_file(tmp_path, "ec")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_TRADER_")}
    result = subprocess.run(
        [CLI, "run", "--env", "demo", "--key-id", "my-key", "--key-file", str(path), "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"private key file {path} holds an EC (secp256r1) key" in lines[0]
