"""Shared pieces of the importers: errors that name file and line, reports, record readers."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, select

from grader.core.store.models import ImportRecord, utcnow

# A progress callback: (units done since last call, total units or None).
Progress = Callable[[int, int | None], None]


class BadInput(ValueError):
    """A row or file that cannot be imported; names the file, the line and the problem."""

    def __init__(self, path: str | Path, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple[type[BadInput], tuple[str, int | None, str]]:
        # Parsing may run in a worker process; the error must cross back intact.
        return (BadInput, (self.path, self.line, self.problem))


@dataclass(slots=True)
class SkippedRow:
    path: str
    line: int | None
    problem: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.problem}"


@dataclass(slots=True)
class ImportReport:
    """What an import did: rows added per table, what was already there, what was skipped."""

    source: str
    added: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0
    updated: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)
    already_imported: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, table: str, count: int) -> None:
        self.added[table] = self.added.get(table, 0) + count

    @property
    def total_added(self) -> int:
        return sum(self.added.values()) + self.updated

    def summary(self) -> str:
        if self.total_added:
            added = ", ".join(f"{n} {table}" for table, n in self.added.items() if n)
            parts = [f"added {added}"] if added else []
            head = ", ".join(parts + ([f"{self.updated} updated"] if self.updated else []))
        elif self.skipped:
            # Not "everything is already there": the skipped rows are not.
            head = f"nothing added: {len(self.skipped)} bad row(s) skipped"
            if self.unchanged:
                head += f", {self.unchanged} already in the store"
        else:
            head = "nothing new: everything in it is already in the store"
        lines = [f"{self.source}: {head}"]
        if self.already_imported:
            lines.append(f"  {len(self.already_imported)} file(s) already imported, left as they were")
        lines.extend(f"  note: {n}" for n in self.notes)
        if self.skipped:
            lines.append(f"  skipped {len(self.skipped)} bad row(s):")
            lines.extend(f"    {s}" for s in self.skipped)
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "already_imported": self.already_imported,
            "skipped": [str(s) for s in self.skipped],
            "notes": self.notes,
        }


class RowErrors:
    """Collects bad rows: raises on the first one, or records it when skipping is allowed."""

    def __init__(self, skip_bad: bool, report: ImportReport) -> None:
        self.skip_bad = skip_bad
        self.report = report

    def bad(self, path: str | Path, line: int | None, problem: str) -> None:
        if not self.skip_bad:
            raise BadInput(path, line, problem)
        self.report.skipped.append(SkippedRow(str(path), line, problem))


def record_instance_id(path: Path, line: int, record: Any, errors: RowErrors, expected: str) -> str | None:
    """The record's `instance_id` as written, or None after reporting a record that is not `expected` or has none."""
    if not isinstance(record, dict):
        errors.bad(path, line, f"expected {expected}, found {type(record).__name__}")
        return None
    iid = record.get("instance_id")
    if not isinstance(iid, str) or not iid.strip():
        errors.bad(path, line, "missing or empty 'instance_id'")
        return None
    return iid


def fingerprint(kind: str, *parts: bytes | str) -> str:
    digest = hashlib.sha256(kind.encode())
    for part in parts:
        digest.update(b"\0")
        digest.update(part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part)
    return digest.hexdigest()


def known_fingerprints(conn: Connection, fingerprints: list[str]) -> set[str]:
    if not fingerprints:
        return set()
    table = ImportRecord.__table__
    found: set[str] = set()
    for start in range(0, len(fingerprints), 500):
        chunk = fingerprints[start : start + 500]
        found.update(conn.execute(select(table.c.fingerprint).where(table.c.fingerprint.in_(chunk))).scalars())
    return found


def record_import(conn: Connection, kind: str, fp: str, source: str, rows_added: int) -> None:
    """Remember that this file was imported, so importing it again adds nothing and says so.

    Callers leave out a file whose bad rows were skipped: importing it again must read it again, and report
    those rows (or fail on them without `--skip-bad`) rather than call it already imported.
    """
    conn.execute(
        ImportRecord.__table__.insert().values(
            kind=kind, fingerprint=fp, source=source, rows_added=rows_added, created_at=utcnow()
        )
    )


