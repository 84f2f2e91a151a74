"""A started node keeps what start-up built out of the collector's full collections, and gives it
back when it stops."""

from __future__ import annotations

import gc
from pathlib import Path

from tests.integration.node.test_paper_mode import TICKER, paper_node
from tests.support.exchange import RunningExchange


async def test_start_freezes_the_start_up_heap_and_stop_unfreezes_it(exchange: RunningExchange, tmp_path: Path) -> None:
    exchange.add_market(TICKER)
    node = paper_node(exchange, tmp_path)
    gc.unfreeze()
    try:
        await node.start()
        assert gc.get_freeze_count() > 0
        engine = node.require_engine()
        assert not any(obj is engine for obj in gc.get_objects())  # no generation holds it: never scanned
    finally:
        await node.stop()
    assert gc.get_freeze_count() == 0
    assert any(obj is engine for obj in gc.get_objects())
