"""The cities of the simulated weather: Kalshi's daily temperature series, their settlement stations
and a small climatology for each (no I/O).

Contract:
- ``City`` rows describe a settlement station (ICAO id, CLI location and headline site name, WFO,
  grid cell, time zone, coordinates), how the market rules name it, and its climate (monthly normal
  highs, day-to-day spread of the high, diurnal range, afternoon peak hours, dewpoint depression,
  °F). ``CITIES`` holds the 20 cities Kalshi lists daily temperature ladders for, keyed by
  ``City.key`` (its daily-high series ticker, which also names its random streams).
- ``TemperatureSeries`` is one Kalshi series: a ticker, its city, and whether it settles on the
  climate day's maximum (``KXHIGH…``) or minimum (``KXLOWT…``). ``SERIES`` holds all 40 (a high
  and a low for every city); ``ALL_SERIES`` lists their tickers; ``DEFAULT_SERIES`` is the lighter
  representative set the embedded exchange lists unless told to list them all (the seven original
  highs and three lows). ``temperature_series(ticker)`` looks one up (``KeyError`` otherwise).
- Facts (tickers, stations, CLI locations, WFOs, time zones, coordinates) are Kalshi's and NWS's;
  grid cells of the newer cities and the climatology are plausible values for the simulation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Extreme = Literal["high", "low"]


@dataclass(frozen=True, slots=True)
class City:
    """A settlement station and its climate."""

    key: str
    """Its daily-high series ticker: the city's name in tables and random streams."""
    low_series: str
    label: str
    """Short name used in Kalshi titles ("NYC", "Chicago")."""
    station: str
    station_name: str
    rules_place: str
    """How the rules name the station: "in Central Park, New York", "at Chicago Midway Airport"."""
    cli_location: str
    cli_site: str
    """The CLI headline's site name ("CENTRAL PARK NY")."""
    wfo: str
    wmo_id: str
    office_name: str
    tz: str
    lat: float
    lon: float
    grid_x: int
    grid_y: int
    elevation_m: float
    forecast_zone: str
    radar: str
    nearby: tuple[str, str]
    """relativeLocation (city, state) of the /points answer."""
    obs_minute: int
    settlement_timer_s: int
    final_cli_utc: tuple[int, int]
    """Usual (hour, minute) UTC of the final CLI on the morning after the day."""
    normal_highs: tuple[int, ...]
    high_spreads: tuple[int, ...]
    diurnal_range: int
    peak_hours: tuple[int, int]
    dewpoint_depression: int

    @property
    def series(self) -> str:
        """The daily-high series ticker (the city's key)."""
        return self.key

    @property
    def issuing_office(self) -> str:
        return f"K{self.wfo}"

    @property
    def cli_pil(self) -> str:
        return f"CLI{self.cli_location}"


_NY, _CHI, _DEN, _LA = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"

