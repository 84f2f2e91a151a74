"""Parsing and validation of REST request input for the embedded exchange.

Contract:
- Every malformed input raises ``ExchangeError`` (HTTP 400) whose message a person understands and
  which names the offending field or query parameter. Nothing here touches exchange state, so a
  rejected request leaves everything unchanged.
- JSON bodies must be one object. Fields are checked against a per-request ``Shape``: unknown
  fields are rejected (``invalid_parameters``, naming the field and listing the allowed ones),
  missing required fields give ``missing_parameters``; wrong JSON types give
  ``invalid_parameters``. ``null`` on an optional field means "absent".
- Prices and counts are wire strings parsed exactly by ``domain.parse_price`` / ``parse_qty``
  (never floats); a JSON number where a string is documented is refused.
- Query parameters: integers in documented ranges, booleans (``true``/``false``/``1``/``0``),
  enums; unknown query parameters are ignored, as Kalshi does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import msgspec

from kalshi_trader.domain import Price, Qty, format_qty, parse_price, parse_qty
from kalshi_trader.sim.core.state import ExchangeError

E = TypeVar("E", bound=StrEnum)

MAX_COUNT = Qty(1_000_000_000 * 100)
"""Largest order count accepted (one billion contracts): anything larger is a client bug."""


def invalid(message: str, *, code: str = "invalid_parameters", details: str = "") -> ExchangeError:
    return ExchangeError(400, code, message, details)


def missing(message: str) -> ExchangeError:
    return ExchangeError(400, "missing_parameters", message)


# ------------------------------------------------------------------------------------------
# JSON bodies

_decoder = msgspec.json.Decoder()


def decode_object(body: bytes, what: str = "request body") -> dict[str, Any]:
    """Decode ``body`` as one JSON object."""
    if not body.strip():
        raise missing(f"{what} is empty; expected a JSON object")
    try:
        value = _decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise invalid(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise invalid(f"{what} must be a JSON object, not {_json_kind(value)}")
    return value


def decode_optional_object(body: bytes, what: str = "request body") -> dict[str, Any]:
    """Like ``decode_object`` but an empty body means ``{}`` (PUT endpoints with optional bodies)."""
    return {} if not body.strip() else decode_object(body, what)


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, list):
        return "an array"
    return "an object"


@dataclass(frozen=True, slots=True)
class Shape:
    """The fields one JSON object may carry."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    def check(self, obj: Mapping[str, Any], where: str) -> None:
        """Reject unknown fields and missing required ones; ``where`` names the object in messages
        (``"order"``, ``"orders[2]"``)."""
        allowed = (*self.required, *self.optional)
        for name in obj:
            if name not in allowed:
                raise invalid(f"unknown field {name!r} in {where}; allowed fields: {', '.join(allowed)}")
        absent = [name for name in self.required if obj.get(name) is None]
        if absent:
            plural = "s" if len(absent) > 1 else ""
            raise missing(f"{where} is missing required field{plural} {', '.join(map(repr, absent))}")


def as_object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(f"{where} must be a JSON object, not {_json_kind(value)}")
    return value


def get_str(obj: Mapping[str, Any], name: str, where: str, *, max_len: int = 256) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(f"field {name!r} in {where} must be a string, not {_json_kind(value)}")
    if len(value) > max_len:
        raise invalid(f"field {name!r} in {where} is longer than {max_len} characters")
    return value


def get_nonempty_str(obj: Mapping[str, Any], name: str, where: str) -> str:
    value = get_str(obj, name, where)
    if not value:
        raise missing(f"{where} is missing required field {name!r}")
    return value


def get_bool(obj: Mapping[str, Any], name: str, where: str) -> bool | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise invalid(f"field {name!r} in {where} must be true or false, not {_json_kind(value)}")
    return value


def get_int(
    obj: Mapping[str, Any], name: str, where: str, *, lo: int | None = None, hi: int | None = None
) -> int | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"field {name!r} in {where} must be an integer, not {_json_kind(value)}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise invalid(f"field {name!r} in {where} must be {_range_text(lo, hi)}, got {value}")
    return value


def get_enum(obj: Mapping[str, Any], name: str, where: str, enum: type[E]) -> E | None:
    value = obj.get(name)
    if value is None:
        return None
    choices = ", ".join(repr(e.value) for e in enum)
    if not isinstance(value, str):
        raise invalid(f"field {name!r} in {where} must be one of {choices}, not {_json_kind(value)}")
    try:
        return enum(value)
    except ValueError:
        raise invalid(f"field {name!r} in {where} must be one of {choices}, got {value!r}") from None


