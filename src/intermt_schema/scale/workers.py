"""``intermt convert --workers N``: chunks of whole JSON lines go to worker processes,
which split and validate them and write the accepted trees' records as JSON Lines
(or, for canonical Parquet and ``datasets`` folders, build their rows as an Arrow
table); the parent only cuts the chunks, accounts for every record, and writes the
workers' output in input order.

At most ``2 * workers`` chunks are in flight, so memory stays bounded whatever the
input size.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, NamedTuple

from .._errors import IntermtError, check_choice
from ..formats._registry import LossReport, get_format
from ..io._arrow import arrow_schema
from ..io._columns import to_table
from ..io._fs import expand_inputs
from ..io._hf import write_hf_tables
from ..io._input import block_lines, iter_blocks
from ..io._json_records import json_lines
from ..io._parquet import write_parquet_tables
from ..io._readers import (
    DEFAULT_MAX_RECORD_BYTES,
    TreeIds,
    file_failure,
    line_result,
    options_for,
)
from ..io._tables import LEVEL_ROWS, LEVELS, Level
from ..schema._structs import DialogueTree, decode_tree, encode_tree
from ..validation._images import MediaEmbedder
from ..validation._report import Issue, RecordResult, Report
from ..validation._rules import ValidationOptions
from .spool import Spooled, pack, spool_record, unpack

__all__ = [
    "CHUNK_BYTES",
    "CHUNK_LINES",
    "Account",
    "Chunk",
    "Done",
    "in_order",
    "jsonl_only",
    "parallel_lossless",
    "parallel_records",
    "parallel_spool",
    "parallel_trees",
    "parallel_validate",
]

CHUNK_BYTES = 1 << 20
"""A chunk is whole lines of about this many bytes (more when one line is longer)..."""
CHUNK_LINES = 256
"""...and at most this many records, so that its results stay small however short its
lines are."""


class Chunk(NamedTuple):
    """Whole lines of one file (see ``iter_blocks``), the first of them numbered
    ``first``; the parent cuts them without splitting, and a worker splits them."""

    source: str
    first: int
    block: bytes

    def lines(self) -> Iterator[tuple[int, bytes | None]]:
        """The chunk's numbered non-blank lines, as ``iter_lines`` gives them."""
        return block_lines(self.first, self.block)


class Done(NamedTuple):
    """A worker's result for a chunk: for each line, ``(line, tree id, issues, end)``,
    where ``end`` is the offset in ``output`` after the tree's output; ``output``, the
    accepted trees' records (or the trees themselves) as JSON Lines, or their rows as
    an Arrow table (``end`` counts rows); ``loss``, what the records could not express;
    ``unembedded``, the images left without bytes."""

    trees: list[tuple[int, str | None, list[Issue], int]]
    output: Any
    loss: LossReport
    unembedded: int = 0


def _chunks(url: str) -> Iterator[tuple[Chunk, list[RecordResult]]]:
    """The chunks of every file, with the problems met while reading them: lines too
    long to hold, and files that cannot be listed or read to the end (after the lines
    that could be read)."""
    try:
        files = expand_inputs(url)
    except Exception as exc:  # any fsspec backend error, as validate_path reports it
        yield Chunk(url, 1, b""), [file_failure(url, "open", exc)]
        return
    max_bytes = DEFAULT_MAX_RECORD_BYTES
    for file in files:
        problems: list[RecordResult] = []
        try:
            for first, block in iter_blocks(file, max_bytes, CHUNK_BYTES, CHUNK_LINES):
                if block is None:
                    problems.append(line_result(None, ValidationOptions(), file, first, max_bytes))
                    continue
                yield Chunk(file, first, block), problems
                problems = []
        except Exception as exc:  # a truncated archive: keep what was read, report the file
            problems.append(file_failure(file, "read", exc))
        if problems:
            yield Chunk(file, 1, b""), problems


ROWS = "rows"
"""The target whose output is the rows of canonical trees, an Arrow table per chunk
(what ``parquet`` and ``hf`` write)."""

SPOOL = "spool"
"""The target whose output is what ``publish`` spools of each tree (see ``spool``),
packed."""


