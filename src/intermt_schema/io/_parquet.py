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

import contextlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import msgspec
import msgspec.inspect as mi

from .._errors import SchemaError, check_choice, require
from ..schema._structs import DialogueTree, ImagePart, Message
from ..validation._images import MediaEmbedder
from ..validation._pointers import pointer_from_msgspec
from ._arrow import arrow_schema, row_to_tree
from ._columns import to_table
from ._fs import atomic_output, reading
from ._input import DEFAULT_MAX_RECORD_BYTES, open_input, too_large_text
from ._tables import LEVEL_ROWS, LEVELS, Level

__all__ = [
    "GROUP_IMAGE_BYTES",
    "ROWS_PER_GROUP",
    "RowGroupWriter",
    "bounded_rows",
    "image_bytes",
    "image_measure",
    "iter_rows",
    "read_parquet",
    "write_parquet",
    "write_parquet_counted",
    "write_parquet_tables",
]

ROWS_PER_GROUP = 1000


def write_parquet(
    trees: Iterable[DialogueTree],
    url: str,
    *,
    rows_per_group: int = ROWS_PER_GROUP,
    images_root: str | None = None,
) -> int:
    """Write trees to Parquet (atomically for local files); returns the count.

    ``images_root`` embeds the image files under it as bytes. The file declares Hugging
    Face ``Image`` features only when every image carries its bytes, so that
    ``datasets.load_dataset("parquet")`` gives PIL images wherever the file goes;
    otherwise images stay ``{bytes, path}`` structs (see :func:`write_parquet_counted`).
    Memory stays bounded by one row group (``rows_per_group`` rows, or 64 MB of images).
    """
    return write_parquet_counted(
        trees, url, rows_per_group=rows_per_group, images_root=images_root
    )[0]


GROUP_IMAGE_BYTES = 64 << 20


def write_parquet_tables(
    tables: Iterable[Any], url: str, unembedded: Callable[[], int], cls: type = DialogueTree
) -> int:
    """Write ready Arrow tables of ``cls`` rows (built here, or in worker processes) as
    canonical Parquet (see :func:`write_parquet`); ``unembedded`` tells, once they are
    all written, how many images carry no bytes. Returns the rows written."""
    with atomic_output(url) as sink, RowGroupWriter(sink, cls) as writer:
        for table in tables:
            writer.add_table(table)
        return writer.close(hf_images=not unembedded())


def write_parquet_counted(
    trees: Iterable[DialogueTree],
    url: str,
    *,
    rows_per_group: int = ROWS_PER_GROUP,
    images_root: str | None = None,
    level: Level = "tree",
) -> tuple[int, int]:
    """:func:`write_parquet`, returning the rows written and the images that carry no
    bytes (not found under ``images_root``, or a URI only). ``level`` ``path`` or
    ``pair`` writes those tables' rows instead (see :data:`LEVEL_ROWS`), streamed alike.
    """
    check_choice("level", level, LEVELS)
    cls, rows_of = LEVEL_ROWS[level]
    measure = image_measure(cls)
    embed = MediaEmbedder(images_root)
    with (
        atomic_output(url) as sink,
        RowGroupWriter(sink, cls, rows_per_group=rows_per_group) as writer,
    ):
        for tree in map(embed, trees):
            for row in rows_of(tree):
                writer.add(row, measure(row) if measure else 0)
        count = writer.close(hf_images=not embed.unembedded)
    return count, embed.unembedded


def image_bytes(tree: DialogueTree) -> int:
    """The bytes the images of ``tree`` carry."""
    return sum(len(image.bytes or b"") for image in tree.images())


def _message_fields(cls: type) -> list[str]:
    """The fields of a Struct class that hold a message or a list of messages."""
    info = mi.type_info(cls)
    found = []
    for f in info.fields if isinstance(info, mi.StructType) else ():
        kind = f.type.item_type if isinstance(f.type, mi.ListType) else f.type
        members = kind.types if isinstance(kind, mi.UnionType) else (kind,)
        if any(isinstance(m, mi.StructType) and m.cls is Message for m in members):
            found.append(f.name)
    return found


def image_measure(cls: type) -> Callable[[Any], int] | None:
    """How to count the image bytes of a row of ``cls``, towards its row group's
    budget; None for rows that hold no messages.

    >>> from intermt_schema.io._tables import PathRow
    >>> image_measure(PathRow)(PathRow(tree_id="t", end="a", turns=1)), image_measure(dict)
    (0, None)
    """
    if cls is DialogueTree:
        return image_bytes
    fields = _message_fields(cls)

    def measure(row: Any) -> int:
        total = 0
        for name in fields:
            value = getattr(row, name)
            for message in value if isinstance(value, list) else [value]:
                for part in message.content if message is not None else ():
                    if type(part) is ImagePart:
                        total += len(part.image.bytes or b"")
        return total

    return measure if fields else None


