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

from collections.abc import Iterable, Iterator
from typing import Any

from .._errors import ConversionError, check_choice, require
from ..schema._structs import DialogueTree
from ._arrow import arrow_schema, row_to_tree, to_rows
from ._fs import staged_folder
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

__all__ = ["from_hf_dataset", "save_dataset", "to_hf_dataset"]


def to_hf_dataset(
    trees: Iterable[DialogueTree], *, level: Level = "tree", images_root: str | None = None
) -> Any:
    """A ``datasets.Dataset`` of trees, paths or pairs (``level``), with schema-derived
    features; ``images_root`` embeds the image files it holds as bytes."""
    check_choice("level", level, LEVELS)
    datasets = require("datasets", "hf")
    pa = require("pyarrow", "parquet")
    items = embedded(trees, images_root)
    hf_images = not any(map(without_bytes, items))
    if level == "tree":
        schema, rows = arrow_schema(hf_images), to_rows(items)
    elif level == "path":
        schema, rows = arrow_schema(hf_images, PathRow), to_rows(path_rows(items))
    else:
        schema, rows = arrow_schema(hf_images, PairRow), to_rows(pair_rows(items))
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
