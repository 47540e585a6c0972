"""runs/engine/io.py `Timer`: the wake-up of a parked run."""

import gc
import threading
import weakref

from runs.engine import io


def test_a_timer_calls_back_once_due_and_a_cancelled_one_never_and_lets_go_of_its_callback():
    fired = threading.Event()
    io.Timer(0.05, fired.set)
    assert fired.wait(5)

    class Session:  # what a timer's callback holds on to: a finished run must not be kept for a park check
        def __init__(self):
            self.woken = threading.Event()

        def wake(self):
            self.woken.set()

    session = Session()
    woken = session.woken
    timer = io.Timer(0.2, session.wake)
    timer.cancel()
    ref = weakref.ref(session)
    del session
    gc.collect()
    assert ref() is None
    assert not woken.wait(0.5)
