"""tests/support/spec.py: the validators pass the documents' own examples and fail on wrong bodies.

A validator that cannot fail is a defect, so every kind of mismatch (missing required field, wrong
type, wrong enum, null where not nullable, bad format, undocumented path/method/status/type) is
shown to raise with a message that names the place and the value. Known quirks of the official
documents are asserted explicitly (they fail loudly here if Kalshi fixes them).
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from openapi_schema_validator import OAS30Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4, DRAFT7
from tests.support import spec

DOCS = Path(__file__).resolve().parents[2] / "fixtures" / "kalshi" / "docs"
MARKET_ID = "9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1"


def load_doc_example(name: str) -> Any:
    return json.loads((DOCS / name).read_text())


def fails(func: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(AssertionError) as info:
        func(*args, **kwargs)
    return str(info.value)


def a_market(**changes: Any) -> dict[str, Any]:
    market: dict[str, Any] = {
        "ticker": "KXHIGHNY-26MAY16-B78.5",
        "event_ticker": "KXHIGHNY-26MAY16",
        "market_type": "binary",
        "yes_sub_title": "78° to 79°",
        "no_sub_title": "78° to 79°",
        "created_time": "2026-05-15T14:00:00Z",
        "updated_time": "2026-05-15T14:00:00Z",
        "open_time": "2026-05-15T14:00:00Z",
        "close_time": "2026-05-17T04:59:00Z",
        "latest_expiration_time": "2026-05-24T14:00:00Z",
        "settlement_timer_seconds": 3600,
        "status": "active",
        "notional_value_dollars": "1.0000",
        "yes_bid_dollars": "0.4200",
        "yes_ask_dollars": "0.4400",
        "no_bid_dollars": "0.5600",
        "no_ask_dollars": "0.5800",
        "yes_bid_size_fp": "13.00",
        "yes_ask_size_fp": "17.00",
        "last_price_dollars": "0.4300",
        "previous_yes_bid_dollars": "0.4000",
        "previous_yes_ask_dollars": "0.4500",
        "previous_price_dollars": "0.4100",
        "volume_fp": "1701.64",
        "volume_24h_fp": "120.00",
        "open_interest_fp": "1288.65",
        "result": "",
        "can_close_early": True,
        "expiration_value": "",
        "rules_primary": "If the highest temperature ... is between 78-79 degrees, then the market resolves to Yes.",
        "rules_secondary": "",
        "price_level_structure": "linear_cent",
        "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}],
        "settlement_bounds_type": "default",
    }
    market.update(changes)
    return market


def a_delta(**msg_changes: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "market_ticker": "KXHIGHNY-26MAY16-B78.5",
        "market_id": MARKET_ID,
        "price_dollars": "0.3800",
        "delta_fp": "-1.00",
        "side": "yes",
        "ts_ms": 1778900000123,
    }
    msg.update(msg_changes)
    return {"type": "orderbook_delta", "sid": 2, "seq": 2, "msg": msg}


# --------------------------------------------------------------------------------------------
# Routing


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("GET", "/portfolio/orders/queue_positions", "/portfolio/orders/queue_positions"),
        ("GET", "/portfolio/orders/3b23c1c7-f4ef-4f0d-8b9a-9e53c61f1a0d", "/portfolio/orders/{order_id}"),
        ("GET", "/markets/trades?ticker=X&limit=5", "/markets/trades"),
        ("GET", "/markets/orderbooks?tickers=A&tickers=B", "/markets/orderbooks"),
        ("GET", "/markets/KXHIGHNY-26MAY16-B78.5", "/markets/{ticker}"),
        ("GET", "/markets/KXHIGHNY-26MAY16-B78.5/orderbook?depth=0", "/markets/{ticker}/orderbook"),
        ("GET", "/trade-api/v2/events/multivariate", "/events/multivariate"),
        ("DELETE", "/portfolio/events/orders/batched", "/portfolio/events/orders/batched"),
        ("DELETE", "/portfolio/events/orders/abc", "/portfolio/events/orders/{order_id}"),
        ("POST", "/portfolio/events/orders/abc/amend", "/portfolio/events/orders/{order_id}/amend"),
        (
            "GET",
            "/series/KXHIGHNY/markets/KXHIGHNY-26MAY16-B78.5/candlesticks",
            "/series/{series_ticker}/markets/{ticker}/candlesticks",
        ),
    ],
)
def test_concrete_paths_prefer_literal_templates(method: str, path: str, template: str) -> None:
    found, _ = spec._openapi().route(path)
    assert found == template
    assert spec.response_schema_pointer(method, path, 200) is not None


def test_undocumented_path_method_and_status_raise() -> None:
    assert "matches no path template" in fails(spec.validate_response, "GET", "/no/such/thing", 200, {})
    message = fails(spec.validate_response, "PATCH", "/portfolio/orders/abc", 200, {})
    assert "documents no PATCH operation" in message
    assert "DELETE, GET" in message
    message = fails(spec.validate_response, "GET", "/portfolio/orders/abc", 418, {})
    assert "status 418 is not documented" in message
    assert "200, 401, 404, 500" in message
    # A literal path wins even when it lacks the method: OpenAPI matches paths before methods.
    assert "documents no GET" in fails(spec.validate_response, "GET", "/portfolio/events/orders/batched", 200, {})


# --------------------------------------------------------------------------------------------
# REST responses: passing


def test_documented_orderbook_example_passes() -> None:
    body = load_doc_example("getting_started.orderbook_responses.json")
    spec.validate_response("GET", "/markets/KXHIGHNY-26MAY16-B78.5/orderbook", 200, body)
    spec.validate_response("GET", "/markets/KXHIGHNY-26MAY16-B78.5/orderbook", 200, body, closed=True)


def test_documented_account_limits_example_passes() -> None:
    body = load_doc_example("getting_started.rate_limits.account_limits.json")
    spec.validate_response("GET", "/account/limits", 200, body, closed=True)


def test_realistic_market_passes() -> None:
    spec.validate_response("GET", "/markets/KXHIGHNY-26MAY16-B78.5", 200, {"market": a_market()}, closed=True)
    spec.validate_response("GET", "/markets", 200, {"markets": [a_market()], "cursor": ""})


def openapi_schema_examples() -> list[tuple[str, str | None, Any]]:
    out: list[tuple[str, str | None, Any]] = []
    for name, schema in spec.openapi_document()["components"]["schemas"].items():
        if "example" in schema:
            out.append((name, None, schema["example"]))
        for prop, sub in (schema.get("properties") or {}).items():
            if "example" in sub:
                out.append((name, prop, sub["example"]))
    return out


@pytest.mark.parametrize(("name", "prop", "example"), openapi_schema_examples())
def test_every_openapi_schema_example_passes(name: str, prop: str | None, example: Any) -> None:
    if prop is None:
        spec.validate_openapi_schema(name, example, closed=True)
    else:
        spec._openapi().document.check(f"#/components/schemas/{name}/properties/{prop}", example, f"{name}.{prop}")


def test_openapi_has_the_v2_order_examples() -> None:
    names = {name for name, prop, _ in openapi_schema_examples() if prop is None}
    assert {"CreateOrderV2Request", "CreateOrderV2Response", "AmendOrderV2Request", "DecreaseOrderV2Request"} <= names


def test_204_without_content_takes_no_body() -> None:
    spec.validate_response("DELETE", "/api_keys/abc", 204, None)
    assert "documented without a body" in fails(spec.validate_response, "DELETE", "/api_keys/abc", 204, {"x": 1})


def test_quirk_many_error_responses_have_no_documented_content() -> None:
    """e.g. GET /markets/{ticker} 404 is documented by a description only; a body is accepted
    unchecked there (validate_error_body checks the envelope)."""
    doc = spec.openapi_document()
    undocumented = [
        (method, path, status)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict)
        for status, response in op.get("responses", {}).items()
        if status[0] in "45" and "$ref" not in response and "content" not in response
    ]
    assert len(undocumented) == 109
    assert ("get", "/markets/{ticker}", "404") in undocumented
    assert spec.response_schema_pointer("GET", "/markets/X", 404) is None
    spec.validate_response("GET", "/markets/X", 404, {"error": {"code": "not_found"}})
    assert "status 409 is not documented" in fails(spec.validate_response, "GET", "/markets/X", 409, {})


def test_a_documented_body_must_be_present() -> None:
    assert "a JSON body is documented" in fails(spec.validate_response, "GET", "/exchange/status", 200, None)


# --------------------------------------------------------------------------------------------
# REST responses: failing


def test_missing_required_field_fails_with_location() -> None:
    market = a_market()
    del market["price_ranges"]
    message = fails(spec.validate_response, "GET", "/markets/X", 200, {"market": market})
    assert "at $.market: 'price_ranges' is a required property" in message
    assert "openapi.yaml#/components/schemas/Market/required" in message
    assert "GET /markets/X -> 200" in message


def test_wrong_type_fails_with_value_and_rule() -> None:
    body = {"orderbook_fp": {"yes_dollars": [["0.4200", 13]], "no_dollars": []}}
    message = fails(spec.validate_response, "GET", "/markets/X/orderbook", 200, body)
    assert "at $.orderbook_fp.yes_dollars[0][1]: 13 is not of type 'string'" in message
    assert "offending value: 13" in message
    assert "rule: openapi.yaml#/components/schemas/PriceLevelDollarsCountFp/items/type" in message


def test_legacy_orderbook_shape_fails() -> None:
    legacy = {"orderbook": {"yes": [[42, 13]], "no": [[56, 17]]}}
    assert "'orderbook_fp' is a required property" in fails(
        spec.validate_response, "GET", "/markets/X/orderbook", 200, legacy
    )


def test_wrong_enum_fails() -> None:
    message = fails(spec.validate_response, "GET", "/markets/X", 200, {"market": a_market(status="open")})
    assert "at $.market.status: 'open' is not one of" in message
    assert "openapi.yaml#/components/schemas/Market/properties/status/enum" in message


def test_null_where_not_nullable_fails() -> None:
    message = fails(spec.validate_response, "GET", "/markets/X", 200, {"market": a_market(yes_bid_dollars=None)})
    assert "at $.market.yes_bid_dollars" in message
    assert "None for not nullable" in message


def test_nullable_fields_accept_null() -> None:
    market = a_market(expected_expiration_time=None, floor_strike=None, cap_strike=78.0, custom_strike=None)
    spec.validate_response("GET", "/markets/X", 200, {"market": market})


def test_date_time_format_is_checked() -> None:
    message = fails(spec.validate_response, "GET", "/markets/X", 200, {"market": a_market(close_time="tomorrow")})
    assert "at $.market.close_time: 'tomorrow' is not a 'date-time'" in message
    # Unix seconds where RFC 3339 is documented are a type error.
    message = fails(spec.validate_response, "GET", "/markets/X", 200, {"market": a_market(close_time=1778900000)})
    assert "is not of type 'string'" in message


def test_errors_inside_arrays_name_the_index() -> None:
    body = {"markets": [a_market(), a_market(market_type="multi")], "cursor": ""}
    assert "at $.markets[1].market_type" in fails(spec.validate_response, "GET", "/markets", 200, body)


def test_closed_mode_rejects_undocumented_keys() -> None:
    body = {"market": a_market(exchange_idx=0)}
    spec.validate_response("GET", "/markets/X", 200, body)
    message = fails(spec.validate_response, "GET", "/markets/X", 200, body, closed=True)
    assert "undocumented properties ['exchange_idx']" in message


def test_unknown_component_raises() -> None:
    assert "no components/schemas/Nope" in fails(spec.validate_openapi_schema, "Nope", {})


# --------------------------------------------------------------------------------------------
# REST requests


def test_v2_create_example_is_a_valid_request_and_mistakes_fail() -> None:
    example = copy.deepcopy(spec.openapi_document()["components"]["schemas"]["CreateOrderV2Request"]["example"])
    spec.validate_request("POST", "/portfolio/events/orders", example, closed=True)
    message = fails(spec.validate_request, "POST", "/portfolio/events/orders", {**example, "side": "yes"})
    assert "at $.side: 'yes' is not one of ['bid', 'ask']" in message
    without_price = {k: v for k, v in example.items() if k != "price"}
    assert "'price' is a required property" in fails(
        spec.validate_request, "POST", "/portfolio/events/orders", without_price
    )
    assert "a request body is required" in fails(spec.validate_request, "POST", "/portfolio/events/orders", None)


def test_request_body_on_an_operation_without_one_fails() -> None:
    spec.validate_request("GET", "/markets", None)
    assert "no request body is documented" in fails(spec.validate_request, "GET", "/markets", {"x": 1})


def test_optional_request_body_may_be_absent() -> None:
    spec.validate_request("PUT", "/portfolio/order_groups/og1/reset", None)
    spec.validate_request("PUT", "/portfolio/order_groups/og1/reset", {})


# --------------------------------------------------------------------------------------------
# The live error envelope


def test_rate_limited_body() -> None:
    body = load_doc_example("getting_started.rate_limits.429.json")
    spec.validate_error_body(429, body)
    spec.validate_response("POST", "/portfolio/events/orders", 429, body)
    assert "429 body must be" in fails(spec.validate_error_body, 429, {"error": {"code": "rate_limited"}})


def test_nested_error_body() -> None:
    body = {"error": {"code": "order_already_exists", "message": "duplicate client_order_id", "details": ""}}
    spec.validate_error_body(409, body)
    spec.validate_response("POST", "/portfolio/events/orders", 409, body)
    assert "error.code must be a non-empty string" in fails(spec.validate_error_body, 400, {"error": {"message": "x"}})
    assert "must be" in fails(spec.validate_error_body, 400, {"code": "invalid_order"})
    assert "undocumented properties ['service']" in fails(
        spec.validate_error_body, 400, {"error": {"code": "x", "service": "exchange"}}
    )


def test_quirk_documented_error_response_schema_accepts_anything_object_shaped() -> None:
    """openapi.yaml's ErrorResponse is flat with no required fields and no additionalProperties,
    so it cannot tell the live nested shape, the 429 string shape or an empty object apart. That is
    why validate_error_body exists."""
    for body in ({}, {"error": "too many requests"}, {"error": {"code": "x"}}, {"code": "x", "message": "m"}):
        spec.validate_response("POST", "/portfolio/events/orders", 400, body)
    assert "is not of type 'object'" in fails(spec.validate_response, "POST", "/portfolio/events/orders", 400, [])


# --------------------------------------------------------------------------------------------
# Known quirks of openapi.yaml


def test_quirk_nullable_next_to_ref_is_honoured() -> None:
    """`settlement_value_dollars: {$ref: FixedPointDollars, nullable: true}`. A literal OpenAPI 3.0
    validator ignores `$ref` siblings and rejects null; the document clearly means nullable."""
    doc = spec.openapi_document()

    def count(node: Any) -> int:
        if isinstance(node, dict):
            here = int(node.get("nullable") is True and ("$ref" in node or "allOf" in node))
            return here + sum(count(v) for v in node.values())
        return sum(count(v) for v in node) if isinstance(node, list) else 0

    assert count(doc) == 43
    schema = doc["components"]["schemas"]["Market"]["properties"]["settlement_value_dollars"]
    assert schema.get("nullable") is True
    assert "$ref" in schema
    registry: Registry[Any] = Registry().with_resource("urn:o", DRAFT4.create_resource(doc))
    literal = OAS30Validator({"$ref": "urn:o#/components/schemas/Market"}, registry=registry)
    market = a_market(settlement_value_dollars=None)
    assert not literal.is_valid(market)
    spec.validate_openapi_schema("Market", market)
    # ...and the same for the per-item batch error, documented as "ErrorResponse or null".
    batch = {"orders": [{"order_id": "a", "client_order_id": "b", "ts_ms": 1, "error": None}]}
    spec.validate_openapi_schema("BatchCreateOrdersV2Response", batch)
    # A non-null value still has to match the referenced schema.
    assert "is not of type 'string'" in fails(
        spec.validate_openapi_schema, "Market", a_market(settlement_value_dollars=1)
    )


# --------------------------------------------------------------------------------------------
# WebSocket: examples


def asyncapi_json_examples() -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for name, message in spec.asyncapi_document()["components"]["messages"].items():
        for example in message.get("examples", ()):
            if isinstance(example["payload"], dict):
                out.append((name, example["name"], example["payload"]))
    return out


def test_asyncapi_examples_cover_the_hot_messages() -> None:
    names = {name for name, _, _ in asyncapi_json_examples()}
    assert {"orderbookSnapshot", "orderbookDelta", "ticker", "trade", "fill", "userOrder", "marketPosition"} <= names
    assert len(asyncapi_json_examples()) >= 50


@pytest.mark.parametrize(("name", "example_name", "payload"), asyncapi_json_examples())
def test_every_asyncapi_example_passes(name: str, example_name: str, payload: dict[str, Any]) -> None:
    if "cmd" in payload:
        spec.validate_ws_command(payload, closed=True)
    else:
        spec.validate_ws_message(payload, closed=True)


def test_documented_ws_error_example_passes() -> None:
    spec.validate_ws_message(load_doc_example("getting_started.quick_start_websockets.error.json"), closed=True)


# --------------------------------------------------------------------------------------------
# WebSocket: failing


def test_ws_missing_required_field() -> None:
    frame = a_delta()
    del frame["msg"]["side"]
    message = fails(spec.validate_ws_message, frame)
    assert "as message orderbookDelta" in message
    assert "at $.msg: 'side' is a required property" in message
    assert "asyncapi.yaml#/components/schemas/orderbookDeltaPayload/properties/msg/required" in message


def test_ws_number_where_string_is_documented() -> None:
    message = fails(spec.validate_ws_message, a_delta(delta_fp=-1.0))
    assert "at $.msg.delta_fp: -1.0 is not of type 'string'" in message
    assert "asyncapi.yaml#/components/schemas/orderbookDeltaPayload/properties/msg/properties/delta_fp/type" in message


def test_ws_wrong_enum_through_ref() -> None:
    message = fails(spec.validate_ws_message, a_delta(side="bid"))
    assert "at $.msg.side: 'bid' is not one of ['yes', 'no']" in message
    assert "asyncapi.yaml#/components/schemas/marketSide/enum" in message


def test_ws_formats_and_bounds() -> None:
    assert "is not a 'uuid'" in fails(spec.validate_ws_message, a_delta(market_id="not-a-uuid"))
    frame = a_delta()
    frame["seq"] = 0
    assert "0 is less than the minimum of 1" in fails(spec.validate_ws_message, frame)
    error = {"id": 1, "type": "error", "msg": {"code": 99, "msg": "?"}}
    assert "99 is not one of" in fails(spec.validate_ws_message, error)
    retired = {"id": 1, "type": "error", "msg": {"code": 16, "msg": "Market not found"}}
    assert "16 is not one of" in fails(spec.validate_ws_message, retired)


def test_ws_ticker_pattern_still_rejects_lowercase() -> None:
    assert "does not match" in fails(spec.validate_ws_message, a_delta(market_ticker="kxhighny-26may16"))


def test_ws_snapshot_side_may_be_omitted_but_not_null() -> None:
    snapshot = {
        "type": "orderbook_snapshot",
        "sid": 2,
        "seq": 1,
        "msg": {"market_ticker": "KXHIGHNY-26MAY16-B78.5", "market_id": MARKET_ID, "no_dollars_fp": [["0.40", "6.00"]]},
    }
    spec.validate_ws_message(snapshot, closed=True)
    snapshot["msg"]["yes_dollars_fp"] = None
    assert "None is not of type 'array'" in fails(spec.validate_ws_message, snapshot)


def test_ws_unknown_type_and_non_object() -> None:
    message = fails(spec.validate_ws_message, {"type": "orderbook_update", "sid": 1, "msg": {}})
    assert "'orderbook_update' is not described" in message
    assert "orderbook_delta" in message
    assert "must be a JSON object" in fails(spec.validate_ws_message, [1, 2])
    assert "None is not described" in fails(spec.validate_ws_message, {"sid": 1})


def test_ws_ok_is_either_reply_shape() -> None:
    spec.validate_ws_message({"id": 3, "type": "ok", "msg": [{"channel": "ticker", "sid": 2}]}, closed=True)
    spec.validate_ws_message({"id": 4, "sid": 2, "seq": 9, "type": "ok", "msg": {"market_tickers": ["A-1"]}})
    message = fails(spec.validate_ws_message, {"id": 3, "type": "ok", "msg": [{"channel": "ticker"}]})
    assert "as message okResponse" in message
    assert "as message listSubscriptionsResponse" in message
    assert "'sid' is a required property" in message


def test_ws_closed_mode() -> None:
    frame = a_delta(price=38)
    spec.validate_ws_message(frame)
    assert "undocumented properties ['price']" in fails(spec.validate_ws_message, frame, closed=True)


def test_ws_message_types_cover_the_channels() -> None:
    assert {
        "subscribed",
        "ok",
        "unsubscribed",
        "error",
        "orderbook_snapshot",
        "orderbook_delta",
        "ticker",
        "trade",
        "fill",
        "user_order",
        "market_position",
        "market_lifecycle_v2",
        "event_lifecycle",
        "order_group_updates",
    } <= spec.ws_message_types()
    assert spec.ws_commands() == {"subscribe", "unsubscribe", "update_subscription", "list_subscriptions"}


# --------------------------------------------------------------------------------------------
# WebSocket commands


def test_ws_commands_fail_on_mistakes() -> None:
    spec.validate_ws_command({"id": 1, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"]}})
    assert "[] should be non-empty" in fails(
        spec.validate_ws_command, {"id": 1, "cmd": "subscribe", "params": {"channels": []}}
    )
    message = fails(spec.validate_ws_command, {"id": 1, "cmd": "subscribe", "params": {"channels": ["orderbook"]}})
    assert "'orderbook' is not one of" in message
    assert "'params' is a required property" in fails(spec.validate_ws_command, {"id": 1, "cmd": "unsubscribe"})
    assert "'bogus' is not described" in fails(spec.validate_ws_command, {"id": 1, "cmd": "bogus"})
    update = {"id": 2, "cmd": "update_subscription", "params": {"sid": 1, "action": "bogus"}}
    message = fails(spec.validate_ws_command, update)
    assert "as message updateSubscriptionCommand" in message
    assert "as message cfbenchmarksUpdateSubscriptionCommand" in message
    update["params"]["action"] = "get_snapshot"
    spec.validate_ws_command(update)
    two = {"id": 2, "cmd": "update_subscription", "params": {"sids": [1, 2], "action": "add_markets"}}
    assert "is too long" in fails(spec.validate_ws_command, two)


# --------------------------------------------------------------------------------------------
# Known quirks of asyncapi.yaml (the patches spec.py applies)


def raw_asyncapi_validator(name: str) -> Draft7Validator:
    doc = spec.asyncapi_document()
    registry: Registry[Any] = Registry().with_resource("urn:a", DRAFT7.create_resource(doc))
    return Draft7Validator({"$ref": f"urn:a#/components/schemas/{name}"}, registry=registry)


def test_quirk_market_ticker_pattern_rejects_its_own_examples() -> None:
    ticker_schema = spec.asyncapi_document()["components"]["schemas"]["marketTicker"]
    assert ticker_schema["pattern"] == "^[A-Z0-9-]+$"
    assert "FED-23DEC-T3.00" in ticker_schema["examples"]
    assert not raw_asyncapi_validator("marketTicker").is_valid("FED-23DEC-T3.00")
    spec.validate_asyncapi_schema("marketTicker", "FED-23DEC-T3.00")
    spec.validate_asyncapi_schema("marketTicker", "KXHIGHNY-26MAY16-B78.5")


def test_quirk_settlement_bounds_cancel_is_missing_from_the_reason_enum() -> None:
    """The User Orders page lists ``SettlementBoundsCancel``; the published asyncapi.yaml's
    ``lastUpdateReason`` enum does not yet (the validator adds it, nothing else)."""
    assert "SettlementBoundsCancel" not in spec.asyncapi_document()["components"]["schemas"]["lastUpdateReason"]["enum"]
    assert not raw_asyncapi_validator("lastUpdateReason").is_valid("SettlementBoundsCancel")
    spec.validate_asyncapi_schema("lastUpdateReason", "SettlementBoundsCancel")
    spec.validate_asyncapi_schema("lastUpdateReason", "ReduceOnlyCancel")
    assert "is not one of" in fails(spec.validate_asyncapi_schema, "lastUpdateReason", "UserCanceled")


# --------------------------------------------------------------------------------------------
# Speed and caching


def test_validators_are_compiled_once() -> None:
    api = spec._asyncapi()
    pointer = "#/components/schemas/orderbookDeltaPayload"
    assert api.document.compiled(pointer) is api.document.compiled(pointer)
    assert spec._openapi() is spec._openapi()


def test_thousands_of_frames_validate_quickly() -> None:
    frames = [a_delta(delta_fp=f"{i}.00") for i in range(2000)]
    spec.validate_ws_message(frames[0])
    started = time.perf_counter()
    for frame in frames:
        spec.validate_ws_message(frame)
    assert time.perf_counter() - started < 5.0  # about 0.2 s on a laptop; generous for CI
