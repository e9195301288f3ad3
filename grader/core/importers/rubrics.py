"""Rubrics: a label schema read from a small TOML file (or a built-in one), with errors naming file and line.

A rubric is a list of questions. Each is single-choice, ordinal (levels in order, each with a label),
multi-select or free text; about the task or about the patch; required or optional; asked before the verdict
or only after it. Answers are stored as text (grader.core.store.rubric_answers): an option's value for single
and ordinal questions, a JSON list of option values for multi-select, the text itself for free text.
The built-in rubrics (rubric_files/*.toml) and their sources are described in docs/rubrics.md.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BUILTIN_DIR = Path(__file__).resolve().parent / "rubric_files"
KINDS = ("single", "ordinal", "multi", "text")
LEVELS = ("task", "patch")
PHASES = ("before", "after")
# How one item's answers from several reviewers become one answer (statistics and filters): the strict majority
# (a tie leaves the item without one), the highest level (as OpenAI ensembled its severity scales), or the
# lower median level.
ENSEMBLES = ("majority", "max", "median")
QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
OPTION_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,39}$")
RUBRIC_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_OPTIONS = 10  # number keys 0-9
MAX_TEXT_ANSWER = 4000


class RubricError(ValueError):
    """A rubric file that cannot be used, or an answer a question does not allow; names file and line."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        super().__init__(f"{path}:{line}: {problem}" if line is not None else f"{path}: {problem}")


@dataclass(frozen=True, slots=True)
class RubricOption:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    prompt: str
    kind: str
    level: str
    required: bool
    phase: str
    options: tuple[RubricOption, ...] = ()
    ensemble: str = "majority"
    short: str = ""  # a short label for narrow screens and table headers

    @property
    def label(self) -> str:
        return self.short or self.id

    @property
    def ordinal(self) -> bool:
        return self.kind == "ordinal"

    def keys(self) -> tuple[str, ...]:
        """The number key of each option: an option whose value is a digit is chosen by that digit when every
        option's is (a 0–3 scale answers with 0–3); otherwise options are numbered 1, 2, … in order."""
        values = [o.value for o in self.options]
        if all(len(v) == 1 and v.isdigit() for v in values):
            return tuple(values)
        return tuple(str((i + 1) % 10) for i in range(len(values)))

    def option_for_key(self, key: str) -> RubricOption | None:
        for option, option_key in zip(self.options, self.keys(), strict=True):
            if option_key == key:
                return option
        return None

    def option_labels(self) -> dict[str, str]:
        return {o.value: o.label for o in self.options}

    def rank(self, value: str) -> int:
        """The position of an option's value in the question's order (ordinal scales compare by it)."""
        for i, option in enumerate(self.options):
            if option.value == value:
                return i
        raise KeyError(value)

    def check(self, value: str) -> str:
        """The answer in its stored form, or RubricError (no file: the problem is the answer, not the rubric)."""
        if self.kind == "text":
            if len(value) > MAX_TEXT_ANSWER:
                raise RubricError(self.id, None, f"an answer of at most {MAX_TEXT_ANSWER} characters")
            return value
        allowed = [o.value for o in self.options]
        if self.kind == "multi":
            try:
                chosen = json.loads(value) if value.startswith("[") else [v for v in value.split(",") if v]
            except json.JSONDecodeError as exc:
                raise RubricError(self.id, None, f"not a list of options: {value!r}") from exc
            unknown = [v for v in chosen if v not in allowed]
            if unknown or not isinstance(chosen, list):
                raise RubricError(self.id, None, f"unknown option {unknown[0] if unknown else value!r}")
            return json.dumps([v for v in allowed if v in chosen])  # canonical: options in their order, once
        if value not in allowed:
            raise RubricError(self.id, None, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def shown(self, value: str | None) -> str:
        """An answer as a reviewer reads it: the option's value and label, the chosen options, or the text."""
        if value is None:
            return ""
        if self.kind == "text":
            return value
        labels = self.option_labels()
        if self.kind == "multi":
            chosen = json.loads(value) if value else []
            return ", ".join(labels.get(v, v) for v in chosen) or "none"
        label = labels.get(value, value)
        # A numbered level reads with its number (a 0-3 scale's "2 vague"); a named one by its label.
        return f"{value} {label}" if value.isdigit() and label != value else label


@dataclass(frozen=True, slots=True)
class Rubric:
    name: str
    title: str
    source: str  # where the label schema comes from (a citation)
    questions: tuple[Question, ...]
    text: str  # the TOML as read: stored with the answers, so a session's rubric means the same thing forever
    path: str = ""

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def phase(self, phase: str) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.phase == phase)

    def missing_required(self, answers: Mapping[str, str], phase: str = "before") -> list[Question]:
        return [q for q in self.phase(phase) if q.required and not answers.get(q.id)]

    def column_names(self) -> list[str]:
        """One export column per question: `rubric:question`."""
        return [f"{self.name}:{q.id}" for q in self.questions]


