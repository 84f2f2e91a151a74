"""Default-account credentials in the data directory: created once (0600), then reused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from kalshi_trader.kalshi.auth import KeyType, public_key_pem
from kalshi_trader.sim.api.credentials import KEY_FILE, KEY_ID_FILE, CredentialsError, ensure_credentials


def test_created_then_reused(tmp_path: Path) -> None:
    data = tmp_path / "nested" / "data"
    first = ensure_credentials(data)
    assert first.created
    assert stat.S_IMODE((data / KEY_FILE).stat().st_mode) == 0o600
    assert (data / KEY_ID_FILE).read_text().strip() == first.key_id
    second = ensure_credentials(data)
    assert not second.created
    assert second.key_id == first.key_id
    assert public_key_pem(second.private_key) == public_key_pem(first.private_key)
    assert "PRIVATE" not in repr(second)


def test_half_present_pair_is_refused(tmp_path: Path) -> None:
    ensure_credentials(tmp_path)
    (tmp_path / KEY_FILE).unlink()
    with pytest.raises(CredentialsError, match="does not"):
        ensure_credentials(tmp_path)


def test_unusable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CredentialsError, match="not a directory"):
        ensure_credentials(blocker)


def test_loose_key_permissions_warn_with_the_fix(tmp_path: Path) -> None:
    first = ensure_credentials(tmp_path)
    os.chmod(tmp_path / KEY_FILE, 0o644)
    with capture_logs() as logs:
        again = ensure_credentials(tmp_path)
    assert again.key_id == first.key_id
    assert [e["fix"] for e in logs if e["event"] == "key_file_readable_by_others"] == [
        f"chmod 600 {tmp_path / KEY_FILE}"
    ]


def test_a_new_key_is_ed25519_unless_rsa_is_asked_for(tmp_path: Path) -> None:
    default = ensure_credentials(tmp_path / "a")
    assert default.key_type is KeyType.ED25519
    assert (tmp_path / "a" / KEY_FILE).read_text().startswith("-----BEGIN PRIVATE KEY-----")
    chosen = ensure_credentials(tmp_path / "b", KeyType.RSA)
    assert chosen.key_type is KeyType.RSA
    assert (tmp_path / "b" / KEY_FILE).read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")


def test_an_existing_key_is_reused_whatever_its_type(tmp_path: Path) -> None:
    first = ensure_credentials(tmp_path, KeyType.RSA)
    again = ensure_credentials(tmp_path, KeyType.ED25519)
    assert (again.created, again.key_type, again.key_id) == (False, KeyType.RSA, first.key_id)


def test_an_unusable_key_file_is_one_line(tmp_path: Path) -> None:
    ensure_credentials(tmp_path)
    (tmp_path / KEY_FILE).write_text("")
    with pytest.raises(CredentialsError, match="is empty"):
        ensure_credentials(tmp_path)


def test_malformed_key_id(tmp_path: Path) -> None:
    ensure_credentials(tmp_path)
    (tmp_path / KEY_ID_FILE).write_text("not a key id!\n")
    with pytest.raises(CredentialsError, match="key id"):
        ensure_credentials(tmp_path)
