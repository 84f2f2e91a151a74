"""What a node is asked to be: its mode and options, the error it stops with, its shutdown report."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from kalshi_trader.strategy import registry

__all__ = ["DEFAULT_SPEED", "Mode", "NodeError", "NodeOptions", "ShutdownReport"]

DEFAULT_SPEED = 60.0
"""The embedded exchange's default clock speed for ``run``: an hour of market time a minute."""
FAIR_MIN_WALL_S = 0.25
"""Fair values are recomputed at most this often in real time (at 600× that is every 150 s of
market time, well inside the market maker's fair-value age limit)."""
SNAPSHOT_DEPTH = 5
HISTORY_POINTS = 600
PNL_POINTS = 3_600
MAX_FILLS = 2_000


class Mode(StrEnum):
    SIM = "sim"
    PAPER = "paper"
    DEMO = "demo"
    PROD = "prod"


class NodeError(Exception):
    """The node cannot start (or run) as asked; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class NodeOptions:
    mode: Mode = Mode.SIM
    confirm_prod: bool = False
    """``prod`` trades real money: it starts only with this set (``--yes-trade-real-money``)."""
    embedded: bool = True
    """``sim``: run the embedded exchange here (False: use the one at ``settings.rest_url()``)."""
    scenario: str = "weather"
    speed: float | None = DEFAULT_SPEED
    """Embedded exchange clock speed (None: real time)."""
    autostart: bool = True
    """Start the strategies enabled in config right away (False: they wait for a start command)."""
    strategies: tuple[str, ...] = field(default_factory=registry.default_names)
    flatten_on_exit: bool = False
    sample_interval_s: float = 1.0
    fair_interval_s: float = 60.0
    """How often fair values are recomputed, in seconds of market time (the simulated clock's in
    sim: the same freshness at any ``speed``), at most every ``FAIR_MIN_WALL_S`` real seconds."""
    reconcile_interval_s: float | None = 30.0
    shutdown_timeout_s: float = 15.0
    start_timeout_s: float = 120.0
    """How long a start rides out transient faults (5xx, lost responses, dropped sockets) before
    giving up."""
    fresh_timeout_s: float = 10.0
    record_dir: Path | None = None
    """Record the market feed here while trading (``recording``; ``run --record``)."""
    data_env: str = "prod"
    """``paper``: Kalshi's environment the market data comes from (``demo`` or ``prod``) when
    ``api.url`` names no exchange."""


@dataclass(frozen=True, slots=True)
class ShutdownReport:
    canceled: int
    still_resting: int
    """Resting orders the exchange listed after the last round (0 is success; −1: unknown)."""
    open_positions: int
