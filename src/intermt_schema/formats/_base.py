"""The format registry, loss reports, and the plumbing every format shares.

>>> import intermt_schema.formats
>>> [f.name for f in available_formats()][:3]
['hf', 'intermt-bench', 'jsonl']
"""

from __future__ import annotations

import inspect
import json
import os
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import structs

from .._errors import UnknownNameError
from .._fs import atomic_output, is_local, iter_lines, open_input
from .._report import Issue
from .._schema import DialogueTree, Judgment, Message

if TYPE_CHECKING:
    from ..tree import Conversation

__all__ = [
    "Format",
    "ImportResult",
    "LossReport",
    "available_formats",
    "bad_record",
    "export_records",
    "folder_of",
    "get_format",
    "load_records",
    "option_names",
    "preference",
    "read_json_records",
    "register_format",
    "sibling",
    "write_json_records",
    "write_records",
]


@dataclass
class LossReport:
    """What an export could not express, counted by reason.

    >>> loss = LossReport(format="llava")
    >>> loss.drop("ratings", 4)
    >>> print(loss.render())
    llava: 0 records written; dropped: ratings 4
    """

    format: str
    records: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    changed: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def drop(self, what: str, count: int = 1) -> None:
        """Count ``count`` items of ``what`` that did not make it into the output."""
        if count:
            self.dropped[what] += count

    def change(self, what: str, count: int = 1) -> None:
        """Count ``count`` items of ``what`` that were kept but moved or reshaped."""
        if count:
            self.changed[what] += count

    @property
    def lossless(self) -> bool:
        return not self.dropped

    def merge(self, other: LossReport) -> None:
        self.records += other.records
        self.dropped.update(other.dropped)
        self.changed.update(other.changed)
        self.notes.extend(other.notes)

    def render(self) -> str:
        lost = ", ".join(f"{k} {v}" for k, v in sorted(self.dropped.items())) or "nothing"
        text = f"{self.format}: {self.records} records written; dropped: {lost}"
        if self.changed:
            text += "; changed: " + ", ".join(f"{k} {v}" for k, v in sorted(self.changed.items()))
        return "\n".join([text, *(f"  note: {n}" for n in self.notes)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "records": self.records,
            "dropped": dict(self.dropped),
            "changed": dict(self.changed),
            "notes": self.notes,
        }


@dataclass
class ImportResult:
    """Trees rebuilt from a file, with the problems met and the records read."""

    trees: list[DialogueTree]
    issues: list[Issue] = field(default_factory=list)
    records: int = 0


Writer = Callable[..., LossReport]
Reader = Callable[..., ImportResult]
RecordBuilder = Callable[..., Iterator[dict[str, Any]]]
"""``records(trees, loss, **options)``: a format's output records one by one, counting
what they cannot express in ``loss`` (and naming it, e.g. ``trl (sft)``)."""


@dataclass(frozen=True)
class Format:
    """A registered format: a name, whether export is lossless, and its two halves.

    ``export(trees, url, *, source_root=None, **options) -> LossReport`` writes
    (``source_root`` is where the trees' relative image paths resolve);
    ``load(url, **options) -> ImportResult`` reads back into trees.

    Formats whose output is a sequence of JSON records also give ``records`` (see
    :data:`RecordBuilder`), so that batches can be converted anywhere
    (:mod:`intermt_schema.batches`); ``array`` says whether the file is one JSON array,
    and ``finish(url, **options)`` writes what goes beside it.
    """

    name: str
    description: str
    lossless: bool
    export: Writer
    load: Reader
    suffix: str = ".jsonl"
    records: RecordBuilder | None = None
    array: bool = False
    finish: Callable[..., None] | None = None


_REGISTRY: dict[str, Format] = {}


def register_format(fmt: Format) -> Format:
    """Add a format to the registry (warns when it replaces one of the same name)."""
    if fmt.name in _REGISTRY:
        warnings.warn(f"format {fmt.name!r} replaced", stacklevel=2)
    _REGISTRY[fmt.name] = fmt
    return fmt


def get_format(name: str) -> Format:
    """A registered format; the error lists every registered name."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown format {name!r}; available formats: {', '.join(sorted(_REGISTRY))}"
        ) from None


def available_formats() -> list[Format]:
    """Every registered format, by name."""
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


_encoder = msgspec.json.Encoder()


def write_json_records(records: Iterable[Any], url: str, *, array: bool) -> int:
    """Write records as a JSON array (``array=True``) or JSON Lines, streaming and
    atomically; returns the count."""
    count = 0
    with atomic_output(url) as out:
        if array:
            out.write(b"[")
        for record in records:
            if array:
                out.write(b",\n" if count else b"\n")
                out.write(_encoder.encode(record))
            else:
                out.write(_encoder.encode(record) + b"\n")
            count += 1
        if array:
            out.write(b"\n]\n")
    return count


def write_records(
    fmt: Format, records: Iterable[Any], url: str, loss: LossReport, **options: Any
) -> LossReport:
    """Write a record format's records to ``url`` (then ``fmt.finish``); fills in the
    count."""
    loss.records = write_json_records(records, url, array=fmt.array)
    if fmt.finish is not None:
        fmt.finish(url, **options)
    return loss


def folder_of(url: str) -> str:
    """The folder (path or URL) that holds ``url``.

    >>> folder_of("out/llava/data.json"), folder_of("s3://b/x/data.json")
    ('out/llava', 's3://b/x')
    """
    if is_local(url):
        return os.path.dirname(url.removeprefix("file://"))
    return url.rsplit("/", 1)[0]


def sibling(url: str, name: str) -> str:
    """``name`` in the folder that holds ``url``.

    >>> sibling("s3://b/x/data.json", "dataset_info.json")
    's3://b/x/dataset_info.json'
    """
    folder = folder_of(url)
    return os.path.join(folder, name) if is_local(url) else f"{folder}/{name}"


def option_names(*functions: Callable[..., Any] | None) -> set[str]:
    """The keyword options the given functions name (``**kwargs`` aside)."""
    return {
        p.name
        for fn in functions
        if fn is not None
        for p in inspect.signature(fn).parameters.values()
        if p.kind is not p.VAR_KEYWORD
    }


def export_records(fmt: Format, trees: Iterable[Any], url: str, **options: Any) -> LossReport:
    """The export of every record format: ``fmt.records`` written to ``url``, copied
    or inline images placed in the folder beside it, then ``fmt.finish`` with the same
    options. An option neither takes is a ``TypeError``."""
    build = fmt.records
    assert build is not None, f"{fmt.name} is not a record format"
    takes = option_names(build)
    unknown = set(options) - takes - option_names(fmt.finish)
    if unknown:
        raise TypeError(f"{fmt.name} export got unexpected options {sorted(unknown)}")
    chosen = {k: v for k, v in options.items() if k in takes}
    if "image_folder" in takes:
        chosen["image_folder"] = folder_of(url)
    loss = LossReport(format=fmt.name)
    return write_records(fmt, build(trees, loss, **chosen), url, loss, **options)


def read_json_records(url: str) -> Iterator[tuple[int, Any, str | None]]:
    """Yield ``(record_number, record, error)`` from a JSON array or JSON Lines file.

    A JSON array is read whole (such files are small in practice); JSON Lines stream,
    and a line that is not JSON comes out with ``record=None`` and the error text.
    """
    with open_input(url) as f:
        head = f.read(1 << 16).lstrip()
    if head.startswith(b"["):
        with open_input(url) as f:
            try:
                data = json.load(f)
            except ValueError as exc:
                yield 1, None, f"invalid JSON: {exc}"
                return
        for number, record in enumerate(data, start=1):
            yield number, record, None
        return
    for number, line in iter_lines(url):
        if line is None:
            yield number, None, "the line is too long to read"
            continue
        try:
            yield number, json.loads(line), None
        except ValueError as exc:
            yield number, None, f"invalid JSON: {exc}"


RecordParser = Callable[[dict[str, Any], int, list[Issue]], list["Conversation"]]
"""``(record, record_number, issues) -> conversations``; may raise KeyError, TypeError,
ValueError, AttributeError or IndexError for a malformed record."""


def bad_record(url: str, number: int, message: str) -> Issue:
    """The error for a record that cannot be read."""
    return Issue(code="import.bad_record", severity="error", file=url, line=number, message=message)


def load_records(url: str, parse: RecordParser, merge: Any = None) -> ImportResult:
    """Read every record of a JSON array or JSON Lines file into conversations with
    ``parse``, then merge them into trees. A record that is not JSON, not an object, or
    that ``parse`` cannot read becomes an ``import.bad_record`` issue; nothing raises.
    ``merge`` replaces ``merge_paths`` (to pass it options)."""
    from ..tree import merge_paths

    issues: list[Issue] = []
    conversations: list[Conversation] = []
    count = 0
    for number, record, error in read_json_records(url):
        count += 1
        if error is None and not isinstance(record, dict):
            error = "a record must be a JSON object"
        if error is None:
            found: list[Issue] = []
            try:
                conversations += parse(record, number, found)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            else:  # the parser's issues, placed at this record
                issues += [structs.replace(i, file=url, line=number) for i in found]
                continue
        issues.append(bad_record(url, number, error))
    merged = (merge or merge_paths)(conversations)
    return ImportResult(merged.trees, issues + merged.issues, count)


def preference(
    prompt: list[Message], chosen: list[Message], rejected: list[Message], number: int
) -> list[Conversation]:
    """The two conversations of a chosen/rejected record, with the judgment between
    their answers (``overall="a"``: the chosen one)."""
    from ..tree import Conversation, path_ids

    a_id = path_ids([*prompt, *chosen])[-1]
    b_id = path_ids([*prompt, *rejected])[-1]
    judgment = Judgment(a=a_id, b=b_id, scope="local", overall="a")
    return [
        Conversation(messages=[*prompt, *chosen], judgments=[judgment], record=number),
        Conversation(messages=[*prompt, *rejected], record=number),
    ]
