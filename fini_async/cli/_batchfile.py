"""``ask-many``'s files: the questions read, the answers written one whole line at a time, and
the resume that skips what an earlier run already wrote."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._exceptions import ValidationError

__all__ = ["AnswerFile", "Item", "Resume", "read_questions", "scan_answers"]

#: The keys a ``.jsonl`` line may hold besides ``question`` and ``id``: ``ask_question``'s options.
OPTION_KEYS = frozenset(
    {
        "instruction",
        "message_history",
        "temperature",
        "stop",
        "categories",
        "user_attributes",
        "functions",
        "function_call",
    }
)
#: Wire (camelCase) spellings accepted too.
_ALIASES = {"messageHistory": "message_history"}


@dataclass(frozen=True)
class Item:
    """One input question: its position among the inputs, its optional ``id`` and its
    ``ask_question`` options."""

    index: int
    question: str
    id: Any = None
    options: dict[str, Any] = field(default_factory=dict)

    def request(self) -> dict[str, Any]:
        return {**self.options, "question": self.question}


def is_jsonl(path: Path) -> bool:
    return path.suffix.lower() in (".jsonl", ".ndjson")


def read_questions(path: Path) -> list[Item]:
    """The questions of a ``.txt`` file (one a line, blank lines skipped) or a ``.jsonl`` file
    (one object a line with at least ``question``). Raises ValidationError naming the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path} is not UTF-8 text: {exc}", field="questions") from None
    items: list[Item] = []
    jsonl = is_jsonl(path)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if not jsonl:
            items.append(Item(len(items), line.strip()))
            continue
        items.append(_parse_item(path, number, line, len(items)))
    if not items:
        raise ValidationError(f"{path} holds no questions", field="questions")
    return items


def _parse_item(path: Path, number: int, line: str, index: int) -> Item:
    where = f"{path} line {number}"
    try:
        obj = json.loads(line)
    except ValueError as exc:
        raise ValidationError(f"{where} is not JSON: {exc}", field="questions") from None
    if not isinstance(obj, dict):
        raise ValidationError(f"{where} must be a JSON object", field="questions")
    question = obj.pop("question", None)
    if not isinstance(question, str) or not question.strip():
        raise ValidationError(f"{where} needs a non-empty string 'question'", field="questions")
    item_id = obj.pop("id", None)
    options: dict[str, Any] = {}
    for key, value in obj.items():
        name = _ALIASES.get(key, key)
        if name not in OPTION_KEYS:
            allowed = ", ".join(sorted(OPTION_KEYS | {"question", "id"}))
            raise ValidationError(
                f"{where}: unknown key {key!r} (allowed: {allowed})", field="questions"
            )
        options[name] = value
    return Item(index, question, item_id, options)


@dataclass
class Resume:
    """What an existing answers file holds: the indexes done, and what to rewrite."""

    done: set[int] = field(default_factory=set)
    #: Error lines dropped so that their questions are asked again.
    dropped_errors: int = 0
    #: A last line cut short (an interrupted write), dropped.
    truncated: bool = False
    #: Lines for an index already seen (two runs writing at once), dropped.
    duplicates: int = 0
    #: The lines to keep, when the file must be rewritten (None: leave it as it is).
    keep: list[bytes] | None = None


def scan_answers(path: Path, items: list[Item], *, retry_errors: bool) -> Resume:
    """Read an existing answers file. Every whole line must be a result of these inputs (else
    ValidationError, and the file is left alone); a last line without its newline is dropped;
    with ``retry_errors`` the error lines are dropped too, so their questions are asked again."""
    resume = Resume()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return resume
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline
    if tail.strip():
        resume.truncated = True
    keep: list[bytes] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        index, has_error = _check_line(path, number, raw, items)
        if index in resume.done:
            resume.duplicates += 1  # two runs at once wrote it: keep the first
            continue
        if has_error and retry_errors:
            resume.dropped_errors += 1
            continue
        resume.done.add(index)
        keep.append(raw)
    if resume.truncated or resume.dropped_errors or resume.duplicates:
        resume.keep = keep
    return resume


def _check_line(path: Path, number: int, raw: bytes, items: list[Item]) -> tuple[int, bool]:
    where = f"{path} line {number}"
    try:
        obj = json.loads(raw)
    except ValueError:
        obj = None
    index = obj.get("index") if isinstance(obj, dict) else None
    if not isinstance(obj, dict) or not isinstance(index, int) or isinstance(index, bool):
        raise ValidationError(
            f"{where} is not an ask-many result; choose another output file", field="output"
        )
    if not 0 <= index < len(items) or obj.get("question") != items[index].question:
        raise ValidationError(
            f"{where} (index {index}) does not answer the question at that index of the input; "
            "the input changed since that run: choose another output file",
            field="output",
        )
    return index, "error" in obj


class AnswerFile:
    """The answers file, opened for appending. Each :meth:`write` is one whole line sent with one
    ``write`` system call, so an interruption between two results loses nothing and never leaves
    half a line (short of a crash inside the kernel's write)."""

    def __init__(self, path: Path, resume: Resume) -> None:
        self.path = path
        if resume.keep is not None:
            _rewrite(path, resume.keep)
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.written = 0

    def write(self, line: str) -> None:
        """Append ``line`` (one JSON object, no newline) and its newline."""
        if self._fd is None:
            raise ValueError("the answers file is closed")
        data = (line + "\n").encode()
        view = memoryview(data)
        while view:
            sent = os.write(self._fd, view)
            view = view[sent:]
        self.written += 1

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> AnswerFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _rewrite(path: Path, lines: list[bytes]) -> None:
    """Replace ``path`` by ``lines`` atomically (a temporary file renamed over it)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        for line in lines:
            out.write(line + b"\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
