"""Answer a key press in the frame it arrives in, not at the next 60 Hz tick."""

from __future__ import annotations

from textual.widget import Widget


def paint_now(widget: Widget) -> None:
    """Update the screen at once (what Textual's screen timer does on its next tick, up to 16.7 ms later).

    Call it at the end of an action whose result the user is waiting for: opening a patch, a page of diff.
    """
    screen = widget.screen
    update = getattr(screen, "_on_timer_update", None)
    if callable(update) and screen.is_current:
        update()
