"""Canonical Parquet: one tree per row, nested columns, lossless, streamed in row groups.

The file carries Hugging Face features metadata, so ``datasets.load_dataset("parquet")``
restores every image as an ``Image`` feature.

>>> from intermt_schema._schema import DialogueTree
>>> write_parquet([DialogueTree(id="a")], "memory://doc/t.parquet")
1
>>> [t.id for t in read_parquet("memory://doc/t.parquet")]
['a']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import msgspec

from ._arrow import arrow_schema, row_to_tree, to_rows
from ._derive import pointer_from_msgspec
from ._errors import SchemaError, require
from ._fs import atomic_output, open_input
from ._report import Issue, RecordResult, Report
from ._schema import DialogueTree
from ._validate import ValidationOptions, validate

__all__ = ["read_parquet", "write_parquet"]

ROWS_PER_GROUP = 1000


def write_parquet(
    trees: Iterable[DialogueTree], url: str, *, rows_per_group: int = ROWS_PER_GROUP
) -> int:
    """Write trees to Parquet (atomically for local files); returns the count.

    Memory stays bounded by one row group.
    """
    pa = require("pyarrow", "parquet")
    pq = require("pyarrow.parquet", "parquet")
    schema = arrow_schema()
    count = 0
    it = iter(trees)
    with atomic_output(url) as sink, pq.ParquetWriter(sink, schema, compression="zstd") as writer:  # type: ignore[attr-defined]
        while chunk := list(islice(it, rows_per_group)):
            rows = to_rows(chunk)
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))  # type: ignore[attr-defined]
            count += len(rows)
    return count


def _iter_rows(url: str, batch_rows: int = 256) -> Iterator[dict[str, Any]]:
    pq = require("pyarrow.parquet", "parquet")
    with open_input(url) as f:
        parquet = pq.ParquetFile(f)  # type: ignore[attr-defined]
        for batch in parquet.iter_batches(batch_size=batch_rows):
            yield from batch.to_pylist()


def read_parquet(url: str) -> Iterator[DialogueTree]:
    """Stream trees from a canonical Parquet file; ``SchemaError`` names a bad row."""
    for number, row in enumerate(_iter_rows(url), start=1):
        try:
            yield row_to_tree(row)
        except (msgspec.ValidationError, KeyError, TypeError, ValueError) as exc:
            text, path = pointer_from_msgspec(str(exc))
            raise SchemaError(f"{url}: row {number}: {text}", path) from None


def iter_parquet_records(
    url: str, options: ValidationOptions, max_bytes: int
) -> Iterator[RecordResult]:
    """Validation results for each row (see ``validate_path``)."""
    for number, row in enumerate(_iter_rows(url), start=1):
        yield row_result(row, options, url, number)


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
        issue = Issue(
            code="schema.type",
            severity="error",
            message=text,
            path=path,
            tree=tree_id,
            file=source,
            line=number,
        )
        raw = msgspec.json.encode(row)
        return RecordResult(source, number, None, Report([issue]), raw)
    report = validate(tree, options, source=source, line=number)
    return RecordResult(source, number, tree, report, None)
