"""Parsing the NWS Daily Climate Report (CLI) text: the day's MAXIMUM and MINIMUM and the date they
cover, in every layout the fixtures reproduce (tests/fixtures/nws/cli/README.md names them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from kalshi_trader.fairvalue.climate_report import CliParseError, CliReport, parse_cli, parse_cli_reports

FIXTURES = Path(__file__).parents[2] / "fixtures" / "nws" / "cli"


def load(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_final_report() -> None:
    assert parse_cli(load("CLINYC_final.txt")) == CliReport(
        station_name="CENTRAL PARK NY",
        summary_date=date(2026, 5, 16),  # from the headline, not the May 17 issuance
        maximum_f=79,
        maximum_time="236 PM",
        minimum_f=61,
        minimum_time="548 AM",
        preliminary=False,
        corrected=False,
        record_high=False,
        record_low=False,
    )


def test_preliminary_report() -> None:
    report = parse_cli(load("CLINYC_preliminary.txt"))
    assert (report.summary_date, report.maximum_f, report.preliminary) == (date(2026, 5, 16), 78, True)


def test_preliminary_is_recognised_by_the_today_block_alone() -> None:
    text = load("CLINYC_preliminary.txt").replace("VALID TODAY AS OF 0400 PM LOCAL TIME.\n", "")
    assert parse_cli(text).preliminary is True


def test_valid_as_of_without_today_marks_the_preliminary() -> None:
    report = parse_cli(load("CLIACT_valid_as_of.txt"))
    assert (report.station_name, report.summary_date, report.preliminary) == ("WACO", date(2014, 12, 15), True)
    assert (report.maximum_f, report.minimum_f) == (68, 51)
    relabelled = load("CLIACT_valid_as_of.txt").replace(" TODAY  ", " YESTERDAY")
    assert parse_cli(relabelled).preliminary is True  # the VALID AS OF line alone


def test_double_space_headline_colon_time_and_record() -> None:
    report = parse_cli(load("CLILAX_record.txt"))
    assert report.station_name == "LOS ANGELES INTL AIRPORT"
    assert (report.summary_date, report.maximum_f, report.record_high, report.maximum_time) == (
        date(2026, 8, 1),
        97,
        True,
        "1:05 PM",
    )
    assert (report.minimum_f, report.minimum_time, report.record_low) == (70, "5:12 AM", False)


def test_negative_maximum_and_minimum() -> None:
    report = parse_cli(load("CLIMDW_negative.txt"))
    assert (report.station_name, report.summary_date, report.maximum_f, report.minimum_f) == (
        "CHICAGO-MIDWAY",
        date(2026, 1, 20),
        -3,
        -14,
    )
    assert report.maximum_time == "1159 PM"


def test_missing_values_are_none_not_the_normals_line() -> None:
    report = parse_cli(load("CLIDEN_missing.txt"))
    # The later "MAXIMUM TEMPERATURE (F)   79" normals line must not be read as the day's max.
    assert (report.summary_date, report.maximum_f, report.maximum_time) == (date(2026, 9, 10), None, None)
    assert (report.minimum_f, report.minimum_time) == (None, None)


def test_corrected_report() -> None:
    report = parse_cli(load("CLIPHL_corrected.txt"))
    assert (report.maximum_f, report.corrected) == (94, True)
    assert parse_cli(load("CLINYC_final.txt")).corrected is False


def test_correction_in_the_headline_and_the_title() -> None:
    report = parse_cli(load("CLIEWN_correction.txt"))
    assert (report.station_name, report.summary_date, report.corrected) == ("NEW BERN NC", date(2014, 9, 28), True)
    assert (report.maximum_f, report.minimum_f) == (84, 61)
    plain = load("CLIEWN_correction.txt").replace(" CCA", "").replace(" (CORRECTION)", "")
    assert parse_cli(plain).corrected is True  # "... CORRECTION..." in the headline alone
    assert parse_cli(plain.replace(" CORRECTION...", "...")).corrected is False


def test_abbreviated_month_and_temperature_without_unit() -> None:
    report = parse_cli(load("CLIOME_abbreviated_month.txt"))
    assert (report.station_name, report.summary_date) == ("NOME AIRPORT", date(2006, 11, 8))
    assert (report.maximum_f, report.maximum_time, report.minimum_f, report.minimum_time) == (
        27,
        "0312 PM",
        16,
        "0544 AM",
    )


def test_summary_from_and_temperature_unit_without_a_space() -> None:
    report = parse_cli(load("CLIPPG_summary_from.txt"))
    assert (report.station_name, report.summary_date, report.preliminary) == (
        "PAGO PAGO AIRPORT",
        date(2023, 3, 30),
        False,
    )
    # rows at column 0; the normals block ("MAXIMUM TEMPERATURE      88") is never read
    assert (report.maximum_f, report.maximum_time, report.minimum_f) == (87, "1250 PM", 76)


def test_no_time_column() -> None:
    report = parse_cli(load("CLIMUO_no_time_column.txt"))
    assert (report.maximum_f, report.maximum_time, report.minimum_f, report.minimum_time) == (93, None, 57, None)


def test_missing_times() -> None:
    report = parse_cli(load("CLISEA_times_missing.txt"))
    assert (report.station_name, report.maximum_f, report.maximum_time, report.minimum_f) == (
        "SEATTLE-TACOMA INTL AIRPORT",
        45,
        None,
        33,
    )


def test_tabs_for_spaces() -> None:
    report = parse_cli(load("CLICVG_tabs.txt"))
    assert (report.station_name, report.maximum_f, report.minimum_f, report.minimum_time) == (
        "CINCINNATI OH",
        82,
        56,
        "523 AM",
    )


def test_a_product_with_two_sites_is_read_per_site() -> None:
    text = load("CLIHOU_two_sites.txt")
    reports = parse_cli_reports(text)
    assert [(r.station_name, r.maximum_f, r.minimum_f) for r in reports] == [
        ("HOUSTON INTERCONTINENTAL", 91, 71),  # the tied-record year line below MINIMUM is skipped
        ("HOUSTON/HOBBY AIRPORT", 89, 73),
    ]
    assert parse_cli(text, "Houston  Intercontinental").maximum_f == 91
    assert parse_cli(text, "HOUSTON/HOBBY AIRPORT").minimum_f == 73
    with pytest.raises(CliParseError, match="several sites"):
        parse_cli(text)
    with pytest.raises(CliParseError, match="no single section for 'GALVESTON'"):
        parse_cli(text, "GALVESTON")


def test_a_headline_broken_over_two_lines_and_a_comma_before_the_year() -> None:
    text = load("CLINYC_final.txt").replace(
        "CENTRAL PARK NY CLIMATE SUMMARY FOR MAY 16 2026", "CENTRAL PARK NY\nCLIMATE SUMMARY FOR MAY 16, 2026"
    )
    report = parse_cli(text)
    assert (report.station_name, report.summary_date, report.maximum_f) == ("CENTRAL PARK NY", date(2026, 5, 16), 79)


def test_lowercase_and_crlf_text() -> None:
    text = load("CLINYC_final.txt").replace("\n", "\r\n").lower()
    report = parse_cli(text)
    assert (report.maximum_f, report.minimum_f) == (79, 61)


def test_value_of_each_extreme() -> None:
    report = parse_cli(load("CLINYC_final.txt"))
    assert (report.value_f("high"), report.value_f("low")) == (79, 61)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t.replace("CLIMATE SUMMARY FOR", "SUMMARY OF"), "headline"),
        (lambda t: t.replace("MAY 16 2026...", "MAY 32 2026..."), "not a date"),
        (lambda t: t.replace("SUMMARY FOR MAY", "SUMMARY FOR MAYDAY"), "not a date"),
        (lambda t: t.replace("TEMPERATURE (F)\n", "TEMPERATURES\n"), "no TEMPERATURE table"),
        (lambda t: t.replace("  MAXIMUM         79", "  MAXIMUM        179"), "outside"),
        (lambda t: t.replace("  MINIMUM         61", "  MINIMUM       -161"), "outside"),
        (lambda t: t.replace("  MINIMUM         61", "  MINIMUM         81"), "above its MAXIMUM"),
        # the table without its MAXIMUM row: the normals block's MAXIMUM must not stand in for it
        (lambda t: t.replace("  MAXIMUM         79    236 PM  93    1900  72      7       68\n", ""), "no MAXIMUM row"),
        (lambda t: t.replace("  MINIMUM         61    548 AM  43    1878  56      5       55\n", ""), "no MINIMUM row"),
        (lambda t: t.replace("  MAXIMUM         79", "  HIGHEST         79"), "no MAXIMUM row"),
        (lambda t: t.replace("  MAXIMUM         79", "  MAXIMUM         7X"), "no MAXIMUM row"),
    ],
)
def test_unreadable_products_raise(edit: Callable[[str], str], match: str) -> None:
    with pytest.raises(CliParseError, match=match):
        parse_cli(edit(load("CLINYC_final.txt")))


def test_a_report_without_temperatures_is_refused() -> None:
    # e.g. a record event report filed under a CLI identifier: a headline and no table
    text = "CDUS41 KOKX 170618\nCLINYC\n\n...THE CENTRAL PARK NY CLIMATE SUMMARY FOR MAY 16 2026...\n\nNO DATA.\n$$\n"
    with pytest.raises(CliParseError, match="no TEMPERATURE table"):
        parse_cli(text)
