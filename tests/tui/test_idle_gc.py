"""The idle collector: collections move from key presses to the pauses between them."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

import pytest

from grader.tui import idle_gc
from grader.tui.idle_gc import IdleCollector


class FakeApp:
    def __init__(self) -> None:
        self.intervals: dict[str, Callable[[], None]] = {}

    def set_interval(self, _seconds: float, callback: Callable[[], None], name: str) -> None:
        self.intervals[name] = callback


@pytest.fixture
def collector() -> Iterator[IdleCollector]:
    collector = IdleCollector(FakeApp())  # type: ignore[arg-type]
    collector.install()
    yield collector
    collector.uninstall()


def test_install_raises_the_thresholds_and_uninstall_restores_them() -> None:
    before = gc.get_threshold()
    collector = IdleCollector(FakeApp())  # type: ignore[arg-type]
    collector.install()
    assert gc.get_threshold()[0] == idle_gc.YOUNG_THRESHOLD
    assert gc.get_threshold()[2] == idle_gc.FULL_COLLECTION_THRESHOLD
    collector.uninstall()
    assert gc.get_threshold() == before


def test_a_young_collection_waits_for_a_pause(collector: IdleCollector, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(idle_gc.time, "monotonic", lambda: clock[0])
    garbage = [[index] for index in range(idle_gc.YOUNG_MIN_OBJECTS * 2)]  # new tracked objects
    collector.saw_input()
    collector.collect_young_if_quiet()
    assert collector.young_collections == 0  # a key was just pressed: its paint comes first
    clock[0] += idle_gc.QUIET_BEFORE_YOUNG_S + 0.01
    collector.collect_young_if_quiet()
    assert collector.young_collections == 1
    assert gc.get_count()[0] < idle_gc.YOUNG_MIN_OBJECTS
    collector.collect_young_if_quiet()
    assert collector.young_collections == 1  # nothing new to collect
    del garbage


def test_a_full_collection_waits_for_a_longer_pause(collector: IdleCollector, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(idle_gc.time, "monotonic", lambda: clock[0])
    collector.saw_input()
    gc.collect(0)  # something in generation 1, so a full collection has work
    clock[0] += idle_gc.QUIET_BEFORE_YOUNG_S + 0.01
    collector.collect_if_idle()
    assert collector.collections == 0
    clock[0] += idle_gc.IDLE_BEFORE_COLLECT_S
    collector.collect_if_idle()
    assert collector.collections == 1
