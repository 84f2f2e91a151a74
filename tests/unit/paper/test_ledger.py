"""Money on the paper exchange: fees from the series' schedule with Kalshi's fee_rounding page's balance
rounding, collateral, netting, settlement (yes, no, scalar)."""

from __future__ import annotations

from tests.unit.paper.kit import ASK, BID, IOC, NO, TICKER, Kit, px, qty, usd

from kalshi_trader.domain import DIRECT_MEMBER_PRECISION_MICROS, FeeSchedule, FeeType, MarketStatus, OrderStatus


def asks_at_56(kit: Kit) -> None:
    """100 YES asks at 0.56 (NO bids at 0.44); 100 YES bids at 0.40."""
    kit.book(yes=[("0.40", "100")], no=[("0.44", "100")])


def test_a_taker_fill_pays_the_quadratic_fee_rounded_to_the_cent_of_an_ordinary_account() -> None:
    kit = Kit()
    asks_at_56(kit)
    order = kit.place(BID, "0.56", "10", tif=IOC)
    (fill,) = kit.fills_of(order)
    # 0.07 × 10 × 0.56 × 0.44 = $0.17248; the balance moves -$5.60 - $0.17248 → floored to -$5.78
    assert fill.fee == usd("0.18")
    assert kit.ex.ledger.cash == kit.start_cash - usd("5.78")
    assert kit.ex.positions()[0].cost == usd("5.60")
    assert kit.ex.positions()[0].fees_paid == usd("0.18")


def test_the_rebate_carries_across_fills_of_one_order() -> None:
    kit = Kit()
    kit.book(yes=[("0.40", "100")], no=[("0.44", "10")])  # 10 YES at 0.56
    order = kit.place(BID, "0.56", "20")  # takes 10, rests 10 with $0.0075 of rounding carried
    kit.trade("0.56", "10", ASK)  # nobody in front at 0.56: the seller fills our 10
    fees = [f.fee for f in kit.fills_of(order)]
    # taker fill: $0.18 ($0.0075 rounding kept); maker fill (no maker fee, 10 × 0.56 = $5.60 even):
    # nothing to round and nothing to pay a rebate from.
    assert fees == [usd("0.18"), 0]
    kit2 = Kit()
    kit2.book(yes=[("0.40", "100")], no=[("0.44", "10")])
    both = kit2.place(BID, "0.56", "20")
    kit2.delta(NO, "0.44", "10")  # 10 more YES at 0.56 rest: they cross our bid and fill it (maker)
    assert [f.fee for f in kit2.fills_of(both)] == [usd("0.18"), 0]


def test_a_second_taker_fill_of_one_order_gets_the_whole_cent_rebate() -> None:
    kit = Kit()
    kit.book(yes=[("0.40", "100")], no=[("0.44", "10"), ("0.43", "10")])  # 10 at 0.56, 10 at 0.57
    order = kit.place(BID, "0.57", "20", tif=IOC)
    # fill 1: 10 @ 0.56, fee $0.17248 → balance -$5.78, $0.0075 carried;
    # fill 2: 10 @ 0.57, fee 0.07 × 10 × 0.57 × 0.43 = $0.17157 → -$5.8716 floored to -$5.88
    # ($0.0084 more rounding: $0.0159 carried > $0.01 → a one-cent rebate): balance -$5.87.
    assert [f.fee for f in kit.fills_of(order)] == [usd("0.18"), usd("0.17")]
    assert kit.ex.ledger.cash == kit.start_cash - usd("5.78") - usd("5.87")


def test_makers_pay_the_maker_fee_where_the_series_charges_it() -> None:
    kit = Kit(fees=FeeSchedule(FeeType.QUADRATIC_WITH_MAKER_FEES))
    kit.book(yes=[("0.40", "100")], no=[("0.40", "100")])
    order = kit.place(BID, "0.56", "10")
    kit.trade("0.56", "10", ASK)
    (fill,) = kit.fills_of(order)
    # 0.0175 × 10 × 0.56 × 0.44 = $0.04312; -$5.64312 floored to -$5.65
    assert not fill.is_taker
    assert fill.fee == usd("0.05")


