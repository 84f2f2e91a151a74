"""Request signing with Ed25519 and RSA-PSS keys, key files of every kind, and server-side
verification."""

from __future__ import annotations

import base64
import re
import stat
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import NameOID
from structlog.testing import capture_logs

from kalshi_trader.kalshi.auth import (
    HEADER_KEY,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    AuthError,
    KeyFileError,
    KeyType,
    PrivateKey,
    Signer,
    Verifier,
    describe_key,
    generate_private_key,
    key_type,
    load_private_key,
    message_to_sign,
    parse_public_key,
    private_key_pem,
    public_key_pem,
    write_key_pair,
    write_private_key,
)

KEYS: dict[KeyType, PrivateKey] = {kind: generate_private_key(kind) for kind in KeyType}
KEY_ID = "a952bcbe-ec3b-4b5b-b8f9-11dae589608c"
NOW = 1_703_123_456_789
BALANCE = "/trade-api/v2/portfolio/balance"
PASSPHRASE = "correct horse battery staple"

both_types = pytest.mark.parametrize("kind", list(KeyType), ids=[k.value for k in KeyType])


def _signer(kind: KeyType) -> Signer:
    return Signer(KEY_ID, KEYS[kind], clock_ms=lambda: NOW)


def _verifier(kind: KeyType, now: int = NOW) -> Verifier:
    return Verifier({KEY_ID: KEYS[kind].public_key()}, clock_ms=lambda: now)


def _pem(key: object, fmt: serialization.PrivateFormat, passphrase: str | None = None) -> bytes:
    enc: serialization.KeySerializationEncryption = (
        serialization.NoEncryption()
        if passphrase is None
        else serialization.BestAvailableEncryption(passphrase.encode())
    )
    return key.private_bytes(serialization.Encoding.PEM, fmt, enc)  # type: ignore[attr-defined,no-any-return]


def _key_file(tmp_path: Path, data: bytes, name: str = "k.pem", mode: int = 0o600) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    path.chmod(mode)
    return path


# -- signing -----------------------------------------------------------------------------------


def test_message_is_timestamp_method_path_without_query() -> None:
    assert message_to_sign("1703123456789", "get", "/trade-api/v2/portfolio/orders?limit=5&status=resting") == (
        b"1703123456789GET/trade-api/v2/portfolio/orders"
    )


def test_ed25519_signs_the_pre_sign_text_itself() -> None:
    headers = _signer(KeyType.ED25519).headers("GET", BALANCE)
    assert headers[HEADER_TIMESTAMP] == str(NOW)
    raw = base64.b64decode(headers[HEADER_SIGNATURE], validate=True)
    assert len(raw) == 64
    public = KEYS[KeyType.ED25519].public_key()
    assert isinstance(public, ed25519.Ed25519PublicKey)
    # Independent check (RFC 8032 over the text, no pre-hash): raises if anything else was signed.
    public.verify(raw, f"{NOW}GET{BALANCE}".encode())
    assert _signer(KeyType.ED25519).sign(str(NOW), "GET", BALANCE) == headers[HEADER_SIGNATURE]  # deterministic
    key = KEYS[KeyType.ED25519]
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    assert raw == key.sign(f"{NOW}GET{BALANCE}".encode())  # libsodium's signature is OpenSSL's, byte for byte


def test_ed25519_signatures_of_any_length_match_openssl_from_many_threads() -> None:
    """Each call gets its own output buffer: messages of every length, signed from several threads at
    once, are each OpenSSL's signature of that message."""
    key = KEYS[KeyType.ED25519]
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    signer = _signer(KeyType.ED25519)
    paths = [f"/trade-api/v2/{'x' * n}" for n in (0, 1, 63, 64, 65, 500, 5000)]

    def sign_all(method: str) -> list[tuple[str, str]]:
        return [(path, signer.sign(str(NOW), method, path)) for _ in range(20) for path in paths]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(sign_all, ["GET", "POST", "DELETE", "PUT"]))
    for method, signed in zip(["GET", "POST", "DELETE", "PUT"], results, strict=True):
        for path, signature in signed:
            assert base64.b64decode(signature, validate=True) == key.sign(f"{NOW}{method}{path}".encode())


