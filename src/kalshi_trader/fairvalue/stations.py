"""Which station settles which Kalshi daily temperature series (highs and lows), and where it is.

Contract:
- ``SITES`` (by ICAO id) holds what Kalshi's API does not say about a settlement station: its CLI
  product location (``NYC`` of ``CLINYC``), the section name in a multi-site product
  (``cli_site``), the issuing WFO, the IANA time zone (the climate day is that zone's *standard*
  time), coordinates (for NWS ``/points``), the phrases that name it in a market's rules, and a
  forecast-spread multiplier (more spread in the Plains/Rockies, less on coasts).
- ``station_from_api(series, rules_primary=..., settlement_sources=..., title=...)`` is how a
  series' station is found: the site the market's rules name ("recorded at Chicago Midway
  Airport"), else the site of the NWS CLI product its settlement source links to (``issuedby=``;
  never for a product that covers several sites, where only the rules can say which), else the
  series table below; whether it settles on the day's maximum or minimum comes from the rules
  ("highest"/"lowest temperature") or the series title, else the table. Sources that disagree,
  or a series nothing identifies, raise ``UnknownSeriesError`` (a ``ValueError``) — never a guess
  or a nearby station (each CLI is one station's product).
- ``STATIONS`` maps the daily series Kalshi lists (20 daily-high ``KXHIGH…`` and 20 daily-low
  ``KXLOWT…`` series) to their ``Station`` as published (the fallback when the API does not
  say); ``station_for_series`` looks one up (case-insensitive) or raises ``UnknownSeriesError``
  with the known list. ``HIGH_SERIES`` / ``LOW_SERIES`` list them.
- ``event_date`` reads the climate date from an event ticker (``KXHIGHNY-25NOV21`` → 2025-11-21).

Settlement sources change (The Weather Company since 2026-08-14, relaying the NWS figure): the
rules text still names the station, which is why it is read first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, urlsplit

from kalshi_trader.fairvalue.weather import Extreme


class UnknownSeriesError(ValueError):
    """A series this module cannot find a settlement station for (or finds conflicting ones)."""


@dataclass(frozen=True, slots=True)
class Site:
    """One settlement station (an ASOS site with a Daily Climate Report)."""

    icao: str
    cli_location: str
    wfo: str
    time_zone: str
    latitude: float
    longitude: float
    name: str
    rules_names: tuple[str, ...]
    """Phrases (lower case) that name this station in a market's rules."""
    sigma_scale: float = 1.0
    cli_site: str = ""
    """The headline name of its section when its CLI product covers several sites."""


@dataclass(frozen=True, slots=True)
class Station:
    """A series' settlement station and which of the day's extremes settles it."""

    series: str
    extreme: Extreme
    site: Site

    @property
    def icao(self) -> str:
        return self.site.icao

    @property
    def cli_location(self) -> str:
        return self.site.cli_location

    @property
    def cli_site(self) -> str | None:
        return self.site.cli_site or None

    @property
    def wfo(self) -> str:
        return self.site.wfo

    @property
    def time_zone(self) -> str:
        return self.site.time_zone

    @property
    def latitude(self) -> float:
        return self.site.latitude

    @property
    def longitude(self) -> float:
        return self.site.longitude

    @property
    def name(self) -> str:
        return self.site.name

    @property
    def sigma_scale(self) -> float:
        return self.site.sigma_scale


_NY, _CHI, _DEN, _LA, _PHX = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
)

