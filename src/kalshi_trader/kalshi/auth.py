"""Kalshi API keys: request signing with the key's own algorithm (Ed25519 or RSA-PSS), key files,
and the server side's verification.

Contract:
- A Kalshi API key is an Ed25519 or an RSA key pair (``KeyType``). The type is the parsed key's,
  never the PEM header's: PKCS#8 RSA keys also begin ``-----BEGIN PRIVATE KEY-----``.
- ``Signer.headers(method, path)`` returns the three ``KALSHI-ACCESS-*`` headers for one request:
  the key id, the wall-clock time in milliseconds, and base64 of the signature of the pre-sign text
  ``timestamp + METHOD + path`` — Ed25519 (RFC 8032) over the text itself, or RSA-PSS with SHA-256,
  MGF1-SHA-256 and a salt as long as the digest. ``path`` is the URL path from the host root
  including ``/trade-api/v2``; a query string is dropped before signing; the body is never signed.
  Ed25519 signs and verifies through libsodium (PyNaCl), RSA through OpenSSL (``cryptography``).
- Pre-signing (the signature covers no body, so a request's headers can be made before the request
  is): ``Signer.prepare(method, path)`` signs now and keeps the headers for that method and path;
  ``headers`` hands a kept one out at most once, and only while its timestamp is within
  ``PRESIGNED_MAX_AGE_MS`` of the signer's clock (otherwise it signs inline, as without one).
  ``refresh()`` prepares again every method and path ever prepared whose kept headers are gone or
  half that age. Every headers of a prepared method and path carry a later timestamp than the
  ones handed out before (1 ms past the last when the clock has not moved), so no two requests ever
  carry the same timestamp and signature; a burst of more than one request a millisecond runs that
  many ms ahead of the clock, which Kalshi's write budget keeps far inside its clock window.
- ``load_private_key(path, passphrase=...)`` reads a PEM private key — PKCS#8 or PKCS#1, plain or
  passphrase-encrypted — and returns an Ed25519 or RSA key. Anything else raises ``KeyFileError``
  with one line naming the file and what was found: a missing path, a directory, an empty or
  unreadable file, text that is not PEM, a public key or certificate, an OpenSSH-format key, an EC,
  DSA or other key, an encrypted key without its passphrase or with a wrong one. A key file that
  group or others may access is still used, with a warning (log event
  ``key_file_readable_by_others``) that names ``chmod 600``.
- ``parse_public_key(pem)`` reads the SPKI public key (``-----BEGIN PUBLIC KEY-----``) a user
  registers, of either type; ``ValueError`` with the reason otherwise.
- ``generate_private_key(key_type)``; ``private_key_pem`` writes what Kalshi hands out (PKCS#8 for
  Ed25519, PKCS#1 for RSA), ``public_key_pem`` SPKI; ``write_private_key`` writes a key with mode
  0600 from the first byte; ``write_key_pair`` writes a new pair (``FILE`` 0600 and ``FILE.pub``)
  and never overwrites.
- ``Verifier`` is the server side (the embedded exchange): it looks the key id's registered public
  key up, checks the timestamp is fresh (default ±5 s) and verifies the signature with that key's
  algorithm, raising ``AuthError`` with the reason otherwise.
- No message, log line or ``repr`` carries key material or a passphrase; they name files only.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import os
import re
import stat
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeAlias

import structlog
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from nacl.bindings import crypto_sign_open, crypto_sign_seed_keypair
from nacl.exceptions import BadSignatureError

log = structlog.get_logger(__name__)

HEADER_KEY = "KALSHI-ACCESS-KEY"
HEADER_TIMESTAMP = "KALSHI-ACCESS-TIMESTAMP"
HEADER_SIGNATURE = "KALSHI-ACCESS-SIGNATURE"

PRESIGNED_MAX_AGE_MS = 100
"""How old pre-signed headers may be when handed out: a timestamp this old is still far inside any
exchange's clock window (the embedded exchange accepts ±5 s), and a refresher every 50 ms keeps one
younger than this."""

PASSPHRASE_SETTING = "api.key_passphrase (KALSHI_TRADER_API__KEY_PASSPHRASE)"
RSA_KEY_BITS = 2048

PrivateKey: TypeAlias = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
PublicKey: TypeAlias = ed25519.Ed25519PublicKey | rsa.RSAPublicKey

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
_SHA256 = hashes.SHA256()
_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
_OPEN_TO_OTHERS = stat.S_IRWXG | stat.S_IRWXO
_LIBSODIUM: Any = importlib.import_module("nacl._sodium")  # PyNaCl's own C binding of libsodium (no stubs)


class KeyType(StrEnum):
    """The signature algorithm of an API key pair (Kalshi's ``ApiKeyType``)."""

    ED25519 = "ed25519"
    RSA = "rsa"

    @property
    def label(self) -> str:
        return "Ed25519" if self is KeyType.ED25519 else "RSA"


class KeyFileError(Exception):
    """A key file cannot be read, used or written; the message says why and what to do."""


class AuthError(Exception):
    """A request's signature headers were rejected; the message says why."""


def key_type(key: PrivateKey | PublicKey) -> KeyType:
    """The type of a parsed key (never guessed from a PEM header)."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return KeyType.ED25519
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return KeyType.RSA
    raise TypeError(f"not an API key: {type(key).__name__}")


def describe_key(key: PrivateKey | PublicKey) -> str:
    """``Ed25519`` or ``RSA 2048-bit``: what a person is told about a key (no material)."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return f"RSA {key.key_size}-bit"
    return key_type(key).label


def _other_key(key: object) -> str:
    """What a key that is neither Ed25519 nor RSA is, for an error message (``an EC (secp256r1)
    key``, ``a DSA key``)."""
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return f"an EC ({key.curve.name}) key"
    name = type(key).__name__.lstrip("_").removesuffix("PrivateKey").removesuffix("PublicKey") or "unknown"
    return f"{'an' if name[0] in 'AEFHILMNORSX' else 'a'} {name} key"


def message_to_sign(timestamp_ms: str, method: str, path: str) -> bytes:
    """The exact bytes Kalshi signs: timestamp + upper-case method + path without query."""
    return f"{timestamp_ms}{method.upper()}{path.split('?', 1)[0]}".encode()


def signature_function(key: PrivateKey) -> Callable[[bytes], bytes]:
    """``message → raw signature`` with ``key``'s algorithm. Ed25519 signs through libsodium
    (``_ed25519_signer``): the same RFC 8032 signature as ``key.sign`` (it is deterministic), at
    about half of OpenSSL's cost per call (bench/bench_signing.py)."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return _ed25519_signer(key.private_bytes_raw())
    if isinstance(key, rsa.RSAPrivateKey):
        return lambda message: key.sign(message, _PSS, _SHA256)
    raise TypeError(f"cannot sign with {_other_key(key)}")


def _ed25519_signer(seed: bytes) -> Callable[[bytes], bytes]:
    """Ed25519 signing with libsodium's ``crypto_sign`` called directly (PyNaCl's own C binding):
    the expanded secret key is made once and kept in C memory, and each call allocates only its
    output buffer (so concurrent callers never share one) — none of PyNaCl's per-call argument
    checks and copies of the key."""
    _, expanded = crypto_sign_seed_keypair(seed)
    ffi = _LIBSODIUM.ffi
    secret = ffi.new("unsigned char[]", expanded)
    new, sign, view, null = ffi.new, _LIBSODIUM.lib.crypto_sign, ffi.buffer, ffi.NULL

    def sign_ed25519(message: bytes) -> bytes:
        out = new("unsigned char[]", 64 + len(message))  # signature, then the message
        if sign(out, null, message, len(message), secret) != 0:
            raise RuntimeError("libsodium could not sign the request")
        signature: bytes = view(out, 64)[:]
        return signature

    return sign_ed25519


def signature_check(public_key: PublicKey) -> Callable[[bytes, bytes], None]:
    """``(signature, message) → None`` with ``public_key``'s algorithm, raising ``InvalidSignature``
    for anything but its signature over ``message``. Ed25519 verifies through libsodium (about half
    of OpenSSL's cost per call)."""
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        raw = public_key.public_bytes_raw()

        def check_ed25519(signature: bytes, message: bytes) -> None:
            if len(signature) != 64:
                raise InvalidSignature
            try:
                crypto_sign_open(signature + message, raw)
            except BadSignatureError:
                raise InvalidSignature from None

        return check_ed25519
    return lambda signature, message: public_key.verify(signature, message, _PSS, _SHA256)


# -- key files ----------------------------------------------------------------------------------


def load_private_key(
    path: str | os.PathLike[str], *, passphrase: str | bytes | None = None, check_permissions: bool = True
) -> PrivateKey:
    """Load an Ed25519 or RSA private key from a PEM file (see the module docstring)."""
    p = Path(path).expanduser()
    try:
        st = p.stat()
    except FileNotFoundError:
        raise KeyFileError(f"private key file {p} does not exist") from None
    except OSError as exc:
        raise KeyFileError(f"private key file {p} cannot be read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise KeyFileError(f"private key file {p} is a directory, not a key file")
    if not stat.S_ISREG(st.st_mode):
        raise KeyFileError(f"private key file {p} is not a regular file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"private key file {p} cannot be read: {exc.strerror or exc}") from None
    key = parse_private_key(data, passphrase=passphrase, source=f"private key file {p}")
    if check_permissions and os.name == "posix" and st.st_mode & _OPEN_TO_OTHERS:
        log.warning(
            "key_file_readable_by_others",
            path=str(p),
            mode=f"{stat.S_IMODE(st.st_mode):04o}",
            fix=f"chmod 600 {p}",
        )
    return key


def parse_private_key(data: bytes, *, passphrase: str | bytes | None = None, source: str = "private key") -> PrivateKey:
    """An Ed25519 or RSA private key from PEM text; ``KeyFileError`` naming what was found otherwise."""
    if not data.strip():
        raise KeyFileError(f"{source} is empty")
    found = _PEM_LABEL.search(data)
    if found is None:
        raise KeyFileError(f"{source} is not a PEM file (expected a '-----BEGIN PRIVATE KEY-----' line)")
    label = found.group(1).decode("ascii")
    if "PUBLIC KEY" in label:
        raise KeyFileError(
            f"{source} holds a public key, not the private key (the public key is what you register with Kalshi)"
        )
    if "CERTIFICATE" in label:
        raise KeyFileError(f"{source} holds a certificate, not a private key")
    if label == "OPENSSH PRIVATE KEY":
        raise KeyFileError(f"{source} holds an OpenSSH-format key; Kalshi keys are PEM (PKCS#8 or PKCS#1)")
    if "PRIVATE KEY" not in label:
        raise KeyFileError(f"{source} holds a PEM '{label}' block, not a private key")
    encrypted = label == "ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in data
    password = passphrase.encode() if isinstance(passphrase, str) else passphrase
    if encrypted and not password:
        raise KeyFileError(f"{source} is encrypted: set its passphrase in {PASSPHRASE_SETTING}")
    try:
        with warnings.catch_warnings():  # e.g. DSA's deprecation: the one line below says enough
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            key = serialization.load_pem_private_key(data, password=password if encrypted else None)
    except ValueError:
        if encrypted:
            raise KeyFileError(
                f"{source} cannot be decrypted with the passphrase in {PASSPHRASE_SETTING} "
                "(wrong passphrase or a damaged file)"
            ) from None
        raise KeyFileError(f"{source} is not a valid PEM private key (its content does not decode)") from None
    except (TypeError, UnsupportedAlgorithm):
        raise KeyFileError(f"{source} is not a private key this system can read") from None
    if isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        return key
    raise KeyFileError(f"{source} holds {_other_key(key)}; Kalshi API keys are Ed25519 or RSA")


def parse_public_key(pem: str | bytes) -> PublicKey:
    """The Ed25519 or RSA public key (SPKI PEM) a user registers; ``ValueError`` saying why not."""
    data = pem.encode() if isinstance(pem, str) else pem
    if not data.strip():
        raise ValueError("public_key is empty")
    if b"PRIVATE KEY" in data:
        raise ValueError(
            "public_key holds a private key: send only the public key (-----BEGIN PUBLIC KEY-----) "
            "and keep the private key to yourself"
        )
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise ValueError("public_key is not a PEM public key (-----BEGIN PUBLIC KEY-----)") from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < RSA_KEY_BITS:
        raise ValueError(f"public_key is an RSA {key.key_size}-bit key; RSA API keys are {RSA_KEY_BITS}-bit or more")
    if isinstance(key, ed25519.Ed25519PublicKey | rsa.RSAPublicKey):
        return key
    raise ValueError(f"public_key is {_other_key(key)}; Kalshi API keys are Ed25519 or RSA")


def generate_private_key(kind: KeyType | str = KeyType.ED25519) -> PrivateKey:
    """A new Ed25519 key, or a 2048-bit RSA key."""
    if KeyType(kind) is KeyType.ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)


def private_key_pem(key: PrivateKey) -> bytes:
    """The key as Kalshi hands keys out: PKCS#8 PEM for Ed25519, PKCS#1 PEM for RSA."""
    fmt = serialization.PrivateFormat.PKCS8
    if isinstance(key, rsa.RSAPrivateKey):
        fmt = serialization.PrivateFormat.TraditionalOpenSSL
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def public_key_pem(key: PrivateKey | PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM (``-----BEGIN PUBLIC KEY-----``), what Kalshi registers."""
    public = key.public_key() if isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _write_new(path: Path, data: bytes, mode: int, *, replace: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    fd = os.open(path, flags, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, mode)


def write_private_key(key: PrivateKey, path: str | os.PathLike[str]) -> Path:
    """Write a key as PEM with mode 0600 from the first byte (never briefly readable by others)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    _write_new(p, private_key_pem(key), 0o600, replace=True)
    return p


def public_key_path(private_path: str | os.PathLike[str]) -> Path:
    """Where ``write_key_pair`` puts the public key of ``private_path``: beside it, ``.pub`` added."""
    p = Path(private_path)
    return p.with_name(p.name + ".pub")


def write_key_pair(key: PrivateKey, path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write a new pair: ``path`` (private, 0600) and ``path.pub`` (public, SPKI, 0644). Neither may
    exist yet (``KeyFileError`` otherwise; nothing is written then)."""
    private, public = Path(path).expanduser(), public_key_path(Path(path).expanduser())
    for p in (private, public):
        if p.exists() or p.is_symlink():
            raise KeyFileError(f"{p} already exists; not overwriting it (choose another --out or move it away)")
    try:
        private.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_new(private, private_key_pem(key), 0o600, replace=False)
    except OSError as exc:
        raise KeyFileError(f"cannot write {private}: {exc.strerror or exc}") from None
    try:
        _write_new(public, public_key_pem(key), 0o644, replace=False)
    except OSError as exc:
        private.unlink(missing_ok=True)
        raise KeyFileError(f"cannot write {public}: {exc.strerror or exc}") from None
    return private, public


# -- signing and verification ---------------------------------------------------------------------


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Signer:
    """Signs requests for one API key, with the key's algorithm."""

    key_id: str
    private_key: PrivateKey = field(repr=False)
    clock_ms: Callable[[], int] = _wall_clock_ms
    _sign: Callable[[bytes], bytes] = field(init=False, repr=False, compare=False)
    _kept: dict[tuple[str, str], tuple[int, dict[str, str]]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _routes: set[tuple[str, str]] = field(init=False, repr=False, compare=False, default_factory=set)
    _last_ms: dict[tuple[str, str], int] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_sign", signature_function(self.private_key))

    @staticmethod
    def from_files(key_id: str, key_file: str | os.PathLike[str], *, passphrase: str | bytes | None = None) -> Signer:
        key_id = key_id.strip()
        if not key_id:
            raise KeyFileError("API key id is empty")
        return Signer(key_id, load_private_key(key_file, passphrase=passphrase))

    @property
    def key_type(self) -> KeyType:
        return key_type(self.private_key)

    def sign(self, timestamp_ms: str, method: str, path: str) -> str:
        return binascii.b2a_base64(self._sign(message_to_sign(timestamp_ms, method, path)), newline=False).decode()

    def _signed(self, ts_ms: int, method: str, path: str) -> dict[str, str]:
        ts = str(ts_ms)
        return {
            HEADER_KEY: self.key_id,
            HEADER_TIMESTAMP: ts,
            HEADER_SIGNATURE: self.sign(ts, method, path),
        }

    def headers(self, method: str, path: str) -> dict[str, str]:
        """The headers for one request: pre-signed ones if kept and fresh (each handed out once),
        else signed now."""
        now = self.clock_ms()
        if self._routes:  # something is pre-signed
            route = (method, path)
            kept = self._kept.pop(route, None)
            if kept is not None and abs(now - kept[0]) <= PRESIGNED_MAX_AGE_MS:
                self._last_ms[route] = kept[0]
                return kept[1]
            if route in self._routes:
                now = self._last_ms[route] = self._next_ms(route, now)
        return self._signed(now, method, path)

    def _next_ms(self, route: tuple[str, str], now: int) -> int:
        """A prepared route's next timestamp: ``now``, or 1 ms past the last one handed out when the
        clock has not moved (Ed25519 is deterministic: equal timestamps would mean equal signatures)."""
        last = self._last_ms.get(route, -1)
        return now if now > last else last + 1

    def prepare(self, method: str, path: str) -> None:
        """Sign headers for ``method path`` now and keep them for the next ``headers`` call."""
        route = (method, path)
        self._routes.add(route)
        ts = self._next_ms(route, self.clock_ms())
        self._kept[route] = (ts, self._signed(ts, method, path))

    def refresh(self) -> int:
        """Prepare again every prepared route whose headers are gone or half ``PRESIGNED_MAX_AGE_MS``
        old; returns how many were signed."""
        now, signed = self.clock_ms(), 0
        for route in list(self._routes):
            kept = self._kept.get(route)
            if kept is None or abs(now - kept[0]) >= PRESIGNED_MAX_AGE_MS // 2:
                self.prepare(*route)
                signed += 1
        return signed

    def pending_ms(self, method: str, path: str) -> int | None:
        """The timestamp of the pre-signed headers kept for ``method path``, if any."""
        kept = self._kept.get((method, path))
        return None if kept is None else kept[0]

    def prepared(self, method: str, path: str) -> bool:
        """Whether ``method path`` is pre-signed (``prepare`` was called for it)."""
        return (method, path) in self._routes

    def __repr__(self) -> str:  # never show key material
        return f"Signer(key_id={self.key_id!r}, key_type={self.key_type.value!r})"


class Verifier:
    """Server-side check of the three signature headers against registered public keys."""

    def __init__(
        self,
        public_keys: Mapping[str, PublicKey] | None = None,
        *,
        max_skew_ms: int = 5_000,
        clock_ms: Callable[[], int] = _wall_clock_ms,
    ) -> None:
        self._keys: dict[str, tuple[KeyType, Callable[[bytes, bytes], None]]] = {}
        self.max_skew_ms = max_skew_ms
        self._clock_ms = clock_ms
        for key_id, public_key in (public_keys or {}).items():
            self.register(key_id, public_key)

    def register(self, key_id: str, public_key: PublicKey) -> None:
        self._keys[key_id] = (key_type(public_key), signature_check(public_key))

    def remove(self, key_id: str) -> None:
        """Forget ``key_id``: its signatures are refused from now on."""
        self._keys.pop(key_id, None)

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
        registered = self._keys.get(key_id)
        if registered is None:
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
        kind, check = registered
        try:
            check(raw, message_to_sign(ts, method, path))
        except InvalidSignature:
            algorithm = "Ed25519" if kind is KeyType.ED25519 else "RSA-PSS SHA-256"
            raise AuthError(
                f"signature does not match ({algorithm} key: sign timestamp + METHOD + full path without query)"
            ) from None
        return key_id
