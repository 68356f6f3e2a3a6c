"""``intermt convert --workers N``: chunks of JSON lines go to worker processes, which
validate and convert them with :mod:`intermt_schema.scale.batches`; the parent writes the
results in input order and accounts for every record.

At most ``2 * workers`` chunks are in flight, so memory stays bounded whatever the
input size.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import msgspec

from .._errors import IntermtError
from ..formats._registry import LossReport
from ..io._fs import expand_inputs, iter_lines
from ..io._readers import DEFAULT_MAX_RECORD_BYTES, TreeIds, file_failure, line_result
from ..schema._structs import DialogueTree, decode_tree
from ..validation._report import Issue, RecordResult, Report
from ..validation._rules import ValidationOptions
from .batches import convert_batch, validate_batch

__all__ = ["CHUNK_LINES", "Account", "Chunk", "parallel_records", "parallel_trees"]

CHUNK_LINES = 256


Chunk = dict[str, list[Any]]


_issues = msgspec.json.Decoder(list[Issue])


def _empty() -> Chunk:
    return {"text": [], "source": [], "line": []}


def _chunks(url: str, max_bytes: int) -> Iterator[tuple[Chunk, list[RecordResult]]]:
    """Chunks of ``{"text", "source", "line"}`` of one file each, with the problems met
    while reading them: lines too long to hold, and files that cannot be listed or read
    to the end (after the lines that could be read)."""
    try:
        files = expand_inputs(url)
    except Exception as exc:  # any fsspec backend error, as validate_path reports it
        yield _empty(), [file_failure(url, "open", exc)]
        return
    for file in files:
        chunk, problems = _empty(), []
        try:
            for number, line in iter_lines(file, max_bytes):
                if line is None:
                    problems.append(line_result(None, ValidationOptions(), file, number, max_bytes))
                    continue
                chunk["text"].append(line)
                chunk["source"].append(file)
                chunk["line"].append(number)
                if len(chunk["text"]) == CHUNK_LINES:
                    yield chunk, problems
                    chunk, problems = _empty(), []
        except Exception as exc:  # a truncated archive: keep what was read, report the file
            problems.append(file_failure(file, "read", exc))
        if chunk["text"] or problems:
            yield chunk, problems


def _work(task: tuple[str | None, Chunk, ValidationOptions, dict[str, Any]]) -> Chunk:
    target, chunk, options, export_options = task
    if target is None:
        result: Chunk = validate_batch(chunk, options)
    else:
        result = convert_batch(chunk, target, options, **export_options)
    return result


def _die_with_parent() -> None:
    """Ask Linux to end this worker when its parent dies, so that a killed run leaves
    no worker behind (elsewhere the pool's own shutdown ends them)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _in_order(tasks: Iterable[tuple[Any, Any]], workers: int) -> Iterator[tuple[Any, Any, Chunk]]:
    """``(task, extra, result)`` for each ``(task, extra)``, in order, with at most
    ``2 * workers`` tasks in flight. A worker that dies (killed, out of memory) ends
    the run with an ``IntermtError``, never a hang or a traceback."""
    pending: deque[tuple[Any, Any, Future[Chunk]]] = deque()
    try:
        with ProcessPoolExecutor(max_workers=workers, initializer=_die_with_parent) as pool:
            for task, extra in tasks:
                pending.append((task, extra, pool.submit(_work, task)))
                if len(pending) >= 2 * workers:
                    done, kept, future = pending.popleft()
                    yield done, kept, future.result()
            while pending:
                done, kept, future = pending.popleft()
                yield done, kept, future.result()
    except BrokenProcessPool:
        raise IntermtError(
            "a worker process died (killed, or out of memory); nothing was written"
        ) from None


Account = Any


"""``(result, accepted)`` -> None: counts and reports one record (``cli._accounting``)."""


def _rows(
    url: str,
    target: str | None,
    options: ValidationOptions,
    export_options: dict[str, Any],
    workers: int,
    account: Account,
) -> Iterator[tuple[Chunk, int]]:
    """Each output row as ``(columns, index)``, after its tree has been accounted for."""
    tree_ids = TreeIds()
    tasks = (
        ((target, chunk, options, export_options), problems)
        for chunk, problems in _chunks(url, DEFAULT_MAX_RECORD_BYTES)
    )
    for (_, chunk, _, _), problems, out in _in_order(tasks, workers):
        # problems go where one process meets them: by line, then the file's own
        by_line = deque(sorted((p for p in problems if p.line is not None), key=_line))
        raw = dict(zip(chunk["line"], chunk["text"], strict=True))  # a chunk is one file's
        seen: tuple[str, int] | None = None
        for i, (source, line) in enumerate(zip(out["source"], out["line"], strict=True)):
            if (source, line) != seen:
                seen = (source, line)
                while by_line and _line(by_line[0]) < line:
                    account(by_line.popleft(), False)
                report = Report(_issues.decode(out["issues"][i]))
                tree_id = out["id"][i]
                if tree_id is not None:
                    duplicate = tree_ids.check(tree_id, source, line, options)
                    if duplicate is not None:
                        report.issues.append(duplicate)
                result = RecordResult(source, line, None, report, raw.get(line))
                account(result, report.ok)
            yield out, i
        for problem in [*by_line, *(p for p in problems if p.line is None)]:
            account(problem, False)


def _line(result: RecordResult) -> int:
    return result.line or 0


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
        loss.images += out["images"][i]
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
