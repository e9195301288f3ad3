"""`grader show PATCH`: a stored patch or a diff file printed as the diff view renders it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from grader.cli.app import DbOption, app, fail, open_engine, stdout_is_terminal
from grader.core.patches.stdout import render_lines
from grader.core.text.sanitize import decode_patch_bytes, sanitize_line


def load_stored_patch(db: str | None, patch_id: int) -> tuple[str, list[str]]:
    """The displayable diff of a stored patch and notices about its kind."""
    from sqlalchemy import select

    from grader.core.patches.kinds import kind_notices, shown_text
    from grader.core.store.models import Patch

    engine = open_engine(db, create=False)
    table = Patch.__table__
    with engine.connect() as conn:
        row = conn.execute(
            select(table.c.raw_patch, table.c.diff_text, table.c.patch_kind).where(table.c.id == patch_id)
        ).first()
    engine.dispose()
    if row is None:
        fail(f"no patch with id {patch_id}")
    raw, diff_text, kind = row
    notices = kind_notices(kind)
    return shown_text(raw, diff_text, kind), notices


@app.command("show")
def show_command(
    patch: Annotated[str, typer.Argument(help="A patch id in the store, or the path of a diff file.")],
    color: Annotated[
        bool | None,
        typer.Option("--color/--plain", help="Colours (default on a terminal) or plain text (default when piped)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Print a patch as the diff view shows it: files, hunks, line numbers; hostile text made inert."""
    path = Path(patch)
    if path.is_file():
        text, notice = decode_patch_bytes(path.read_bytes())
        notices = [notice] if notice else []
    elif patch.isdigit():
        text, notices = load_stored_patch(db, int(patch))
    else:
        fail(f"{sanitize_line(patch)!r} is neither a diff file nor a patch id")
    use_color = stdout_is_terminal() if color is None else color
    out = sys.stdout
    for line in render_lines(text, color=use_color, notices=notices):
        out.write(line + "\n")
    out.flush()