SITES: dict[str, Site] = {
    s.icao: s
    for s in (
        Site("KNYC", "NYC", "OKX", _NY, 40.779, -73.969, "Central Park, New York", ("central park",)),
        Site("KMDW", "MDW", "LOT", _CHI, 41.786, -87.752, "Chicago Midway", ("midway",), 1.2),
        Site("KMIA", "MIA", "MFL", _NY, 25.788, -80.317, "Miami International", ("miami international",), 0.9),
        Site("KAUS", "AUS", "EWX", _CHI, 30.183, -97.680, "Austin Bergstrom", ("bergstrom",), 1.2),
        Site("KLAX", "LAX", "LOX", _LA, 33.938, -118.389, "Los Angeles Intl", ("los angeles international",), 0.9),
        Site("KDEN", "DEN", "BOU", _DEN, 39.847, -104.656, "Denver Intl", ("denver international",), 1.2),
        Site("KPHL", "PHL", "PHI", _NY, 39.868, -75.231, "Philadelphia Intl", ("philadelphia international",)),
        Site("KATL", "ATL", "FFC", _NY, 33.630, -84.442, "Atlanta Hartsfield-Jackson", ("hartsfield",)),
        Site("KBOS", "BOS", "BOX", _NY, 42.361, -71.010, "Boston Logan", ("logan",)),
        Site("KDFW", "DFW", "FWD", _CHI, 32.898, -97.019, "Dallas/Fort Worth Intl", ("dallas fort worth",), 1.1),
        Site("KDCA", "DCA", "LWX", _NY, 38.851, -77.040, "Washington National", ("reagan", "washington national")),
        Site(
            "KIAH", "HOU", "HGX", _CHI, 29.980, -95.360, "Houston Intercontinental", ("intercontinental",),
            cli_site="HOUSTON INTERCONTINENTAL",
        ),
        Site("KLAS", "LAS", "VEF", _LA, 36.072, -115.163, "Las Vegas Harry Reid Intl", ("harry reid", "mccarran")),
        Site("KMSP", "MSP", "MPX", _CHI, 44.883, -93.229, "Minneapolis-St. Paul Intl", ("minneapolis st paul",), 1.2),
        Site("KMSY", "MSY", "LIX", _CHI, 29.993, -90.251, "New Orleans Louis Armstrong Intl", ("louis armstrong",)),
        Site("KOKC", "OKC", "OUN", _CHI, 35.389, -97.601, "Oklahoma City Will Rogers", ("will rogers",), 1.2),
        Site("KPHX", "PHX", "PSR", _PHX, 33.428, -112.004, "Phoenix Sky Harbor", ("sky harbor",), 0.9),
        Site("KSAT", "SAT", "EWX", _CHI, 29.544, -98.484, "San Antonio Intl", ("san antonio international",), 1.1),
        Site("KSEA", "SEA", "SEW", _LA, 47.445, -122.314, "Seattle-Tacoma Intl", ("seattle tacoma", "sea tac")),
        Site("KSFO", "SFO", "MTR", _LA, 37.620, -122.365, "San Francisco Intl", ("san francisco international",), 0.9),
    )
}  # fmt: skip
"""Station facts (NWS station metadata); spread multipliers: Plains/Rockies and the Texas interior
wider, Florida/S. Arizona and the marine-layer coast narrower (forecast-accuracy studies)."""

_SERIES_SITES: tuple[tuple[str, str, str], ...] = (
    ("KXHIGHNY", "KXLOWTNYC", "KNYC"),
    ("KXHIGHCHI", "KXLOWTCHI", "KMDW"),
    ("KXHIGHMIA", "KXLOWTMIA", "KMIA"),
    ("KXHIGHAUS", "KXLOWTAUS", "KAUS"),
    ("KXHIGHLAX", "KXLOWTLAX", "KLAX"),
    ("KXHIGHDEN", "KXLOWTDEN", "KDEN"),
    ("KXHIGHPHIL", "KXLOWTPHIL", "KPHL"),
    ("KXHIGHTATL", "KXLOWTATL", "KATL"),
    ("KXHIGHTBOS", "KXLOWTBOS", "KBOS"),
    ("KXHIGHTDAL", "KXLOWTDAL", "KDFW"),
    ("KXHIGHTDC", "KXLOWTDC", "KDCA"),
    ("KXHIGHTHOU", "KXLOWTHOU", "KIAH"),
    ("KXHIGHTLV", "KXLOWTLV", "KLAS"),
    ("KXHIGHTMIN", "KXLOWTMIN", "KMSP"),
    ("KXHIGHTNOLA", "KXLOWTNOLA", "KMSY"),
    ("KXHIGHTOKC", "KXLOWTOKC", "KOKC"),
    ("KXHIGHTPHX", "KXLOWTPHX", "KPHX"),
    ("KXHIGHTSATX", "KXLOWTSATX", "KSAT"),
    ("KXHIGHTSEA", "KXLOWTSEA", "KSEA"),
    ("KXHIGHTSFO", "KXLOWTSFO", "KSFO"),
)
"""(daily-high series, daily-low series, station) for the 20 cities Kalshi lists both for."""