def read_text(path: Path) -> tuple[str, bytes]:
    """The file's text (invalid UTF-8 is an error naming the line) and its bytes."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig"), data
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BadInput(path, line, f"not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc


def iter_json_records(path: Path, text: str, errors: RowErrors) -> Iterator[tuple[int, Any]]:
    """(line, value) for each record of a JSON Lines file or of a JSON array, whatever the file is named.

    Lines end at "\n" only: JSON allows U+2028, U+2029 and U+0085 raw inside strings, where `str.splitlines`
    would cut a record in two.
    """
    stripped = text.lstrip()
    if stripped.startswith("["):
        yield from _iter_json_array(path, text)
        return
    for number, line in enumerate(text.split("\n"), start=1):
        if not line or line.isspace():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            errors.bad(path, number, f"not valid JSON: {exc.msg} (column {exc.colno})")


def _iter_json_array(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    decoder = json.JSONDecoder()
    length = len(text)
    pos = text.index("[") + 1
    line = text.count("\n", 0, pos) + 1
    expect_value = True
    while True:
        start = pos
        while pos < length and text[pos] in " \t\r\n":
            pos += 1
        line += text.count("\n", start, pos)
        if pos >= length:
            raise BadInput(path, line, "JSON array is not closed (truncated file?)")
        if text[pos] == "]":
            rest = text[pos + 1 :].strip()
            if rest:
                raise BadInput(path, line, "unexpected text after the JSON array")
            return
        if not expect_value:
            if text[pos] != ",":
                raise BadInput(path, line, f"expected ',' or ']' in the JSON array, found {text[pos]!r}")
            pos += 1
            expect_value = True
            continue
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise BadInput(path, exc.lineno, f"not valid JSON: {exc.msg} (column {exc.colno})") from exc
        yield line, value
        line += text.count("\n", pos, end)
        pos = end
        expect_value = False


def iter_csv_records(path: Path, text: str, errors: RowErrors) -> Iterator[tuple[int, dict[str, str | None]]]:
    """(line, row) for each CSV record; the line is where the record starts.

    A row with more cells than the header is bad (skipped under `--skip-bad`); a row with fewer has None in
    the missing columns. A quoted cell that is never closed is an error whatever `--skip-bad` says: it has
    swallowed every row after it. Lines end at \n, \r or \r\n only (the csv module's rule), not at U+2028 or
    U+0085 inside a cell.
    """
    csv.field_size_limit(sys.maxsize)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return
    previous_end = reader.line_num
    pending: tuple[int, list[str]] | None = None
    for cells in reader:
        if pending is not None:
            yield from _csv_row(path, header, *pending, errors)
        pending = (previous_end + 1, cells)
        previous_end = reader.line_num
    if pending is not None:
        # Only the last record can hold an unclosed quote: it runs to the end of the file.
        opened = _unclosed_quote_line(text, pending[1], previous_end)
        if opened is not None:
            raise BadInput(path, opened, "a quoted cell starts here and is never closed (a missing '\"'?)")
        yield from _csv_row(path, header, *pending, errors)


def _csv_row(
    path: Path, header: list[str], line: int, cells: list[str], errors: RowErrors
) -> Iterator[tuple[int, dict[str, str | None]]]:
    if not cells:
        return  # a blank line
    if len(cells) > len(header):
        errors.bad(path, line, f"more cells than the header has columns ({len(cells)}, not {len(header)})")
        return
    row: dict[str, str | None] = dict.fromkeys(header)
    row.update(zip(header, cells, strict=False))  # a short row leaves its last columns None
    yield line, row


def _unclosed_quote_line(text: str, cells: list[str], last_line: int) -> int | None:
    """The line where the last record's final cell opens a quote that the file never closes, if it does.

    Such a cell runs to the end of the file: the text ends with it (its quotes doubled) right after an opening
    quote at the start of a cell. A cell whose quote is closed ends before the closing quote instead.
    """
    if not cells:
        return None
    raw = cells[-1].replace('"', '""')
    start = len(text) - len(raw) - 1  # where the opening quote would be
    if start < 0 or not text.endswith(raw) or text[start] != '"':
        return None
    if start > 0 and text[start - 1] not in ",\r\n":
        return None
    ends = raw.count("\n") + raw.count("\r") - raw.count("\r\n")
    # The cell holds the line ends of every line from the quote's to the last, the last's only if it has one.
    return last_line - ends + (1 if raw.endswith(("\n", "\r")) else 0)


def load_records(path: Path, text: str, errors: RowErrors) -> Iterator[tuple[int, Any]]:
    """Records of a JSONL, JSON or CSV file, chosen by content and suffix."""
    if path.suffix.lower() == ".csv":
        yield from iter_csv_records(path, text, errors)
        return
    stripped = text.lstrip()
    if stripped.startswith("{") and path.suffix.lower() == ".json":
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            yield 1, value
            return
    yield from iter_json_records(path, text, errors)


def bulk_insert(conn: Connection, table: Table, keys: list[str], values: list[tuple[Any, ...]]) -> None:
    """Insert many rows (tuples in the order of `keys`) with one executemany.

    On SQLite the statement compiled from `table.insert()` runs with the tuples directly, skipping
    SQLAlchemy's per-row parameter processing (a third of the import time for 44k patches); elsewhere Core
    executes it with dictionaries.
    """
    if not values:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(table.insert(), [dict(zip(keys, value, strict=True)) for value in values])
        return
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=keys)
    # The compiled statement lists columns in table order, whatever the order of `keys`.
    order = [keys.index(name) for name in (compiled.positiontup or [])]
    if order != list(range(len(keys))):
        values = [tuple(value[i] for i in order) for value in values]
        keys = [keys[i] for i in order]
    processors = [(i, table.c[k].type.bind_processor(conn.dialect)) for i, k in enumerate(keys)]
    active = [(i, p) for i, p in processors if p is not None]
    if active:
        converted = []
        for value in values:
            cells = list(value)
            for i, process in active:
                cells[i] = process(cells[i])
            converted.append(tuple(cells))
        values = converted
    sql = str(compiled)
    conn.exec_driver_sql(sql, values)
