"""Validate, convert and sample pairs one batch at a time, for any distributed engine.

Each function takes a batch of trees and returns a batch of results. A pyarrow
``Table`` or ``RecordBatch`` (Ray Data's ``batch_format="pyarrow"``) gives back a
``Table``; a dict of columns (``datasets.Dataset.map(batched=True)``, Ray's
``batch_format="numpy"``) gives back a dict of lists. The trees come from a ``text``
column of canonical JSON lines (what ``ray.data.read_text`` and
``load_dataset("text")`` read from JSON Lines), or from the columns of a tree-level
canonical Parquet file. An optional ``path`` or ``source`` column names the file, and
an optional ``line`` column the record; otherwise records are numbered within the batch.

Nothing is lost: every input row gives at least one output row, and a rejected tree
comes out with its errors and the record as it was. The results are JSON text columns,
so they cross any engine's serialisation unchanged.

>>> line = '{"id": "t", "nodes": [{"id": "q", "role": "user", "content": []}]}'
>>> out = validate_batch({"text": [line, "{"]})
>>> out["accepted"], out["id"]
([True, False], ['t', None])

With Ray Data (``pip install 'intermt-schema[ray]'``)::

    ds = ray.data.read_text("s3://bucket/trees/", include_paths=True)
    checked = ds.map_batches(validate_batch, batch_format="pyarrow")
    trl = ds.map_batches(convert_batch, fn_kwargs={"format": "trl", "mode": "preference"},
                         batch_format="pyarrow")

With datasets (the output has its own rows, so the input columns are removed)::

    ds.map(convert_batch, batched=True, num_proc=8, remove_columns=ds.column_names,
           fn_kwargs={"format": "sharegpt", "mode": "ranking"})
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..sampling._criteria import PairOptions

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import msgspec

from .._errors import check_choice
from ..formats._registry import LossReport, available_formats, get_format
from ..io._readers import DEFAULT_MAX_RECORD_BYTES, line_result
from ..schema._structs import DialogueTree, encode_tree
from ..validation._report import RecordResult
from ..validation._rules import DEFAULT_OPTIONS, ValidationOptions

__all__ = [
    "CONVERT_COLUMNS",
    "PAIR_COLUMNS",
    "VALIDATE_COLUMNS",
    "Batch",
    "Produce",
    "convert_batch",
    "pairs_batch",
    "record_formats",
    "records_of",
    "validate_batch",
]

Batch = Any


"""A ``pyarrow.Table``, a ``pyarrow.RecordBatch`` or a mapping of column names to lists."""


VALIDATE_COLUMNS = {
    "source": "string",
    "line": "int64",
    "id": "string",
    "accepted": "bool",
    "issues": "string",
    "tree": "string",
    "record": "string",
}


"""What :func:`validate_batch` returns, one row per input row: where the record was,
its tree id, whether it was accepted, its issues (a JSON array), the tree as
canonical JSON when accepted, and the record verbatim when rejected."""


CONVERT_COLUMNS = {
    "source": "string",
    "line": "int64",
    "id": "string",
    "record": "string",
    "issues": "string",
    "dropped": "string",
    "changed": "string",
    "images": "int64",
}


"""What :func:`convert_batch` returns: one row per output record (JSON text), or one
row with ``record`` null for a rejected tree or a tree that gave no record. A tree's
first row carries its ``issues`` (a JSON array; an error among them means it was
rejected), ``dropped``, what its conversion could not express, ``changed``, what it
kept but reshaped (JSON objects of counts), and ``images``, how many images its records
name; its other rows carry ``[]``, ``{}`` and 0."""


PAIR_COLUMNS = {**{k: v for k, v in CONVERT_COLUMNS.items() if k != "record"}, "pair": "string"}


"""What :func:`pairs_batch` returns: as :data:`CONVERT_COLUMNS`, with a ``pair`` (JSON
text) in place of ``record``."""


def _columns(batch: Batch) -> tuple[dict[str, list[Any]], bool]:
    if hasattr(batch, "to_pydict"):
        return batch.to_pydict(), True
    return {k: list(v) for k, v in dict(batch).items()}, False


def _results(
    columns: Mapping[str, Sequence[Any]], options: ValidationOptions, max_record_bytes: int
) -> Iterator[RecordResult]:
    from ..io._readers import row_result

    size = len(next(iter(columns.values()), ()))
    sources = [str(s) for s in columns.get("path") or columns.get("source") or ["batch"] * size]
    given = columns.get("line") or [None] * size
    lines = [n if isinstance(n, int) else i for i, n in enumerate(given, start=1)]
    if "text" in columns:
        for text, source, number in zip(columns["text"], sources, lines, strict=True):
            if isinstance(text, str):
                raw = text.encode("utf-8", "surrogateescape")
            else:  # bytes from a binary column; anything else is not JSON text
                raw = bytes(text) if isinstance(text, (bytes, bytearray, memoryview)) else b""
            yield line_result(raw, options, source, number, max_record_bytes)
        return
    names = list(columns)
    rows = zip(*columns.values(), strict=True)
    for values, source, number in zip(rows, sources, lines, strict=True):
        yield row_result(dict(zip(names, values, strict=True)), options, source, number)


def _output(columns: dict[str, list[Any]], types: dict[str, str], arrow: bool) -> Batch:
    if not arrow:
        return columns
    import pyarrow as pa

    schema = pa.schema([(name, pa.type_for_alias(kind)) for name, kind in types.items()])
    return pa.Table.from_pydict(columns, schema=schema)


def validate_batch(
    batch: Batch,
    options: ValidationOptions = DEFAULT_OPTIONS,
    *,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Batch:
    """Validate each tree of a batch; the columns are :data:`VALIDATE_COLUMNS`."""
    columns, arrow = _columns(batch)
    out: dict[str, list[Any]] = {name: [] for name in VALIDATE_COLUMNS}
    for result in _results(columns, options, max_record_bytes):
        accepted = result.accepted
        out["source"].append(result.source)
        out["line"].append(result.line)
        out["id"].append(result.tree.id if result.tree is not None else None)
        out["accepted"].append(accepted)
        out["issues"].append(result.report.to_json().decode())
        tree = result.tree if accepted else None
        out["tree"].append(encode_tree(tree).decode() if tree is not None else None)
        raw = None if accepted or result.raw is None else result.raw.rstrip(b"\n")
        out["record"].append(raw.decode("utf-8", "replace") if raw is not None else None)
    return _output(out, VALIDATE_COLUMNS, arrow)


def record_formats() -> list[str]:
    """The formats :func:`convert_batch` can produce (those with a record builder)."""
    return [f.name for f in available_formats() if f.records is not None]


Produce = Callable[[DialogueTree], tuple[list[Any], LossReport]]


"""``tree -> (items, dropped, changed)``."""


def _per_tree(
    batch: Batch,
    produce: Produce,
    column: str,
    types: dict[str, str],
    options: ValidationOptions,
    max_record_bytes: int,
) -> Batch:
    """One row per item ``produce`` makes of each accepted tree (JSON text in
    ``column``), or one row with ``column`` null for a rejected or barren tree."""
    columns, arrow = _columns(batch)
    out: dict[str, list[Any]] = {name: [] for name in types}
    for result in _results(columns, options, max_record_bytes):
        items: list[str | None] = [None]
        issues, dropped, changed, images = result.report.to_json().decode(), "{}", "{}", 0
        if result.accepted and result.tree is not None:
            made, loss = produce(result.tree)
            items = [msgspec.json.encode(x).decode() for x in made] or [None]
            dropped = msgspec.json.encode(dict(loss.dropped)).decode()
            changed = msgspec.json.encode(dict(loss.changed)).decode()
            images = loss.images
        for i, item in enumerate(items):
            out["source"].append(result.source)
            out["line"].append(result.line)
            out["id"].append(result.tree.id if result.tree is not None else None)
            out[column].append(item)
            out["issues"].append(issues if i == 0 else "[]")
            out["dropped"].append(dropped if i == 0 else "{}")
            out["changed"].append(changed if i == 0 else "{}")
            out["images"].append(images if i == 0 else 0)
    return _output(out, types, arrow)


def convert_batch(
    batch: Batch,
    format: str,
    options: ValidationOptions = DEFAULT_OPTIONS,
    *,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    **export_options: Any,
) -> Batch:
    """Convert each accepted tree of a batch to ``format``'s records (see
    :func:`record_formats`); ``export_options`` are the format's own (``mode``,
    ``criterion``, ``source_root``, ...). The columns are :data:`CONVERT_COLUMNS`.

    >>> line = ('{"id": "t", "nodes": [{"id": "q", "role": "user", "content": '
    ...         '[{"type": "text", "text": "Hi"}]}, {"id": "a", "parent": "q", '
    ...         '"role": "assistant", "content": [{"type": "text", "text": "Hello"}]}]}')
    >>> convert_batch({"text": [line]}, "trl")["record"]
    ['{"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]},{"role":"assistant","content":[{"type":"text","text":"Hello"}]}],"images":[]}']
    """
    fmt = get_format(format)
    check_choice("record format", format, record_formats())
    list(fmt.build_records([], LossReport(format=format), **export_options))  # checks options
    build = fmt.records
    assert build is not None

    def produce(tree: DialogueTree) -> tuple[list[Any], LossReport]:
        loss = LossReport(format=format)
        return list(build([tree], loss, **export_options)), loss

    return _per_tree(batch, produce, "record", CONVERT_COLUMNS, options, max_record_bytes)


def pairs_batch(
    batch: Batch,
    options: ValidationOptions = DEFAULT_OPTIONS,
    *,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    **sampling: Unpack[PairOptions],
) -> Batch:
    """Sample preference pairs from each accepted tree of a batch; ``sampling`` takes
    :func:`intermt_schema.sample_pairs`'s options (checked at the call). Pairs depend only on their
    tree and the seed, so any batching gives the same pairs. The columns are
    :data:`PAIR_COLUMNS`; ``dropped`` counts the ratings and judgments left unpaired."""
    from ..sampling._criteria import check_pair_options
    from ..sampling.pairs import sample_pairs

    check_pair_options(sampling)

    def produce(tree: DialogueTree) -> tuple[list[Any], LossReport]:
        pairs, report = sample_pairs([tree], **sampling)
        unpaired = report.unpaired_ratings + report.unpaired_judgments
        return pairs, LossReport(format="pairs", dropped=unpaired)

    return _per_tree(batch, produce, "pair", PAIR_COLUMNS, options, max_record_bytes)


def records_of(batch: Batch, column: str = "record") -> Batch:
    """The records (or pairs, or trees) a batch result holds, decoded into their own
    columns, nulls skipped: what a trainer reads. An engine's JSON writer (Ray's
    ``write_json``) then writes the target format's JSON Lines. As a table, every row
    has every key, null where its record had none, as ``load_dataset("json")`` gives.

    >>> records_of({"record": ['{"a": 1}', None, '{"a": 2}']})
    {'a': [1, 2]}
    """
    columns, arrow = _columns(batch)
    rows = [msgspec.json.decode(text) for text in columns[column] if text is not None]
    if arrow:
        import pyarrow as pa

        return pa.Table.from_pylist(rows)
    names = list(dict.fromkeys(key for row in rows for key in row))
    return {name: [row.get(name) for row in rows] for name in names}
