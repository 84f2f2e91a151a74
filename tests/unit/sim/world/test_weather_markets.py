"""The weather world: brackets, schedule, truth, forecasts, observations, CLI, lifecycle, determinism.

Strike rules are re-implemented here from Kalshi's (docs/kalshi-protocol.md), not imported from the
code under test.
"""

from __future__ import annotations

import re
import statistics
from datetime import UTC, date, datetime, timedelta

import pytest

from kalshi_trader.domain import BookSide, MarketStatus, Money, Price, Qty, SelfTradePrevention, TimeInForce
from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange
from kalshi_trader.sim.core.catalog import MarketMeta
from kalshi_trader.sim.core.clock import SimClock
from kalshi_trader.sim.core.state import EngineEvent, MarketEvent, NewOrder
from kalshi_trader.sim.world.cities import SERIES as SERIES_OF
from kalshi_trader.sim.world.climate import (
    CITIES,
    DEFAULT_SPREAD,
    City,
    WeatherModel,
    climate_date,
    day_start_ms,
    tenths_c_to_f,
)
from kalshi_trader.sim.world.nws_routes import cli_product_text
from kalshi_trader.sim.world.weather_markets import WeatherWorld, build_weather_world

HOUR = 3_600_000
DAY = 24 * HOUR
HIGHS = ("KXHIGHNY", "KXHIGHCHI", "KXHIGHMIA", "KXHIGHAUS", "KXHIGHLAX", "KXHIGHDEN", "KXHIGHPHIL")
SERIES = (*HIGHS, "KXLOWTNYC", "KXLOWTCHI", "KXLOWTLAX")


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def yes(meta: MarketMeta, value: int) -> bool:
    """Kalshi's strike rules for an integer expiration value."""
    if meta.strike_type == "greater":
        assert meta.floor_strike is not None
        return value > meta.floor_strike
    if meta.strike_type == "less":
        assert meta.cap_strike is not None
        return value < meta.cap_strike
    assert meta.strike_type == "between"
    assert meta.floor_strike is not None
    assert meta.cap_strike is not None
    return meta.floor_strike <= value <= meta.cap_strike


def cli_max(text: str) -> int:
    """The CLI maximum read from the product text (first MAXIMUM row of the temperature table)."""
    section = text[text.index("TEMPERATURE (F)") :]
    found = re.search(r"^\s*MAXIMUM\s+(-?\d+)R?", section, re.MULTILINE)
    assert found is not None, text
    return int(found.group(1))


def world_at(at: str, seed: int = 11, **kw: object) -> tuple[EmbeddedExchange, WeatherWorld, SimClock]:
    clock = SimClock(start=ms(at), speed=0)
    exchange = EmbeddedExchange(seed=seed, clock_ms=clock.now_ms, tier=None)
    world = build_weather_world(exchange, seed=seed, **kw)  # type: ignore[arg-type]
    return exchange, world, clock


