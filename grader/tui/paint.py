"""Answer a key press in the frame it arrives in, not at the next 60 Hz tick."""

from __future__ import annotations

from textual.widget import Widget


def paint_now(widget: Widget) -> None:
    """Update the screen as soon as the current action returns, instead of at the next 60 Hz tick.

    Call it at the end of an action whose result the user is waiting for: opening a patch, a page of diff.
    (Inside an action Textual batches updates, so the paint is queued to run right after it.)
    """
    screen = widget.screen
    update = getattr(screen, "_on_timer_update", None)
    if callable(update):
        screen.call_later(_update_if_current, screen, update)


def _update_if_current(screen: object, update: object) -> None:
    if getattr(screen, "is_current", False) and callable(update):
        update()
