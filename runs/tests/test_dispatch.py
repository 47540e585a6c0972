"""The queue-mode publisher: run ids that pile up while a broker write is in flight go out as one message."""

import threading
import time

from runs.dispatch import _Publisher


def _until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.01)
    return predicate()


def test_ids_added_during_a_send_travel_together():
    sent: list = []
    first_send_started, release = threading.Event(), threading.Event()

    def send(batch):
        sent.append(list(batch))
        if len(sent) == 1:
            first_send_started.set()
            release.wait(5)  # a slow broker write

    publisher = _Publisher(4, send)
    # when one run is dispatched, then six more while its message is being written
    publisher.add("r0")
    assert first_send_started.wait(5)
    for i in range(1, 7):
        publisher.add(f"r{i}")
    release.set()

    # then the first goes alone and the rest in messages of at most four, in order, none lost
    assert _until(lambda: sum(len(b) for b in sent) == 7)
    assert sent == [["r0"], ["r1", "r2", "r3", "r4"], ["r5", "r6"]]


def test_a_broker_error_is_logged_and_the_publisher_goes_on(caplog):
    sent: list = []

    def send(batch):
        if batch == ["r1"]:
            raise ConnectionError("broker down")
        sent.append(batch)

    publisher = _Publisher(8, send)
    publisher.add("r1")  # stays queued in the database: the reaper dispatches it again
    assert _until(lambda: "the reaper will retry" in caplog.text)
    publisher.add("r2")
    assert _until(lambda: sent == [["r2"]])


def test_while_runs_stream_in_the_publisher_lingers_to_fill_a_message():
    sent: list = []
    publisher = _Publisher(8, lambda batch: sent.append(list(batch)), linger_s=0.3)

    # a lone run goes at once
    started = time.monotonic()
    publisher.add("r0")
    assert _until(lambda: sent == [["r0"]])
    assert time.monotonic() - started < 0.25

    # right after it, runs arriving a few milliseconds apart share one message
    for i in range(1, 4):
        publisher.add(f"r{i}")
        time.sleep(0.01)
    assert _until(lambda: sum(len(b) for b in sent) == 4)
    assert sent == [["r0"], ["r1", "r2", "r3"]]