def run_days(exchange: EmbeddedExchange, clock: SimClock, days: int, step_hours: int = 6) -> None:
    for _ in range(days * 24 // step_hours):
        clock.advance(step_hours * HOUR)
        exchange.housekeeping()


# -- catalog ------------------------------------------------------------------------------------


def test_series_and_cities_are_the_real_ones() -> None:
    exchange, world, _ = world_at("2026-05-16T12:00:00+00:00")
    assert [s.ticker for s in exchange.catalog.all_series()] == list(SERIES)
    facts = {c.key: (c.station, c.cli_location, c.tz) for c in world.model.cities}
    assert facts == {
        "KXHIGHNY": ("KNYC", "NYC", "America/New_York"),
        "KXHIGHCHI": ("KMDW", "MDW", "America/Chicago"),
        "KXHIGHMIA": ("KMIA", "MIA", "America/New_York"),
        "KXHIGHAUS": ("KAUS", "AUS", "America/Chicago"),
        "KXHIGHLAX": ("KLAX", "LAX", "America/Los_Angeles"),
        "KXHIGHDEN": ("KDEN", "DEN", "America/Denver"),
        "KXHIGHPHIL": ("KPHL", "PHL", "America/New_York"),
    }
    series = exchange.catalog.series("KXHIGHNY")
    assert series.category == "Climate and Weather"
    assert series.frequency == "daily"
    assert series.fee_type.value == "quadratic"
    assert "issuedby=NYC" in series.settlement_sources[0].url
    low = exchange.catalog.series("KXLOWTNYC")
    assert low.title == "Lowest temperature in NYC"
    assert low.settlement_sources == series.settlement_sources  # one station, one CLI product


@pytest.mark.slow  # ./test.sh --fast leaves it out
def test_events_partition_the_integers_with_kalshi_tickers() -> None:
    exchange, world, clock = world_at("2026-01-10T12:00:00+00:00")
    run_days(exchange, clock, 40, step_hours=12)
    assert len(world.events) >= len(SERIES) * 40
    for event in world.events.values():
        metas = [exchange.catalog.market(t) for t in exchange.catalog.event_market_tickers(event.event_ticker)]
        assert [m.strike_type for m in metas] == ["less", "between", "between", "between", "between", "greater"]
        for value in range(-60, 161):
            assert sum(yes(m, value) for m in metas) == 1, (event.event_ticker, value)
        for meta in metas:
            suffix = meta.ticker.removeprefix(event.event_ticker + "-")
            if meta.strike_type == "between":
                assert meta.floor_strike is not None
                assert meta.cap_strike == meta.floor_strike + 1
                assert suffix == f"B{meta.floor_strike + 0.5:.1f}"
            elif meta.strike_type == "greater":
                assert suffix == f"T{meta.floor_strike:.0f}"
            else:
                assert suffix == f"T{meta.cap_strike:.0f}"
            assert meta.ticker.startswith(f"{event.series.ticker}-{event.day:%y}{event.day:%b}".upper())
        floors = [m.floor_strike for m in metas[1:5]]
        assert floors == [floors[0] + 2 * k for k in range(4)]  # four contiguous 2 °F bands
        listed_forecast = world.model.forecast(event.city, event.day, event.list_ms, event.extreme)
        assert abs((floors[0] or 0) + 3.5 - listed_forecast) <= 1.0  # centred near the forecast


def test_event_ticker_and_texts() -> None:
    exchange, world, _ = world_at("2026-05-16T12:00:00+00:00")
    event = world.event_for("KXHIGHNY", date(2026, 5, 16))
    assert event is not None
    assert event.event_ticker == "KXHIGHNY-26MAY16"
    info = exchange.catalog.event("KXHIGHNY-26MAY16")
    assert info.mutually_exclusive
    assert info.title == "Highest temperature in NYC on May 16, 2026"
    between = exchange.catalog.market(event.tickers[1])
    assert between.yes_sub_title == f"{between.floor_strike:.0f}° to {between.cap_strike:.0f}°"
    assert "recorded in Central Park, New York for May 16, 2026" in between.rules_primary
    assert f"is between {between.floor_strike:.0f}-{between.cap_strike:.0f}°" in between.rules_primary
    top = exchange.catalog.market(event.tickers[-1])
    assert f"greater than {top.floor_strike:.0f}°" in top.rules_primary
    assert top.yes_sub_title == f"{top.floor_strike + 1:.0f}° or above"
    low = exchange.catalog.market(event.tickers[0])
    assert low.yes_sub_title == f"{low.cap_strike - 1:.0f}° or below"  # type: ignore[operator]
    chi = world.event_for("KXHIGHCHI", date(2026, 5, 16))
    assert chi is not None
    assert "recorded at Chicago Midway Airport" in exchange.catalog.market(chi.tickers[0]).rules_primary
    assert exchange.engine.market(event.tickers[0]).grid.bands == exchange.engine.market(chi.tickers[0]).grid.bands
    low = world.event_for("KXLOWTNYC", date(2026, 5, 16))
    assert low is not None
    assert exchange.catalog.event("KXLOWTNYC-26MAY16").title == "Lowest temperature in NYC on May 16, 2026"
    meta = exchange.catalog.market(low.tickers[1])
    assert meta.title.startswith("Will the low temp in NYC be ")
    assert "If the lowest temperature recorded in Central Park, New York for May 16, 2026" in meta.rules_primary


@pytest.mark.parametrize(
    ("series", "day", "close", "open_"),
    [
        ("KXHIGHNY", date(2026, 7, 15), "2026-07-16T04:59:00+00:00", "2026-07-14T10:59:00+00:00"),  # EDT: LST end
        ("KXHIGHNY", date(2026, 11, 20), "2026-11-21T04:59:00+00:00", "2026-11-19T10:59:00+00:00"),
        ("KXHIGHCHI", date(2026, 7, 15), "2026-07-16T05:59:00+00:00", "2026-07-14T11:59:00+00:00"),
        ("KXHIGHDEN", date(2026, 1, 15), "2026-01-16T06:59:00+00:00", "2026-01-14T12:59:00+00:00"),
        ("KXHIGHLAX", date(2026, 6, 30), "2026-07-01T07:59:00+00:00", "2026-06-29T13:59:00+00:00"),  # 42.0 h
        ("KXLOWTLAX", date(2026, 6, 30), "2026-07-01T07:59:00+00:00", "2026-06-29T13:59:00+00:00"),
    ],
)
def test_schedule_follows_the_lst_climate_day(series: str, day: date, close: str, open_: str) -> None:
    start = datetime.combine(day, datetime.min.time(), UTC).isoformat()
    exchange, world, _ = world_at(start)
    event = world.event_for(series, day)
    assert event is not None
    meta = exchange.catalog.market(event.tickers[2])
    assert meta.close_ms == ms(close)
    assert meta.open_ms == ms(open_)
    assert meta.created_ms == meta.open_ms  # listed as it opens, 42 h before the close
    city = SERIES_OF[series].city
    final_cli = world.model.cli_issue_ms(city, day, "final")
    assert day_start_ms(city, day) + DAY < final_cli < event.determine_ms
    assert meta.expected_expiration_ms == event.determine_ms
    assert meta.latest_expiration_ms == meta.close_ms + 7 * DAY
    assert meta.settlement_timer_seconds == (3600 if series in ("KXHIGHNY", "KXHIGHCHI") else 1800)
    assert exchange.catalog.series(series).ticker == series
    assert event.settle_ms == event.determine_ms + meta.settlement_timer_seconds * 1000


def test_climate_day_is_local_standard_time_all_year() -> None:
    nyc = CITIES["KXHIGHNY"]
    assert climate_date(nyc, ms("2026-07-01T04:30:00+00:00")) == date(2026, 6, 30)  # 00:30 EDT
    assert climate_date(nyc, ms("2026-07-01T05:00:00+00:00")) == date(2026, 7, 1)  # 01:00 EDT
    assert climate_date(nyc, ms("2026-01-01T05:00:00+00:00")) == date(2026, 1, 1)  # 00:00 EST
    lax = CITIES["KXHIGHLAX"]
    assert day_start_ms(lax, date(2026, 6, 30)) == ms("2026-06-30T08:00:00+00:00")


# -- truth, forecasts, observations -------------------------------------------------------------


def test_truth_follows_the_seasons_and_the_city() -> None:
    model = WeatherModel(5)
    days = [date(2025, 1, 1) + timedelta(days=k) for k in range(365)]

    def mean_high(series: str, month: int) -> float:
        return statistics.fmean(model.truth(CITIES[series], d) for d in days if d.month == month)

    assert mean_high("KXHIGHNY", 7) - mean_high("KXHIGHNY", 1) > 30
    assert mean_high("KXHIGHMIA", 1) > mean_high("KXHIGHCHI", 1) + 30
    assert abs(mean_high("KXHIGHAUS", 8) - 97) < 3
    for city in model.cities:
        assert all(isinstance(model.truth(city, d), int) for d in days[:30])


def test_forecast_errors_match_the_configured_spread_by_lead_time() -> None:
    model = WeatherModel(2024)
    days = [date(2025, 3, 1) + timedelta(days=k) for k in range(300)]
    measured: dict[int, float] = {}
    for lead in (0, 3, 6, 12, 24, 48, 72, 120, 168):
        errors = [model.forecast_for_lead(c, d, lead) - model.truth(c, d) for c in model.cities for d in days]
        sigma = model.sigma(lead)
        sd = statistics.pstdev(errors)
        measured[lead] = sd
        assert abs(statistics.fmean(errors)) < 0.1 * sigma, lead
        assert 0.9 * sigma < sd < 1.1 * sigma, (lead, sd, sigma)
    assert measured[0] < measured[6] < measured[24] < measured[48] < measured[120]
    assert dict(DEFAULT_SPREAD)[24.0] == 3.0
    assert dict(DEFAULT_SPREAD)[48.0] == 4.0
    custom = WeatherModel(7, spread=((0, 1.0), (100, 5.0)))
    errors = [custom.forecast_for_lead(c, d, 50) - custom.truth(c, d) for c in custom.cities for d in days]
    assert 2.7 < statistics.pstdev(errors) < 3.3


def test_forecasts_drift_smoothly_between_cycles() -> None:
    model = WeatherModel(3)
    days = [date(2025, 6, 1) + timedelta(days=k) for k in range(200)]

    def standardized(city: City, day: date, lead: int) -> float:
        return (model.forecast_for_lead(city, day, lead) - model.truth(city, day)) / model.sigma(lead)

    def correlation(lead_a: int, lead_b: int) -> float:
        pairs = [(standardized(c, d, lead_a), standardized(c, d, lead_b)) for c in model.cities for d in days]
        return statistics.correlation([a for a, _ in pairs], [b for _, b in pairs])

    assert correlation(30, 31) > 0.95  # successive hourly cycles revise the forecast a little
    assert 0.4 < correlation(30, 54) < 0.9  # a day apart: related, not identical
    city, day = CITIES["KXHIGHNY"], date(2026, 5, 16)
    reference = model.reference_ms(city, day)
    assert model.forecast_high(city, day, reference - 5 * HOUR + 59 * 60_000) == model.forecast_high(
        city, day, reference - 5 * HOUR
    )  # one value per hourly cycle


def test_observations_never_exceed_the_maximum_and_reach_it() -> None:
    model = WeatherModel(99)
    for city in model.cities:
        for k in range(0, 365, 3):
            day = date(2025, 1, 1) + timedelta(days=k)
            truth = model.truth(city, day)
            obs = model.observations(city, day)
            assert len(obs) == 24
            start = day_start_ms(city, day)
            assert all(start <= o.ts_ms < start + DAY for o in obs)
            assert all(32 + 9 * o.temperature_dc / 50 <= truth for o in obs)  # exact °C → °F
            assert max(o.temperature_f for o in obs) == truth
            first_peak = max(obs, key=lambda o: (o.temperature_f, -o.ts_ms))
            assert 9 <= (first_peak.ts_ms - start) // HOUR <= 17  # late morning to afternoon, LST
            morning = min(obs[:12], key=lambda o: o.temperature_dc)
            assert morning.temperature_f < truth - 4
            assert all(o.dewpoint_dc <= o.temperature_dc for o in obs)
            assert model.cli_report(city, day).max_f == truth


def test_observations_are_published_only_after_they_are_taken() -> None:
    _exchange, world, clock = world_at("2026-05-16T18:00:00+00:00")
    now = clock.now_ms()
    obs = world.observations("KXHIGHNY", now - DAY, now + DAY)
    assert obs
    assert max(o.ts_ms for o in obs) <= now - world.obs_lag_ms
    assert world.latest_observation("KXHIGHNY").ts_ms == obs[-1].ts_ms
    assert [o.ts_ms for o in obs] == sorted(o.ts_ms for o in obs)


def test_cli_text_carries_the_maximum_and_the_preliminary_is_marked() -> None:
    model = WeatherModel(8)
    for city in model.cities:
        day = date(2026, 8, 2)
        final = cli_product_text(model.cli_report(city, day, "final"))
        prelim = cli_product_text(model.cli_report(city, day, "preliminary"))
        assert cli_max(final) == model.truth(city, day)
        assert "CLIMATE SUMMARY FOR AUGUST 2 2026" in final
        assert f"\n{city.cli_pil}\n" in final
        assert "VALID TODAY" not in final
        assert " YESTERDAY" in final
        assert "VALID TODAY AS OF 0400 PM LOCAL TIME." in prelim
        assert "\n TODAY\n" in prelim
        assert cli_max(prelim) <= cli_max(final)
        assert re.search(r"^\s*MAXIMUM\s+-?\d+R?\s+\d{1,2}\d{2} [AP]M", final, re.MULTILINE)


# -- lifecycle -----------------------------------------------------------------------------------


def _market_events(exchange: EmbeddedExchange) -> list[MarketEvent]:
    events: list[MarketEvent] = []

    def record(event: EngineEvent) -> None:
        if isinstance(event, MarketEvent):
            events.append(event)

    exchange.engine.add_listener(record)
    return events


def test_full_day_lifecycle_in_one_tick_with_settlements() -> None:
    exchange, world, clock = world_at("2026-05-15T12:00:00+00:00", series=["KXHIGHNY"])
    events = _market_events(exchange)
    run_days(exchange, clock, 1, step_hours=3)  # 2026-05-16T12:00Z
    assert world.event_for("KXHIGHNY", date(2026, 5, 18)) is None  # listed at 10:59Z on the 17th
    clock.advance(DAY - 70 * 60_000)  # 2026-05-17T10:50Z
    exchange.housekeeping()
    assert world.event_for("KXHIGHNY", date(2026, 5, 18)) is None
    clock.advance(10 * 60_000)  # 11:00Z, after the 10:59Z listing (42 h before the 04:59Z close on the 19th)
    exchange.housekeeping()
    event = world.event_for("KXHIGHNY", date(2026, 5, 18))
    assert event is not None
    assert {exchange.engine.market(t).status for t in event.tickers} == {MarketStatus.ACTIVE}
    # Two accounts trade the middle band so that settlement pays someone.
    ticker = event.tickers[2]
    exchange.open_account("maker", Money(1_000 * 10_000))
    exchange.open_account("taker", Money(1_000 * 10_000))
    for user, side in (("maker", BookSide.ASK), ("taker", BookSide.BID)):
        exchange.engine.place(
            user,
            NewOrder(
                ticker=ticker,
                side=side,
                price=Price(4_000),
                count=Qty(1_000),
                time_in_force=TimeInForce.GOOD_TILL_CANCELED,
                self_trade_prevention=SelfTradePrevention.TAKER_AT_CROSS,
            ),
        )
    clock.advance(3 * DAY)  # one real tick spans close, CLI, determination and settlement
    exchange.housekeeping()
    truth = world.truth("KXHIGHNY", date(2026, 5, 18))
    kinds: dict[str, list[tuple[str, int]]] = {}
    for e in events:
        kinds.setdefault(e.ticker, []).append((e.kind, e.ts_ms))
    for t in event.tickers:
        assert [k for k, _ in kinds[t]] == ["created", "close_date_updated", "determined", "settled"]
        times = [ts for _, ts in kinds[t]]
        assert times == [event.list_ms, event.close_ms, event.determine_ms, event.settle_ms]
        state, meta = exchange.engine.market(t), exchange.catalog.market(t)
        assert state.status is MarketStatus.FINALIZED
        assert meta.expiration_value == str(truth)
        assert state.result == ("yes" if yes(meta, truth) else "no")
        assert meta.determined_ms == event.determine_ms
        assert meta.settled_ms == event.settle_ms
    assert sum(exchange.engine.market(t).result == "yes" for t in event.tickers) == 1
    won = exchange.engine.market(ticker).result == "yes"
    taker = exchange.engine.settlements("taker")
    maker = exchange.engine.settlements("maker")
    assert [s.ticker for s in taker] == [ticker]
    assert [s.ticker for s in maker] == [ticker]
    assert taker[0].revenue == (10 * 10_000 if won else 0)
    assert maker[0].revenue == (0 if won else 10 * 10_000)
    assert world.settlement_values[event.event_ticker] == str(truth)
    cli = world.model.cli_report(event.city, event.day, "final")
    assert cli.issued_ms < event.determine_ms
    assert cli_max(cli_product_text(cli)) == truth


def test_a_simulated_month_lists_settles_everything_in_order() -> None:
    exchange, world, clock = world_at("2026-02-20T12:00:00+00:00", until=date(2026, 3, 20))
    events = _market_events(exchange)
    run_days(exchange, clock, 31, step_hours=7)
    assert {(e.series.ticker, e.day) for e in world.events.values()} >= {
        (s, date(2026, 2, 21) + timedelta(days=k)) for s in SERIES for k in range(28)
    }
    assert not world.live_events
    for event in world.events.values():
        assert all(exchange.engine.market(t).status is MarketStatus.FINALIZED for t in event.tickers)
        truth = world.truth(event.series.ticker, event.day)
        assert world.settlement_values[event.event_ticker] == str(truth)
        report = world.model.cli_report(event.city, event.day)
        assert truth == (report.max_f if event.extreme == "high" else report.min_f)
    stamps = [e.ts_ms for e in events]
    assert stamps == sorted(stamps)  # across all cities, every lifecycle event in time order


def test_install_with_a_past_start_settles_what_is_over_and_until_stops_listing() -> None:
    exchange, world, _ = world_at(
        "2026-05-20T12:00:00+00:00", series=["KXHIGHLAX"], start=date(2026, 5, 14), until=date(2026, 5, 19)
    )
    days = [e.day for e in world.events.values()]
    assert days == [date(2026, 5, 14) + timedelta(days=k) for k in range(6)]
    finalized = [
        d
        for d in days
        if all(
            exchange.engine.market(t).status is MarketStatus.FINALIZED
            for t in world.event_for("KXHIGHLAX", d).tickers  # type: ignore[union-attr]
        )
    ]
    assert finalized == days[:5]  # May 19 closed at 07:59Z May 20, determined later today
    assert world.next_due_ms(ms("2026-05-20T12:00:00+00:00")) is not None


def test_probability_oracle_is_a_distribution_and_ends_at_the_result() -> None:
    exchange, world, clock = world_at("2026-05-16T03:00:00+00:00", series=["KXHIGHDEN"])
    event = world.event_for("KXHIGHDEN", date(2026, 5, 16))
    assert event is not None
    middle = event.tickers[2]
    cold, flat, warm = (world.probability(event.tickers[-1], clock.now_ms(), shift=s) for s in (-1.0, 0.0, 1.0))
    assert cold is not None
    assert flat is not None
    assert warm is not None
    assert cold < flat < warm
    assert world.probability(middle, clock.now_ms()) != world.probability(middle, clock.now_ms(), shift=2.0)
    for _ in range(12):
        now = clock.now_ms()
        probabilities = [world.probability(t, now) for t in event.tickers]
        assert all(p is not None and 0.0 <= p <= 1.0 for p in probabilities)
        assert sum(p for p in probabilities if p is not None) == pytest.approx(1.0, abs=1e-9)
        floor = world.model.observed_max(event.city, event.day, world.published_until(now))
        if floor is not None:
            dead = [t for t, b in zip(event.tickers, event.brackets, strict=True) if (b.bounds()[1] or 999) < floor]
            assert all(world.probability(t, now) == 0.0 for t in dead)
        clock.advance(2 * HOUR)
        exchange.housekeeping()
    clock.advance(DAY)
    exchange.housekeeping()
    truth = world.truth("KXHIGHDEN", date(2026, 5, 16))
    assert [world.probability(t, clock.now_ms()) for t in event.tickers] == [
        1.0 if b.wins(truth) else 0.0 for b in event.brackets
    ]
    assert world.probability("KXOTHER-1", clock.now_ms()) is None


# -- determinism ---------------------------------------------------------------------------------


def _fingerprint(seed: int) -> list[tuple[str, str, str, str]]:
    exchange, _world, clock = world_at("2026-03-01T12:00:00+00:00", seed=seed)
    run_days(exchange, clock, 4, step_hours=5)
    return [
        (m.ticker, m.market_id, m.expiration_value, exchange.engine.market(m.ticker).result)
        for m in exchange.catalog.all_markets()
    ]


def test_same_seed_same_world_other_seed_other_world() -> None:
    first, again, other = _fingerprint(21), _fingerprint(21), _fingerprint(22)
    assert first == again
    assert first != other
    assert [row[0] for row in first] != [row[0] for row in other] or [row[2] for row in first] != [
        row[2] for row in other
    ]


def test_draws_do_not_depend_on_call_order() -> None:
    forward, backward = WeatherModel(4), WeatherModel(4)
    city: City = CITIES["KXHIGHPHIL"]
    days = [date(2026, 4, 1) + timedelta(days=k) for k in range(20)]
    a = [(forward.truth(city, d), forward.forecast_for_lead(city, d, 30)) for d in days]
    b = [(backward.truth(city, d), backward.forecast_for_lead(city, d, 30)) for d in reversed(days)]
    assert a == list(reversed(b))
    obs_a = forward.observations(city, days[5])
    backward.observations(CITIES["KXHIGHNY"], days[5])
    assert [o.temperature_dc for o in obs_a] == [o.temperature_dc for o in backward.observations(city, days[5])]
    assert tenths_c_to_f(256) == 78
    assert tenths_c_to_f(-178) == 0
