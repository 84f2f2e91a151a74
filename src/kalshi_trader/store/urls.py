"""Database URLs: what users type → what SQLAlchemy's async engine needs.

Contract:
- ``None`` means the default: SQLite at ``DATA_DIR/kalshi-trader.db`` (aiosqlite driver).
- ``sqlite:///path`` and ``sqlite+aiosqlite:///path`` select SQLite; a relative path is relative
  to the current directory, as in SQLAlchemy. ``sqlite://`` / ``:memory:`` is an in-memory
  database (tests only: it vanishes with the process).
- ``postgresql://``, ``postgres://`` (as copied from Supabase) and ``postgresql+asyncpg://``
  select Postgres through asyncpg. libpq query parameters that asyncpg does not take as keywords
  are translated: ``sslmode`` → ``ssl``, ``options=-c name=value`` and ``application_name`` →
  server settings (so ``?options=-csearch_path%3Dmyschema`` puts every table in ``myschema``),
  ``password`` → the URL's password, ``statement_cache_size`` → an int (0 for transaction-mode
  poolers). Any other parameter, or another driver, is a ``StoreError`` naming it.
- No error raised here contains a password (see :mod:`kalshi_trader.store.redact`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from kalshi_trader.store.errors import StoreError
from kalshi_trader.store.redact import redact_url

DB_FILENAME = "kalshi-trader.db"

Dialect = Literal["sqlite", "postgresql"]

_SQLITE_DRIVERS = {"sqlite", "sqlite+aiosqlite"}
_POSTGRES_DRIVERS = {"postgres", "postgresql", "postgresql+asyncpg"}
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
_PASSTHROUGH = {"prepared_statement_cache_size"}
"""Query parameters SQLAlchemy's asyncpg dialect understands itself."""


@dataclass(frozen=True, slots=True)
class ResolvedURL:
    """An async-driver SQLAlchemy URL plus the driver keyword arguments it implies."""

    url: URL
    dialect: Dialect
    connect_args: dict[str, Any] = field(default_factory=dict)

    @property
    def redacted(self) -> str:
        """The URL as it is safe to print (password replaced by ``***``)."""
        return self.url.render_as_string(hide_password=True)

    @property
    def password(self) -> str | None:
        """The password (only to redact it from messages)."""
        return self.url.password

    @property
    def sqlite_path(self) -> Path | None:
        """The database file for SQLite on disk, else ``None``."""
        db = self.url.database
        if self.dialect != "sqlite" or not db or db == ":memory:":
            return None
        return Path(db)


def default_url(data_dir: Path) -> str:
    """The default database: SQLite in the data dir."""
    return f"sqlite+aiosqlite:///{data_dir / DB_FILENAME}"


def resolve_url(raw: str | None, data_dir: Path | None = None) -> ResolvedURL:
    """Turn a user's URL (or ``None`` for the default) into what the async engine needs."""
    if raw is None or not raw.strip():
        if data_dir is None:
            raise StoreError("no database URL and no data dir to put the default SQLite database in")
        raw = default_url(data_dir)
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise StoreError(f"cannot parse database URL {redact_url(raw)!r}") from None
    if url.drivername in _SQLITE_DRIVERS:
        if url.query:
            raise StoreError(f"SQLite URL takes no parameters: {redact_url(raw)!r}")
        return ResolvedURL(url.set(drivername="sqlite+aiosqlite"), "sqlite")
    if url.drivername in _POSTGRES_DRIVERS:
        return _resolve_postgres(url, raw)
    raise StoreError(
        f"unsupported database URL scheme {url.drivername!r} in {redact_url(raw)!r}: "
        "use sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB"
    )


def _resolve_postgres(url: URL, raw: str) -> ResolvedURL:
    connect_args: dict[str, Any] = {}
    server_settings: dict[str, str] = {}
    keep: dict[str, str] = {}
    for name, value in url.query.items():
        if not isinstance(value, str):
            raise StoreError(f"database URL parameter {name!r} is given more than once")
        if name in ("sslmode", "ssl"):
            if value not in _SSL_MODES:
                raise StoreError(f"database URL {name}={value!r} is not one of {', '.join(sorted(_SSL_MODES))}")
            connect_args["ssl"] = value
        elif name == "options":
            server_settings.update(_parse_options(value))
        elif name == "application_name":
            server_settings["application_name"] = value
        elif name == "password":
            url = url.set(password=value)
        elif name == "statement_cache_size":
            connect_args["statement_cache_size"] = _int_param(name, value)
        elif name in _PASSTHROUGH:
            keep[name] = value
        else:
            raise StoreError(f"unsupported database URL parameter {name!r} in {redact_url(raw)!r}")
    if server_settings:
        connect_args["server_settings"] = server_settings
    return ResolvedURL(url.set(drivername="postgresql+asyncpg", query=keep), "postgresql", connect_args)


def _int_param(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise StoreError(f"database URL parameter {name}={value!r} is not an integer") from None


def _parse_options(options: str) -> dict[str, str]:
    """libpq's ``options``: ``-c name=value``, ``-cname=value`` or ``--name=value``, space-separated."""
    settings: dict[str, str] = {}
    tokens = unquote(options).split()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "-c" and i + 1 < len(tokens):
            assignment, i = tokens[i + 1], i + 2
        elif token.startswith(("-c", "--")) and len(token) > 2:
            assignment, i = token[2:], i + 1
        else:
            raise StoreError(f"cannot read database URL options {options!r}: expected '-c name=value'")
        name, eq, value = assignment.partition("=")
        if not eq or not name:
            raise StoreError(f"cannot read database URL options {options!r}: expected '-c name=value'")
        settings[name.replace("-", "_")] = value
    return settings
