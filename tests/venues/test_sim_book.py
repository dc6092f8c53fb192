"""The order book: price first, then time; deltas coalesced per level; no self-trades."""

from __future__ import annotations

from core.events import BookDelta, Event, Side
from core.venues.sim.book import Book, BookOrder

BID, ASK = Side.BID, Side.ASK


def test_better_price_trades_first_then_the_oldest_order_at_a_price() -> None:
    book = Book()
    first, second = BookOrder("us", ASK, 101, 5), BookOrder(None, ASK, 101, 5)
    better = BookOrder(None, ASK, 100, 3)
    for order in (first, second, better):
        book.rest(order)
    left, matches, self_trades = book.match(BID, 101, 10, owner=None)
    assert left == 0 and self_trades == []
    assert [(m, lots, price) for m, lots, price in matches] == [
        (better, 3, 100),
        (first, 5, 101),
        (second, 2, 101),
    ]
    assert book.depth(ASK) == ((101, 3),) and second.size == 3


def test_a_limit_stops_the_sweep() -> None:
    book = Book()
    book.rest(BookOrder(None, BID, 99, 4))
    book.rest(BookOrder(None, BID, 98, 4))
    left, matches, _ = book.match(ASK, 99, 10, owner=None)
    assert left == 6 and [lots for _, lots, _ in matches] == [4]
    assert book.best_bid() == 98


def test_an_aggressor_removes_its_own_resting_order_instead_of_trading_with_it() -> None:
    book = Book()
    mine, theirs = BookOrder("us", ASK, 100, 5), BookOrder(None, ASK, 100, 5)
    book.rest(mine)
    book.rest(theirs)
    left, matches, self_trades = book.match(BID, 100, 5, owner="us")
    assert self_trades == [mine] and [m for m, _, _ in matches] == [theirs] and left == 0
    assert book.best_ask() is None


def test_deltas_are_one_per_changed_level_with_the_final_size() -> None:
    book = Book()
    book.rest(BookOrder(None, BID, 99, 4))
    book.rest(BookOrder(None, BID, 99, 6))
    book.rest(BookOrder(None, ASK, 101, 2))
    book.match(BID, 101, 2, owner=None)
    out: list[Event] = []
    book.flush_into(out, 1.0)
    assert out == [BookDelta(BID, 99, 10, 1.0), BookDelta(ASK, 101, 0, 1.0)]
    book.flush_into(out, 2.0)
    assert len(out) == 2  # nothing changed since


def test_synthetic_liquidity_is_pulled_and_shrunk_around_our_orders() -> None:
    book = Book()
    ours = BookOrder("us", BID, 99, 3)
    for order in (BookOrder(None, BID, 99, 4), ours, BookOrder(None, BID, 99, 5)):
        book.rest(order)
    book.shrink_synthetic(BID, 99, 6)  # newest first: the 5 goes, then 1 of the 4
    assert book.level_size(BID, 99) == 6 and book.synthetic_size(BID, 99) == 3
    book.pull_synthetic(BID, 99)
    assert book.depth(BID) == ((99, 3),)
    book.remove(ours)
    assert book.best_bid() is None
