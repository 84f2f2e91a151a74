"""URL resolution (what users type → async drivers) and password redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from kalshi_trader.store import StoreError, redact_text, redact_url, resolve_url
from kalshi_trader.store.redact import password_of


def test_default_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    r = resolve_url(None, tmp_path)
    assert (r.dialect, r.url.drivername) == ("sqlite", "sqlite+aiosqlite")
    assert r.sqlite_path == tmp_path / "kalshi-trader.db"
    assert resolve_url("  ", tmp_path).sqlite_path == tmp_path / "kalshi-trader.db"
    with pytest.raises(StoreError, match="no data dir"):
        resolve_url(None)


@pytest.mark.parametrize("raw", ["sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"])
def test_sqlite_forms(raw: str) -> None:
    r = resolve_url(raw)
    assert r.url.drivername == "sqlite+aiosqlite"
    assert r.sqlite_path == Path("/tmp/x.db")
    assert r.connect_args == {}


def test_in_memory_sqlite_has_no_path() -> None:
    assert resolve_url("sqlite://").sqlite_path is None
    assert resolve_url("sqlite:///:memory:").sqlite_path is None


@pytest.mark.parametrize(
    "raw",
    [
        "postgres://u:p@db.abc.supabase.co:5432/postgres",
        "postgresql://u:p@db.abc.supabase.co:5432/postgres",
        "postgresql+asyncpg://u:p@db.abc.supabase.co:5432/postgres",
    ],
)
def test_postgres_forms_map_to_asyncpg(raw: str) -> None:
    r = resolve_url(raw)
    assert r.dialect == "postgresql"
    assert r.url.drivername == "postgresql+asyncpg"
    assert (r.url.host, r.url.port, r.url.database, r.url.username, r.password) == (
        "db.abc.supabase.co",
        5432,
        "postgres",
        "u",
        "p",
    )
    assert r.redacted == "postgresql+asyncpg://u:***@db.abc.supabase.co:5432/postgres"


def test_libpq_parameters_are_translated() -> None:
    r = resolve_url(
        "postgresql://u@h/db?sslmode=require&options=-c%20search_path%3Dkt%20-cstatement_timeout%3D5000"
        "&application_name=bot&password=se%40cret&statement_cache_size=0&prepared_statement_cache_size=0"
    )
    assert r.connect_args == {
        "ssl": "require",
        "statement_cache_size": 0,
        "server_settings": {"search_path": "kt", "statement_timeout": "5000", "application_name": "bot"},
    }
    assert r.password == "se@cret"
    assert dict(r.url.query) == {"prepared_statement_cache_size": "0"}
    assert "se@cret" not in r.redacted


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("mysql://u:pw1234@h/db", "unsupported database URL scheme 'mysql'"),
        ("postgresql+psycopg2://u:pw1234@h/db", "unsupported database URL scheme"),
        ("postgresql://u:pw1234@h/db?sslrootcert=/x", "unsupported database URL parameter 'sslrootcert'"),
        ("postgresql://u:pw1234@h/db?sslmode=sometimes", "sslmode='sometimes' is not one of"),
        ("postgresql://u:pw1234@h/db?options=search_path", "expected '-c name=value'"),
        ("postgresql://u:pw1234@h/db?statement_cache_size=x", "is not an integer"),
        ("postgresql://u:pw1234@h/db?ssl=require&ssl=disable", "more than once"),
        ("sqlite:////tmp/x.db?mode=ro", "SQLite URL takes no parameters"),
        ("not a url at all pw1234", "cannot parse database URL"),
    ],
)
def test_bad_urls_are_one_clear_error_without_the_password(raw: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as caught:
        resolve_url(raw)
    assert "pw1234" not in str(caught.value) or raw.startswith("not a url")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://u:s3cret@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgres://u:p@ss:w@rd@h/db", "postgres://u:***@h/db"),
        ("failed: postgresql+asyncpg://u:x/y@h/db (timeout)", "failed: postgresql+asyncpg://u:***@h/db (timeout)"),
        ("postgresql://h/db?user=u&password=s3cret&x=1", "postgresql://h/db?user=u&password=***&x=1"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("no url here", "no url here"),
        ("a://u:one@h and b://v:two@k", "a://u:***@h and b://v:***@k"),
    ],
)
def test_redact_url(text: str, expected: str) -> None:
    assert redact_url(text) == expected


def test_redact_text_also_removes_bare_and_decoded_secrets() -> None:
    pw = password_of("postgresql://u:p%40ss@h/db")
    assert pw == "p%40ss"
    assert redact_text("auth failed for p@ss and p%40ss", pw) == "auth failed for *** and ***"
    assert password_of("postgresql://h/db?password=zz") == "zz"
    assert password_of("postgresql://u@h/db") is None
    assert password_of(None) is None