def test_rsa_signs_with_pss_sha256_and_a_digest_length_salt() -> None:
    headers = _signer(KeyType.RSA).headers("GET", BALANCE)
    raw = base64.b64decode(headers[HEADER_SIGNATURE], validate=True)
    public = KEYS[KeyType.RSA].public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    # Independent check with an explicit 32-byte salt: the documented parameters.
    public.verify(
        raw,
        f"{NOW}GET{BALANCE}".encode(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )
    s = _signer(KeyType.RSA)
    assert s.sign("1", "GET", "/x") != s.sign("1", "GET", "/x")  # PSS is randomised


def test_the_type_comes_from_the_parsed_key_not_the_pem_header(tmp_path: Path) -> None:
    rsa_pkcs8 = _pem(KEYS[KeyType.RSA], serialization.PrivateFormat.PKCS8)
    ed_pkcs8 = _pem(KEYS[KeyType.ED25519], serialization.PrivateFormat.PKCS8)
    assert rsa_pkcs8.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert ed_pkcs8.startswith(b"-----BEGIN PRIVATE KEY-----")
    for data, kind in ((rsa_pkcs8, KeyType.RSA), (ed_pkcs8, KeyType.ED25519)):
        signer = Signer(KEY_ID, load_private_key(_key_file(tmp_path, data)), clock_ms=lambda: NOW)
        assert signer.key_type is kind
        assert _verifier(kind).verify(signer.headers("GET", BALANCE), "GET", BALANCE) == KEY_ID


@both_types
def test_verifier_accepts_its_key_type_and_names_the_key(kind: KeyType) -> None:
    headers = _signer(kind).headers("POST", "/trade-api/v2/portfolio/events/orders")
    assert _verifier(kind).verify(headers, "POST", "/trade-api/v2/portfolio/events/orders?x=1") == KEY_ID


@both_types
def test_a_signature_with_the_other_algorithm_is_refused(kind: KeyType) -> None:
    other = KeyType.RSA if kind is KeyType.ED25519 else KeyType.ED25519
    headers = Signer(KEY_ID, KEYS[other], clock_ms=lambda: NOW).headers("GET", BALANCE)
    with pytest.raises(AuthError, match="does not match"):
        _verifier(kind).verify(headers, "GET", BALANCE)


def test_near_misses_of_the_documented_algorithms_are_refused() -> None:
    message = f"{NOW}GET{BALANCE}".encode()
    ed, rs = KEYS[KeyType.ED25519], KEYS[KeyType.RSA]
    assert isinstance(ed, ed25519.Ed25519PrivateKey)
    assert isinstance(rs, rsa.RSAPrivateKey)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(message)
    wrong = {
        KeyType.ED25519: ed.sign(digest.finalize()),  # Ed25519 over a SHA-256 pre-hash
        KeyType.RSA: rs.sign(  # PSS with the maximum salt instead of the digest length
            message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH), hashes.SHA256()
        ),
    }
    for kind, raw in wrong.items():
        headers = {HEADER_KEY: KEY_ID, HEADER_TIMESTAMP: str(NOW), HEADER_SIGNATURE: base64.b64encode(raw).decode()}
        with pytest.raises(AuthError, match="does not match"):
            _verifier(kind).verify(headers, "GET", BALANCE)


