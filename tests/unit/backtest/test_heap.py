"""The collector's settings during a replay are the replay's alone."""

from __future__ import annotations

import gc

from kalshi_trader.backtest.heap import YOUNG_THRESHOLD, replay_heap


def test_the_replay_raises_the_young_threshold_and_gives_the_callers_settings_back() -> None:
    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    with replay_heap():
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_freeze_count() > frozen
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen


def test_cyclic_garbage_made_during_the_replay_is_still_collected() -> None:
    class Node:
        other: object = None

    with replay_heap():
        a, b = Node(), Node()
        a.other, b.other = b, a
        ids = {id(a), id(b)}
        del a, b
        gc.collect()
        assert not ids & {id(o) for o in gc.get_objects() if isinstance(o, Node)}


def test_a_heap_frozen_before_the_replay_stays_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with replay_heap():
            pass
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()
