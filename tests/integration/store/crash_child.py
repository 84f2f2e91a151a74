"""A trading process that dies mid-stream (run by test_store_crash.py).

Usage: python -m tests.integration.store.crash_child URL N_FILLS
Records an intent and its pending order, flushes (the durable point before a send), prints
``SENT``; streams N_FILLS fills through the recorder, flushing after the first third (prints
``FLUSHED k``), and SIGKILLs itself while the writer is working through the rest."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from tests.integration.store.kit import T0, fill

from kalshi_trader.domain import BookSide, Price, Qty
from kalshi_trader.store import AuditKind, Store


async def main(url: str, n_fills: int) -> None:
    store = await Store.open(url)
    rec = store.recorder(max_batch=25)
    rec.audit(AuditKind.INTENT, "cid-crash", {"price": 5600, "qty": 1000}, reason="favorite")
    rec.record_order_intent("cid-crash", "T", BookSide.BID, Price(5600), Qty(1000), T0)
    await rec.flush()
    print("SENT", flush=True)
    flushed = n_fills // 3
    for n in range(1, n_fills + 1):
        rec.record_fill(fill(n, order_id="ord-crash", client_order_id="cid-crash", qty=Qty(10)))
        if n == flushed:
            await rec.flush()
            print(f"FLUSHED {flushed}", flush=True)
    await asyncio.sleep(0.005)  # the writer is mid-stream: some batches committed, one in flight
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