STREAM_BUFFER = 1 << 20
"""Bytes Parquet's writer gathers before each write to the Python file beneath it."""

OVERLAP_BYTES = 32 << 20
"""A row group up to this size in Arrow memory is written while the next one is built;
a larger one (images, mostly) is written first, since holding it and its encoding
beside the next group costs more memory than the overlap saves time."""


class _Lent:
    """The caller's file as Arrow's buffered stream sees it: written until the writer
    aborts, and never closed by Arrow (its owner closes it)."""

    def __init__(self, sink: Any) -> None:
        self.sink, self.live = sink, True

    def write(self, data: bytes) -> int:
        if self.live:
            self.sink.write(data)
        return len(data)

    def flush(self) -> None:
        if self.live:
            self.sink.flush()

    def tell(self) -> int:
        return int(self.sink.tell())

    def close(self) -> None:
        self.live = False

    closed = False


class RowGroupWriter:
    """Rows of one Struct class (``cls``) written to a Parquet ``sink`` in row groups of
    at most ``rows_per_group`` rows or ``group_bytes`` of images (of Arrow data, for rows
    added as tables), so memory holds one group, and one small group more while it is
    written. ``close(hf_images=True)``
    declares Hugging Face ``Image`` features, which a writer can only know at the end
    (every image had its bytes). Used as a context manager, it waits for its writes
    when a block fails, before the caller closes the sink.

    Each row group is encoded and written by a thread of the writer's own (pyarrow
    releases the GIL to encode) while the next one is built, unless it is larger than
    :data:`OVERLAP_BYTES`; an error in writing is raised by the next call that waits
    for it. The thread ends with the writer.

    >>> import io
    >>> sink = io.BytesIO()
    >>> with RowGroupWriter(sink, DialogueTree) as writer:
    ...     writer.add(DialogueTree(id="t"))
    ...     writer.close(), writer.written > 0
    (1, True)
    """

    def __init__(
        self,
        sink: Any,
        cls: type,
        *,
        rows_per_group: int = ROWS_PER_GROUP,
        group_bytes: int = GROUP_IMAGE_BYTES,
    ) -> None:
        pq = require("pyarrow.parquet", "parquet")
        self._pa = pa = require("pyarrow", "parquet")
        self.cls, self.rows_per_group, self.group_bytes = cls, rows_per_group, group_bytes
        self.schema = arrow_schema(hf_images=False, cls=cls)
        # buffered, so the background thread seldom takes the GIL to call sink.write
        self._lent = _Lent(sink)
        self._stream = pa.BufferedOutputStream(pa.PythonFile(self._lent, mode="w"), STREAM_BUFFER)
        self._writer = pq.ParquetWriter(
            self._stream, self.schema, compression="zstd", store_schema=False
        )
        self._thread: ThreadPoolExecutor | None = None
        self._writing: Future[None] | None = None
        self._writing_at_most = 0  # bytes the group being written can take
        self._written = 0  # bytes written when last waited for
        self._group: list[Any] = []
        self._tables: list[Any] = []  # ready rows, before the group's own
        self._rows = 0
        self._size = 0
        self.count = 0
        self.column_chunks = 0
        """Column chunks written (row groups times leaf columns): Parquet's writer keeps
        the metadata of each, about a kilobyte, until the file closes."""
        self._leaves = sum(_leaf_columns(f.type) for f in self.schema)

    def __enter__(self) -> RowGroupWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:
            self.abort()

    @property
    def written(self) -> int:
        """The bytes written so far (whole row groups; waits for the one being written)."""
        self._wait()
        return self._written

    def reaches(self, size: int) -> bool:
        """Whether the bytes written and the image bytes pending reach ``size``. It
        waits for the group being written only when the answer depends on its size.

        >>> import io
        >>> RowGroupWriter(io.BytesIO(), DialogueTree).reaches(1)
        False
        """
        if self._written + self._writing_at_most + self._size < size:
            return False
        return self.written + self._size >= size

    def add(self, value: Any, image_bytes: int = 0) -> None:
        """Append one row; ``image_bytes`` counts towards the group's image budget."""
        self._group.append(value)
        self._grew(1, image_bytes)

    @property
    def room(self) -> int:
        """The rows the group being built still takes."""
        return self.rows_per_group - self._rows

    def add_table(self, table: Any) -> None:
        """Append rows made ready as an Arrow table of this writer's schema (in batches,
        or in another process), cut where row groups end; its whole size counts towards
        the group's budget."""
        while table.num_rows:
            head = table.slice(0, self.rows_per_group - self._rows)
            table = table.slice(head.num_rows)
            self._tables.append(head)
            self._grew(head.num_rows, head.nbytes)

    def _grew(self, rows: int, size: int) -> None:
        self._rows += rows
        self._size += size
        if self._rows >= self.rows_per_group or self._size >= self.group_bytes:
            self._flush()

    def _flush(self) -> None:
        tables = self._tables
        if self._group or not tables:
            tables.append(to_table(self._group, self.schema))
        table = tables[0] if len(tables) == 1 else self._pa.concat_tables(tables)
        self.count += self._rows
        self.column_chunks += self._leaves
        self._group, self._tables, self._rows, self._size = [], [], 0, 0
        self._wait()
        # Parquet encodes a group in fewer bytes than Arrow holds it, but for headers
        self._writing_at_most = 2 * table.nbytes + 256 * self._leaves + (1 << 16)
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="intermt-parquet")
        self._writing = self._thread.submit(self._writer.write_table, table)
        if table.nbytes > OVERLAP_BYTES:
            self._wait()

    def _wait(self) -> None:
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()
            self._written, self._writing_at_most = int(self._stream.tell()), 0

    def _stop(self) -> None:
        if self._thread is not None:
            self._thread.shutdown()
            self._thread = None

    def close(self, hf_images: bool = False) -> int:
        """Write the last group and the footer; returns the rows written."""
        if self._rows or not self.count:
            self._flush()
        self._wait()
        self._stop()
        if hf_images:
            self._writer.add_key_value_metadata(arrow_schema(cls=self.cls).metadata)
        self._writer.close()
        self._written = int(self._stream.tell())
        self._stream.close()  # flushed into the sink, which the caller closes
        return self.count

    def abort(self) -> None:
        """Wait for the row group being written, whatever its fate, and let go of the
        sink (after a failure, before the caller closes it): nothing more reaches it."""
        with contextlib.suppress(Exception):  # the failure being handled matters more
            self._wait()
        self._stop()
        self._lent.live = False


