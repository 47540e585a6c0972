"""The Celery app's configuration as a threads-pool worker uses it."""

import threading

from celery.app import backends


def test_the_result_backend_is_looked_up_once_for_all_of_a_workers_threads(monkeypatch):
    from trellis.celery import app

    lookups = []
    real_by_url = backends.by_url
    monkeypatch.setattr(backends, "by_url", lambda *a, **k: lookups.append(a) or real_by_url(*a, **k))
    monkeypatch.setattr(app, "_backend_cache", None)
    seen = []
    for _ in range(5):  # a message slot's thread after another
        thread = threading.Thread(target=lambda: seen.append(app.backend))
        thread.start()
        thread.join()
    # each lookup scans every installed package's entry points: once, not once per message slot's thread
    assert len(lookups) == 1 and len({id(backend) for backend in seen}) == 1