def test_a_direct_members_balance_moves_in_hundredths_of_a_cent() -> None:
    kit = Kit(precision_micros=DIRECT_MEMBER_PRECISION_MICROS)
    kit.book(yes=[("0.40", "100")], no=[("0.50", "100")])
    order = kit.place(BID, "0.50", "100", tif=IOC)
    assert [f.fee for f in kit.fills_of(order)] == [usd("1.75")]  # 0.07 × 100 × 0.25, exact
    assert kit.ex.ledger.cash == kit.start_cash - usd("51.75")


def test_a_resting_order_holds_its_collateral_until_it_fills_or_ends() -> None:
    kit = Kit()
    asks_at_56(kit)
    order = kit.place(BID, "0.30", "10")
    assert kit.ex.ledger.reserved == usd("3.00")
    assert kit.ex.ledger.cash == kit.start_cash - usd("3.00")
    kit.ex.cancel(order.order_id)
    kit.collect()
    assert kit.ex.ledger.reserved == 0
    assert kit.ex.ledger.cash == kit.start_cash


def test_buying_the_other_leg_closes_pairs_for_a_dollar_each() -> None:
    kit = Kit()
    kit.book(yes=[("0.50", "100")], no=[("0.44", "100")])  # YES 0.50 bid / 0.56 ask
    kit.place(BID, "0.56", "10", tif=IOC)  # +10 YES for $5.60 (+$0.18 fee)
    kit.place(ASK, "0.50", "4", tif=IOC)  # buys 4 NO at $0.50: closes 4 pairs
    (position,) = kit.ex.positions()
    assert position.qty == qty("6")
    assert position.cost == usd("3.36")  # 6 × $0.56 still held
    assert position.realized_pnl == usd("4.00") - usd("2.00") - usd("2.24")  # $1 × 4 − 4 NO legs − 4 YES basis


def test_settlement_yes_no_and_scalar() -> None:
    for result, value, payout in (("yes", "1.00", "10.00"), ("no", "0.00", "0.00"), ("scalar", "0.30", "3.00")):
        kit = Kit()
        asks_at_56(kit)
        kit.place(BID, "0.56", "10", tif=IOC)
        cash_before = kit.ex.ledger.cash
        settlement = kit.ex.on_market_determined(TICKER, px(value))
        kit.collect()
        assert settlement is not None, result
        assert (settlement.net, settlement.revenue, settlement.yes_value) == (qty("10"), usd(payout), px(value))
        assert kit.settlements == [settlement]
        assert kit.ex.ledger.cash == cash_before + usd(payout)
        assert kit.ex.positions() == []  # settled markets are not open positions
        assert kit.ex.ledger.positions[TICKER].realized == usd(payout) - usd("5.60")
        assert kit.ex.on_market_determined(TICKER, px(value)) is None  # once


def test_a_no_position_is_paid_the_complement_of_the_yes_value() -> None:
    kit = Kit()
    kit.book(yes=[("0.50", "100")], no=[("0.44", "100")])
    kit.place(ASK, "0.50", "10", tif=IOC)  # 10 NO at $0.50
    settlement = kit.ex.on_market_determined(TICKER, px("0.30"))
    assert settlement is not None
    assert settlement.net == -qty("10")
    assert settlement.revenue == usd("7.00")


def test_determination_cancels_resting_orders_and_closing_does_too() -> None:
    kit = Kit()
    asks_at_56(kit)
    first = kit.place(BID, "0.30", "10")
    kit.ex.on_market_status(TICKER, MarketStatus.CLOSED)
    kit.collect()
    assert kit.current(first).status is OrderStatus.CANCELED
    assert kit.ex.ledger.reserved == 0
    kit.ex.on_market_determined(TICKER, px("1.00"))
    kit.collect()
    assert kit.settlements == []  # never traded: nothing to pay