def _leaf_columns(arrow: Any) -> int:
    """How many Parquet columns an Arrow type is stored in."""
    fields = getattr(arrow, "fields", None)  # a struct's
    if fields is not None:
        return sum(_leaf_columns(f.type) for f in fields)
    value = getattr(arrow, "value_type", None)  # a list's
    return 1 if value is None else _leaf_columns(value)


def iter_rows(
    url: str, max_bytes: int = DEFAULT_MAX_RECORD_BYTES, batch_rows: int = 256
) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """Yield ``(row_number, row)`` for each row of a Parquet file, and ``None`` for a
    row larger than ``max_bytes`` in Arrow memory, which is never made into Python
    objects. A row group larger than the limit is read one row at a time, and a
    one-row group that large is not decoded at all.
    """
    pq = require("pyarrow.parquet", "parquet")
    number = 0
    with open_input(url) as f:
        parquet = pq.ParquetFile(f)
        for group in range(parquet.num_row_groups):
            meta = parquet.metadata.row_group(group)
            if meta.num_rows == 1 and meta.total_byte_size > max_bytes:
                number += 1
                yield number, None
                continue
            size = 1 if meta.total_byte_size > max_bytes else batch_rows
            for batch in parquet.iter_batches(batch_size=size, row_groups=[group]):
                for row in bounded_rows(batch, max_bytes):
                    number += 1
                    yield number, row


def bounded_rows(batch: Any, max_bytes: int) -> Iterator[dict[str, Any] | None]:
    """The rows of an Arrow record batch as dicts, and ``None`` for a row larger than
    ``max_bytes`` in Arrow memory (never made into Python objects)."""
    if batch.nbytes <= max_bytes:
        yield from batch.to_pylist()
        return
    for i in range(batch.num_rows):
        row = batch.slice(i, 1)
        yield None if row.nbytes > max_bytes else row.to_pylist()[0]


def read_parquet(url: str) -> Iterator[DialogueTree]:
    """Stream trees from a canonical Parquet file; ``SchemaError`` names a bad row, and
    ``ReadError`` a file that cannot be opened or is not Parquet."""
    for number, row in reading(url, iter_rows(url)):
        if row is None:
            raise SchemaError(f"{url}: row {number}: {too_large_text(DEFAULT_MAX_RECORD_BYTES)}")
        try:
            yield row_to_tree(row)
        except (msgspec.ValidationError, KeyError, TypeError, ValueError) as exc:
            text, path = pointer_from_msgspec(str(exc))
            raise SchemaError(f"{url}: row {number}: {text}", path) from None
