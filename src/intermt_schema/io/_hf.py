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

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .._errors import ConversionError, check_choice, require
from ..schema._structs import DialogueTree
from ..validation._images import ImageEmbedder
from ._arrow import arrow_schema, hf_features_dict, row_to_tree, to_rows
from ._fs import is_local, staged_folder
from ._tables import (
    LEVELS,
    Level,
    PairRow,
    PathRow,
    embedded,
    pair_rows,
    path_rows,
    trees_from_paths,
    without_bytes,
)

__all__ = ["from_hf_dataset", "save_dataset", "to_hf_dataset", "write_hf_dataset"]


def to_hf_dataset(
    trees: Iterable[DialogueTree], *, level: Level = "tree", images_root: str | None = None
) -> Any:
    """A ``datasets.Dataset`` of trees, paths or pairs (``level``), with schema-derived
    features; ``images_root`` embeds the image files it holds as bytes."""
    check_choice("level", level, LEVELS)
    datasets = require("datasets", "hf")
    pa = require("pyarrow", "parquet")
    items = embedded(trees, images_root)
    cls, rows_of = _LEVELS[level]
    schema = arrow_schema(not any(map(without_bytes, items)), cls)
    rows = to_rows(row for tree in items for row in rows_of(tree))
    return datasets.Dataset(pa.Table.from_pylist(rows, schema=schema))


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


def write_hf_dataset(
    trees: Iterable[DialogueTree],
    url: str,
    *,
    level: Level = "tree",
    images_root: str | None = None,
    rows_per_batch: int = 256,
) -> tuple[int, int]:
    """Save trees, paths or pairs as a ``save_to_disk`` folder at ``url``, streaming:
    rows go to an Arrow file one batch at a time, ``datasets`` maps that file and
    saves it in shards, so peak memory holds one batch, not the corpus. Returns the
    rows written and the images that carry no bytes; ``Image`` features are declared
    only when there are none (as :func:`to_hf_dataset` does).

    >>> import intermt_schema as im, tempfile
    >>> write_hf_dataset([im.DialogueTree(id="t")], tempfile.mkdtemp() + "/hf")
    (1, 0)
    """
    check_choice("level", level, LEVELS)
    datasets = require("datasets", "hf")
    pa = require("pyarrow", "parquet")
    cls, rows_of = _LEVELS[level]
    plain = arrow_schema(False, cls)
    local = is_local(url)
    scratch_parent = (
        os.path.dirname(os.path.abspath(url.removeprefix("file://"))) if local else None
    )
    if scratch_parent:
        os.makedirs(scratch_parent, exist_ok=True)
    count = 0
    embed = ImageEmbedder(images_root)
    with tempfile.TemporaryDirectory(prefix=".intermt-rows-", dir=scratch_parent) as scratch:
        rows_file = os.path.join(scratch, "rows.arrow")
        with pa.OSFile(rows_file, "wb") as sink, pa.ipc.new_stream(sink, plain) as writer:
            batch: list[Any] = []
            for tree in map(embed, trees):
                batch += rows_of(tree)
                if len(batch) >= rows_per_batch:
                    writer.write_batch(pa.RecordBatch.from_pylist(to_rows(batch), schema=plain))
                    count, batch = count + len(batch), []
            if batch:
                writer.write_batch(pa.RecordBatch.from_pylist(to_rows(batch), schema=plain))
                count += len(batch)
        features = None if embed.unembedded else datasets.Features.from_dict(hf_features_dict(cls))
        dataset = datasets.Dataset.from_file(
            rows_file, info=datasets.DatasetInfo(features=features)
        )
        save_dataset(dataset, url)
        del dataset  # the mapped file is closed before the scratch folder goes
    return count, embed.unembedded


_LEVELS: dict[str, tuple[type, Callable[[DialogueTree], list[Any]]]] = {
    "tree": (DialogueTree, lambda tree: [tree]),
    "path": (PathRow, lambda tree: list(path_rows([tree]))),
    "pair": (PairRow, lambda tree: list(pair_rows([tree]))),
}
"""Each level's row type, and the rows one tree gives."""
