"""``ask-many``'s files: the questions read, the answers written one whole line at a time, and
the resume that skips what an earlier run already wrote."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import ValidationError
from ..resources.bots import ASK_OPTIONS, REQUEST_OPTIONS

__all__ = ["AnswerFile", "Item", "Resume", "read_questions", "scan_answers"]

#: The keys a ``.jsonl`` line (or ``.json`` object, or ``.csv`` column) may hold besides
#: ``question`` and ``id``: ``ask_question``'s body options (the request options, a timeout say,
#: are the command's to set, not a line's), as the SDK lists them.
OPTION_KEYS = ASK_OPTIONS - REQUEST_OPTIONS
#: The JSON types each option accepts in a file (the values themselves, a temperature's range
#: say, are checked by the SDK when the item is asked). An option missing here (one the SDK
#: gained later) takes any JSON value and is checked by the SDK alone.
OPTION_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "instruction": ((str,), "a string"),
    "message_history": ((list,), "an array of messages"),
    "temperature": ((int, float), "a number"),
    "stop": ((str, list), "a string or an array of strings"),
    "categories": ((list,), "an array of strings"),
    "user_attributes": ((dict,), "an object"),
    "functions": ((list,), "an array of objects"),
    "function_call": ((str, dict), "a string or an object"),
}
_ANY_JSON: tuple[tuple[type, ...], str] = ((object,), "any JSON value")
#: Wire (camelCase) spellings accepted too.
_ALIASES = {"messageHistory": "message_history"}
#: Options whose ``.csv`` cell is read as a number, or as JSON (a cell that is not JSON is a plain
#: string for the options that take one).
_CSV_NUMBERS = frozenset({"temperature"})
_CSV_JSON = frozenset(OPTION_KEYS - {"instruction", "temperature"})
#: Suffixes read as each format; anything else is read as text, one question a line, except
#: these spreadsheet and binary formats, refused with a hint.
_JSONL = (".jsonl", ".ndjson")
_CSV = {".csv": ",", ".tsv": "\t"}
_REFUSED = (
    ".xlsx",
    ".xls",
    ".xlsm",
    ".ods",
    ".numbers",
    ".parquet",
    ".pdf",
    ".docx",
    ".gz",
    ".zip",
)
FORMATS = (
    ".txt (one question a line), .jsonl (one object a line), .csv or .tsv (a 'question' "
    "column) or .json (an array of strings or objects)"
)


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
    return path.suffix.lower() in _JSONL


def read_questions(path: Path) -> list[Item]:
    """The questions of a ``.txt`` file (one a line, blank lines skipped), a ``.jsonl`` file (one
    object a line with at least ``question``), a ``.csv``/``.tsv`` file (a header row with a
    ``question`` column; ``id`` and option columns optional) or a ``.json`` file (an array of
    strings or objects). Every mistake, a value of the wrong type included, raises
    ValidationError naming the file and the line (or item) before anything is asked."""
    suffix = path.suffix.lower()
    if suffix in _REFUSED:
        raise ValidationError(
            f"{path}: {suffix} files are not read; export the questions as one of: {FORMATS}",
            field="questions",
        )
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM (spreadsheets write one) is dropped
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path} is not UTF-8 text: {exc}", field="questions") from None
    if suffix in _CSV:
        items = _read_csv(path, text, _CSV[suffix])
    elif suffix == ".json":
        items = _read_json(path, text)
    else:
        items = []
        jsonl = suffix in _JSONL
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            if not jsonl:
                items.append(Item(len(items), line.strip()))
                continue
            items.append(
                _parse_item(f"{path} line {number}", _json_object(path, number, line), len(items))
            )
    if not items:
        raise ValidationError(f"{path} holds no questions", field="questions")
    return items


def _json_object(path: Path, number: int, line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError as exc:
        raise ValidationError(
            f"{path} line {number} is not JSON: {exc}", field="questions"
        ) from None


def _read_json(path: Path, text: str) -> list[Item]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValidationError(f"{path} is not JSON: {exc}", field="questions") from None
    if not isinstance(data, list):
        raise ValidationError(
            f"{path} must hold a JSON array of questions (strings or objects with a 'question'), "
            f"not {_json_type(data)}",
            field="questions",
        )
    items: list[Item] = []
    for number, entry in enumerate(data, start=1):
        where = f"{path} item {number}"
        if isinstance(entry, str):
            if not entry.strip():
                raise ValidationError(f"{where} is an empty question", field="questions")
            items.append(Item(len(items), entry.strip()))
        else:
            items.append(_parse_item(where, entry, len(items)))
    return items


def _read_csv(path: Path, text: str, delimiter: str) -> list[Item]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None or "question" not in [h.strip() for h in header]:
            raise ValidationError(
                f"{path} line 1 must be a header row with a 'question' column (and optionally "
                f"'id' and option columns: {', '.join(sorted(OPTION_KEYS))})",
                field="questions",
            )
        columns = [h.strip() for h in header]
        for column in columns:
            if columns.count(column) > 1:
                raise ValidationError(
                    f"{path} line 1: column {column!r} appears twice", field="questions"
                )
            if column not in ("question", "id") and _ALIASES.get(column, column) not in OPTION_KEYS:
                raise ValidationError(
                    f"{path} line 1: unknown column {column!r} (allowed: {_allowed()})",
                    field="questions",
                )
        items: list[Item] = []
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            where = f"{path} line {number}"
            if len(row) != len(columns):
                raise ValidationError(
                    f"{where} has {len(row)} cells for {len(columns)} columns", field="questions"
                )
            obj: dict[str, Any] = {}
            for column, cell in zip(columns, row, strict=True):
                if not cell.strip() and column != "question":
                    continue  # an empty cell: the option is not set
                obj[column] = _csv_value(where, _ALIASES.get(column, column), cell)
            items.append(_parse_item(where, obj, len(items)))
    except csv.Error as exc:
        raise ValidationError(
            f"{path} line {reader.line_num} is not valid CSV: {exc}", field="questions"
        ) from None
    return items


def _csv_value(where: str, column: str, cell: str) -> Any:
    if column in _CSV_NUMBERS:
        try:
            return float(cell)
        except ValueError:
            raise ValidationError(
                f"{where}: {column} must be a number, got {cell!r}", field="questions"
            ) from None
    if column in _CSV_JSON:
        text = cell.strip()
        if text[:1] in ("[", "{", '"'):
            try:
                return json.loads(text)
            except ValueError as exc:
                raise ValidationError(
                    f"{where}: the {column} cell is not JSON: {exc}", field="questions"
                ) from None
        return text  # a plain string: refused below unless the option takes one
    return cell.strip()


def _allowed() -> str:
    return ", ".join(sorted(OPTION_KEYS | {"question", "id"}))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _parse_item(where: str, obj: Any, index: int) -> Item:
    """One question object (a ``.jsonl`` line, a ``.json`` item, a ``.csv`` row as a dict),
    its value types checked."""
    if not isinstance(obj, dict):
        raise ValidationError(
            f"{where} must be a JSON object, not {_json_type(obj)}", field="questions"
        )
    obj = dict(obj)
    question = obj.pop("question", None)
    if not isinstance(question, str) or not question.strip():
        got = "" if question is None else f", not {_json_type(question)}"
        raise ValidationError(
            f"{where} needs a non-empty string 'question'{got}", field="questions"
        )
    item_id = obj.pop("id", None)
    if item_id is not None and (isinstance(item_id, bool) or not isinstance(item_id, (str, int))):
        raise ValidationError(
            f"{where}: 'id' must be a string or an integer, not {_json_type(item_id)}",
            field="questions",
        )
    options: dict[str, Any] = {}
    for key, value in obj.items():
        name = _ALIASES.get(key, key)
        if name not in OPTION_KEYS:
            raise ValidationError(
                f"{where}: unknown key {key!r} (allowed: {_allowed()})", field="questions"
            )
        types, expected = OPTION_TYPES.get(name, _ANY_JSON)
        if (
            value is not None
            and types is not _ANY_JSON[0]
            and (isinstance(value, bool) or not isinstance(value, types))
        ):
            raise ValidationError(
                f"{where}: {key!r} must be {expected}, not {_json_type(value)}", field="questions"
            )
        options[name] = value
    return Item(index, question, item_id, options)


@dataclass
class Resume:
    """What an existing answers file holds: the indexes done, and what to rewrite."""

    done: set[int] = field(default_factory=set)
    #: Error lines dropped so that their questions are asked again.
    dropped_errors: int = 0
    #: Error lines kept (``--no-retry-errors``): those questions stay failed.
    kept_errors: int = 0
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
        if has_error:
            resume.kept_errors += 1
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
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        try:
            self._fd: int | None = os.open(path, flags | os.O_EXCL, 0o644)
            #: Whether this run created the file (then closing it with nothing written removes
            #: it: a fatal error at the start leaves no empty answers file behind).
            self.created = True
        except FileExistsError:
            self._fd = os.open(path, flags, 0o644)
            self.created = False
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
            if self.created and not self.written:
                try:
                    self.path.unlink()
                except OSError:
                    pass

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
