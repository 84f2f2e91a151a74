"""A trading node in paper mode against the embedded exchange as its live data source, over real
sockets: orders fill in the paper venue against the exchange's public book and trades, the
exchange never sees a single order write from the node's key, and a restart keeps the paper
account (cash, positions)."""

from __future__ import annotations

from pathlib import Path

from tests.integration.execution.kit import Liquidity, client_for, eventually
from tests.support.exchange import Credentials, RunningExchange, process_key

from kalshi_trader.config import ApiSettings, PaperSettings, Settings
from kalshi_trader.domain import BookSide, FeeSchedule, FeeType, OrderIntent, Price, Qty, TimeInForce
from kalshi_trader.execution.views import Outcome
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi.auth import write_private_key
from kalshi_trader.kalshi.readonly import ReadOnlyRest
from kalshi_trader.node import Mode, NodeOptions, TradingNode

TICKER = "KXPAPERT-26JAN01-T50"
FEES = FeeSchedule(FeeType.QUADRATIC_WITH_MAKER_FEES, (1, 1))
CENT = 100
"""An ordinary account's balance moves in whole cents: fees round up to them (Money units)."""


def paper_node(exchange: RunningExchange, tmp_path: Path) -> TradingNode:
    key_file = tmp_path / "trader.pem"
    if not key_file.exists():
        write_private_key(exchange.trader.private_key, key_file)
    settings = Settings(
        data_dir=tmp_path / "data",
        api=ApiSettings(url=exchange.rest_url, key_id=exchange.trader.key_id, key_file=key_file),
        paper=PaperSettings(starting_balance_dollars=1_000),
    )
    options = NodeOptions(
        mode=Mode.PAPER, strategies=(), autostart=False, reconcile_interval_s=None, fair_interval_s=3600.0
    )
    return TradingNode(settings, options)


def taker_account(exchange: RunningExchange, name: str = "taker", slot: int = 2) -> Credentials:
    """Another account that trades on the exchange (its trades print on the public feed)."""
    key = process_key(slot)
    exchange.exchange.open_account(name, 100_000 * 10_000)
    return Credentials(name, exchange.exchange.add_api_key(name, key.public_key()), key)


async def test_paper_orders_fill_against_the_live_book_and_nothing_reaches_the_exchange(
    exchange: RunningExchange, tmp_path: Path
) -> None:
    exchange.add_market(TICKER, fee_type=FEES.fee_type)
    liquidity = Liquidity(exchange)
    await liquidity.quote(TICKER, BookSide.ASK, 6000, 10)  # sells YES at $0.60
    await liquidity.quote(TICKER, BookSide.BID, 4000, 10)  # buys YES at $0.40
    taker = client_for(exchange, taker_account(exchange))
    trader = client_for(exchange, exchange.trader)
    node = paper_node(exchange, tmp_path)
    try:
        await node.start()
        assert isinstance(node.rest, ReadOnlyRest)  # the only Kalshi client it holds cannot write
        assert node.paper is not None
        assert node.venue is node.paper
        assert node.connection().mode == "paper"  # what the dashboard's PAPER badge shows
        engine = node.require_engine()
        await eventually(lambda: (top := engine.book(TICKER)) is not None and top.best_ask == 6000)

        # A marketable order takes the displayed level at the book's price, with the taker fee.
        buy = OrderIntent.place(
            TICKER, BookSide.BID, Price(6500), Qty(400), "paper-buy", tif=TimeInForce.IMMEDIATE_OR_CANCEL
        )
        result = await engine.submit(buy)
        assert result.outcome is Outcome.ACCEPTED, result.reason
        await eventually(lambda: engine.tracker.position(TICKER).qty == 400)
        [fill] = [f for f in node.fills() if f.client_order_id == "paper-buy"]
        assert (fill.price, fill.qty, fill.is_taker) == (6000, 400, True)
        assert fill.fee == FEES.fee(6000, 400, taker=True, round_to=CENT)

        # A resting bid above the exchange's best fills when a trade prints through its price.
        rest = OrderIntent.place(TICKER, BookSide.BID, Price(4500), Qty(300), "paper-rest")
        assert (await engine.submit(rest)).outcome is Outcome.ACCEPTED
        # As on Kalshi, the book the engine and strategies see shows our resting order.
        await eventually(lambda: (top := engine.book(TICKER)) is not None and top.best_bid == 4500)
        snapshot = node.snapshots()[TICKER]
        assert (snapshot.best_bid, snapshot.best_bid_qty) == (4500, 300)
        sell = convert.create_request(
            TICKER, BookSide.ASK, Price(4000), Qty(500), time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL
        )
        await taker.create_order(sell)  # the taker sells YES at $0.40 on the exchange
        await eventually(lambda: engine.tracker.position(TICKER).qty == 700)
        [maker] = [f for f in node.fills() if f.client_order_id == "paper-rest"]
        assert (maker.price, maker.qty, maker.is_taker) == (4500, 300, False)
        assert maker.fee == FEES.fee(4500, 300, taker=False, round_to=CENT)

        # The exchange's own record: no order, fill or order group of the node's key.
        assert [o async for o in trader.iter_orders()] == []
        assert [f async for f in trader.iter_fills()] == []
        assert (await trader.get_order_groups()).order_groups == []

        await node._refresh_balance()
        cash = node.balance().balance
        spent = 6000 * 4 + 4500 * 3 + fill.fee + maker.fee  # Money: $0.0001 units
        assert cash == 1_000 * 10_000 - spent
    finally:
        await node.stop()
        await liquidity.close()
        await taker.close()
        await trader.close()

    again = paper_node(exchange, tmp_path)
    try:
        await again.start()
        engine = again.require_engine()
        assert engine.tracker.position(TICKER).qty == 700
        assert again.balance().balance == cash
        assert again.reconciler is not None
        assert again.reconciler.last is not None
        assert [d for d in again.reconciler.last.discrepancies if d.kind == "position"] == []
    finally:
        await again.stop()
