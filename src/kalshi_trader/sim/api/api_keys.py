"""The embedded exchange's API keys: which account owns each, its name and scopes, and the check of
requests signed with it.

Contract:
- ``ApiKeys.add(user_id, public_key, key_id=..., name=..., scopes=...)`` registers an Ed25519 or RSA
  public key for an account and returns its ``ApiKeyRecord`` (a fresh id from ``new_id`` unless one
  is given; a taken id is a ``ValueError``). Private keys are never kept here.
- ``for_user(user_id)`` lists an account's keys in the order they were added; ``remove(user_id,
  key_id)`` deletes one of that account's keys (``KeyError`` if it has no such key, including
  another account's) and from then on requests signed with it are refused.
- ``authenticate(headers, method, path)`` is the caller (``Principal``) behind signed headers, or
  ``kalshi.auth.AuthError``: the ``Verifier`` checks the timestamp and the signature with the
  algorithm of the registered key.
- Scopes are recorded and listed as given (``DEFAULT_SCOPES`` when omitted); requests are not
  limited by them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kalshi_trader.kalshi.auth import (
    AuthError,
    KeyType,
    PublicKey,
    Verifier,
    key_type,
)
from kalshi_trader.sim.api.rest_support import Principal

SCOPES = (
    "read",
    "write",
    "read::block_trade_accept",
    "read::portfolio_balance",
    "write::trade",
    "write::transfer",
    "write::fcm_risk",
    "write::block_trade_accept",
)
"""Kalshi's ``ApiKeyScope`` values."""
DEFAULT_SCOPES = ("read", "write")


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    key_id: str
    user_id: str
    name: str
    scopes: tuple[str, ...]
    key_type: KeyType


class ApiKeys:
    """The exchange's registered keys (see the module docstring)."""

    def __init__(self, verifier: Verifier, new_id: Callable[[], str]) -> None:
        self.verifier = verifier
        self._new_id = new_id
        self._records: dict[str, ApiKeyRecord] = {}

    def add(
        self,
        user_id: str,
        public_key: PublicKey,
        *,
        key_id: str | None = None,
        name: str = "default",
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
    ) -> ApiKeyRecord:
        key_id = key_id or self._new_id()
        if key_id in self._records:
            raise ValueError("API key id is already registered")
        record = ApiKeyRecord(key_id, user_id, name, scopes, key_type(public_key))
        self.verifier.register(key_id, public_key)
        self._records[key_id] = record
        return record

    def for_user(self, user_id: str) -> list[ApiKeyRecord]:
        return [r for r in self._records.values() if r.user_id == user_id]

    def remove(self, user_id: str, key_id: str) -> None:
        record = self._records.get(key_id)
        if record is None or record.user_id != user_id:
            raise KeyError(key_id)
        del self._records[key_id]
        self.verifier.remove(key_id)

    def user_for_key(self, key_id: str) -> str:
        return self._records[key_id].user_id

    def authenticate(self, headers: Mapping[str, str], method: str, path: str) -> Principal:
        key_id = self.verifier.verify(headers, method, path)
        record = self._records.get(key_id)
        if record is None:  # pragma: no cover - the verifier only knows registered keys
            raise AuthError("unknown API key id")
        return Principal(key_id, record.user_id)