def builtin_rubric_names() -> list[str]:
    return sorted(path.stem for path in BUILTIN_DIR.glob("*.toml"))


def load_rubric(name_or_path: str | Path) -> Rubric:
    """A rubric from a TOML file, or a built-in one by name (`swebench-verified`, ...)."""
    path = Path(name_or_path)
    if path.is_file():
        return parse_rubric(path.read_text(encoding="utf-8"), str(path))
    name = str(name_or_path)
    builtin = BUILTIN_DIR / f"{name}.toml"
    if RUBRIC_NAME.match(name) and builtin.is_file():
        return parse_rubric(builtin.read_text(encoding="utf-8"), f"built-in rubric {name}")
    if path.suffix == ".toml" or "/" in name:
        raise RubricError(name, None, "no such file")
    raise RubricError(
        name, None, f"no rubric file or built-in rubric by that name (built-ins: {', '.join(builtin_rubric_names())})"
    )


def parse_rubric(text: str, path: str = "<rubric>") -> Rubric:
    """The rubric in `text`; a RubricError names the line of the first problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column (\d+)\)", message)
        line = int(found.group(1)) if found else None
        problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", message) or "not valid TOML"
        raise RubricError(path, line, f"not valid TOML: {problem}") from exc
    lines = _Lines(text)
    for key in data:
        if key not in ("name", "title", "source", "question"):
            raise RubricError(path, lines.key_line(key), f"unknown key {key!r} (name, title, source, [[question]])")
    name = data.get("name")
    if not isinstance(name, str) or not RUBRIC_NAME.match(name):
        raise RubricError(
            path, lines.key_line("name"), "`name` must be lower case letters, digits, '-' or '_' (e.g. my-audit)"
        )
    raw_questions = data.get("question")
    if not isinstance(raw_questions, list) or not raw_questions:
        raise RubricError(path, lines.key_line("question"), "a rubric needs at least one [[question]]")
    questions: list[Question] = []
    for number, raw in enumerate(raw_questions):
        question = _question(raw, number, path, lines)
        if any(q.id == question.id for q in questions):
            raise RubricError(path, lines.in_question(number, "id"), f"question id {question.id!r} is used twice")
        questions.append(question)
    return Rubric(
        name=name,
        title=str(data.get("title", name)),
        source=str(data.get("source", "")),
        questions=tuple(questions),
        text=text,
        path=path,
    )


QUESTION_KEYS = ("id", "prompt", "short", "kind", "level", "required", "phase", "options", "ensemble")


def _question(raw: Any, number: int, path: str, lines: _Lines) -> Question:
    def bad(key: str, problem: str) -> RubricError:
        return RubricError(path, lines.in_question(number, key), f"question {number + 1}: {problem}")

    if not isinstance(raw, dict):
        raise bad("", "must be a table")
    for key in raw:
        if key not in QUESTION_KEYS:
            raise bad(key, f"unknown key {key!r} (expected {', '.join(QUESTION_KEYS)})")
    qid = raw.get("id")
    if not isinstance(qid, str) or not QUESTION_ID.match(qid):
        raise bad("id", "`id` must start with a lower case letter, then letters, digits or '_' (at most 40)")
    prompt = raw.get("prompt", "")
    if not isinstance(prompt, str) or not prompt.strip():
        raise bad("prompt", f"{qid}: `prompt` must be a non-empty string")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise bad("kind", f"{qid}: `kind` must be one of {', '.join(KINDS)}, not {kind!r}")
    level = raw.get("level", "patch")
    if level not in LEVELS:
        raise bad("level", f"{qid}: `level` must be task or patch, not {level!r}")
    phase = raw.get("phase", "before")
    if phase not in PHASES:
        raise bad("phase", f"{qid}: `phase` must be before or after, not {phase!r}")
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise bad("required", f"{qid}: `required` must be true or false")
    short = raw.get("short", "")
    if not isinstance(short, str) or len(short) > 24:
        raise bad("short", f"{qid}: `short` must be a string of at most 24 characters")
    ensemble = raw.get("ensemble", "majority")
    if ensemble not in ENSEMBLES:
        raise bad("ensemble", f"{qid}: `ensemble` must be one of {', '.join(ENSEMBLES)}")
    if ensemble != "majority" and kind != "ordinal":
        raise bad("ensemble", f'{qid}: `ensemble = "{ensemble}"` needs an ordinal question')
    options = _options(raw.get("options"), kind, qid, number, path, lines)
    return Question(qid, prompt.strip(), kind, level, required, phase, options, ensemble, short)


def _options(raw: Any, kind: str, qid: str, number: int, path: str, lines: _Lines) -> tuple[RubricOption, ...]:
    if kind == "text":
        if raw is not None:
            raise RubricError(path, lines.in_question(number, "options"), f"{qid}: a text question has no options")
        return ()
    if not isinstance(raw, list) or len(raw) < 2:
        raise RubricError(
            path, lines.in_question(number, "options"), f"{qid}: a {kind} question needs 2 or more options"
        )
    if len(raw) > MAX_OPTIONS:
        raise RubricError(
            path, lines.in_question(number, "options"), f"{qid}: at most {MAX_OPTIONS} options (one number key each)"
        )
    options: list[RubricOption] = []
    for option in raw:
        if isinstance(option, str | int) and not isinstance(option, bool):
            value, label = str(option), str(option)
        elif isinstance(option, dict) and set(option) <= {"value", "label"} and "value" in option:
            value, label = str(option["value"]), str(option.get("label", option["value"]))
        else:
            raise RubricError(
                path, lines.in_question(number, "options"), f"{qid}: an option is a string or {{ value, label }}"
            )
        line = lines.in_question(number, f'"{value}"', last=True)
        if not OPTION_VALUE.match(value):
            raise RubricError(path, line, f"{qid}: option value {value!r} must be letters, digits, '_', '.', '+', '-'")
        if any(o.value == value for o in options):
            raise RubricError(path, line, f"{qid}: option {value!r} is listed twice")
        options.append(RubricOption(value, label.strip() or value))
    return tuple(options)


class _Lines:
    """Where things are in the TOML text, for error messages (tomllib reports lines only for syntax errors)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [i for i, line in enumerate(self.lines) if line.strip().startswith("[[question]]")]

    def key_line(self, key: str) -> int | None:
        end = self.headers[0] if self.headers else len(self.lines)
        if key == "question":
            return self.headers[0] + 1 if self.headers else None
        return self._find(0, end, key)

    def in_question(self, number: int, needle: str, *, last: bool = False) -> int | None:
        if number >= len(self.headers):
            return None
        start = self.headers[number]
        end = self.headers[number + 1] if number + 1 < len(self.headers) else len(self.lines)
        if not needle:
            return start + 1
        found = self._find(start + 1, end, needle, last)
        return found if found is not None else start + 1

    def _find(self, start: int, end: int, needle: str, last: bool = False) -> int | None:
        pattern = re.compile(rf"^\s*{re.escape(needle)}\s*=") if not needle.startswith('"') else None
        for i in reversed(range(start, end)) if last else range(start, end):
            line = self.lines[i]
            if pattern.match(line) if pattern else needle in line:
                return i + 1
        return None


def answers_from_json(rubric: Rubric, raw: Mapping[str, Any]) -> dict[str, str]:
    """Answers given as a mapping (question id -> value), checked against the rubric."""
    out: dict[str, str] = {}
    for key, value in raw.items():
        try:
            question = rubric.question(key)
        except KeyError as exc:
            raise RubricError(rubric.name, None, f"no question {key!r} in rubric {rubric.name}") from exc
        if value is None or value == "":
            continue
        text = json.dumps(value) if isinstance(value, list) else str(value)
        out[key] = question.check(text)
    return out


def ordered(rubric: Rubric, answers: Mapping[str, str]) -> Sequence[tuple[Question, str]]:
    return [(q, answers[q.id]) for q in rubric.questions if q.id in answers]
