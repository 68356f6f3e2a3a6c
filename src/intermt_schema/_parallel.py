"""``intermt convert --workers N``: chunks of JSON lines go to worker processes, which
validate and convert them with :mod:`intermt_schema.batches`; the parent writes the
results in input order and accounts for every record.

At most ``2 * workers`` chunks are in flight, so memory stays bounded whatever the
input size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import msgspec

from ._fs import expand_inputs, iter_lines
from ._records import DEFAULT_MAX_RECORD_BYTES, TreeIds, line_result
from ._report import Issue, RecordResult, Report
from ._schema import DialogueTree, decode_tree
from ._validate import ValidationOptions
from .batches import convert_batch, validate_batch
from .formats import LossReport

__all__ = ["CHUNK_LINES", "parallel_records", "parallel_trees"]

CHUNK_LINES = 256

Chunk = dict[str, list[Any]]
_issues = msgspec.json.Decoder(list[Issue])


def _chunks(url: str, max_bytes: int, too_large: list[RecordResult]) -> Iterator[Chunk]:
    """Chunks of ``{"text", "source", "line"}``; lines too long to read are put in
    ``too_large`` instead (they are rejected without being held)."""
    for file in expand_inputs(url):
        chunk: Chunk = {"text": [], "source": [], "line": []}
        for number, line in iter_lines(file, max_bytes):
            if line is None:
                too_large.append(line_result(None, ValidationOptions(), file, number, max_bytes))
                continue
            chunk["text"].append(line)
            chunk["source"].append(file)
            chunk["line"].append(number)
            if len(chunk["text"]) == CHUNK_LINES:
                yield chunk
                chunk = {"text": [], "source": [], "line": []}
        if chunk["text"]:
            yield chunk


def _work(task: tuple[str | None, Chunk, ValidationOptions, dict[str, Any]]) -> Chunk:
    target, chunk, options, export_options = task
    if target is None:
        result: Chunk = validate_batch(chunk, options)
    else:
        result = convert_batch(chunk, target, options, **export_options)
    return result


def _in_order(tasks: Iterable[Any], workers: int) -> Iterator[tuple[Any, Chunk]]:
    """``(task, result)`` in task order, with at most ``2 * workers`` tasks in flight."""
    pending: deque[tuple[Any, Future[Chunk]]] = deque()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for task in tasks:
            pending.append((task, pool.submit(_work, task)))
            if len(pending) >= 2 * workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()


Account = Any
"""``(result, accepted)`` -> None: counts and reports one record (see ``_pipeline``)."""


def _rows(
    url: str,
    target: str | None,
    options: ValidationOptions,
    export_options: dict[str, Any],
    workers: int,
    account: Account,
) -> Iterator[tuple[Chunk, int]]:
    """Each output row as ``(columns, index)``, after its tree has been accounted for."""
    too_large: list[RecordResult] = []
    tree_ids = TreeIds()
    tasks = (
        (target, c, options, export_options)
        for c in _chunks(url, DEFAULT_MAX_RECORD_BYTES, too_large)
    )
    for (_, chunk, _, _), out in _in_order(tasks, workers):
        for result in too_large:
            account(result, False)
        too_large.clear()
        raw = dict(zip(chunk["line"], chunk["text"], strict=True))  # a chunk is one file's
        seen: tuple[str, int] | None = None
        for i, (source, line) in enumerate(zip(out["source"], out["line"], strict=True)):
            if (source, line) != seen:
                seen = (source, line)
                report = Report(_issues.decode(out["issues"][i]))
                tree_id = out["id"][i]
                if tree_id is not None:
                    duplicate = tree_ids.check(tree_id, source, line, options)
                    if duplicate is not None:
                        report.issues.append(duplicate)
                result = RecordResult(source, line, None, report, raw.get(line))
                account(result, report.ok)
            yield out, i
    for result in too_large:
        account(result, False)


def parallel_records(
    url: str,
    target: str,
    options: ValidationOptions,
    export_options: dict[str, Any],
    workers: int,
    account: Account,
    loss: LossReport,
) -> Iterator[msgspec.Raw]:
    """The target format's records of every accepted tree, encoded, in input order;
    what they could not express is counted in ``loss``."""
    for out, i in _rows(url, target, options, export_options, workers, account):
        loss.dropped.update(msgspec.json.decode(out["dropped"][i]))
        loss.changed.update(msgspec.json.decode(out["changed"][i]))
        record = out["record"][i]
        if record is not None:
            yield msgspec.Raw(record.encode())


def parallel_trees(
    url: str, options: ValidationOptions, workers: int, account: Account
) -> Iterator[DialogueTree]:
    """Every accepted tree, validated in the workers, in input order."""
    for out, i in _rows(url, None, options, {}, workers, account):
        tree = out["tree"][i]
        if tree is not None:
            yield decode_tree(tree.encode())