def get_list(obj: Mapping[str, Any], name: str, where: str) -> list[Any] | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, list):
        raise invalid(f"field {name!r} in {where} must be an array, not {_json_kind(value)}")
    return value


def get_price(obj: Mapping[str, Any], name: str, where: str) -> Price | None:
    """A YES price in dollars as a string (``"0.5600"``), strictly between $0 and $1."""
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(f'field {name!r} in {where} must be a dollar string such as "0.5600", not {_json_kind(value)}')
    try:
        price = parse_price(value)
    except ValueError as exc:
        raise invalid(f"field {name!r} in {where}: {exc}") from None
    if not 0 < price < 10_000:
        raise invalid(
            f"field {name!r} in {where} must be strictly between 0 and 1 dollars, got {value!r}",
            code="invalid_order",
            details="invalid price",
        )
    return price


def get_count(
    obj: Mapping[str, Any], name: str, where: str, *, allow_zero: bool = False, code: str = "invalid_order_size"
) -> Qty | None:
    """A contract count as a fixed-point string (``"10"``, ``"2.50"``), positive (or zero if
    ``allow_zero``) and at most ``MAX_COUNT``."""
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(
            f'field {name!r} in {where} must be a contract count string such as "10.00", not {_json_kind(value)}'
        )
    try:
        qty = parse_qty(value)
    except ValueError as exc:
        raise invalid(f"field {name!r} in {where}: {exc}", code=code) from None
    if qty < 0 or (qty == 0 and not allow_zero):
        least = "zero or more" if allow_zero else "at least 0.01"
        raise invalid(f"field {name!r} in {where} must be {least} contracts, got {value!r}", code=code)
    if qty > MAX_COUNT:
        raise invalid(
            f"field {name!r} in {where} is {value!r} contracts; the most one order may carry is "
            f"{format_qty(MAX_COUNT)}",
            code=code,
        )
    return Qty(qty)


# ------------------------------------------------------------------------------------------
# Query strings

_TRUE = frozenset({"true", "1", "t"})
_FALSE = frozenset({"false", "0", "f"})


def _range_text(lo: int | None, hi: int | None) -> str:
    if lo is not None and hi is not None:
        return f"an integer between {lo} and {hi}"
    if lo is not None:
        return f"an integer of at least {lo}"
    if hi is not None:
        return f"an integer of at most {hi}"
    return "an integer"


def query_int(query: Mapping[str, str], name: str, *, lo: int | None = None, hi: int | None = None) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    text = raw.strip()
    digits = text[1:] if text[:1] in ("-", "+") else text
    if not digits.isdigit() or len(digits) > 19:
        raise invalid(f"query parameter {name!r} must be {_range_text(lo, hi)}, got {raw!r}")
    value = int(text)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise invalid(f"query parameter {name!r} must be {_range_text(lo, hi)}, got {raw!r}")
    return value


def query_bool(query: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise invalid(f"query parameter {name!r} must be true or false, got {raw!r}")


def query_enum(query: Mapping[str, str], name: str, choices: Iterable[str]) -> str | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    options = tuple(choices)
    if raw not in options:
        raise invalid(f"query parameter {name!r} must be one of {', '.join(options)}, got {raw!r}")
    return raw


def query_str(query: Mapping[str, str], name: str) -> str | None:
    raw = query.get(name)
    return raw if raw else None


def query_list(query: Mapping[str, str], name: str, *, max_items: int | None = None) -> list[str] | None:
    """A comma-separated list (empty entries dropped)."""
    raw = query.get(name)
    if not raw:
        return None
    items = [part.strip() for part in raw.split(",") if part.strip()]
    if max_items is not None and len(items) > max_items:
        raise invalid(f"query parameter {name!r} lists {len(items)} values; at most {max_items} are allowed")
    return items


def query_limit(
    query: Mapping[str, str], *, default: int, hi: int, lo: int = 1, zero_means_default: bool = False
) -> int:
    """A page size: ``limit`` within [lo, hi], ``default`` when absent (or 0 where documented)."""
    value = query_int(query, "limit", lo=0 if zero_means_default else lo, hi=hi)
    if value is None or (zero_means_default and value == 0):
        return default
    return value