@both_types
@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda h: h.pop(HEADER_SIGNATURE), "missing authentication header"),
        (lambda h: h.update({HEADER_KEY: "nope"}), "unknown API key"),
        (lambda h: h.update({HEADER_TIMESTAMP: str(NOW // 1000)}), "seconds, not milliseconds"),
        (lambda h: h.update({HEADER_TIMESTAMP: str(NOW - 60_000)}), "off the server clock"),
        (lambda h: h.update({HEADER_TIMESTAMP: "abc"}), "milliseconds"),
        (lambda h: h.update({HEADER_SIGNATURE: "!!!"}), "base64"),
        (lambda h: h.update({HEADER_SIGNATURE: base64.b64encode(b"\0" * 64).decode()}), "does not match"),
    ],
)
def test_verifier_rejections(kind: KeyType, mutate: Callable[[dict[str, str]], object], message: str) -> None:
    headers = _signer(kind).headers("GET", BALANCE)
    mutate(headers)
    with pytest.raises(AuthError, match=message):
        _verifier(kind).verify(headers, "GET", BALANCE)


@both_types
def test_signature_for_another_path_or_method_fails(kind: KeyType) -> None:
    headers = _signer(kind).headers("GET", BALANCE)
    with pytest.raises(AuthError, match="does not match"):
        _verifier(kind).verify(headers, "GET", "/trade-api/v2/portfolio/orders")
    with pytest.raises(AuthError, match="does not match"):
        _verifier(kind).verify(headers, "DELETE", BALANCE)


def test_a_removed_key_signs_nothing() -> None:
    verifier = _verifier(KeyType.ED25519)
    headers = _signer(KeyType.ED25519).headers("GET", BALANCE)
    verifier.remove(KEY_ID)
    with pytest.raises(AuthError, match="unknown API key"):
        verifier.verify(headers, "GET", BALANCE)


@both_types
def test_repr_never_shows_key_material(kind: KeyType) -> None:
    text = repr(_signer(kind))
    assert kind.value in text
    assert "PRIVATE" not in text
    assert "Ed25519PrivateKey" not in text
    assert "RSAPrivateKey" not in text


# -- key files that work -----------------------------------------------------------------------

FORMATS = {
    "ed25519-pkcs8": (KeyType.ED25519, serialization.PrivateFormat.PKCS8, None, b"BEGIN PRIVATE KEY"),
    "rsa-pkcs1": (KeyType.RSA, serialization.PrivateFormat.TraditionalOpenSSL, None, b"BEGIN RSA PRIVATE KEY"),
    "rsa-pkcs8": (KeyType.RSA, serialization.PrivateFormat.PKCS8, None, b"BEGIN PRIVATE KEY"),
    "ed25519-pkcs8-encrypted": (
        KeyType.ED25519,
        serialization.PrivateFormat.PKCS8,
        PASSPHRASE,
        b"BEGIN ENCRYPTED PRIVATE KEY",
    ),
    "rsa-pkcs8-encrypted": (KeyType.RSA, serialization.PrivateFormat.PKCS8, PASSPHRASE, b"BEGIN ENCRYPTED PRIVATE KEY"),
    "rsa-pkcs1-encrypted": (
        KeyType.RSA,
        serialization.PrivateFormat.TraditionalOpenSSL,
        PASSPHRASE,
        b"Proc-Type: 4,ENCRYPTED",
    ),
}


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_key_format_loads_as_its_type_and_signs(tmp_path: Path, name: str) -> None:
    kind, fmt, passphrase, marker = FORMATS[name]
    data = _pem(KEYS[kind], fmt, passphrase)
    assert marker in data
    path = _key_file(tmp_path, data)
    signer = Signer.from_files(f" {KEY_ID}\n", path, passphrase=passphrase)
    assert signer.key_id == KEY_ID
    assert signer.key_type is kind
    assert public_key_pem(signer.private_key) == public_key_pem(KEYS[kind])
    headers = signer.headers("GET", BALANCE)
    assert Verifier({KEY_ID: KEYS[kind].public_key()}).verify(headers, "GET", BALANCE) == KEY_ID


def test_a_passphrase_for_an_unencrypted_key_is_not_needed(tmp_path: Path) -> None:
    path = write_private_key(KEYS[KeyType.ED25519], tmp_path / "k.pem")
    assert key_type(load_private_key(path, passphrase=PASSPHRASE)) is KeyType.ED25519


@both_types
def test_written_keys_are_what_kalshi_hands_out_with_mode_0600(tmp_path: Path, kind: KeyType) -> None:
    path = write_private_key(KEYS[kind], tmp_path / "keys" / "api-key.pem")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    header = {KeyType.ED25519: b"-----BEGIN PRIVATE KEY-----", KeyType.RSA: b"-----BEGIN RSA PRIVATE KEY-----"}
    assert path.read_bytes().startswith(header[kind])
    assert private_key_pem(load_private_key(path)) == private_key_pem(KEYS[kind])
    assert describe_key(KEYS[kind]) == {KeyType.ED25519: "Ed25519", KeyType.RSA: "RSA 2048-bit"}[kind]


def test_loose_permissions_warn_with_the_fix_and_the_key_is_still_used(tmp_path: Path) -> None:
    path = write_private_key(KEYS[KeyType.ED25519], tmp_path / "k.pem")
    with capture_logs() as quiet:
        load_private_key(path)
    assert quiet == []
    path.chmod(0o640)
    with capture_logs() as logs:
        key = load_private_key(path)
    assert key_type(key) is KeyType.ED25519
    assert len(logs) == 1
    assert logs[0]["log_level"] == "warning"
    assert logs[0]["event"] == "key_file_readable_by_others"
    assert logs[0]["fix"] == f"chmod 600 {path}"
    assert logs[0]["mode"] == "0640"
    assert "BEGIN" not in repr(logs)


# -- key files that do not ---------------------------------------------------------------------


def _ec_pkcs8() -> bytes:
    return _pem(ec.generate_private_key(ec.SECP256R1()), serialization.PrivateFormat.PKCS8)


def _ec_traditional() -> bytes:
    return _pem(ec.generate_private_key(ec.SECP384R1()), serialization.PrivateFormat.TraditionalOpenSSL)


def _dsa() -> bytes:
    with warnings.catch_warnings():  # DSA is deprecated: exactly why nobody should hand us one
        warnings.simplefilter("ignore")
        return _pem(dsa.generate_private_key(2048), serialization.PrivateFormat.PKCS8)


def _ed448() -> bytes:
    return _pem(ed448.Ed448PrivateKey.generate(), serialization.PrivateFormat.PKCS8)


def _public(kind: KeyType) -> bytes:
    return public_key_pem(KEYS[kind])


def _rsa_public_pkcs1() -> bytes:
    return KEYS[KeyType.RSA].public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)


def _certificate() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def _openssh() -> bytes:
    return _pem(KEYS[KeyType.ED25519], serialization.PrivateFormat.OpenSSH)


def _garbled_pem() -> bytes:
    return b"-----BEGIN PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END PRIVATE KEY-----\n"


BAD_FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "ec-pkcs8": (_ec_pkcs8, "holds an EC (secp256r1) key; Kalshi API keys are Ed25519 or RSA"),
    "ec-traditional": (_ec_traditional, "holds an EC (secp384r1) key"),
    "dsa": (_dsa, "holds a DSA key"),
    "ed448": (_ed448, "holds an Ed448 key"),
    "ed25519-public": (lambda: _public(KeyType.ED25519), "holds a public key, not the private key"),
    "rsa-public": (lambda: _public(KeyType.RSA), "holds a public key, not the private key"),
    "rsa-public-pkcs1": (_rsa_public_pkcs1, "holds a public key"),
    "certificate": (_certificate, "holds a certificate, not a private key"),
    "openssh": (_openssh, "holds an OpenSSH-format key"),
    "garbage": (lambda: b"hello, I am not a key\n", "is not a PEM file"),
    "garbled-pem": (_garbled_pem, "is not a valid PEM private key"),
    "empty": (lambda: b"", "is empty"),
    "blank": (lambda: b"\n  \n", "is empty"),
    "encrypted-without-passphrase": (
        lambda: _pem(KEYS[KeyType.ED25519], serialization.PrivateFormat.PKCS8, PASSPHRASE),
        "is encrypted: set its passphrase in api.key_passphrase (KALSHI_TRADER_API__KEY_PASSPHRASE)",
    ),
    "rsa-pkcs1-encrypted-without-passphrase": (
        lambda: _pem(KEYS[KeyType.RSA], serialization.PrivateFormat.TraditionalOpenSSL, PASSPHRASE),
        "is encrypted",
    ),
}


