"""The settlement station of every daily temperature series: the published table, what the API
says (rules, settlement sources, title), and event-ticker dates."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from kalshi_trader.fairvalue.stations import (
    HIGH_SERIES,
    LOW_SERIES,
    SITES,
    STATIONS,
    UnknownSeriesError,
    event_date,
    event_ticker,
    station_for_series,
    station_from_api,
)

NWS_NYC = ("NWS Climatological Report", "https://forecast.weather.gov/product.php?site=OKX&product=CLI&issuedby=NYC")
TWC = ("The Weather Company", "https://weather.com/kalshi")


def test_twenty_cities_with_a_high_and_a_low_series_each() -> None:
    assert len(HIGH_SERIES) == len(LOW_SERIES) == 20
    assert set(STATIONS) == set(HIGH_SERIES) | set(LOW_SERIES)
    for high, low in zip(HIGH_SERIES, LOW_SERIES, strict=True):
        assert high.startswith("KXHIGH")
        assert low.startswith("KXLOWT")
        assert (STATIONS[high].extreme, STATIONS[low].extreme) == ("high", "low")
        assert STATIONS[high].site is STATIONS[low].site  # one station settles both
    assert len({s.site.icao for s in STATIONS.values()}) == 20


def test_known_stations() -> None:
    ny = station_for_series("kxhighny")
    assert (ny.icao, ny.cli_location, ny.wfo, ny.time_zone, ny.extreme) == (
        "KNYC",
        "NYC",
        "OKX",
        "America/New_York",
        "high",
    )
    assert station_for_series("KXHIGHCHI").icao == "KMDW"  # Midway, not O'Hare
    assert station_for_series("KXHIGHAUS").icao == "KAUS"  # Bergstrom, not Camp Mabry
    assert station_for_series("KXLOWTLAX").icao == "KLAX"
    assert station_for_series("KXLOWTLV").cli_location == "LAS"
    houston = station_for_series("KXHIGHTHOU")
    assert (houston.icao, houston.cli_location, houston.cli_site) == ("KIAH", "HOU", "HOUSTON INTERCONTINENTAL")
    assert station_for_series("KXHIGHTPHX").time_zone == "America/Phoenix"  # MST all year
    for st in STATIONS.values():
        ZoneInfo(st.time_zone)
        assert st.icao.startswith("K")
        assert len(st.cli_location) == 3
        assert -90 <= st.latitude <= 90
        assert -180 <= st.longitude <= 180
        assert st.sigma_scale > 0
        assert st.site.rules_names


def test_unknown_series_is_a_clear_error() -> None:
    for bad in ("KXHIGHLA", "KXLOWNYC", "KXRAINNYC", ""):
        with pytest.raises(UnknownSeriesError, match="known: KXHIGHAUS"):
            station_for_series(bad)


def test_the_rules_name_the_station_and_the_extreme() -> None:
    rules = (
        "If the lowest temperature recorded at Chicago Midway Airport for May 16, 2026 as reported by the "
        "National Weather Service's Climatological Report (Daily), is between 50-51°, then the market resolves to Yes."
    )
    station = station_from_api("KXNEWCHILOW", rules_primary=rules)  # a series the table does not know
    assert (station.series, station.icao, station.extreme) == ("KXNEWCHILOW", "KMDW", "low")
    high = station_from_api(
        "KXHIGHNY", rules_primary="If the highest temperature recorded in Central Park, New York ..."
    )
    assert (high.icao, high.extreme) == ("KNYC", "high")
    # the rules win over the table: a table that disagreed would be out of date
    moved = station_from_api("KXHIGHNY", rules_primary="If the highest temperature recorded at LaGuardia ... Midway")
    assert moved.icao == "KMDW"


def test_the_settlement_source_names_the_cli_product() -> None:
    station = station_from_api("KXSOMETHING", settlement_sources=[NWS_NYC], title="Lowest temperature in NYC")
    assert (station.icao, station.extreme) == ("KNYC", "low")
    # The Weather Company's link names no station: the rules or the table must
    assert station_from_api("KXLOWTBOS", settlement_sources=[TWC]).icao == "KBOS"
    # a multi-site product (Houston's CLIHOU) is never resolved from the link alone
    houston = ("NWS", "https://forecast.weather.gov/product.php?site=HGX&product=CLI&issuedby=HOU")
    with pytest.raises(UnknownSeriesError, match="names no single known station"):
        station_from_api("KXHIGHTHOU", settlement_sources=[houston])
    assert station_from_api("KXHIGHTHOU", settlement_sources=[houston], rules_primary="... at Houston "
                            "George Bush Intercontinental Airport ...").icao == "KIAH"  # fmt: skip


def test_conflicting_or_missing_sources_are_refused() -> None:
    with pytest.raises(UnknownSeriesError, match="rules name KMDW but its settlement source is the CLI of NYC"):
        station_from_api(
            "KXHIGHCHI", rules_primary="highest temperature ... at Chicago Midway", settlement_sources=[NWS_NYC]
        )
    with pytest.raises(UnknownSeriesError, match="several stations"):
        station_from_api("KXHIGHNY", rules_primary="highest temperature in Central Park or at Chicago Midway")
    with pytest.raises(UnknownSeriesError, match="neither its rules nor its title"):
        station_from_api("KXNEWSERIES", rules_primary="recorded in Central Park")
    with pytest.raises(UnknownSeriesError, match="no settlement station known"):
        station_from_api("KXNEWSERIES", title="Highest temperature in Springfield")
    unknown_cli = ("NWS", "https://forecast.weather.gov/product.php?site=OKX&product=CLI&issuedby=EWR")
    with pytest.raises(UnknownSeriesError, match="CLIEWR names no single known station"):
        station_from_api("KXHIGHTEWR", title="Highest temperature in Newark", settlement_sources=[unknown_cli])


def test_every_station_is_named_by_its_own_rules_phrases_only() -> None:
    for site in SITES.values():
        for phrase in site.rules_names:
            rules = f"If the highest temperature recorded at {phrase.title()} Airport for May 1, 2026 ..."
            assert station_from_api("KXANY", rules_primary=rules).site is site


def test_event_dates() -> None:
    assert event_date("KXHIGHNY-25NOV21") == date(2025, 11, 21)
    assert event_date("kxlowtlax-26aug02") == date(2026, 8, 2)
    assert event_ticker("KXHIGHNY", date(2026, 5, 6)) == "KXHIGHNY-26MAY06"
    for bad in ("KXHIGHNY", "KXHIGHNY-26XYZ01", "KXHIGHNY-26FEB30", "KXHIGHNY-26MAY16-B78.5"):
        with pytest.raises(ValueError, match="KXHIGHNY"):
            event_date(bad)
