"""The NWS Daily Climate Report (CLI) text product: the day's MAXIMUM and MINIMUM and the date
they cover, read from any of the layouts NWS offices publish.

Contract:
- ``parse_cli_reports(text)`` returns one ``CliReport`` per site the product covers (a few offices
  put several sites in one product, one ``...THE <SITE> CLIMATE SUMMARY ...`` headline each);
  ``parse_cli(text, site=None)`` returns the one report of a single-site product, or the section
  whose headline names ``site`` (whitespace and case ignored) — refusing rather than choosing
  when a multi-site product is read without a site.
- Layouts read (each seen in products NWS offices issue): headline ``CLIMATE SUMMARY FOR`` or
  ``FROM``, full (``NOVEMBER 8 2006``) or abbreviated (``NOV 8 2006``) month, an optional comma,
  an optional ``CORRECTION`` and a line break inside the headline; temperature header
  ``TEMPERATURE (F)``, ``TEMPERATURE(F)`` or ``TEMPERATURE``; the ``YESTERDAY``/``TODAY`` label and
  the rows at any indentation, tabs for spaces; with or without the TIME column; times ``236 PM``,
  ``0432 PM``, ``1:05 PM`` or ``MM``; values ``MM`` (missing → None) and an ``R`` record flag;
  record-year continuation lines; CRLF line ends and lower case.
- The MAXIMUM and MINIMUM rows are taken from the temperature table only (the later "CLIMATE
  NORMALS" block also has MAXIMUM lines: never read). A product without a readable headline date,
  without a temperature table, or whose table has no MAXIMUM or no MINIMUM row, or a value outside
  ``CLI_TEMPERATURE_BOUNDS_F`` or a minimum above the maximum, raises ``CliParseError`` — nothing is
  guessed.
- ``preliminary``: the product says ``VALID [TODAY] AS OF ...`` or its table is labelled ``TODAY``
  (the same-day report, issued ~4:30 PM); ``corrected``: a ``CCx`` WMO BBB, or CORRECTION /
  CORRECTED in the text. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from kalshi_trader.fairvalue.weather import Extreme

CLI_TEMPERATURE_BOUNDS_F = (-100, 140)
"""Sanity bounds for a daily maximum or minimum (°F)."""


class CliParseError(ValueError):
    """A CLI text product this parser cannot read without guessing."""


@dataclass(frozen=True, slots=True)
class CliReport:
    """What fair value needs from one site's section of a Daily Climate Report."""

    station_name: str
    """The site as the headline names it (whitespace collapsed): ``CENTRAL PARK NY``."""
    summary_date: date
    maximum_f: int | None
    """None when the product reports ``MM`` (missing)."""
    maximum_time: str | None
    minimum_f: int | None
    minimum_time: str | None
    preliminary: bool
    corrected: bool
    record_high: bool
    record_low: bool

    def value_f(self, extreme: Extreme) -> int | None:
        """The day's maximum (``"high"``) or minimum (``"low"``)."""
        return self.maximum_f if extreme == "high" else self.minimum_f


_MONTH_NAMES = (
    "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE",
    "JULY", "AUGUST", "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER",
)  # fmt: skip
_MONTHS = {name: i for i, name in enumerate(_MONTH_NAMES, 1)} | {n[:3]: i for i, n in enumerate(_MONTH_NAMES, 1)}
_MONTHS["SEPT"] = 9

