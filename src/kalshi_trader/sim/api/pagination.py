"""Cursor pagination for the embedded exchange's list endpoints.

Contract: a list endpoint produces its full, filtered result in a stable order (registration order
for catalog objects, newest first for orders/fills/trades/settlements), then ``paginate`` returns
at most ``limit`` items and an opaque cursor. The cursor names the last item returned (by its
stable key) and the endpoint that issued it, so new items arriving at the front of a newest-first
list never duplicate or skip items on later pages. The last page has cursor ``""``. A cursor that
cannot be decoded, was issued by another endpoint, or names an item no longer in the result is a
400 with a message saying to restart without a cursor.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import TypeVar

from kalshi_trader.sim.api.params import invalid

T = TypeVar("T")


def encode_cursor(kind: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}\n{key}".encode()).decode("ascii").rstrip("=")


def decode_cursor(kind: str, cursor: str) -> str:
    """The key inside ``cursor``; raises a 400 if it was not issued by endpoint ``kind``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    issued_by, sep, key = raw.partition("\n")
    if not sep or issued_by != kind:
        raise invalid(
            f"cursor {cursor!r} is not a cursor returned by this endpoint; omit it to start from the first page"
        )
    return key


def paginate(
    items: Sequence[T], *, key: Callable[[T], str], limit: int, cursor: str | None, kind: str
) -> tuple[list[T], str]:
    """One page of ``items`` after ``cursor`` and the cursor of the next page (``""`` if none)."""
    start = 0
    if cursor:
        after = decode_cursor(kind, cursor)
        for i, item in enumerate(items):
            if key(item) == after:
                start = i + 1
                break
        else:
            raise invalid(
                f"cursor {cursor!r} refers to an item that is no longer in this listing; "
                "omit the cursor to start from the first page"
            )
    page = list(items[start : start + limit])
    more = start + limit < len(items)
    return page, (encode_cursor(kind, key(page[-1])) if more and page else "")
