"""Cursor pagination: complete, stable under prepends, and strict about foreign cursors."""

from __future__ import annotations

import pytest

from kalshi_trader.sim.api.pagination import encode_cursor, paginate
from kalshi_trader.sim.core.state import ExchangeError


def _walk(items: list[str], limit: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page, cursor = paginate(items, key=str, limit=limit, cursor=cursor, kind="k")
        pages.append(page)
        if not cursor:
            return pages


@pytest.mark.parametrize("n", [0, 1, 6, 7, 20])
def test_walk_visits_every_item_once(n: int) -> None:
    items = [f"i{i}" for i in range(n)]
    pages = _walk(items, 3)
    assert [x for p in pages for x in p] == items
    assert all(len(p) <= 3 for p in pages)


def test_prepended_items_do_not_shift_later_pages() -> None:
    items = ["c", "b", "a"]  # newest first
    first, cursor = paginate(items, key=str, limit=2, cursor=None, kind="k")
    newer = ["e", "d", *items]
    second, cursor = paginate(newer, key=str, limit=2, cursor=cursor, kind="k")
    assert (first, second, cursor) == (["c", "b"], ["a"], "")


@pytest.mark.parametrize("cursor", ["garbage!", encode_cursor("other", "a"), encode_cursor("k", "zzz")])
def test_bad_cursor_is_400(cursor: str) -> None:
    with pytest.raises(ExchangeError) as info:
        paginate(["a", "b"], key=str, limit=1, cursor=cursor, kind="k")
    assert info.value.status == 400
    assert "cursor" in info.value.message
