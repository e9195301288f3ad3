"""The diff view as the review screen uses it: its keys stay, but the footer keeps room for the verdict keys."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from grader.tui.widgets.diff_view import DiffView


class ReviewDiffView(DiffView):
    """A DiffView whose navigation keys work as ever but are listed in help (?) rather than the footer."""

    BINDINGS: list[BindingType] = [
        Binding(binding.key, binding.action, binding.description, show=False, key_display=binding.key_display)
        for binding in DiffView.BINDINGS
        if isinstance(binding, Binding)
    ]
