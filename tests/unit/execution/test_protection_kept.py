"""Protection keeps a bracket's facts between changes (execution/protection.py): on the real engine
against the paper venue, the kept facts equal the facts read afresh every time the engine asks for
them — through the entry's fills, the take-profit placed and resized, another strategy's quote on
the exit side, book moves, ticks and the stop's exits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from tests.unit.execution.kit import BUY, GTC, SELL, Account, T, c, paper_account

from kalshi_trader.domain import OrderIntent, Price, Side
from kalshi_trader.execution import brackets as br
from kalshi_trader.execution.brackets import BracketSpec
from kalshi_trader.execution.protection import Protection

pytestmark = pytest.mark.timeout(60)


class Checked(Protection):
    """``Protection`` that reads the facts afresh beside every kept read (and the facts without
    the book) and compares them."""

    reads = 0
    kept = 0

    def facts(self, b: br.Bracket) -> br.Facts:
        before = self.reads
        facts = super().facts(b)
        self.kept += self.reads == before
        assert facts == super()._read_facts(b)
        return facts

    def _topless(self, b: br.Bracket, facts: br.Facts) -> br.Facts:
        topless = super()._topless(b, facts)
        assert topless == replace(facts, top=None)
        return topless

    def _read_facts(self, b: br.Bracket) -> br.Facts:
        self.reads += 1
        return super()._read_facts(b)


@pytest.fixture
async def account(tmp_path: Path) -> AsyncIterator[Account]:
    async with paper_account(tmp_path) as acct:
        acct.engine.protection = Checked(acct.engine)
        yield acct


async def test_kept_facts_are_the_facts_read_afresh(account: Account) -> None:
    engine, venue = account.engine, account.venue
    protection = engine.protection
    assert isinstance(protection, Checked)
    entry = OrderIntent.place(T, BUY, Price(5600), c(40), "fav-1", tif=GTC, strategy="favorite")
    ticket = engine.place_bracket(BracketSpec(entry, Price(6500), Price(4000)))
    assert ticket.bracket_id is not None
    await account.until(lambda: account.position() == c(30))  # 30 taken, 10 rest
    for _ in range(3):
        engine.tick()
    quote = OrderIntent.place(T, SELL, Price(6800), c(5), "mm-1", post_only=True, strategy="weather_mm")
    assert (await engine.submit(quote)).ok
    account.book(5100, 5600)
    engine.tick()
    venue.on_book_delta(T, Side.NO, 4400, c(6))  # a seller reaches the resting entry
    await venue.commit()
    await account.until(lambda: account.position() == c(36))
    for bid in (5200, 5000, 4500, 3900, 3800):  # through the stop and staying there
        account.book(bid, 5600)
        engine.tick()
    await account.until(lambda: engine.queue.depth == 0 and engine.queue.current is None)
    engine.tick()
    assert protection.kept > 0  # reads were kept
    assert protection.reads > 0
