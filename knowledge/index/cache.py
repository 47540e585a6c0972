"""The in-process cache behind bm25.py and vectors.py: per knowledge base, the index built for its latest
revision, rebuilt when the revision moves."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.db import connections

CACHE_SIZE = 8


class RevisionCache:
    """At most CACHE_SIZE knowledge bases (the least recently used go first); an item built for an older
    revision never replaces a newer one that finished first; one background build per (base, revision).

    Items carry `revision`; `fits(item, kb)` says whether a cached item can serve `kb` at all (the vector
    matrix of another embedding width cannot)."""

    def __init__(self, thread_name: str, fits: Callable[[Any, Any], bool] | None = None):
        self.thread_name = thread_name
        self.fits = fits or (lambda item, kb: True)
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._building: set[tuple[str, int]] = set()

    def lookup(self, kb) -> tuple[Any, Any]:
        """(the item of kb's current revision, or None; the item of any revision that fits, or None)."""
        key = str(kb.id)
        with self._lock:
            item = self._items.get(key)
            if item is None or not self.fits(item, kb):
                return None, None
            if item.revision == kb.revision:
                self._items.move_to_end(key)
                return item, item
            return None, item

    def store(self, kb, item):
        key = str(kb.id)
        with self._lock:
            current = self._items.get(key)
            if current is not None and current.revision > item.revision and self.fits(current, kb):
                return item  # a newer one finished first: keep it cached
            self._items[key] = item
            self._items.move_to_end(key)
            while len(self._items) > CACHE_SIZE:
                self._items.popitem(last=False)
        return item

    def build_in_background(self, kb, build: Callable[[Any], Any]) -> None:
        """`build(kb)` in a thread, then stored (unless the same revision is already being built)."""
        key = (str(kb.id), kb.revision)
        with self._lock:
            if key in self._building:
                return
            self._building.add(key)

        def run():
            try:
                self.store(kb, build(kb))
            finally:
                with self._lock:
                    self._building.discard(key)
                connections.close_all()

        threading.Thread(target=run, name=self.thread_name, daemon=True).start()

    def forget(self, kb_id) -> None:
        with self._lock:
            self._items.pop(str(kb_id), None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
