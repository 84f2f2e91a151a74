"""The series → settlement station table and event-ticker dates."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from kalshi_trader.fairvalue.stations import STATIONS, UnknownSeriesError, event_date, event_ticker, station_for_series


def test_known_stations() -> None:
    ny = station_for_series("kxhighny")
    assert (ny.icao, ny.cli_location, ny.wfo, ny.time_zone) == ("KNYC", "NYC", "OKX", "America/New_York")
    assert station_for_series("KXHIGHCHI").icao == "KMDW"  # Midway, not O'Hare
    assert station_for_series("KXHIGHAUS").icao == "KAUS"  # Bergstrom, not Camp Mabry
    assert station_for_series("KXHIGHLAX").icao == "KLAX"
    for st in STATIONS.values():
        ZoneInfo(st.time_zone)
        assert st.icao == "K" + st.cli_location or st.series == "KXHIGHNY"
        assert -90 <= st.latitude <= 90
        assert -180 <= st.longitude <= 180
        assert st.sigma_scale > 0


def test_unknown_series_is_a_clear_error() -> None:
    for bad in ("KXLOWTNYC", "KXHIGHLA", "KXHIGHTSEA", ""):
        with pytest.raises(UnknownSeriesError, match="known: KXHIGHAUS"):
            station_for_series(bad)


def test_event_dates() -> None:
    assert event_date("KXHIGHNY-25NOV21") == date(2025, 11, 21)
    assert event_date("kxhighlax-26aug02") == date(2026, 8, 2)
    assert event_ticker("KXHIGHNY", date(2026, 5, 6)) == "KXHIGHNY-26MAY06"
    for bad in ("KXHIGHNY", "KXHIGHNY-26XYZ01", "KXHIGHNY-26FEB30", "KXHIGHNY-26MAY16-B78.5"):
        with pytest.raises(ValueError, match="KXHIGHNY"):
            event_date(bad)
