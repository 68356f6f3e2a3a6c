"""Hugging Face ``datasets``: one function in, one out, and an atomic save.

A dataset holds one row per tree (lossless), per root-to-leaf path (lossless) or per
judgment between siblings (a view); its features come from the schema. Image columns
are ``Image`` features when every image carries its bytes (``images_root`` embeds the
files); otherwise they stay plain ``{bytes, path}`` structs, which lose nothing,
because ``datasets`` would open bare paths relative to the working directory and
cannot hold a URI-only image. Supported: datasets 3.x and 4.x and newer.

>>> import intermt_schema as im
>>> to_hf_dataset([im.DialogueTree(id="t")], level="tree").num_rows
1
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .._errors import ConversionError, check_choice, require
from ..schema._structs import DialogueTree
from ..validation._images import MediaEmbedder
from ._arrow import arrow_schema, hf_features_dict, row_to_tree
from ._columns import to_table
from ._fs import is_local, staged_folder
from ._parquet import image_bytes
from ._tables import LEVEL_ROWS, LEVELS, Level, embedded, trees_from_paths, without_bytes

__all__ = [
    "from_hf_dataset",
    "save_dataset",
    "to_hf_dataset",
    "write_hf_dataset",
    "write_hf_tables",
]


def to_hf_dataset(
    trees: Iterable[DialogueTree], *, level: Level = "tree", images_root: str | None = None
) -> Any:
    """A ``datasets.Dataset`` of trees, paths or pairs (``level``), with schema-derived
    features; ``images_root`` embeds the image files it holds as bytes."""
    check_choice("level", level, LEVELS)
    datasets = require("datasets", "hf")
    items = embedded(trees, images_root)
    cls, rows_of = LEVEL_ROWS[level]
    schema = arrow_schema(not any(map(without_bytes, items)), cls)
    return datasets.Dataset(to_table([row for tree in items for row in rows_of(tree)], schema))


def from_hf_dataset(dataset: Any) -> Iterator[DialogueTree]:
    """The trees of a tree- or path-level dataset made by :func:`to_hf_dataset`
    (read from Arrow, undecoded). A pair-level dataset is a view and cannot be read
    back: ``ConversionError``."""
    columns = set(dataset.column_names)
    if "nodes" in columns:
        for batch in dataset.data.to_batches(max_chunksize=256):
            for row in batch.to_pylist():
                yield row_to_tree(row)
    elif {"end", "messages"} <= columns:
        yield from trees_from_paths(dataset.data)
    else:
        raise ConversionError(
            "not a tree- or path-level dataset (a pair-level dataset is a view of the "
            f"judgments, not the trees); its columns: {', '.join(sorted(columns))}"
        )


def save_dataset(dataset: Any, url: str) -> None:
    """``save_to_disk`` into a fresh folder beside the target, then swap it in, so a
    failed run leaves the target as it was (remote targets are written in place)."""
    with staged_folder(url, replace_any=True) as folder:
        dataset.save_to_disk(folder)


BATCH_IMAGE_BYTES = 16 << 20
"""Images (of the trees) gathered before a batch of rows is written."""

HF_SHARD_BYTES = 500 << 20
"""The shard size ``datasets.Dataset.save_to_disk`` uses by default."""


def write_hf_dataset(
    trees: Iterable[DialogueTree],
    url: str,
    *,
    level: Level = "tree",
    images_root: str | None = None,
    rows_per_batch: int = 256,
    shard_bytes: int = HF_SHARD_BYTES,
) -> tuple[int, int]:
    """Save trees, paths or pairs as a ``save_to_disk`` folder at ``url``, streaming:
    rows go straight into the folder's Arrow shards (``data-NNNNN-of-NNNNN.arrow``, a
    new one past ``shard_bytes``) one batch at a time, so that peak memory holds one
    batch, not the corpus. ``dataset_info.json`` declares the features, with ``Image``
    features only when every image carries its bytes (as :func:`to_hf_dataset` does);
    ``datasets.load_from_disk`` reads the folder. Returns the rows written and the
    images that carry no bytes.

    >>> import intermt_schema as im, tempfile
    >>> write_hf_dataset([im.DialogueTree(id="t")], tempfile.mkdtemp() + "/hf")
    (1, 0)
    """
    check_choice("level", level, LEVELS)
    cls, rows_of = LEVEL_ROWS[level]
    plain = arrow_schema(False, cls)
    embed = MediaEmbedder(images_root)

    def tables() -> Iterator[Any]:
        batch: list[Any] = []
        size = 0
        for tree in map(embed, trees):
            batch += rows_of(tree)
            size += image_bytes(tree)
            if len(batch) >= rows_per_batch or size >= BATCH_IMAGE_BYTES:
                yield to_table(batch, plain)
                batch, size = [], 0
        if batch:
            yield to_table(batch, plain)

    rows = write_hf_tables(tables(), url, cls, lambda: embed.unembedded, shard_bytes=shard_bytes)
    return rows, embed.unembedded


def write_hf_tables(
    tables: Iterable[Any],
    url: str,
    cls: type,
    unembedded: Callable[[], int],
    *,
    shard_bytes: int = HF_SHARD_BYTES,
) -> int:
    """Write ready Arrow tables of ``cls`` rows (built here, or in worker processes) as
    the ``save_to_disk`` folder ``url`` (see :func:`write_hf_dataset`); ``unembedded``
    tells, once they are all written, how many images carry no bytes. Returns the
    rows written."""
    datasets = require("datasets", "hf")
    pa = require("pyarrow", "parquet")
    plain = arrow_schema(False, cls)
    count = 0
    with staged_folder(url, replace_any=True) as folder:
        if not is_local(folder):
            raise ConversionError(f"{url}: a save_to_disk folder is written locally")
        shards: list[str] = []
        sink: Any = None
        writer: Any = None

        def write(table: Any) -> None:
            nonlocal sink, writer
            if writer is None:
                shards.append(os.path.join(folder, f".shard-{len(shards):05d}.arrow"))
                sink = pa.OSFile(shards[-1], "wb")
                writer = pa.ipc.new_stream(sink, plain)
            writer.write_table(table)
            if sink.tell() >= shard_bytes:
                writer.close()
                sink.close()
                writer = None

        for table in tables:
            if table.num_rows:
                write(table)
                count += table.num_rows
        if not shards:
            write(plain.empty_table())
        if writer is not None:
            writer.close()
            sink.close()
        names = [f"data-{i:05d}-of-{len(shards):05d}.arrow" for i in range(len(shards))]
        for shard, name in zip(shards, names, strict=True):
            os.replace(shard, os.path.join(folder, name))
        features = (
            datasets.Features.from_dict(hf_features_dict(cls))
            if not unembedded()
            else (datasets.Features.from_arrow_schema(plain))
        )
        datasets.DatasetInfo(features=features).write_to_directory(folder)
        _write_state(folder, names)
    return count


def _write_state(folder: str, names: list[str]) -> None:
    """``state.json``, as ``save_to_disk`` writes it: the shards, and a fingerprint of
    their names and sizes."""
    sizes = [os.path.getsize(os.path.join(folder, name)) for name in names]
    fingerprint = hashlib.sha256(json.dumps([names, sizes]).encode()).hexdigest()[:16]
    state: dict[str, Any] = {
        "_data_files": [{"filename": name} for name in names],
        "_fingerprint": fingerprint, "_format_columns": None, "_format_kwargs": {},
        "_format_type": None, "_output_all_columns": False, "_split": None,
    }  # fmt: skip
    with open(os.path.join(folder, "state.json"), "w") as f:
        json.dump(state, f, indent=2)