class _ChunkOutput:
    """What a worker makes of a chunk's accepted trees for ``target``: a record format's
    records, or the trees themselves for ``jsonl``, as JSON Lines; the rows of
    canonical Parquet, images embedded from ``source_root``, for :data:`ROWS`; the
    packed spool records for :data:`SPOOL`; nothing for None. ``end`` is the output's
    length so far: bytes, or rows."""

    def __init__(self, target: str | None, export_options: dict[str, Any], loss: LossReport):
        self.target, self.end, self.loss = target, 0, loss
        self._made: list[Any] = []
        self._embed = MediaEmbedder(export_options.get("source_root"))
        self._options = export_options
        self._build = None if target in (None, ROWS, SPOOL) else get_format(target).records
        self._cls, self._rows_of = LEVEL_ROWS[export_options.get("level", "tree")]

    def add(self, tree: DialogueTree) -> None:
        if self.target is None:
            return
        if self.target == ROWS:
            rows = self._rows_of(self._embed(tree))
            self._made += rows
            self.end += len(rows)
            return
        if self.target == SPOOL:
            made = [pack(spool_record(tree, self._embed, self._options["group_by"]))]
        elif self._build is None:  # jsonl: the tree itself
            made = [encode_tree(tree) + b"\n"]
        else:
            made = list(json_lines(self._build([tree], self.loss, **self._options)))
        self._made += made
        self.end += sum(map(len, made))

    def done(self, trees: list[tuple[int, str | None, list[Issue], int]]) -> Done:
        if self.target != ROWS:
            return Done(trees, b"".join(self._made), self.loss)
        table = to_table(self._made, arrow_schema(hf_images=False, cls=self._cls))
        return Done(trees, table, self.loss, self._embed.unembedded)


def _work(task: tuple[str | None, Chunk, ValidationOptions, dict[str, Any]]) -> Done:
    """Validate a chunk's lines, and make the accepted trees' output (see ``_ChunkOutput``)."""
    target, chunk, options, export_options = task
    output = _ChunkOutput(target, export_options, LossReport(format=target or "jsonl"))
    options = options_for(chunk.source, options)
    trees: list[tuple[int, str | None, list[Issue], int]] = []
    for number, line in chunk.lines():
        result = line_result(line, options, chunk.source, number, DEFAULT_MAX_RECORD_BYTES)
        tree = result.tree
        if tree is not None and result.report.ok:
            output.add(tree)
        tree_id = tree.id if tree is not None else None
        trees.append((number, tree_id, result.report.issues, output.end))
    return output.done(trees)


WORKER_HEAP_BYTES = 32 << 20
"""A worker's allocator serves blocks up to this size from its heap rather than mapping
each afresh, and hands freed memory back to the system only past twice this."""


