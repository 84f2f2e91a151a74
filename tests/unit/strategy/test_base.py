"""The strategy contract's values: snapshots, fees, brackets, ids, config → params, the runner."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from tests.unit.strategy.kit import ASK, BID, GRID, NOW, ct, order, px, snap, state

from kalshi_trader.config import Settings
from kalshi_trader.domain import (
    BracketRequest,
    FeeSchedule,
    FeeType,
    IntentAction,
    LadderTop,
    Level,
    MarketInfo,
    MarketStatus,
    Money,
    Qty,
    Side,
)
from kalshi_trader.strategy import registry
from kalshi_trader.strategy.base import (
    ConfigReader,
    Decision,
    MarketSnapshot,
    OrderChange,
    StrategyResult,
    StrategyRunner,
    StrategyState,
    Verdict,
    cancel_orders,
    client_order_id,
    effective_orders,
)
from kalshi_trader.strategy.favorite import EntryMode, FavoriteParams, FavoriteSettings
from kalshi_trader.strategy.value_taker import ValueTakerParams, ValueTakerSettings
from kalshi_trader.strategy.weather_mm import WeatherMMParams, WeatherMMSettings

# ---------------------------------------------------------------------------------------------
# MarketSnapshot: one book, two names


def test_snapshot_from_levels_reads_both_legs() -> None:
    info = MarketInfo("T", "E", "S", MarketStatus.ACTIVE, GRID, close_ms=NOW + 1)
    yes = [Level(px("0.40"), ct(3)), Level(px("0.39"), ct(7))]
    no = [Level(px("0.55"), ct(2)), Level(px("0.50"), ct(1))]  # NO bids in NO prices
    s = MarketSnapshot.from_levels(info, yes, no, updated_ms=NOW, stale=False)
    assert (s.best_bid, s.best_ask) == (px("0.40"), px("0.45"))  # YES ask = 1 − best NO bid
    assert (s.best_bid_qty, s.best_ask_qty, s.bid_depth, s.ask_depth) == (ct(3), ct(2), ct(10), ct(3))
    assert s.leg_ask(Side.NO) == px("0.60")
    assert s.leg_bid(Side.NO) == px("0.55")
    assert s.leg_ask_qty(Side.NO) == ct(3)
    assert s.spread == px("0.05")
    assert s.leg_mid_x2(Side.YES) == 8_500
    assert s.leg_mid_x2(Side.NO) == 11_500
    empty = MarketSnapshot.from_levels(info, [], [], updated_ms=0, stale=True)
    assert empty.best_bid is None
    assert empty.best_ask is None
    assert empty.mid_x2 is None
    assert empty.spread is None


def test_snapshot_from_ladder_tops_reads_both_legs() -> None:
    info = MarketInfo("T", "E", "S", MarketStatus.ACTIVE, GRID, close_ms=NOW + 1)
    yes = [Level(px("0.40"), ct(3)), Level(px("0.39"), ct(7))]
    no = [Level(px("0.55"), ct(2)), Level(px("0.50"), ct(1))]
    assert LadderTop.of(yes) == (px("0.40"), ct(3), ct(10))
    assert LadderTop.of([]) == (None, 0, 0)
    fees = FeeSchedule(FeeType.QUADRATIC_WITH_MAKER_FEES, (1, 2))
    s = MarketSnapshot.from_tops(info, LadderTop.of(yes), LadderTop.of(no), updated_ms=NOW, stale=True, fees=fees)
    assert (s.ticker, s.event_ticker, s.series_ticker, s.grid, s.close_ms, s.status) == (
        "T",
        "E",
        "S",
        GRID,
        NOW + 1,
        MarketStatus.ACTIVE,
    )
    assert (s.best_bid, s.best_ask, s.best_bid_qty, s.best_ask_qty) == (px("0.40"), px("0.45"), ct(3), ct(2))
    assert (s.bid_depth, s.ask_depth, s.updated_ms, s.stale, s.fees) == (ct(10), ct(3), NOW, True, fees)
    assert s == MarketSnapshot.from_levels(info, yes, no, updated_ms=NOW, stale=True, fees=fees)


# ---------------------------------------------------------------------------------------------
# Fees (worked examples of the formula in docs/kalshi-protocol.md)


@pytest.mark.parametrize(
    ("price", "contracts", "cents"),
    [("0.50", 1, 2), ("0.50", 10, 18), ("0.50", 100, 175), ("0.10", 100, 63), ("0.05", 100, 34), ("0.99", 1, 1)],
)
def test_taker_fee_matches_the_documented_examples(price: str, contracts: int, cents: int) -> None:
    assert FeeSchedule().fee(px(price), ct(contracts), taker=True, round_to=100) == Money(cents * 100)


def test_maker_fee_depends_on_the_fee_type_and_multiplier() -> None:
    p, q = px("0.50"), ct(100)
    assert FeeSchedule(FeeType.QUADRATIC).maker_fee(p, q) == 0
    assert FeeSchedule(FeeType.QUADRATIC_WITH_MAKER_FEES).maker_fee(p, q) == Money(4_375)  # 0.0175·100·0.25
    assert FeeSchedule(FeeType.QUADRATIC_WITH_COMBO_MAKER_FEES).maker_fee(p, q) == Money(8_750)
    assert FeeSchedule(FeeType.FLAT).taker_fee(p, q) == Money(10_000)
    assert FeeSchedule(FeeType.FLAT).maker_fee(p, q) == 0
    assert FeeSchedule(multiplier=(1, 2)).taker_fee(p, q) == Money(8_750)
    assert FeeSchedule().taker_fee(px("0.50"), ct(1)) == Money(175)  # exact to $0.0001 without cent rounding
    with pytest.raises(ValueError, match="multiplier"):
        FeeSchedule(multiplier=(1, 0))


# ---------------------------------------------------------------------------------------------
# BracketRequest: the value the execution engine honours


def test_bracket_on_a_yes_position_sells_and_stops_on_the_bid() -> None:
    b = BracketRequest("T", "e1", BID, ct(10), px("0.93"), px("0.83"), px("0.80"))
    assert b.held is Side.YES
    assert b.exit_side is ASK
    assert b.stop_triggered(px("0.83"), px("0.85"))
    assert not b.stop_triggered(px("0.84"), px("0.85"))
    assert not b.stop_triggered(None, px("0.85"))  # nothing to sell to: keep watching


def test_bracket_on_a_no_position_buys_yes_and_stops_on_the_ask() -> None:
    b = BracketRequest("T", "e1", ASK, ct(10), px("0.07"), px("0.17"), px("0.20"))
    assert b.held is Side.NO
    assert b.exit_side is BID
    assert b.stop_triggered(px("0.10"), px("0.17"))
    assert not b.stop_triggered(px("0.10"), px("0.16"))
    assert not b.stop_triggered(px("0.10"), None)


@pytest.mark.parametrize(
    ("side", "tp", "trigger", "limit"),
    [
        (BID, "0.80", "0.83", "0.80"),  # take-profit below the stop
        (BID, "0.93", "0.83", "0.85"),  # stop limit above its trigger
        (ASK, "0.20", "0.17", "0.20"),
        (BID, "1.00", "0.83", "0.80"),  # not an order price
    ],
)
def test_bracket_rejects_prices_out_of_order(side: object, tp: str, trigger: str, limit: str) -> None:
    with pytest.raises(ValueError, match="bracket"):
        BracketRequest("T", "e1", side, ct(1), px(tp), px(trigger), px(limit))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        BracketRequest("T", "e1", BID, Qty(0), px("0.93"), px("0.83"), px("0.80"))


# ---------------------------------------------------------------------------------------------
# Helpers


def test_client_order_ids_are_deterministic_uuid_shaped_and_distinct() -> None:
    a = client_order_id("favorite", "T", "entry", NOW, "run1")
    assert a == client_order_id("favorite", "T", "entry", NOW, "run1")
    assert len(a) == 36
    others = {
        client_order_id("favorite", "T", "entry", NOW + 1, "run1"),
        client_order_id("favorite", "T", "exit", NOW, "run1"),
        client_order_id("favorite", "T", "entry", NOW, "run2"),
        client_order_id("weather_mm", "T", "entry", NOW, "run1"),
    }
    assert a not in others
    assert len(others) == 4


@pytest.mark.parametrize(
    ("strategy", "ticker", "purpose", "now_ms", "salt"),
    [
        ("favorite", "KXHIGHNY-26OCT09-B72.5", "entry", NOW, ""),
        ("weather_mm", "T", "bid", 0, "run-7f3a"),
        ("favorite", "T", "exit", 10**15, "sålt ünïcode"),
        ("", "", "", -1, ""),
    ],
)
def test_client_order_ids_are_the_documented_uuid5(
    strategy: str, ticker: str, purpose: str, now_ms: int, salt: str
) -> None:
    namespace = uuid.UUID("6f1f9f4e-2b0c-5c3e-9a57-4b1f6c1d2e01")
    expected = uuid.uuid5(namespace, f"{salt}|{strategy}|{ticker}|{purpose}|{now_ms}")
    made = client_order_id(strategy, ticker, purpose, now_ms, salt)
    assert made == str(expected)
    assert uuid.UUID(made).version == 5


@settings(max_examples=300, deadline=None)
@given(
    strategy=hs.text(max_size=12),
    ticker=hs.text(max_size=30),
    purpose=hs.text(max_size=8),
    now_ms=hs.integers(-(10**16), 10**16),
    salt=hs.text(max_size=12),
)
def test_client_order_ids_are_uuid5_for_any_inputs(
    strategy: str, ticker: str, purpose: str, now_ms: int, salt: str
) -> None:
    """Differential: every digit, the version and variant ones included, is ``uuid.uuid5``'s."""
    namespace = uuid.UUID("6f1f9f4e-2b0c-5c3e-9a57-4b1f6c1d2e01")
    expected = uuid.uuid5(namespace, f"{salt}|{strategy}|{ticker}|{purpose}|{now_ms}")
    assert client_order_id(strategy, ticker, purpose, now_ms, salt) == str(expected)