HIGH_SERIES: tuple[str, ...] = tuple(high for high, _, _ in _SERIES_SITES)
LOW_SERIES: tuple[str, ...] = tuple(low for _, low, _ in _SERIES_SITES)

_EXTREMES: tuple[Extreme, Extreme] = ("high", "low")

STATIONS: dict[str, Station] = {
    series: Station(series, extreme, SITES[icao])
    for high, low, icao in _SERIES_SITES
    for series, extreme in zip((high, low), _EXTREMES, strict=True)
}


def station_for_series(series: str) -> Station:
    """The published settlement station of ``series`` (case-insensitive)."""
    try:
        return STATIONS[series.strip().upper()]
    except KeyError:
        known = ", ".join(sorted(STATIONS))
        raise UnknownSeriesError(f"no settlement station known for series {series!r}; known: {known}") from None


# --------------------------------------------------------------------------------------------
# From what the API says


def _words(text: str) -> str:
    """Lower case, punctuation to spaces, single-spaced, padded (for whole-phrase matching)."""
    return " " + " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split()) + " "


_EXTREME_WORDS: dict[Extreme, tuple[str, ...]] = {
    "high": (" highest temperature ", " maximum temperature ", " high temp"),
    "low": (" lowest temperature ", " minimum temperature ", " low temp"),
}


def _extreme_named(text: str) -> Extreme | None:
    words = _words(text)
    found = {e for e, phrases in _EXTREME_WORDS.items() if any(p in words for p in phrases)}
    return found.pop() if len(found) == 1 else None


def _sites_named(rules: str) -> list[Site]:
    words = _words(rules)
    return [site for site in SITES.values() if any(f" {phrase} " in words for phrase in site.rules_names)]


def _cli_locations(settlement_sources: Iterable[tuple[str, str]]) -> set[str]:
    """CLI product locations (``issuedby=NYC``) of the NWS links among the settlement sources."""
    found: set[str] = set()
    for _, url in settlement_sources:
        parts = urlsplit(url)
        if not parts.hostname or not parts.hostname.endswith("weather.gov"):
            continue
        query = {k.lower(): v for k, v in parse_qs(parts.query).items()}
        if [p.upper() for p in query.get("product", [])] == ["CLI"]:
            found.update(v.strip().upper() for v in query.get("issuedby", []) if v.strip())
    return found


def station_from_api(
    series: str,
    *,
    rules_primary: str = "",
    settlement_sources: Iterable[tuple[str, str]] = (),
    title: str = "",
) -> Station:
    """``series``' settlement station from what Kalshi's API says about it (see the module
    contract): ``rules_primary`` of one of its markets, the series' ``settlement_sources`` as
    (name, url) pairs and its ``title``."""
    series = series.strip().upper()
    published = STATIONS.get(series)

    extreme = _extreme_named(rules_primary) or _extreme_named(title)
    if extreme is None:
        if published is None:
            raise UnknownSeriesError(f"{series}: neither its rules nor its title say highest or lowest temperature")
        extreme = published.extreme

    named = _sites_named(rules_primary)
    if len(named) > 1:
        names = ", ".join(s.icao for s in named)
        raise UnknownSeriesError(f"{series}: its rules name several stations ({names})")
    locations = _cli_locations(settlement_sources)
    linked = [s for s in SITES.values() if s.cli_location in locations and not s.cli_site]
    if named:
        site = named[0]
        if locations and site.cli_location not in locations:
            raise UnknownSeriesError(
                f"{series}: its rules name {site.icao} but its settlement source is the CLI of "
                f"{', '.join(sorted(locations))}"
            )
    elif len(linked) == 1 and len(locations) == 1:
        site = linked[0]
    elif locations:
        raise UnknownSeriesError(
            f"{series}: settlement source CLI{'/'.join(sorted(locations))} names no single known station "
            "and its rules name none"
        )
    elif published is not None:
        site = published.site
    else:
        known = ", ".join(sorted(STATIONS))
        raise UnknownSeriesError(f"no settlement station known for series {series!r}; known: {known}")
    return Station(series, extreme, site)


# --------------------------------------------------------------------------------------------
# Event tickers


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