def _start_worker() -> None:
    """Ask Linux to end this worker when its parent dies, so that a killed run leaves
    no worker behind (elsewhere the pool's own shutdown ends them); and keep the
    chunks' memory in the heap. Each chunk brings blocks of about a megabyte, which
    glibc would otherwise map and unmap one by one: every page faulted anew, a third
    of the system time of ``convert --workers 2`` (see ``benchmarks/README.md``)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
            libc.mallopt(-3, WORKER_HEAP_BYTES)  # M_MMAP_THRESHOLD
            libc.mallopt(-1, 2 * WORKER_HEAP_BYTES)  # M_TRIM_THRESHOLD


def in_order(
    work: Callable[[Any], Any], tasks: Iterable[tuple[Any, Any]], workers: int
) -> Iterator[tuple[Any, Any, Any]]:
    """``(task, extra, work(task))`` for each ``(task, extra)``, in order, ``work`` run in
    ``workers`` processes with at most ``2 * workers`` tasks in flight. A worker that
    dies (killed, out of memory) ends the run with an ``IntermtError``, never a hang
    or a traceback."""
    pending: deque[tuple[Any, Any, Future[Any]]] = deque()
    try:
        with ProcessPoolExecutor(max_workers=workers, initializer=_start_worker) as pool:
            for task, extra in tasks:
                pending.append((task, extra, pool.submit(work, task)))
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


def _output(
    url: str,
    target: str | None,
    options: ValidationOptions,
    export_options: dict[str, Any],
    workers: int,
    account: Account,
    loss: LossReport,
    tree_ids: TreeIds | None = None,
    seen: Callable[[Done], None] | None = None,
) -> Iterator[Any]:
    """The accepted trees' output, as blocks of JSON Lines (or Arrow tables) in input
    order, after each record read has been accounted for; the workers' losses are
    merged into ``loss``, and ``seen`` is given each chunk's result. Pass one
    ``tree_ids`` to several calls to compare ids across them."""
    tree_ids = TreeIds() if tree_ids is None else tree_ids
    tasks = (
        ((target, chunk, options, export_options), problems) for chunk, problems in _chunks(url)
    )
    for (_, chunk, _, _), problems, done in in_order(_work, tasks, workers):
        loss.merge(done.loss)
        if seen is not None:
            seen(done)
        # problems go where one process meets them: by line, then the file's own
        by_line = deque(sorted((p for p in problems if p.line is not None), key=_line))
        kept, start, previous = [], 0, 0  # output[start:] is kept; the tree's begins at previous
        raws: dict[int, bytes | None] = {}
        for number, tree_id, issues, end in done.trees:
            while by_line and _line(by_line[0]) < number:
                account(by_line.popleft(), False)
            report = Report(issues)
            ok = report.ok
            accepted = tree_id is not None and ok
            if tree_id is not None:
                duplicate = tree_ids.check(tree_id, chunk.source, number, options)
                if duplicate is not None:
                    report.issues.append(duplicate)
                    ok = report.ok
            raw = None
            if not ok:
                raws = raws or dict(chunk.lines())
                raw = raws[number]
            account(RecordResult(chunk.source, number, None, report, raw), ok)
            if accepted and not ok:  # a duplicate id that options make an error
                kept.append(_part(done.output, start, previous))
                start = end
            previous = end
        kept.append(_part(done.output, start, None))
        yield from kept
        for problem in [*by_line, *(p for p in problems if p.line is None)]:
            account(problem, False)


def _line(result: RecordResult) -> int:
    return result.line or 0


def _part(output: Any, start: int, end: int | None) -> Any:
    """``output[start:end]``, for bytes and for an Arrow table (whose ends are rows)."""
    if isinstance(output, bytes):
        return output[start:end]
    return output.slice(start, None if end is None else end - start)


def parallel_records(
    url: str,
    target: str,
    options: ValidationOptions,
    export_options: dict[str, Any],
    workers: int,
    account: Account,
    loss: LossReport,
) -> Iterator[bytes]:
    """The target format's records of every accepted tree, as blocks of JSON Lines in
    input order (see ``write_records``); what they could not express is counted in
    ``loss``."""
    return _output(url, target, options, export_options, workers, account, loss)


def parallel_trees(
    url: str, options: ValidationOptions, workers: int, account: Account
) -> Iterator[DialogueTree]:
    """Every accepted tree, validated in the workers, in input order."""
    trees = _output(url, "jsonl", options, {}, workers, account, LossReport(format="jsonl"))
    for block in trees:
        for line in block.splitlines():
            yield decode_tree(line)


def parallel_lossless(
    url: str,
    output: str,
    target: str,
    options: ValidationOptions,
    source_root: str | None,
    workers: int,
    account: Account,
    level: Level = "tree",
) -> tuple[int, int]:
    """Write every accepted tree of ``url`` to ``output`` as canonical Parquet (``target``
    ``parquet``) or a ``save_to_disk`` folder (``hf``), at ``level`` (trees, or the
    path or pair table), the rows built in the workers with the images under
    ``source_root`` embedded; returns the rows written and the images that carry no
    bytes."""
    if target not in ("parquet", "hf"):
        raise ValueError(f"the workers build rows for parquet and hf, not {target!r}")
    unembedded = 0

    def seen(done: Done) -> None:
        nonlocal unembedded
        unembedded += done.unembedded

    def count() -> int:
        return unembedded

    check_choice("level", level, LEVELS)
    export = {"source_root": source_root, "level": level}
    loss = LossReport(format=target)
    tables = _output(url, ROWS, options, export, workers, account, loss, seen=seen)
    cls = LEVEL_ROWS[level][0]
    if target == "hf":
        return write_hf_tables(tables, output, cls, count), unembedded
    return write_parquet_tables(tables, output, count, cls), unembedded


def parallel_spool(
    url: str,
    options: ValidationOptions,
    source_root: str | None,
    group_by: Sequence[str],
    workers: int,
    account: Account,
) -> Iterator[Spooled]:
    """What ``publish`` spools of every accepted tree of ``url`` (see ``spool``), in
    input order: the trees validated, their files under ``source_root`` embedded and
    their keys under ``group_by`` computed in the workers."""
    export = {"source_root": source_root, "group_by": list(group_by)}
    return unpack(_output(url, SPOOL, options, export, workers, account, LossReport("none")))


def parallel_validate(
    url: str, options: ValidationOptions, workers: int, account: Account, tree_ids: TreeIds
) -> None:
    """Validate every record of ``url`` in the workers, accounting for each in input
    order; tree ids are compared across the calls that share ``tree_ids``."""
    deque(_output(url, None, options, {}, workers, account, LossReport("none"), tree_ids), 0)


def jsonl_only(url: str) -> bool:
    """Whether every data file ``url`` names is JSON Lines, what the workers read."""
    try:
        return all(f.endswith((".jsonl", ".jsonl.gz")) for f in expand_inputs(url))
    except Exception:  # any fsspec backend error: the one-process path reports it
        return False
