"""Order groups on the paper exchange: the rolling 15 s contract limit, trigger, reset, limit
changes and delete, as on Kalshi."""

from __future__ import annotations

import pytest
from tests.unit.paper.kit import ASK, BID, IOC, Kit, qty

from kalshi_trader.domain import OrderStatus
from kalshi_trader.execution.venue import GroupEvent, VenueNotFound, VenueRejected
from kalshi_trader.paper.exchange import GROUP_WINDOW_MS
from kalshi_trader.paper.model import GroupNotice


def book(kit: Kit) -> None:
    kit.book(yes=[("0.40", "100")], no=[("0.44", "100")])  # YES 0.40 bid / 0.56 ask


def notices(kit: Kit) -> list[GroupEvent]:
    return [e.kind for e in kit.ex.take_changes().events if isinstance(e, GroupNotice)]


def test_fills_beyond_the_limit_trigger_the_group_cancel_its_orders_and_refuse_new_ones() -> None:
    kit = Kit()
    book(kit)
    group = kit.ex.create_group(qty("10"))
    resting = kit.place(BID, "0.30", "5", group=group)
    taker = kit.place(BID, "0.56", "6", tif=IOC, group=group)
    assert kit.filled(taker) == qty("6")  # 6 in the window: not beyond 10
    big = kit.place(BID, "0.56", "8", group=group)  # 14 > 10 once it fills
    assert kit.filled(big) == qty("8")
    assert kit.current(resting).status is OrderStatus.CANCELED
    assert kit.ex.groups()[0].triggered
    with pytest.raises(VenueRejected) as refused:
        kit.place(BID, "0.30", "1", group=group)
    assert "triggered" in refused.value.message
    kit.ex.reset_group(group)
    assert kit.place(BID, "0.30", "1", group=group).status is OrderStatus.RESTING


def test_the_window_forgets_fills_older_than_15_seconds() -> None:
    kit = Kit()
    book(kit)
    group = kit.ex.create_group(qty("10"))
    kit.place(BID, "0.56", "8", tif=IOC, group=group)
    kit.clock.advance(GROUP_WINDOW_MS)
    kit.place(BID, "0.56", "8", tif=IOC, group=group)
    assert not kit.ex.groups()[0].triggered


def test_a_taker_stops_where_its_fill_triggers_the_group() -> None:
    kit = Kit()
    kit.book(yes=[("0.40", "100")], no=[("0.44", "6"), ("0.43", "10")])
    group = kit.ex.create_group(qty("5"))
    order = kit.place(BID, "0.57", "16", group=group)
    assert kit.filled(order) == qty("6")  # the first level's fill exceeds 5: no second level
    assert kit.current(order).status is OrderStatus.CANCELED


def test_resting_fills_count_too() -> None:
    kit = Kit()
    book(kit)
    group = kit.ex.create_group(qty("3"))
    resting = kit.place(BID, "0.40", "2", group=group)  # behind 100
    other = kit.place(BID, "0.39", "5", group=group)
    kit.sold("0.40", "104")  # 100 in front, then our 2
    assert kit.filled(resting) == qty("2")
    kit.trade("0.39", "2", ASK)  # at 0.39, where nobody is in front of us
    assert kit.filled(other) == qty("2")  # 4 in the window: beyond 3
    assert kit.current(other).status is OrderStatus.CANCELED
    assert kit.ex.groups()[0].triggered


def test_trigger_reset_limit_and_delete_by_hand() -> None:
    kit = Kit()
    book(kit)
    group = kit.ex.create_group(qty("100"))
    order = kit.place(BID, "0.30", "5", group=group)
    kit.ex.trigger_group(group)
    assert kit.current(order).status is OrderStatus.CANCELED
    kit.ex.reset_group(group)
    kit.place(BID, "0.56", "5", tif=IOC, group=group)
    kit.ex.set_group_limit(group, qty("4"))  # below the 5 just filled: triggers
    assert kit.ex.groups()[0].triggered
    kit.ex.reset_group(group)
    second = kit.place(BID, "0.30", "5", group=group)
    kit.ex.delete_group(group)
    assert kit.current(second).status is OrderStatus.CANCELED
    assert kit.ex.groups() == []
    with pytest.raises(VenueNotFound):
        kit.ex.trigger_group(group)
    with pytest.raises(VenueNotFound):
        kit.place(BID, "0.30", "1", group=group)


def test_every_change_is_an_event() -> None:
    kit = Kit()
    book(kit)
    group = kit.ex.create_group(qty("100"))
    kit.ex.trigger_group(group)
    kit.ex.reset_group(group)
    kit.ex.set_group_limit(group, qty("50"))
    kit.ex.delete_group(group)
    assert notices(kit) == [
        GroupEvent.CREATED,
        GroupEvent.TRIGGERED,
        GroupEvent.RESET,
        GroupEvent.LIMIT_UPDATED,
        GroupEvent.DELETED,
    ]


def test_group_limits_must_be_1_to_1000000_contracts() -> None:
    kit = Kit()
    with pytest.raises(VenueRejected):
        kit.ex.create_group(qty("0.5"))
    with pytest.raises(VenueRejected):
        kit.ex.create_group(qty("1000001"))
