"""Which station settles which Kalshi daily-high series, and where it is.

Contract:
- ``STATIONS`` maps a high-temperature series ticker (``KXHIGHNY``) to its settlement ``Station``:
  ICAO id, the CLI product location (``NYC`` of ``CLINYC``), the issuing WFO, the IANA time zone (the
  climate day is that zone's *standard* time), the station's coordinates (for ``/points``) and a
  spread multiplier. Facts from weather.md §1.1; the spread multipliers from §3.1 ("inflate 20–40%
  at DEN/CHI/AUS; shrink at LAX/MIA").
- Only series whose station coordinates are documented are listed; ``station_for_series`` raises
  ``UnknownSeriesError`` (a ``ValueError``) with the known list for anything else — never a guess
  or a nearby station (weather.md §1.5: each CLI is one station's product).
- ``event_date`` reads the climate date from an event ticker (``KXHIGHNY-25NOV21`` → 2025-11-21).

Settlement sources change (The Weather Company since 2026-08-14); read the series'
``settlement_sources`` before trading — this table is the NWS view of the same stations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date


class UnknownSeriesError(ValueError):
    """A series this module has no settlement station for."""


@dataclass(frozen=True, slots=True)
class Station:
    series: str
    icao: str
    cli_location: str
    wfo: str
    time_zone: str
    latitude: float
    longitude: float
    name: str
    sigma_scale: float = 1.0


STATIONS: dict[str, Station] = {
    s.series: s
    for s in (
        Station("KXHIGHNY", "KNYC", "NYC", "OKX", "America/New_York", 40.779, -73.969, "Central Park, New York"),
        Station("KXHIGHCHI", "KMDW", "MDW", "LOT", "America/Chicago", 41.786, -87.752, "Chicago Midway", 1.2),
        Station("KXHIGHMIA", "KMIA", "MIA", "MFL", "America/New_York", 25.788, -80.317, "Miami International", 0.9),
        Station("KXHIGHAUS", "KAUS", "AUS", "EWX", "America/Chicago", 30.183, -97.680, "Austin Bergstrom", 1.2),
        Station("KXHIGHLAX", "KLAX", "LAX", "LOX", "America/Los_Angeles", 33.938, -118.389, "Los Angeles Intl", 0.9),
        Station("KXHIGHDEN", "KDEN", "DEN", "BOU", "America/Denver", 39.847, -104.656, "Denver Intl", 1.2),
        Station("KXHIGHPHIL", "KPHL", "PHL", "PHI", "America/New_York", 39.868, -75.231, "Philadelphia Intl"),
    )
}


def station_for_series(series: str) -> Station:
    """The settlement station of ``series`` (case-insensitive)."""
    try:
        return STATIONS[series.strip().upper()]
    except KeyError:
        known = ", ".join(sorted(STATIONS))
        raise UnknownSeriesError(f"no settlement station known for series {series!r}; known: {known}") from None


_MONTH_CODES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {code: i for i, code in enumerate(_MONTH_CODES, 1)}
_EVENT_RE = re.compile(r"^[A-Z0-9]+-(\d{2})([A-Z]{3})(\d{2})$")


def event_date(event_ticker: str) -> date:
    """The climate date of a daily event ticker ``{SERIES}-{YY}{MON}{DD}``."""
    m = _EVENT_RE.match(event_ticker.strip().upper())
    month = _MONTHS.get(m.group(2)) if m else None
    if m is None or month is None:
        raise ValueError(f"{event_ticker!r} is not a daily event ticker like KXHIGHNY-25NOV21")
    try:
        return date(2000 + int(m.group(1)), month, int(m.group(3)))
    except ValueError:
        raise ValueError(f"{event_ticker!r} names no real date") from None


def event_ticker(series: str, day: date) -> str:
    """The event ticker of ``series`` for climate date ``day`` (``KXHIGHNY-25NOV21``)."""
    return f"{series.upper()}-{day.year % 100:02d}{_MONTH_CODES[day.month - 1]}{day.day:02d}"
