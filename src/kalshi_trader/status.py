"""A running node's state in the terminal (``kalshi-trader status``), read from its JSON API.

Contract:
- ``locate(data_dir, url)`` finds the node: ``url`` if given, else the address the node wrote to
  ``DATA_DIR/web-url``, else ``http://127.0.0.1:8000``; the token is ``DATA_DIR/web-token``.
  ``StatusError`` (one line for the user) when the token file is missing.
- ``fetch(node)`` reads health (with the connection), balance, risk, strategies, the latest P&L
  point and positions — read-only GETs with the token. A node that does not answer, refuses the
  token or answers something else raises ``StatusError`` naming the address (never the token).
- ``render(snapshot)`` lays it out with Rich: the header line (mode, health, uptime, market
  time), account and P&L, risk (kill switch, breakers), strategies and the connection.
Imports only the web's token helpers of the project.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from kalshi_trader.web.auth import TOKEN_FILE, read_token, read_url

__all__ = ["NodeAddress", "Snapshot", "StatusError", "fetch", "locate", "render"]

DEFAULT_URL = "http://127.0.0.1:8000"


class StatusError(Exception):
    """The node's status cannot be read; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class NodeAddress:
    url: str
    token: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    health: dict[str, Any]
    balance: dict[str, Any]
    risk: dict[str, Any]
    strategies: list[dict[str, Any]]
    pnl: dict[str, Any] | None
    positions: list[dict[str, Any]]


def locate(data_dir: Path, url: str | None = None) -> NodeAddress:
    token = read_token(data_dir)
    if token is None:
        raise StatusError(
            f"no {TOKEN_FILE} in {data_dir}: is a node running with this data dir? "
            "(start one with `kalshi-trader run`, or pass its --data-dir)"
        )
    return NodeAddress((url or read_url(data_dir) or DEFAULT_URL).rstrip("/"), token)


def _get(node: NodeAddress, path: str, timeout_s: float) -> Any:
    request = urllib.request.Request(f"{node.url}{path}", headers={"Authorization": f"Bearer {node.token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as reply:
            return json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            raise StatusError(
                f"the node at {node.url} refused the token in {TOKEN_FILE} (is it another node's data dir?)"
            ) from None
        raise StatusError(f"the node at {node.url} answered {path} with HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise StatusError(
            f"no kalshi-trader node answers at {node.url} ({reason}); start one with `kalshi-trader run`"
        ) from None
    except ValueError:
        raise StatusError(f"{node.url} is not a kalshi-trader node (its answer to {path} is not JSON)") from None


def fetch(node: NodeAddress, *, timeout_s: float = 5.0) -> Snapshot:
    health = _get(node, "/api/health", timeout_s)
    if not isinstance(health, dict) or "connection" not in health:
        raise StatusError(f"{node.url} is not a kalshi-trader node (unexpected /api/health)")
    pnl = _get(node, "/api/pnl?limit=2", timeout_s)  # oldest first: the last is the latest
    return Snapshot(
        health=health,
        balance=_get(node, "/api/account/balance", timeout_s),
        risk=_get(node, "/api/risk/status", timeout_s),
        strategies=_get(node, "/api/strategy/status", timeout_s),
        pnl=pnl[-1] if pnl else None,
        positions=_get(node, "/api/account/positions", timeout_s),
    )


def _dollars(value: str | None, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    amount = Decimal(value)
    sign = "-" if amount < 0 else ("+" if signed and amount > 0 else "")
    return f"{sign}${abs(amount):,.2f}"


def _uptime(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def _pairs(title: str, rows: list[tuple[str, RenderableType]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for label, value in rows:
        table.add_row(label, value)
    return table


def render(snap: Snapshot) -> RenderableType:
    health, risk, conn = snap.health, snap.risk, snap.health["connection"]
    status = str(health["status"])
    colour = {"ok": "green", "degraded": "yellow"}.get(status, "red")
    market = datetime.fromtimestamp(conn["market_time_ms"] / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = Text.assemble(
        ("kalshi-trader ", "bold"),
        (f"{health['mode']} ", "bold cyan"),
        (status, f"bold {colour}"),
        f"   up {_uptime(health['uptime_s'])}   market time {market} ({conn['speed']})",
    )
    pnl = snap.pnl or {}
    account = _pairs(
        "Account",
        [
            ("balance", _dollars(snap.balance["balance"])),
            ("portfolio value", _dollars(snap.balance["portfolio_value"])),
            ("day P&L", _dollars(risk["day_pnl"], signed=True)),
            (
                "realized / unrealized",
                f"{_dollars(pnl.get('realized'), signed=True)} / {_dollars(pnl.get('unrealized'), signed=True)}",
            ),
            ("fees", _dollars(pnl.get("fees"))),
            ("exposure", f"{_dollars(risk['total_exposure'])} of {_dollars(risk['max_total_exposure'])}"),
            ("positions", str(sum(1 for p in snap.positions if Decimal(p["qty"]) != 0))),
            ("open orders", f"{risk['open_orders']} of {risk['max_open_orders']}"),
        ],
    )
    if risk["kill_switch"]:
        halt = Text(f"KILL SWITCH by {risk['kill_who']}: {risk['kill_why']}", style="bold red")
    elif risk["halted"]:
        halt = Text("halted: breaker open", style="bold red")
    else:
        halt = Text("trading", style="green")
    breakers: list[tuple[str, RenderableType]] = [
        (b["rule"], Text(f"OPEN: {b['reason']}", style="red") if b["open"] else Text("closed", style="green"))
        for b in risk["breakers"]
    ]
    risk_table = _pairs(
        "Risk",
        [
            ("state", halt),
            *breakers,
            ("intents", f"{risk['submitted']} sent, {risk['refused']} refused"),
            ("exchange", f"{risk['rejected']} rejected, {risk['errors']} errors"),
        ],
    )
    strategies = Table(title="Strategies", title_justify="left", padding=(0, 1))
    for column in ("name", "state", "orders", "positions", "fills", "refused", "last error"):
        strategies.add_column(
            column, justify="right" if column in ("orders", "positions", "fills", "refused") else "left"
        )
    for s in snap.strategies:
        state = "running" if s["running"] else ("stopped" if s["enabled"] else "disabled")
        strategies.add_row(
            s["name"],
            Text(state, style="green" if s["running"] else "yellow"),
            str(s["open_orders"]),
            str(s["positions"]),
            str(s["fills"]),
            str(s["refused"]),
            s["last_error"] or "",
        )
    feed = Text("connected", style="green") if conn["ws_connected"] else Text("DISCONNECTED", style="bold red")
    connection = _pairs(
        "Connection",
        [
            ("exchange", conn["rest_url"]),
            ("feed", Text.assemble(feed, f"  ({conn['connects']} connects, {conn['disconnects']} drops)")),
            ("books", f"{conn['books_fresh']}/{conn['books_total']} fresh"),
            ("record", conn["store"] + (f"  ({conn['store_error']})" if conn["store_error"] else "")),
            ("last reconcile", conn["last_reconcile"] or "—"),
        ],
    )
    return Group(header, Text(""), account, Text(""), risk_table, Text(""), strategies, Text(""), connection)