def test_cancel_orders_explains_each_market() -> None:
    st = state(
        orders=[order("A", BID, "0.40", 1, "a"), order("A", ASK, "0.60", 1, "b"), order("B", BID, "0.1", 1, "c")]
    )
    cancels, decisions = cancel_orders(st, "mm", "strategy stopped", tickers=["A"])
    assert [c.client_order_id for c in cancels] == ["a", "b"]
    assert all(c.strategy == "mm" for c in cancels)
    assert decisions == (
        Decision("mm", "A", Verdict.TRADE, "strategy stopped: cancel 2 order(s)", (("orders", 2),), NOW),
    )


# ---------------------------------------------------------------------------------------------
# Config → params


def test_param_defaults_match_the_config_defaults() -> None:
    assert FavoriteParams.from_config(FavoriteSettings().model_dump()) == FavoriteParams()
    assert WeatherMMParams.from_config(WeatherMMSettings().model_dump()) == WeatherMMParams()
    assert ValueTakerParams.from_config(ValueTakerSettings().model_dump()) == ValueTakerParams()


def test_strategy_params_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_TRADER_STRATEGIES__FAVORITE__MIN_PROBABILITY", "0.9")
    monkeypatch.setenv("KALSHI_TRADER_STRATEGIES__FAVORITE__ENTRY_MODE", "take")
    monkeypatch.setenv("KALSHI_TRADER_STRATEGIES__FAVORITE__SERIES", '["KXHIGHNY"]')
    monkeypatch.setenv("KALSHI_TRADER_STRATEGIES__WEATHER_MM__ENABLED", "false")
    monkeypatch.setenv("KALSHI_TRADER_STRATEGIES__WEATHER_MM__QUOTE_SIZE_CONTRACTS", "2.5")
    s = Settings()
    fav = FavoriteParams.from_config(registry.section(s.strategies, "favorite").model_dump())
    assert fav.min_probability == px("0.90")
    assert fav.entry_mode is EntryMode.TAKE
    assert fav.series == frozenset({"KXHIGHNY"})
    mm = WeatherMMParams.from_config(registry.section(s.strategies, "weather_mm").model_dump())
    assert not mm.enabled
    assert mm.quote_size == ct(2.5)


