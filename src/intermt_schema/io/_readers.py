"""Streaming validation of canonical files: every record comes out accepted or rejected.

>>> from intermt_schema import write_jsonl
>>> from intermt_schema import DialogueTree, Message, TextPart
>>> good = DialogueTree(id="a", nodes=[Message(id="q", role="user", content=[TextPart("Hi")])])
>>> _ = write_jsonl([good, DialogueTree(id="empty")], "memory://doc/v.jsonl")
>>> [(r.line, r.accepted) for r in validate_path("memory://doc/v.jsonl")]
[(1, True), (2, False)]
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Callable, Iterator
from typing import Any

import msgspec

from ..validation._checks import validate
from ..validation._pointers import pointer_from_msgspec
from ..validation._report import Issue, RecordResult, Report, unreadable
from ..validation._rules import DEFAULT_OPTIONS, RULES, ValidationOptions, rule_issue
from ..validation._structural import decode_and_validate
from ._arrow import row_to_tree
from ._fs import expand_inputs, is_local, source_problem
from ._input import DEFAULT_MAX_RECORD_BYTES, iter_lines, too_large_text
from ._parquet import iter_rows

__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "READERS",
    "RecordReader",
    "TreeIds",
    "file_failure",
    "line_result",
    "options_for",
    "row_result",
    "too_large_issue",
    "validate_path",
]

RecordReader = Callable[[str, ValidationOptions, int], Iterator[RecordResult]]


def line_result(
    line: bytes | None, options: ValidationOptions, source: str, number: int, max_bytes: int
) -> RecordResult:
    """One JSON line, decoded and validated; ``None`` or a longer line than
    ``max_bytes`` is rejected as ``record.too_large``."""
    if line is None or len(line) - line.endswith(b"\n") > max_bytes:
        return _too_large(source, number, max_bytes)
    tree, report = decode_and_validate(line, options, source=source, line=number)
    return RecordResult(source, number, tree, report, line)


def _jsonl_records(url: str, options: ValidationOptions, max_bytes: int) -> Iterator[RecordResult]:
    for number, line in iter_lines(url, max_bytes):
        yield line_result(line, options, url, number, max_bytes)


def too_large_issue(source: str, number: int, max_bytes: int) -> Issue:
    """The error of a record longer than ``max_bytes``, which is not read."""
    return rule_issue("record.too_large", too_large_text(max_bytes), file=source, line=number)


def _too_large(source: str, number: int, max_bytes: int) -> RecordResult:
    return RecordResult(
        source, number, None, Report([too_large_issue(source, number, max_bytes)]), None
    )


def _parquet_records(
    url: str, options: ValidationOptions, max_bytes: int
) -> Iterator[RecordResult]:
    for number, row in iter_rows(url, max_bytes):
        if row is None:
            yield _too_large(url, number, max_bytes)
        else:
            yield row_result(row, options, url, number)


READERS: dict[str, RecordReader] = {
    ".jsonl": _jsonl_records,
    ".jsonl.gz": _jsonl_records,
    ".parquet": _parquet_records,
}


"""Canonical readers by file suffix."""


def _reader_for(url: str) -> RecordReader | None:
    return next((r for suffix, r in READERS.items() if url.endswith(suffix)), None)


def file_failure(url: str, action: str, exc: BaseException | str) -> RecordResult:
    """A ``file.unreadable`` result: a problem with a whole file (met while trying to
    ``action`` it), not with one record."""
    return RecordResult(url, None, None, Report([unreadable(url, action, exc)]), None)


class TreeIds:
    """The tree ids seen so far in a run, to report ``corpus.duplicate_tree_id``.

    Holds one entry per distinct id (about 100 bytes each).

    >>> ids = TreeIds()
    >>> ids.check("t", "a.jsonl", 1, ValidationOptions()) is None
    True
    >>> ids.check("t", "b.jsonl", 7, ValidationOptions()).message
    "tree id 't' was already used at a.jsonl:1"
    """

    def __init__(self) -> None:
        self._files: dict[str, int] = {}
        self._seen: dict[str, tuple[int, int | None]] = {}

    def check(
        self, tree_id: str, source: str, line: int | None, options: ValidationOptions
    ) -> Issue | None:
        """None for a new id; else the issue, naming where the id was first used."""
        first = self._seen.get(tree_id)
        if first is None:
            file = self._files.setdefault(source, len(self._files))
            self._seen[tree_id] = (file, line)
            return None
        names = list(self._files)
        where = names[first[0]] + (f":{first[1]}" if first[1] is not None else "")
        return Issue(
            code="corpus.duplicate_tree_id",
            severity="error" if options.strict else RULES["corpus.duplicate_tree_id"][0],
            message=f"tree id {tree_id!r} was already used at {where}",
            path="/id",
            tree=tree_id,
            file=source,
            line=line,
        )


def validate_path(
    url: str,
    options: ValidationOptions = DEFAULT_OPTIONS,
    *,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    tree_ids: TreeIds | None = None,
) -> Iterator[RecordResult]:
    """Validate every record of a file, a folder of files, or an fsspec URL, streaming.

    Relative image paths resolve against ``options.images_root``, or else against the
    folder holding each data file. Unreadable files come out as a result with
    ``line=None`` and a ``file.unreadable`` issue, never as an exception. Tree ids
    used twice are reported (``corpus.duplicate_tree_id``); pass one ``tree_ids`` to
    several calls to compare across them.
    """
    ids = TreeIds() if tree_ids is None else tree_ids
    for result in _validate_files(url, options, max_record_bytes):
        if result.tree is not None:
            issue = ids.check(result.tree.id, result.source, result.line, options)
            if issue is not None:
                result.report.issues.append(issue)
        yield result


def _validate_files(
    url: str, options: ValidationOptions, max_record_bytes: int
) -> Iterator[RecordResult]:
    try:
        files = expand_inputs(url)
    except Exception as exc:  # any fsspec backend error, a missing backend included
        yield file_failure(url, "open", exc)
        return
    if not files:
        yield file_failure(url, "read", "no data files (*.jsonl, *.jsonl.gz, *.parquet) found")
    for file in files:
        problem = source_problem(url, file)
        if problem is not None:
            yield file_failure(file, "read", problem)
            continue
        reader = _reader_for(file)
        if reader is None:
            yield file_failure(
                file, "read", "not a canonical data file (*.jsonl, *.jsonl.gz, *.parquet)"
            )
            continue
        try:
            yield from reader(file, options_for(file, options), max_record_bytes)
        except Exception as exc:  # truncated archives, backend failures: report, go on
            yield file_failure(file, "read", exc)


def options_for(file: str, options: ValidationOptions) -> ValidationOptions:
    """The options a data file is validated with: without an images root, its images
    resolve in the folder that holds it.

    >>> options_for("s3://b/trees/x.jsonl", ValidationOptions()).images_root
    's3://b/trees'
    """
    if options.images_root is not None:
        return options
    if is_local(file):
        import os

        root = os.path.dirname(os.path.abspath(file.removeprefix("file://")))
    else:
        root = posixpath.dirname(file)
    return dataclasses.replace(options, images_root=root)


def row_result(
    row: dict[str, Any], options: ValidationOptions, source: str, number: int
) -> RecordResult:
    """One canonical Arrow row, decoded and validated; a row that does not fit the
    schema is rejected with a ``schema.type`` issue and kept as JSON."""
    try:
        tree = row_to_tree(row)
    except (msgspec.ValidationError, KeyError, TypeError, ValueError) as exc:
        text, path = pointer_from_msgspec(str(exc))
        tree_id = row.get("id") if isinstance(row.get("id"), str) else None
        issue = rule_issue("schema.type", text, path=path, tree=tree_id, file=source, line=number)
        return RecordResult(source, number, None, Report([issue]), msgspec.json.encode(row))
    report = validate(tree, options, source=source, line=number)
    kept = None if report.ok else msgspec.json.encode(row)  # a rejected row is kept whole
    return RecordResult(source, number, tree, report, kept)
