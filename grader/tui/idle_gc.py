"""Garbage collection that waits for the reviewer to pause, so no key press waits behind a collection.

CPython's automatic full (generation 2) collections walk every tracked object: with Textual, SQLAlchemy and
a loaded review queue that is 15-300 ms, landing on whichever key press happens to trigger it. Its young
collections are cheap but frequent: a page of the diff view allocates a few thousand objects, so with the
default threshold (700) every key ran two or three of them and every few keys a generation-1 collection,
1-3 ms in the middle of a paint. Instead:

- everything alive after start-up is frozen (never walked again);
- automatic collections are made rare (young threshold 20,000, full every 1,000 young ones);
- a young collection runs whenever input has paused for a moment (a key's paint and its prefetch are done),
  and a full one when the screen has been idle for longer. Memory stays bounded by the thresholds.
"""

from __future__ import annotations

import gc
import time

from textual.app import App

IDLE_BEFORE_COLLECT_S = 1.5  # no key for this long counts as a pause, for a full collection
CHECK_EVERY_S = 5.0
QUIET_BEFORE_YOUNG_S = 0.04  # no key for this long: the last key's paint and prefetch are done
CHECK_YOUNG_EVERY_S = 0.05
YOUNG_MIN_OBJECTS = 500  # fewer new objects than this are left for the next quiet moment
YOUNG_THRESHOLD = 20_000  # new objects before an automatic young collection (CPython's default is 700)
FULL_COLLECTION_THRESHOLD = 1000  # young collections between automatic full ones (CPython's default is 10)


class IdleCollector:
    """Installed on an app: freeze the start-up heap, move collections to the pauses between keys."""

    def __init__(self, app: App[object]) -> None:
        self.app = app
        self.last_input = time.monotonic()
        self.collections = 0
        self.young_collections = 0
        self._previous_threshold = gc.get_threshold()

    def install(self) -> None:
        gc.collect()
        gc.freeze()
        _, middle, _ = gc.get_threshold()
        gc.set_threshold(YOUNG_THRESHOLD, middle, FULL_COLLECTION_THRESHOLD)
        self.app.set_interval(CHECK_EVERY_S, self.collect_if_idle, name="idle-gc")
        self.app.set_interval(CHECK_YOUNG_EVERY_S, self.collect_young_if_quiet, name="idle-gc-young")

    def uninstall(self) -> None:
        gc.set_threshold(*self._previous_threshold)
        gc.unfreeze()

    def saw_input(self) -> None:
        self.last_input = time.monotonic()

    def collect_young_if_quiet(self) -> None:
        if time.monotonic() - self.last_input < QUIET_BEFORE_YOUNG_S or gc.get_count()[0] < YOUNG_MIN_OBJECTS:
            return
        gc.collect(1)
        self.young_collections += 1

    def collect_if_idle(self) -> None:
        if time.monotonic() - self.last_input < IDLE_BEFORE_COLLECT_S:
            return
        if gc.get_count()[2] == 0 and gc.get_count()[1] == 0:
            return
        gc.collect()
        self.collections += 1
