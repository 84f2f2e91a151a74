"""The effective settings as a person should see them (``kalshi-trader config show``).

Contract: ``effective_settings(settings)`` is every section and field of ``config.Settings`` as plain
JSON/TOML values (decimals and paths as strings, unset values left out), with secrets redacted: a
database URL's password and every ``SecretStr`` (the key passphrase) become ``***``, alert URLs show
only their scheme (and a webhook's or mail server's host), and the API key
id shows only its first 8 characters. Key
material is never in the settings (only the key file's path), so it cannot be shown. ``to_toml``
renders the result as a TOML file that ``--config`` accepts back (redacted values aside), with the
resolved endpoints as comments.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from kalshi_trader.alerts.urls import redact as redact_alert_url
from kalshi_trader.config import Settings
from kalshi_trader.store import redact_url
from kalshi_trader.strategy import registry

__all__ = ["effective_settings", "to_toml"]

REDACTED = "***"


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, SecretStr):
        return REDACTED
    return value


def effective_settings(settings: Settings) -> dict[str, Any]:
    values: dict[str, Any] = _plain(settings.model_dump())
    values["strategies"] = {  # every registered strategy, its defaults under what is given
        name: _plain(registry.section(settings.strategies, name).model_dump()) for name in registry.names()
    }
    store = values.get("store", {})
    if "url" in store:
        store["url"] = redact_url(store["url"])
    alerts = values.get("alerts", {})
    if "urls" in alerts:
        alerts["urls"] = [redact_alert_url(u.get_secret_value()) for u in settings.alerts.urls]
    api = values.get("api", {})
    if api.get("key_id"):
        api["key_id"] = api["key_id"][:8] + "…(redacted)"
    values["resolved"] = {
        "rest_url": settings.rest_url(),
        "ws_url": settings.ws_url(),
        "nws_url": settings.nws_url(),
        "key_file": str(settings.key_file()),
    }
    return values


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def to_toml(values: dict[str, Any]) -> str:
    resolved = values.get("resolved", {})
    lines = ["# kalshi-trader effective settings (secrets redacted)"]
    lines += [f"# {k}: {v}" for k, v in resolved.items()]

    def section(prefix: str, table: dict[str, Any]) -> None:
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
        if prefix:
            lines.append("")
            lines.append(f"[{prefix}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in scalars.items())
        for k, v in table.items():
            if isinstance(v, dict):
                section(f"{prefix}.{k}" if prefix else k, v)

    section("", {k: v for k, v in values.items() if k != "resolved"})
    return "\n".join(lines)
