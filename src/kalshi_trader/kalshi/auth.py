"""Kalshi request signing (RSA-PSS, SHA-256) and its verification.

Contract:
- ``Signer.headers(method, path)`` returns the three ``KALSHI-ACCESS-*`` headers for one request:
  the key id, the wall-clock time in milliseconds, and base64(RSA-PSS-SHA256(ts + METHOD + path))
  with MGF1-SHA256 and a 32-byte salt. ``path`` is the URL path from the host root including
  ``/trade-api/v2``; any query string is dropped before signing. The body is never signed.
- ``load_private_key(path)`` refuses, with a ``KeyFileError`` a person can act on, a missing,
  unreadable, non-PEM, non-RSA or group/world-readable key file. Error messages name the file but
  never include key material.
- ``Verifier`` is the server side (used by the embedded exchange): it looks a key id up, checks
  the timestamp is fresh (default ±5 s) and the signature is valid, and raises ``AuthError`` with
  the reason otherwise.
"""

from __future__ import annotations

import base64
import os
import stat
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

HEADER_KEY = "KALSHI-ACCESS-KEY"
HEADER_TIMESTAMP = "KALSHI-ACCESS-TIMESTAMP"
HEADER_SIGNATURE = "KALSHI-ACCESS-SIGNATURE"

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


class KeyFileError(Exception):
    """A private key file cannot be used; the message says why and what to do."""


class AuthError(Exception):
    """A request's signature headers were rejected; the message says why."""


def message_to_sign(timestamp_ms: str, method: str, path: str) -> bytes:
    """The exact bytes Kalshi signs: timestamp + upper-case method + path without query."""
    return f"{timestamp_ms}{method.upper()}{path.split('?', 1)[0]}".encode()


def load_private_key(path: str | os.PathLike[str], *, check_permissions: bool = True) -> rsa.RSAPrivateKey:
    """Load an RSA private key from a PEM file (PKCS#1 or PKCS#8, unencrypted)."""
    p = Path(path).expanduser()
    if not p.exists():
        raise KeyFileError(f"private key file {p} does not exist")
    if not p.is_file():
        raise KeyFileError(f"private key path {p} is not a regular file")
    try:
        mode = p.stat().st_mode
        data = p.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"private key file {p} cannot be read: {exc.strerror or exc}") from None
    if check_permissions and os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"private key file {p} is readable by other users (mode {stat.S_IMODE(mode):04o}); run: chmod 600 {p}"
        )
    return parse_private_key(data, source=str(p))


def parse_private_key(data: bytes, *, source: str = "private key") -> rsa.RSAPrivateKey:
    if b"-----BEGIN" not in data:
        raise KeyFileError(f"{source} is not a PEM file (expected '-----BEGIN ... PRIVATE KEY-----')")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise KeyFileError(f"{source} is encrypted with a passphrase; Kalshi keys are unencrypted PEM") from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(f"{source} is not a valid PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFileError(f"{source} holds a {type(key).__name__.lstrip('_')}, not an RSA private key")
    return key


def generate_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def public_key_pem(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> bytes:
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def write_private_key(key: rsa.RSAPrivateKey, path: str | os.PathLike[str]) -> Path:
    """Write a key as PEM with mode 0600 from the first byte (never briefly world-readable)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, private_key_pem(key))
    finally:
        os.close(fd)
    os.chmod(p, 0o600)
    return p


@dataclass(frozen=True, slots=True)
class Signer:
    """Signs requests for one API key."""

    key_id: str
    private_key: rsa.RSAPrivateKey
    clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000

    @staticmethod
    def from_files(key_id: str, key_file: str | os.PathLike[str]) -> Signer:
        key_id = key_id.strip()
        if not key_id:
            raise KeyFileError("API key id is empty")
        return Signer(key_id, load_private_key(key_file))

    def sign(self, timestamp_ms: str, method: str, path: str) -> str:
        signature = self.private_key.sign(message_to_sign(timestamp_ms, method, path), _PSS, hashes.SHA256())
        return base64.b64encode(signature).decode("ascii")

    def headers(self, method: str, path: str) -> dict[str, str]:
        ts = str(self.clock_ms())
        return {
            HEADER_KEY: self.key_id,
            HEADER_TIMESTAMP: ts,
            HEADER_SIGNATURE: self.sign(ts, method, path),
        }

    def __repr__(self) -> str:  # never show key material
        return f"Signer(key_id={self.key_id!r})"


class Verifier:
    """Server-side check of the three signature headers against registered public keys."""

    def __init__(
        self,
        public_keys: Mapping[str, rsa.RSAPublicKey] | None = None,
        *,
        max_skew_ms: int = 5_000,
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self._keys: dict[str, rsa.RSAPublicKey] = dict(public_keys or {})
        self.max_skew_ms = max_skew_ms
        self._clock_ms = clock_ms

    def register(self, key_id: str, public_key: rsa.RSAPublicKey) -> None:
        self._keys[key_id] = public_key

    def verify(self, headers: Mapping[str, str], method: str, path: str) -> str:
        """Return the key id when the headers authenticate ``method path``; raise ``AuthError``."""
        key_id = headers.get(HEADER_KEY)
        ts = headers.get(HEADER_TIMESTAMP)
        sig = headers.get(HEADER_SIGNATURE)
        missing = [h for h, v in ((HEADER_KEY, key_id), (HEADER_TIMESTAMP, ts), (HEADER_SIGNATURE, sig)) if not v]
        if missing:
            raise AuthError(f"missing authentication header(s): {', '.join(missing)}")
        assert key_id is not None
        assert ts is not None
        assert sig is not None
        public = self._keys.get(key_id)
        if public is None:
            raise AuthError("unknown API key id")
        if not ts.isdigit():
            raise AuthError(f"{HEADER_TIMESTAMP} must be milliseconds since the epoch")
        skew = int(ts) - self._clock_ms()
        if abs(skew) > self.max_skew_ms:
            hint = " (looks like seconds, not milliseconds)" if len(ts) <= 11 else ""
            raise AuthError(f"request timestamp is {abs(skew) / 1000:.1f}s off the server clock{hint}")
        try:
            raw = base64.b64decode(sig, validate=True)
        except ValueError:
            raise AuthError(f"{HEADER_SIGNATURE} is not valid base64") from None
        try:
            public.verify(raw, message_to_sign(ts, method, path), _PSS, hashes.SHA256())
        except InvalidSignature:
            raise AuthError("signature does not match (sign timestamp + METHOD + full path without query)") from None
        return key_id
