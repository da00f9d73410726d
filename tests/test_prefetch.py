"""The background reader: order, bounded look-ahead, errors and early stops."""

from __future__ import annotations

import threading
import time

import pytest

from ingest.prefetch import prefetch


def test_items_come_in_order():
    assert list(prefetch(iter(range(100)), depth=3)) == list(range(100))


def test_the_producer_runs_at_most_depth_ahead():
    produced = []

    def items():
        for i in range(50):
            produced.append(i)
            yield i

    for i in prefetch(items(), depth=2):
        time.sleep(0.002)  # let the producer run ahead as far as it can
        # Items the consumer holds or the queue holds, plus one in the producer's hand.
        assert len(produced) <= i + 1 + 2 + 1


def test_a_producer_error_reaches_the_consumer():
    def items():
        yield 1
        raise ValueError("bad file")

    got = []
    with pytest.raises(ValueError, match="bad file"):
        for item in prefetch(items()):
            got.append(item)
    assert got == [1]


def test_a_consumer_that_stops_stops_the_producer():
    stopped = threading.Event()

    def items():
        try:
            yield from range(10_000)
        finally:
            stopped.set()

    stream = prefetch(items(), depth=1)
    assert next(stream) == 0
    stream.close()
    # The producer is parked in put(); it sees the stop flag and returns, closing items().
    assert stopped.wait(5)
