"""The node's commands (``readmodels.NodeApi``): start and stop a strategy, the kill switch, reset
risk. Each says who and why; a command the node cannot carry out raises ``CommandError``.
"""

from __future__ import annotations

import asyncio

import structlog

from kalshi_trader.host.strategies import StrategyHost
from kalshi_trader.node.views import NodeViews
from kalshi_trader.readmodels import (
    CommandError,
    KillReport,
    RiskView,
    StrategyView,
)

__all__ = ["NodeCommands"]

log = structlog.get_logger(__name__)


class NodeCommands(NodeViews):
    """See the module docstring."""

    def _require_running(self) -> StrategyHost:
        if not self._running or self.host is None:
            raise CommandError("the node is not running")
        return self.host

    async def start_strategy(self, name: str, *, who: str) -> StrategyView:
        host = self._require_running()
        view = self._strategy_view(name)
        if not view.enabled:
            raise CommandError(f"strategy {name} is disabled in config (strategies.{name}.enabled)")
        risk = self.require_engine().risk
        if risk.kill_switch is not None:
            raise CommandError("the kill switch is engaged; reset risk first")
        host.start(name)
        log.info("strategy_started", strategy=name, who=who)
        self._wake.set()
        return self._strategy_view(name)

    async def stop_strategy(self, name: str, *, who: str) -> StrategyView:
        host = self._require_running()
        self._strategy_view(name)
        host.stop(name)
        log.info("strategy_stopped", strategy=name, who=who)
        return self._strategy_view(name)

    async def kill(self, *, who: str, why: str, flatten: bool = False) -> KillReport:
        host = self._require_running()
        if not who.strip() or not why.strip():
            raise CommandError("the kill switch needs who and why")
        stopped = tuple(host.stop_all())
        engine = self.require_engine()
        try:
            async with asyncio.timeout(self.options.shutdown_timeout_s):
                report = await engine.kill(who=who, why=why, flatten=flatten)
        except TimeoutError:
            raise CommandError("the cancel-all sweep did not finish in time; check the orders") from None
        self._changes.publish("risk", "orders", "strategies", "health")
        return KillReport(report.canceled, report.still_resting, flatten, stopped)

    async def reset_risk(self, *, who: str, why: str) -> RiskView:
        self._require_running()
        if not who.strip() or not why.strip():
            raise CommandError("a reset needs who and why")
        engine = self.require_engine()
        if engine.risk.kill_switch is not None:
            await engine.reset_kill(who=who, why=why)
        for breaker in engine.risk.open_breakers():
            engine.risk.reset_breaker(breaker.rule, who=who, why=why)
        engine.tick()
        self._changes.publish("risk", "health")
        return self.risk()
