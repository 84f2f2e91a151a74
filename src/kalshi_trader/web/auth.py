"""The dashboard's access token.

Contract:
- ``new_token()`` is 32 random bytes, URL-safe. ``write_token(data_dir, token)`` stores it in
  ``DATA_DIR/web-token`` with mode 0600 (replacing an older one; the file is created 0600, never
  chmod-ed after the fact). ``read_token`` reads it back. ``write_url`` / ``read_url`` keep the
  dashboard's address in ``DATA_DIR/web-url`` (no secret: the token is not in it), so local tools
  (``kalshi-trader status``) find a node that picked a free port.
- A request is authorised when it carries the token as ``Authorization: Bearer <token>``, as
  ``X-Access-Token: <token>``, as the ``kt_token`` cookie (set by opening ``/?token=<token>`` once)
  or as a ``?token=`` query parameter; ``token_matches`` compares in constant time.
- The token is never logged or echoed: error bodies say only that it is missing or wrong.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

TOKEN_FILE = "web-token"
URL_FILE = "web-url"
COOKIE = "kt_token"
HEADER = "x-access-token"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_path(data_dir: Path) -> Path:
    return data_dir / TOKEN_FILE


def write_token(data_dir: Path, token: str) -> Path:
    """Write ``token`` to ``DATA_DIR/web-token`` (mode 0600); returns the path."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = token_path(data_dir)
    tmp = path.with_name(f".{TOKEN_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, (token + "\n").encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def read_token(data_dir: Path) -> str | None:
    path = token_path(data_dir)
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def write_url(data_dir: Path, url: str) -> Path:
    """Write the dashboard's base URL to ``DATA_DIR/web-url``; returns the path."""
    path = data_dir / URL_FILE
    tmp = path.with_name(f".{URL_FILE}.{os.getpid()}.tmp")
    tmp.write_text(url + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_url(data_dir: Path) -> str | None:
    try:
        return (data_dir / URL_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def token_matches(expected: str, given: str | None) -> bool:
    if not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def presented_token(headers: Mapping[str, str], cookies: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The token a request carries, from the first place that has one (header, cookie, query)."""
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    if headers.get(HEADER):
        return headers[HEADER].strip()
    if cookies.get(COOKIE):
        return cookies[COOKIE]
    return query.get("token") or None
