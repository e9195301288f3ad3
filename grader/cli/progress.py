"""A progress bar on stderr when it is a terminal, silence otherwise."""

from __future__ import annotations

import sys
import time
from types import TracebackType


class ProgressBar:
    """Callable as an importer's progress callback: (units done since last call, total or None)."""

    def __init__(self, label: str, *, enabled: bool | None = None) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.done = 0
        self.total: int | None = None
        self._last_draw = 0.0

    def __call__(self, advance: int, total: int | None) -> None:
        self.done += advance
        if total is not None:
            self.total = total
        now = time.monotonic()
        if self.enabled and now - self._last_draw > 0.05:
            self._last_draw = now
            self._draw()

    def _draw(self) -> None:
        if self.total:
            share = min(1.0, self.done / self.total)
            filled = int(share * 30)
            bar = "█" * filled + "░" * (30 - filled)
            text = f"\r{self.label} {bar} {self.done}/{self.total}"
        else:
            text = f"\r{self.label} reading…"
        sys.stderr.write(text)
        sys.stderr.flush()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.enabled and self._last_draw:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
