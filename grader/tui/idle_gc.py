"""Garbage collection that waits for the reviewer to pause, so no key press waits behind a full collection.

CPython's automatic full (generation 2) collections walk every tracked object: with Textual, SQLAlchemy and
a loaded review queue that is 15-300 ms, landing on whichever key press happens to trigger it. Instead:
everything alive after start-up is frozen (never walked again), automatic full collections are made rare,
and a full collection runs when the screen has been idle for a moment. Young generations still collect
automatically (they are cheap), so memory stays bounded.
"""

from __future__ import annotations

import gc
import time

from textual.app import App

IDLE_BEFORE_COLLECT_S = 1.5  # no key for this long counts as a pause
CHECK_EVERY_S = 5.0
FULL_COLLECTION_THRESHOLD = 1000  # young collections between automatic full ones (CPython's default is 10)


class IdleCollector:
    """Installed on an app: freeze the start-up heap, defer full collections to idle moments."""

    def __init__(self, app: App[object]) -> None:
        self.app = app
        self.last_input = time.monotonic()
        self.collections = 0
        self._previous_threshold = gc.get_threshold()

    def install(self) -> None:
        gc.collect()
        gc.freeze()
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, FULL_COLLECTION_THRESHOLD)
        self.app.set_interval(CHECK_EVERY_S, self.collect_if_idle, name="idle-gc")

    def uninstall(self) -> None:
        gc.set_threshold(*self._previous_threshold)
        gc.unfreeze()

    def saw_input(self) -> None:
        self.last_input = time.monotonic()

    def collect_if_idle(self) -> None:
        if time.monotonic() - self.last_input < IDLE_BEFORE_COLLECT_S:
            return
        if gc.get_count()[2] == 0 and gc.get_count()[1] == 0:
            return
        gc.collect()
        self.collections += 1
