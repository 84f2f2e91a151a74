"""The garbage collector's settings while a backtest replays.

Contract: ``with replay_heap():`` freezes what is alive on entry (imports, settings, the opened data:
it lives as long as the replay) and raises the young generation's threshold, so the replay's
short-lived values are not traced again and again; on exit the thresholds are the caller's again
and the heap frozen on entry is unfrozen. Cyclic garbage is still collected, less often."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 50_000
"""Allocations between young collections (CPython's default is 700)."""


@contextmanager
def replay_heap() -> Iterator[None]:
    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, max(before[1], 50), max(before[2], 50))
    try:
        yield
    finally:
        gc.set_threshold(*before)
        if frozen == 0:
            gc.unfreeze()
