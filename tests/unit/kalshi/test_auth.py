"""RSA-PSS request signing, key-file checks and server-side verification."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from kalshi_trader.kalshi.auth import (
    HEADER_KEY,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    AuthError,
    KeyFileError,
    Signer,
    Verifier,
    generate_private_key,
    load_private_key,
    message_to_sign,
    write_private_key,
)

KEY = generate_private_key()
NOW = 1_703_123_456_789


def _signer() -> Signer:
    return Signer("a952bcbe-ec3b-4b5b-b8f9-11dae589608c", KEY, clock_ms=lambda: NOW)


def _verifier(now: int = NOW) -> Verifier:
    return Verifier({"a952bcbe-ec3b-4b5b-b8f9-11dae589608c": KEY.public_key()}, clock_ms=lambda: now)


def test_message_is_timestamp_method_path_without_query() -> None:
    assert message_to_sign("1703123456789", "get", "/trade-api/v2/portfolio/orders?limit=5&status=resting") == (
        b"1703123456789GET/trade-api/v2/portfolio/orders"
    )


def test_headers_verify_with_pss_sha256_digest_length_salt() -> None:
    headers = _signer().headers("GET", "/trade-api/v2/portfolio/balance")
    assert headers[HEADER_TIMESTAMP] == str(NOW)
    raw = base64.b64decode(headers[HEADER_SIGNATURE], validate=True)
    # Independent check with an explicit 32-byte salt: the documented parameters.
    KEY.public_key().verify(
        raw,
        f"{NOW}GET/trade-api/v2/portfolio/balance".encode(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )


def test_signatures_are_randomised() -> None:
    s = _signer()
    assert s.sign("1", "GET", "/x") != s.sign("1", "GET", "/x")


def test_verifier_accepts_and_names_the_key() -> None:
    headers = _signer().headers("POST", "/trade-api/v2/portfolio/events/orders")
    assert _verifier().verify(headers, "POST", "/trade-api/v2/portfolio/events/orders?x=1") == (
        "a952bcbe-ec3b-4b5b-b8f9-11dae589608c"
    )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda h: h.pop(HEADER_SIGNATURE), "missing authentication header"),
        (lambda h: h.update({HEADER_KEY: "nope"}), "unknown API key"),
        (lambda h: h.update({HEADER_TIMESTAMP: str(NOW // 1000)}), "seconds, not milliseconds"),
        (lambda h: h.update({HEADER_TIMESTAMP: str(NOW - 60_000)}), "off the server clock"),
        (lambda h: h.update({HEADER_TIMESTAMP: "abc"}), "milliseconds"),
        (lambda h: h.update({HEADER_SIGNATURE: "!!!"}), "base64"),
    ],
)
def test_verifier_rejections(mutate: object, message: str) -> None:
    headers = _signer().headers("GET", "/trade-api/v2/portfolio/balance")
    mutate(headers)  # type: ignore[operator]
    with pytest.raises(AuthError, match=message):
        _verifier().verify(headers, "GET", "/trade-api/v2/portfolio/balance")


def test_signature_for_another_path_or_method_fails() -> None:
    headers = _signer().headers("GET", "/trade-api/v2/portfolio/balance")
    with pytest.raises(AuthError, match="does not match"):
        _verifier().verify(headers, "GET", "/trade-api/v2/portfolio/orders")
    with pytest.raises(AuthError, match="does not match"):
        _verifier().verify(headers, "DELETE", "/trade-api/v2/portfolio/balance")


def test_key_file_round_trip_and_mode(tmp_path: Path) -> None:
    path = write_private_key(KEY, tmp_path / "keys" / "api-key.pem")
    assert os.stat(path).st_mode & 0o777 == 0o600
    loaded = load_private_key(path)
    assert loaded.private_numbers() == KEY.private_numbers()
    signer = Signer.from_files(" my-key \n", path)
    assert signer.key_id == "my-key"
    assert "PRIVATE" not in repr(signer)


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        load_private_key(tmp_path / "absent.pem")


def test_world_readable_key_file_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = write_private_key(KEY, tmp_path / "k.pem")
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_private_key(path)


def test_wrong_format_key_file(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    path.write_text("hello")
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="not a PEM file"):
        load_private_key(path)
    path.write_text("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")
    with pytest.raises(KeyFileError, match="not a valid PEM"):
        load_private_key(path)


def test_non_rsa_key_is_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    ec_key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "ec.pem"
    path.write_bytes(
        ec_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="not an RSA private key"):
        load_private_key(path)


def test_unreadable_key_file(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root reads anything; a directory stands in for an unreadable path.
        with pytest.raises(KeyFileError, match="not a regular file"):
            load_private_key(tmp_path)
        return
    path = write_private_key(KEY, tmp_path / "k.pem")
    path.chmod(0o000)
    with pytest.raises(KeyFileError, match="cannot be read"):
        load_private_key(path)


def test_error_messages_never_contain_key_material(tmp_path: Path) -> None:
    path = write_private_key(KEY, tmp_path / "k.pem")
    path.chmod(0o644)
    with pytest.raises(KeyFileError) as info:
        load_private_key(path)
    assert "BEGIN" not in str(info.value)
