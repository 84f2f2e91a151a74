"""Whatever bytes NWS (or a broken CDN edge) sends, the parsers answer with a value or a typed
``NwsDataError`` — never another exception."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalshi_trader.fairvalue.climate_report import CliParseError, parse_cli
from kalshi_trader.fairvalue.nws import (
    NwsDataError,
    parse_forecast,
    parse_gridpoint,
    parse_observations,
    parse_point,
    parse_product_list,
)

NOW = datetime(2026, 9, 10, 14, tzinfo=UTC)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["2026-09-10T11:00:00+00:00/PT13H", "2026-09-10T11:00:00+00:00", "wmoUnit:degC", "F"]),
)
keys = st.sampled_from(
    ["properties", "periods", "temperature", "maxTemperature", "values", "validTime", "value", "uom", "startTime",
     "endTime", "updateTime", "gridId", "gridX", "gridY", "timeZone", "features", "timestamp", "@graph", "id",
     "issuanceTime", "unitCode", "number", "temperatureUnit", "rawMessage"]
)  # fmt: skip
json_values: st.SearchStrategy[Any] = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=6), max_leaves=30
)


@pytest.mark.slow  # ./test.sh --fast leaves it out
@settings(max_examples=200, deadline=None)
@given(body=json_values)
def test_json_parsers_raise_only_data_errors(body: Any) -> None:
    for parse in (
        lambda b: parse_point(b, 40.0, -74.0),
        lambda b: parse_forecast(b, now=NOW, stale_after_s=3600),
        lambda b: parse_gridpoint(b, now=NOW, stale_after_s=3600),
        lambda b: parse_observations(b, now=NOW, stale_after_s=3600),
        parse_product_list,
    ):
        with contextlib.suppress(NwsDataError):
            parse(body)


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(max_size=300)
    | st.builds(
        lambda head, body: head + body,
        st.sampled_from(["...THE X CLIMATE SUMMARY FOR MAY 16 2026...\n", "SUMMARY FOR FEBRUARY 30 2026\n", ""]),
        st.text(alphabet="TEMPRAUXYSDO (F)MIN0123456789-R \n\t", max_size=200),
    )
)
def test_cli_parser_raises_only_parse_errors(text: str) -> None:
    try:
        report = parse_cli(text)
    except CliParseError:
        return
    for value in (report.maximum_f, report.minimum_f):
        assert value is None or -100 <= value <= 140