def _assert_one_clean_line(message: str, path: Path, data: bytes = b"") -> None:
    assert "\n" not in message
    assert str(path) in message
    for line in data.decode(errors="replace").splitlines():
        if line and not line.startswith("-----") and ":" not in line:
            assert line not in message  # no key material
    assert PASSPHRASE not in message


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_unusable_key_files_are_one_line_naming_what_was_found(tmp_path: Path, name: str) -> None:
    make, needle = BAD_FILES[name]
    data = make()
    path = _key_file(tmp_path, data)
    with pytest.raises(KeyFileError) as info:
        load_private_key(path)
    assert needle in str(info.value)
    _assert_one_clean_line(str(info.value), path, data)


@both_types
def test_a_wrong_passphrase_is_named_not_echoed(tmp_path: Path, kind: KeyType) -> None:
    data = _pem(KEYS[kind], serialization.PrivateFormat.PKCS8, PASSPHRASE)
    path = _key_file(tmp_path, data)
    with pytest.raises(KeyFileError) as info:
        load_private_key(path, passphrase="not the passphrase")
    assert "cannot be decrypted with the passphrase in api.key_passphrase" in str(info.value)
    assert "not the passphrase" not in str(info.value)
    _assert_one_clean_line(str(info.value), path, data)


def test_missing_path_and_directory(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        load_private_key(tmp_path / "absent.pem")
    with pytest.raises(KeyFileError, match="is a directory, not a key file"):
        load_private_key(tmp_path)


def test_a_path_that_cannot_be_reached(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(KeyFileError, match="cannot be read: Not a directory"):
        load_private_key(tmp_path / "file" / "k.pem")


# -- public keys (what a user registers) --------------------------------------------------------


@both_types
def test_public_keys_of_both_types_parse(kind: KeyType) -> None:
    public = parse_public_key(public_key_pem(KEYS[kind]).decode())
    assert key_type(public) is kind


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: private_key_pem(KEYS[KeyType.ED25519]), "holds a private key"),
        (
            lambda: public_key_pem(ec.generate_private_key(ec.SECP256R1()).public_key()),
            re.escape("is an EC (secp256r1) key"),
        ),
        (
            lambda: public_key_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()),
            "RSA 1024-bit",
        ),
        (lambda: b"not a key", "is not a PEM public key"),
        (lambda: b"", "is empty"),
    ],
)
def test_unusable_public_keys(make: Callable[[], bytes], needle: str) -> None:
    data = make()
    with pytest.raises(ValueError, match=needle) as info:
        parse_public_key(data)
    body = [line for line in data.decode().splitlines() if line and not line.startswith("-----")]
    assert not any(line in str(info.value) for line in body)


# -- new key pairs ------------------------------------------------------------------------------


@both_types
def test_write_key_pair_writes_private_0600_and_public_beside_it(tmp_path: Path, kind: KeyType) -> None:
    private, public = write_key_pair(KEYS[kind], tmp_path / "new" / "kalshi.key")
    assert (private, public) == (tmp_path / "new" / "kalshi.key", tmp_path / "new" / "kalshi.key.pub")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert key_type(parse_public_key(public.read_bytes())) is kind
    assert private_key_pem(load_private_key(private)) == private_key_pem(KEYS[kind])


def test_write_key_pair_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "kalshi.key"
    target.write_text("precious")
    with pytest.raises(KeyFileError, match="already exists; not overwriting"):
        write_key_pair(KEYS[KeyType.ED25519], target)
    assert target.read_text() == "precious"
    assert not (tmp_path / "kalshi.key.pub").exists()
    other = tmp_path / "other.key"
    (tmp_path / "other.key.pub").write_text("precious")
    with pytest.raises(KeyFileError, match=re.escape("other.key.pub already exists")):
        write_key_pair(KEYS[KeyType.ED25519], other)
    assert not other.exists()