_HEADLINE_RE = re.compile(
    r"\.\.\.[ \t]*THE[ \t]+(?P<site>[A-Z0-9][A-Z0-9 \t\n.,'&()/_-]*?)\s+CLIMATE\s+SUMMARY\s+(?:FOR|FROM)\s+"
    r"(?P<month>[A-Z]+)\.?\s+(?P<day>\d{1,2})\s*,?\s+(?P<year>\d{4})"
    r"(?!\d)(?P<correction>\s+CORRECT(?:ED|ION))?(?:[ \t]*\.\.\.)?"
)
_TEMPERATURE_HEADER_RE = re.compile(r"^[ ]*TEMPERATURE[ ]*(?:\([ ]*(?:F|DEG(?:REES)?[ ]*F)[ ]*\))?[ ]*$", re.MULTILINE)
_LABEL_RE = re.compile(r"^[ ]*(YESTERDAY|TODAY)[ ]*$")
_ROW_RE = re.compile(
    r"^[ ]*(?P<name>MAXIMUM|MINIMUM|AVERAGE)(?![A-Z])[ ]*"
    r"(?:(?P<value>-?\d+)(?:[ ]?(?P<record>R))?|(?P<missing>MM?))(?=[ (]|$)"
    r"(?:[ ]+(?P<time>\d{1,2}:?\d{2}[ ]*[AP]M|MM)(?![0-9A-Z]))?"
)
_YEAR_LINE_RE = re.compile(r"^[ ]*\d{4}[ ]*$")
_VALID_AS_OF_RE = re.compile(r"VALID\s+(?:TODAY\s+)?AS\s+OF")
_CORRECTED_RE = re.compile(r"^\S+\s+\S+\s+\d{6}\s+CC[A-Z]\s*$|\bCORRECT(?:ED|ION)\b", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class _Row:
    value: int | None
    time: str | None
    record: bool


def _normalise(text: str) -> str:
    return text.upper().replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")


def _headline_date(match: re.Match[str]) -> date:
    month = _MONTHS.get(match.group("month"))
    try:
        if month is None:
            raise ValueError(match.group("month"))
        return date(int(match.group("year")), month, int(match.group("day")))
    except ValueError:
        shown = " ".join(match.group("month", "day", "year"))
        raise CliParseError(f"CLI headline date {shown!r} is not a date") from None


def _temperature_rows(section: str, site: str) -> tuple[dict[str, _Row], bool, int]:
    """The MAXIMUM/MINIMUM rows of the section's temperature table, whether it is labelled TODAY,
    and where the table starts."""
    header = _TEMPERATURE_HEADER_RE.search(section)
    if header is None:
        raise CliParseError(f"CLI section for {site} has no TEMPERATURE table")
    rows: dict[str, _Row] = {}
    today = False
    for line in section[header.end() :].split("\n")[1:]:
        if not line.strip():
            if rows:
                break  # the table ends at its first blank line
            continue
        label = _LABEL_RE.match(line)
        if label is not None:
            if rows:
                break  # a second block (e.g. another period): the first one is the day's
            today = label.group(1) == "TODAY"
            continue
        if _YEAR_LINE_RE.match(line):
            continue  # another year of a tied record
        row = _ROW_RE.match(line)
        if row is None:
            break  # the next section (PRECIPITATION, ...)
        value = None if row.group("value") is None else int(row.group("value"))
        time = row.group("time")
        rows.setdefault(
            row.group("name"),
            _Row(value, None if time in (None, "MM") else " ".join(time.split()), bool(row.group("record"))),
        )
    for name in ("MAXIMUM", "MINIMUM"):
        if name not in rows:
            raise CliParseError(f"CLI section for {site} has no {name} row in its TEMPERATURE table")
    low, high = CLI_TEMPERATURE_BOUNDS_F
    for name in ("MAXIMUM", "MINIMUM"):
        value = rows[name].value
        if value is not None and not low <= value <= high:
            raise CliParseError(f"CLI {name} {value} °F for {site} is outside {CLI_TEMPERATURE_BOUNDS_F}")
    maximum, minimum = rows["MAXIMUM"].value, rows["MINIMUM"].value
    if maximum is not None and minimum is not None and minimum > maximum:
        raise CliParseError(f"CLI for {site} reports a MINIMUM {minimum} °F above its MAXIMUM {maximum} °F")
    return rows, today, header.start()


def parse_cli_reports(text: str) -> list[CliReport]:
    """Every site's report in a CLI product, in product order (see the module contract)."""
    upper = _normalise(text)
    heads = list(_HEADLINE_RE.finditer(upper))
    if not heads:
        raise CliParseError("CLI product has no '...THE <SITE> CLIMATE SUMMARY FOR <DATE>...' headline")
    corrected_product = bool(_CORRECTED_RE.search(upper[: heads[0].start()]))
    reports = []
    for i, head in enumerate(heads):
        section = upper[head.end() : heads[i + 1].start() if i + 1 < len(heads) else len(upper)]
        site = " ".join(head.group("site").split())
        rows, today, table = _temperature_rows(section, site)
        maximum, minimum = rows["MAXIMUM"], rows["MINIMUM"]
        reports.append(
            CliReport(
                station_name=site,
                summary_date=_headline_date(head),
                maximum_f=maximum.value,
                maximum_time=maximum.time,
                minimum_f=minimum.value,
                minimum_time=minimum.time,
                preliminary=today or bool(_VALID_AS_OF_RE.search(section, 0, table)),
                corrected=corrected_product
                or head.group("correction") is not None
                or bool(_CORRECTED_RE.search(section)),
                record_high=maximum.record,
                record_low=minimum.record,
            )
        )
    return reports


def _site_key(name: str) -> str:
    return " ".join(name.upper().split())


def parse_cli(text: str, site: str | None = None) -> CliReport:
    """The report of a single-site product, or of ``site`` in a multi-site one."""
    reports = parse_cli_reports(text)
    if len(reports) == 1:
        return reports[0]
    names = ", ".join(r.station_name for r in reports)
    if site is None:
        raise CliParseError(f"CLI product covers several sites ({names}): name the one to read")
    wanted = _site_key(site)
    found = [r for r in reports if _site_key(r.station_name) == wanted]
    if len(found) != 1:
        raise CliParseError(f"CLI product has no single section for {site!r} (it covers {names})")
    return found[0]


__all__ = ["CLI_TEMPERATURE_BOUNDS_F", "CliParseError", "CliReport", "parse_cli", "parse_cli_reports"]
