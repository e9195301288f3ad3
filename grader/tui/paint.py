"""Answer a key press in the frame it arrives in, not at the next 60 Hz tick."""

from __future__ import annotations

from textual.widget import Widget


def paint_now(widget: Widget) -> None:
    """Update the screen as soon as the current action returns, instead of at the next 60 Hz tick.

    Call it at the end of an action whose result the user is waiting for: opening a patch, a page of diff.

    A widget's `refresh()` reaches the screen only when that widget's own message loop next goes idle (it
    then posts Update or Layout to the screen), and the screen then waits for its 60 Hz update timer: 2-16 ms
    after the action, in no fixed order. Here every widget with a pending refresh hands it to the screen now,
    and the screen's update is queued behind those messages, so it runs right after them with all of them.
    """
    screen = widget.screen
    update = getattr(screen, "_on_timer_update", None)
    if not callable(update):
        return
    for node in screen.walk_children(with_self=False):
        if isinstance(node, Widget):
            node._check_refresh()  # what the widget's idle handler does: posts its pending refresh, if any
    screen.call_later(_update_if_current, screen, update)


def _update_if_current(screen: object, update: object) -> None:
    if getattr(screen, "is_current", False) and callable(update):
        update()
