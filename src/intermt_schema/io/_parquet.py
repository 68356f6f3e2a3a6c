"""Canonical Parquet: one tree per row, nested columns, lossless, streamed in row groups.

The file carries Hugging Face features metadata, so ``datasets.load_dataset("parquet")``
restores every image as an ``Image`` feature.

>>> from intermt_schema import DialogueTree
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

from .._errors import SchemaError, require
from ..schema._structs import DialogueTree
from ..validation._pointers import pointer_from_msgspec
from ._arrow import arrow_schema, row_to_tree, to_rows
from ._fs import atomic_output, open_input, reading

__all__ = ["ROWS_PER_GROUP", "read_parquet", "write_parquet"]

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
    with atomic_output(url) as sink, pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        while chunk := list(islice(it, rows_per_group)):
            rows = to_rows(chunk)
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            count += len(rows)
    return count


def _iter_rows(url: str, batch_rows: int = 256) -> Iterator[dict[str, Any]]:
    pq = require("pyarrow.parquet", "parquet")
    with open_input(url) as f:
        parquet = pq.ParquetFile(f)
        for batch in parquet.iter_batches(batch_size=batch_rows):
            yield from batch.to_pylist()


def read_parquet(url: str) -> Iterator[DialogueTree]:
    """Stream trees from a canonical Parquet file; ``SchemaError`` names a bad row, and
    ``ReadError`` a file that cannot be opened or is not Parquet."""
    for number, row in enumerate(reading(url, _iter_rows(url)), start=1):
        try:
            yield row_to_tree(row)
        except (msgspec.ValidationError, KeyError, TypeError, ValueError) as exc:
            text, path = pointer_from_msgspec(str(exc))
            raise SchemaError(f"{url}: row {number}: {text}", path) from None
