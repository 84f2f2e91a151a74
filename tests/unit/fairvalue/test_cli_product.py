"""Parsing the NWS Daily Climate Report (CLI) text: the daily MAXIMUM and the date it covers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kalshi_trader.fairvalue.nws import CliParseError, CliReport, parse_cli

FIXTURES = Path(__file__).parents[2] / "fixtures" / "nws" / "cli"


def load(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_final_report() -> None:
    assert parse_cli(load("CLINYC_final.txt")) == CliReport(
        station_name="CENTRAL PARK NY",
        summary_date=date(2026, 5, 16),  # from the headline, not the May 17 issuance
        maximum_f=79,
        maximum_time="236 PM",
        preliminary=False,
        corrected=False,
        record=False,
    )


def test_preliminary_report() -> None:
    report = parse_cli(load("CLINYC_preliminary.txt"))
    assert (report.summary_date, report.maximum_f, report.preliminary) == (date(2026, 5, 16), 78, True)


def test_preliminary_is_recognised_by_the_today_block_alone() -> None:
    text = load("CLINYC_preliminary.txt").replace("VALID TODAY AS OF 0400 PM LOCAL TIME.\n", "")
    assert parse_cli(text).preliminary is True


def test_double_space_headline_colon_time_and_record() -> None:
    report = parse_cli(load("CLILAX_record.txt"))
    assert report.station_name == "LOS ANGELES INTL AIRPORT"
    assert (report.summary_date, report.maximum_f, report.record, report.maximum_time) == (
        date(2026, 8, 1),
        97,
        True,
        "1:05 PM",
    )


def test_negative_maximum() -> None:
    report = parse_cli(load("CLIMDW_negative.txt"))
    assert (report.station_name, report.summary_date, report.maximum_f) == ("CHICAGO-MIDWAY", date(2026, 1, 20), -3)


def test_missing_maximum_is_none_not_the_normals_line() -> None:
    report = parse_cli(load("CLIDEN_missing.txt"))
    # The later "MAXIMUM TEMPERATURE (F)   79" normals line must not be read as the day's max.
    assert (report.summary_date, report.maximum_f, report.maximum_time) == (date(2026, 9, 10), None, None)


def test_corrected_report() -> None:
    report = parse_cli(load("CLIPHL_corrected.txt"))
    assert (report.maximum_f, report.corrected) == (94, True)
    assert parse_cli(load("CLINYC_final.txt")).corrected is False


def test_lowercase_and_crlf_text() -> None:
    text = load("CLINYC_final.txt").replace("\n", "\r\n").lower()
    assert parse_cli(text).maximum_f == 79


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t.replace("CLIMATE SUMMARY FOR", "SUMMARY OF"), "headline"),
        (lambda t: t.replace("MAY 16 2026...", "MAY 32 2026..."), "not a date"),
        (lambda t: t.replace("SUMMARY FOR MAY", "SUMMARY FOR MAYDAY"), "not a date"),
        (lambda t: t.replace("TEMPERATURE (F)\n", "TEMPERATURES\n"), "TEMPERATURE \\(F\\)"),
        (lambda t: t.replace("  MAXIMUM         79", "  MAXIMUM        179"), "outside"),
        (
            lambda t: t.replace("  MAXIMUM         79", "  HIGHEST         79").replace(" MAXIMUM TEMP", " MAX TEMP"),
            "MAXIMUM",
        ),
    ],
)
def test_unreadable_products_raise(edit: object, match: str) -> None:
    assert callable(edit)
    with pytest.raises(CliParseError, match=match):
        parse_cli(edit(load("CLINYC_final.txt")))