def test_config_reader_converts_exactly_and_rejects_nonsense() -> None:
    c = ConfigReader({"p": Decimal("0.8500"), "s": 1.5, "f": Decimal("0.25"), "n": 3, "b": True, "x": Decimal("0.125")})
    assert (c.price("p"), c.ms("s"), c.percent("f"), c.integer("n"), c.flag("b")) == (8_500, 1_500, 25, 3, True)
    with pytest.raises(ValueError, match="2 decimals"):
        c.percent("x")
    with pytest.raises(ValueError, match="integer"):
        c.integer("b")
    with pytest.raises(ValueError, match="true or false"):
        c.flag("n")
    with pytest.raises(ValueError, match="list"):
        ConfigReader({"s": "KX"}).names("s")


@pytest.mark.parametrize(
    "bad",
    [
        {"take_profit": 50},
        {"exit_before_close_ms": 40 * 60_000},
        {"min_time_to_close_ms": 10, "max_time_to_close_ms": 5},
        {"max_risk_per_trade": 0},
    ],
)
def test_favorite_params_are_validated(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="invalid favorite params"):
        FavoriteParams(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad", [{"min_edge": 0}, {"min_half_spread": 10, "min_edge": 50}, {"quote_size": 50}, {"max_position": 0}]
)
def test_weather_mm_params_are_validated(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="invalid weather_mm params"):
        WeatherMMParams(**bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Lifecycle: a host-agnostic runner


@dataclass
class _Counting:
    """A strategy that counts its calls in its memory."""

    enabled: bool = True
    name: str = "counting"

    def initial_memory(self) -> int:
        return 0

    def on_start(self, state: StrategyState, memory: int) -> StrategyResult[int]:
        return StrategyResult(memory + 100)

    def decide(self, state: StrategyState, memory: int) -> StrategyResult[int]:
        return StrategyResult(memory + 1)

    def on_stop(self, state: StrategyState, memory: int) -> StrategyResult[int]:
        cancels, decisions = cancel_orders(state, self.name, "strategy stopped")
        return StrategyResult(memory + 1_000, cancels, decisions)


def test_runner_keeps_memory_and_runs_only_between_start_and_stop() -> None:
    runner = StrategyRunner(_Counting())
    st = state(orders=[order("A", BID, "0.40", 1, "a")])
    assert runner.step(st).memory == 0
    assert not runner.running
    runner.start(st)
    runner.step(st)
    runner.step(st)
    assert runner.memory == 102
    assert runner.start(st).memory == 102  # starting twice is a no-op
    stopped = runner.stop(st)
    assert [a.client_order_id for a in stopped.intents] == ["a"]
    assert runner.memory == 1_102
    assert runner.step(st).memory == 1_102
    assert runner.stop(st).actions == ()


def test_a_disabled_strategy_does_not_start() -> None:
    runner = StrategyRunner(_Counting(enabled=False))
    result = runner.start(state())
    assert not runner.running
    assert result.decisions[0].verdict is Verdict.SKIP
    assert "disabled" in result.decisions[0].reason


def test_snapshot_kit_is_consistent() -> None:
    s = snap(bid="0.10", ask="0.12")
    assert s.leg_bid(Side.NO) == px("0.88")
    assert s.leg_ask(Side.NO) == px("0.90")


def test_effective_orders_show_the_orders_as_they_will_be() -> None:
    shown = [
        order("A", BID, "0.40", 5, "amended"),
        order("A", BID, "0.41", 5, "cancelled"),
        order("A", BID, "0.42", 5, "resting"),
    ]
    in_flight = {
        "amended": OrderChange(IntentAction.AMEND, px("0.45"), ct(3)),
        "cancelled": OrderChange(IntentAction.CANCEL, px("0.41"), ct(5)),
        "vanished": OrderChange(IntentAction.AMEND, px("0.44"), ct(1)),  # order gone: nothing shown
    }
    orders = effective_orders(shown, in_flight)
    assert {o.client_order_id: (o.price, o.remaining) for o in orders} == {
        "amended": (px("0.45"), ct(3)),
        "resting": (px("0.42"), ct(5)),
    }
    assert effective_orders(shown, {}) == shown


def test_the_registry_refuses_an_unknown_strategy_or_field_naming_it() -> None:
    assert registry.names()[:2] == ("favorite", "weather_mm")
    assert registry.default_names() == ("favorite", "weather_mm")
    with pytest.raises(ValueError, match=r"strategies\.favourite: no such strategy"):
        registry.section({"favourite": {}}, "favorite")
    with pytest.raises(ValueError, match=r"strategies\.favorite\.min_probabilty"):
        registry.section({"favorite": {"min_probabilty": "0.9"}}, "favorite")
    with pytest.raises(ValueError, match="unknown strategy 'nope'"):
        registry.spec("nope")
