"""The file list of a patch, with status and +/- counts, as an overlay to jump from."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from grader.core.patches.index import FileEntry
from grader.core.patches.render import STATUS_SYMBOLS
from grader.core.text.sanitize import sanitize_line


def file_label(file: FileEntry) -> Text:
    """One line of the list: status symbol, path, +added −removed (built as Text, never parsed as markup)."""
    info = file.info
    label = Text(no_wrap=True, overflow="ellipsis")
    label.append(f"{STATUS_SYMBOLS.get(info.status, '?')} ", style="bold")
    label.append(sanitize_line(info.display_path or "(file name unknown)"))
    label.append(f"  +{file.added}", style="green")
    label.append(f" −{file.removed}", style="red")
    if info.status not in ("modified",):
        label.append(f"  {info.status}", style="dim")
    return label


class FileListScreen(ModalScreen[int | None]):
    """Pick a file of the patch; dismisses with its index (None on escape)."""

    DEFAULT_CSS = """
    FileListScreen {
        align: center middle;
    }
    FileListScreen > OptionList {
        width: 80%;
        max-height: 80%;
        border: round $primary;
        background: $surface;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,t", "dismiss_list", "Close")]

    def __init__(self, files: list[FileEntry]) -> None:
        super().__init__()
        self._files = files

    def compose(self) -> ComposeResult:
        options = [Option(file_label(file), id=str(file.index)) for file in self._files]
        file_list = OptionList(*options, id="diff-file-list")
        file_list.border_title = f"{len(self._files)} files"
        yield file_list

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_dismiss_list(self) -> None:
        self.dismiss(None)
