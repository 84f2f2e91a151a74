"""API credentials of the standalone exchange's default account, kept in the data directory.

Contract: ``DIR/api-key-id`` holds the key id (one line) and ``DIR/api-key.pem`` the private key (PEM,
mode 0600, written by ``kalshi.auth.write_private_key``: PKCS#8 for Ed25519, PKCS#1 for RSA).
``ensure_credentials(dir, key_type)`` creates both on first use with a new key of ``key_type``
(Ed25519 by default, as Kalshi's web app) and reuses them afterwards, whatever their type. A
half-present pair, an unreadable/unwritable directory, a malformed key id or an unusable key file
raise ``CredentialsError`` with one line a person can act on. Key material is never printed or
logged; messages name files only.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from kalshi_trader.kalshi.auth import (
    KeyFileError,
    KeyType,
    PrivateKey,
    generate_private_key,
    load_private_key,
    write_private_key,
)
from kalshi_trader.kalshi.auth import (
    key_type as type_of_key,
)

KEY_ID_FILE = "api-key-id"
KEY_FILE = "api-key.pem"
_KEY_ID_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class CredentialsError(Exception):
    """The data directory's credentials cannot be created or used."""


@dataclass(frozen=True, slots=True)
class Credentials:
    key_id: str
    private_key: PrivateKey = field(repr=False)
    key_id_path: Path
    key_path: Path
    created: bool

    @property
    def key_type(self) -> KeyType:
        return type_of_key(self.private_key)

    def __repr__(self) -> str:  # never show key material
        return (
            f"Credentials(key_id={self.key_id!r}, key_type={self.key_type.value!r}, "
            f"key_path={str(self.key_path)!r}, created={self.created})"
        )


def _prepare_dir(data_dir: Path) -> None:
    if data_dir.exists() and not data_dir.is_dir():
        raise CredentialsError(f"data directory {data_dir} exists and is not a directory")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CredentialsError(f"cannot create data directory {data_dir}: {exc.strerror or exc}") from None
    if not os.access(data_dir, os.W_OK | os.X_OK):
        raise CredentialsError(f"data directory {data_dir} is not writable")


def ensure_credentials(data_dir: Path, key_type: KeyType = KeyType.ED25519) -> Credentials:
    """Load the default account's credentials from ``data_dir``, creating them (a new key of
    ``key_type``) if absent."""
    _prepare_dir(data_dir)
    id_path, key_path = data_dir / KEY_ID_FILE, data_dir / KEY_FILE
    if id_path.exists() != key_path.exists():
        present, absent = (id_path, key_path) if id_path.exists() else (key_path, id_path)
        raise CredentialsError(f"{present} exists but {absent} does not; restore it or delete {present}")
    if id_path.exists():
        try:
            key_id = id_path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise CredentialsError(f"cannot read {id_path}: {exc}") from None
        if not _KEY_ID_RE.match(key_id):
            raise CredentialsError(f"{id_path} does not hold an API key id")
        try:
            key = load_private_key(key_path)
        except KeyFileError as exc:
            raise CredentialsError(str(exc)) from None
        return Credentials(key_id, key, id_path, key_path, created=False)
    key = generate_private_key(key_type)
    key_id = str(uuid.uuid4())
    try:
        write_private_key(key, key_path)
        id_path.write_text(key_id + "\n", encoding="utf-8")
    except OSError as exc:
        raise CredentialsError(f"cannot write credentials into {data_dir}: {exc.strerror or exc}") from None
    return Credentials(key_id, key, id_path, key_path, created=True)