CITIES: Final[dict[str, City]] = {
    c.key: c
    for c in (
        City(
            "KXHIGHNY", "KXLOWTNYC", "NYC", "KNYC", "New York City, Central Park", "in Central Park, New York",
            "NYC", "CENTRAL PARK NY", "OKX", "CDUS41", "NEW YORK NY", _NY,
            40.779, -73.969, 33, 37, 47.5, "NYZ072", "KOKX", ("Hoboken", "NJ"), 51, 3600, (6, 18),
            (40, 42, 50, 62, 71, 80, 85, 83, 76, 65, 54, 44), (8, 8, 9, 8, 7, 6, 5, 5, 6, 7, 7, 8),
            14, (14, 16), 15,
        ),
        City(
            "KXHIGHCHI", "KXLOWTCHI", "Chicago", "KMDW", "Chicago, Chicago Midway Airport", "at Chicago Midway Airport",
            "MDW", "CHICAGO-MIDWAY", "LOT", "CDUS43", "CHICAGO IL", _CHI,
            41.786, -87.752, 75, 72, 188.0, "ILZ014", "KLOT", ("Bedford Park", "IL"), 53, 3600, (6, 46),
            (32, 36, 47, 60, 71, 81, 85, 83, 77, 64, 49, 37), (10, 10, 11, 11, 9, 7, 6, 6, 7, 9, 9, 10),
            17, (14, 16), 17,
        ),
        City(
            "KXHIGHMIA", "KXLOWTMIA", "Miami", "KMIA", "Miami International Airport", "at Miami International Airport",
            "MIA", "MIAMI FL", "MFL", "CDUS42", "MIAMI FL", _NY,
            25.788, -80.317, 76, 50, 3.0, "FLZ173", "KAMX", ("Miami Springs", "FL"), 53, 1800, (9, 22),
            (76, 78, 80, 83, 87, 89, 91, 91, 89, 86, 81, 78), (5, 5, 4, 4, 3, 2, 2, 2, 2, 3, 4, 5),
            12, (12, 15), 8,
        ),
        City(
            "KXHIGHAUS", "KXLOWTAUS", "Austin", "KAUS", "Austin-Bergstrom International Airport",
            "at Austin-Bergstrom International Airport", "AUS", "AUSTIN BERGSTROM", "EWX", "CDUS44",
            "AUSTIN/SAN ANTONIO TX", _CHI,
            30.183, -97.680, 156, 91, 148.0, "TXZ192", "KEWX", ("Del Valle", "TX"), 53, 1800, (8, 1),
            (62, 66, 73, 80, 86, 92, 96, 97, 91, 82, 71, 63), (10, 10, 9, 7, 5, 4, 3, 3, 4, 6, 8, 10),
            21, (14, 16), 20,
        ),
        City(
            "KXHIGHLAX", "KXLOWTLAX", "LA", "KLAX", "Los Angeles International Airport",
            "at Los Angeles International Airport", "LAX", "LOS ANGELES  INTL AIRPORT", "LOX", "CDUS46",
            "LOS ANGELES/OXNARD CA", _LA,
            33.938, -118.389, 149, 48, 38.0, "CAZ041", "KVTX", ("El Segundo", "CA"), 53, 1800, (9, 28),
            (66, 65, 66, 68, 69, 72, 75, 76, 76, 74, 71, 66), (5, 5, 5, 5, 4, 3, 3, 3, 5, 6, 6, 5),
            12, (11, 14), 12,
        ),
        City(
            "KXHIGHDEN", "KXLOWTDEN", "Denver", "KDEN", "Denver International Airport",
            "at Denver International Airport", "DEN", "DENVER", "BOU", "CDUS45", "DENVER/BOULDER CO", _DEN,
            39.847, -104.656, 62, 60, 1640.0, "COZ040", "KFTG", ("Denver", "CO"), 53, 1800, (7, 31),
            (44, 46, 55, 61, 71, 83, 90, 87, 79, 65, 52, 43), (13, 13, 12, 11, 9, 7, 5, 5, 7, 10, 12, 13),
            27, (14, 16), 35,
        ),
        City(
            "KXHIGHPHIL", "KXLOWTPHIL", "Philadelphia", "KPHL", "Philadelphia International Airport",
            "at Philadelphia International Airport", "PHL", "PHILADELPHIA", "PHI", "CDUS41",
            "MOUNT HOLLY NJ", _NY,
            39.868, -75.231, 49, 74, 3.0, "PAZ071", "KDIX", ("Essington", "PA"), 54, 1800, (5, 55),
            (41, 44, 53, 65, 74, 83, 88, 86, 79, 67, 56, 46), (8, 8, 9, 8, 7, 6, 5, 5, 6, 7, 7, 8),
            17, (14, 16), 16,
        ),
        City(
            "KXHIGHTATL", "KXLOWTATL", "Atlanta", "KATL", "Atlanta, Hartsfield-Jackson International Airport",
            "at Hartsfield-Jackson Atlanta International Airport", "ATL", "ATLANTA", "FFC", "CDUS42",
            "PEACHTREE CITY GA", _NY,
            33.630, -84.442, 50, 82, 308.0, "GAZ044", "KFFC", ("Hapeville", "GA"), 52, 1800, (6, 35),
            (52, 57, 65, 73, 80, 86, 89, 88, 82, 73, 63, 54), (9, 9, 9, 7, 6, 4, 3, 3, 4, 6, 8, 9),
            19, (14, 16), 16,
        ),
        City(
            "KXHIGHTBOS", "KXLOWTBOS", "Boston", "KBOS", "Boston, Logan International Airport",
            "at Boston Logan International Airport", "BOS", "BOSTON", "BOX", "CDUS41", "BOSTON/NORTON MA", _NY,
            42.361, -71.010, 71, 90, 6.0, "MAZ015", "KBOX", ("Winthrop", "MA"), 54, 1800, (5, 45),
            (37, 39, 46, 57, 67, 77, 82, 81, 73, 62, 52, 42), (9, 9, 9, 9, 8, 7, 6, 5, 6, 7, 8, 9),
            15, (13, 15), 15,
        ),
        City(
            "KXHIGHTDAL", "KXLOWTDAL", "Dallas", "KDFW", "Dallas/Fort Worth International Airport",
            "at Dallas/Fort Worth International Airport", "DFW", "DALLAS/FORT WORTH", "FWD", "CDUS44",
            "FORT WORTH TX", _CHI,
            32.898, -97.019, 88, 113, 171.0, "TXZ119", "KFWS", ("Grapevine", "TX"), 53, 1800, (7, 10),
            (57, 61, 69, 77, 84, 92, 96, 96, 89, 79, 67, 58), (11, 11, 10, 8, 6, 4, 3, 3, 5, 7, 9, 11),
            20, (15, 17), 20,
        ),
        City(
            "KXHIGHTDC", "KXLOWTDC", "Washington DC", "KDCA", "Washington, Reagan National Airport",
            "at Ronald Reagan Washington National Airport", "DCA", "WASHINGTON NATIONAL DC", "LWX", "CDUS41",
            "BALTIMORE MD/WASHINGTON DC", _NY,
            38.851, -77.040, 96, 70, 3.0, "DCZ001", "KLWX", ("Arlington", "VA"), 52, 1800, (6, 40),
            (44, 47, 56, 67, 76, 85, 89, 87, 80, 69, 58, 48), (9, 9, 10, 9, 7, 6, 5, 5, 6, 7, 8, 9),
            16, (14, 16), 16,
        ),
        City(
            "KXHIGHTHOU", "KXLOWTHOU", "Houston", "KIAH", "Houston, George Bush Intercontinental Airport",
            "at Houston George Bush Intercontinental Airport", "HOU", "HOUSTON INTERCONTINENTAL", "HGX", "CDUS44",
            "HOUSTON/GALVESTON TX", _CHI,
            29.980, -95.360, 66, 104, 29.0, "TXZ213", "KHGX", ("Humble", "TX"), 53, 1800, (7, 25),
            (63, 67, 73, 80, 86, 91, 94, 95, 90, 82, 72, 65), (9, 9, 8, 6, 4, 3, 2, 2, 3, 6, 8, 9),
            19, (14, 16), 14,
        ),
        City(
            "KXHIGHTLV", "KXLOWTLV", "Las Vegas", "KLAS", "Las Vegas, Harry Reid International Airport",
            "at Harry Reid International Airport, Las Vegas", "LAS", "LAS VEGAS", "VEF", "CDUS45", "LAS VEGAS NV", _LA,
            36.072, -115.163, 123, 98, 664.0, "NVZ020", "KESX", ("Paradise", "NV"), 56, 1800, (8, 45),
            (58, 62, 70, 78, 88, 99, 105, 103, 94, 81, 67, 57), (6, 6, 7, 7, 6, 4, 3, 3, 4, 6, 6, 6),
            25, (15, 17), 35,
        ),
        City(
            "KXHIGHTMIN", "KXLOWTMIN", "Minneapolis", "KMSP", "Minneapolis-St. Paul International Airport",
            "at Minneapolis-St. Paul International Airport", "MSP", "MINNEAPOLIS/ST PAUL", "MPX", "CDUS43",
            "TWIN CITIES/CHANHASSEN MN", _CHI,
            44.883, -93.229, 108, 67, 255.0, "MNZ060", "KMPX", ("Fort Snelling", "MN"), 53, 1800, (6, 55),
            (23, 28, 41, 56, 68, 78, 83, 80, 71, 57, 41, 27), (13, 13, 12, 11, 9, 7, 6, 6, 8, 10, 12, 13),
            18, (14, 16), 17,
        ),
        City(
            "KXHIGHTNOLA", "KXLOWTNOLA", "New Orleans", "KMSY", "New Orleans, Louis Armstrong International Airport",
            "at Louis Armstrong New Orleans International Airport", "MSY", "NEW ORLEANS AIRPORT", "LIX", "CDUS44",
            "NEW ORLEANS LA", _CHI,
            29.993, -90.251, 62, 92, 1.0, "LAZ060", "KLIX", ("Kenner", "LA"), 53, 1800, (6, 45),
            (63, 67, 73, 79, 86, 90, 92, 92, 88, 81, 72, 65), (8, 8, 7, 6, 4, 3, 2, 2, 3, 5, 7, 8),
            17, (13, 15), 12,
        ),
        City(
            "KXHIGHTOKC", "KXLOWTOKC", "Oklahoma City", "KOKC", "Oklahoma City, Will Rogers World Airport",
            "at Will Rogers World Airport, Oklahoma City", "OKC", "OKLAHOMA CITY", "OUN", "CDUS44", "NORMAN OK", _CHI,
            35.389, -97.601, 95, 93, 395.0, "OKZ025", "KTLX", ("Oklahoma City", "OK"), 52, 1800, (7, 5),
            (49, 54, 63, 72, 80, 89, 94, 94, 85, 74, 61, 50), (12, 12, 11, 9, 7, 5, 4, 4, 6, 8, 11, 12),
            22, (15, 17), 20,
        ),
        City(
            "KXHIGHTPHX", "KXLOWTPHX", "Phoenix", "KPHX", "Phoenix Sky Harbor International Airport",
            "at Phoenix Sky Harbor International Airport", "PHX", "PHOENIX", "PSR", "CDUS45", "PHOENIX AZ",
            "America/Phoenix",
            33.428, -112.004, 159, 57, 337.0, "AZZ537", "KIWA", ("Phoenix", "AZ"), 51, 1800, (8, 15),
            (68, 71, 78, 86, 95, 104, 106, 105, 100, 89, 76, 66), (5, 5, 6, 6, 5, 3, 3, 3, 3, 5, 5, 5),
            25, (15, 17), 40,
        ),
        City(
            "KXHIGHTSATX", "KXLOWTSATX", "San Antonio", "KSAT", "San Antonio International Airport",
            "at San Antonio International Airport", "SAT", "SAN ANTONIO", "EWX", "CDUS44",
            "AUSTIN/SAN ANTONIO TX", _CHI,
            29.544, -98.484, 126, 54, 241.0, "TXZ205", "KEWX", ("San Antonio", "TX"), 51, 1800, (8, 5),
            (63, 67, 74, 81, 87, 93, 95, 96, 90, 82, 71, 64), (10, 10, 9, 7, 5, 4, 3, 3, 4, 6, 8, 10),
            21, (15, 17), 20,
        ),
        City(
            "KXHIGHTSEA", "KXLOWTSEA", "Seattle", "KSEA", "Seattle-Tacoma International Airport",
            "at Seattle-Tacoma International Airport", "SEA", "SEATTLE-TACOMA INTL AIRPORT", "SEW", "CDUS46",
            "SEATTLE WA", _LA,
            47.445, -122.314, 124, 61, 131.0, "WAZ558", "KATX", ("SeaTac", "WA"), 53, 1800, (8, 30),
            (48, 50, 54, 58, 65, 70, 76, 77, 71, 60, 52, 47), (5, 5, 5, 6, 6, 6, 6, 5, 5, 5, 5, 5),
            14, (15, 17), 12,
        ),
        City(
            "KXHIGHTSFO", "KXLOWTSFO", "San Francisco", "KSFO", "San Francisco International Airport",
            "at San Francisco International Airport", "SFO", "SAN FRANCISCO INTL AIRPORT", "MTR", "CDUS46",
            "SAN FRANCISCO CA", _LA,
            37.620, -122.365, 85, 98, 3.0, "CAZ509", "KMUX", ("Millbrae", "CA"), 56, 1800, (9, 10),
            (58, 61, 63, 65, 68, 71, 72, 73, 74, 71, 64, 58), (4, 4, 4, 5, 5, 5, 4, 4, 5, 5, 4, 4),
            14, (13, 15), 10,
        ),
    )
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class TemperatureSeries:
    """One Kalshi daily temperature series."""

    ticker: str
    city: City
    extreme: Extreme
    """``"high"``: settles on the climate day's maximum; ``"low"``: on its minimum."""


SERIES: Final[dict[str, TemperatureSeries]] = {
    s.ticker: s
    for city in CITIES.values()
    for s in (TemperatureSeries(city.key, city, "high"), TemperatureSeries(city.low_series, city, "low"))
}
ALL_SERIES: Final[tuple[str, ...]] = tuple(SERIES)
DEFAULT_SERIES: Final[tuple[str, ...]] = (
    "KXHIGHNY", "KXHIGHCHI", "KXHIGHMIA", "KXHIGHAUS", "KXHIGHLAX", "KXHIGHDEN", "KXHIGHPHIL",
    "KXLOWTNYC", "KXLOWTCHI", "KXLOWTLAX",
)  # fmt: skip
"""What the embedded exchange lists by default: the seven original daily highs and three lows."""


def temperature_series(ticker: str) -> TemperatureSeries:
    """The series ``ticker`` (``KeyError`` for one the world does not simulate)."""
    return SERIES[ticker]


__all__ = [
    "ALL_SERIES",
    "CITIES",
    "DEFAULT_SERIES",
    "SERIES",
    "City",
    "Extreme",
    "TemperatureSeries",
    "temperature_series",
]
