"""Publish on Ray Data: the same repository as :func:`publish_dataset`, with the work
spread over a cluster and sharded by tree.

1. The workers decode each tree, embed its images and compute its split keys
   (``spool_record``); the trees go to a scratch Parquet dataset in the output folder.
2. The driver reads the ``(id, keys)`` columns alone and assigns the splits (what
   ties trees together crosses blocks, so this step sees every key, never a tree).
3. The workers write each block's rows into shards of their own, with pairs sampled
   per tree (they depend only on the tree and the seed), and count statistics.
4. The driver names the shards ``-NNNNN-of-NNNNN`` and writes the card and the
   Croissant metadata from the merged counts.

The input is a Ray dataset of validated canonical trees, one per row, in a ``text``
column of JSON (what ``ray.data.read_text`` gives) or a ``tree`` column (what
:func:`intermt_schema.scale.validate_batch` gives). Its rows land in the same
configurations and splits, with the same values, as one process puts them.
"""

from __future__ import annotations

import datetime
import os
import pickle
import shutil
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from .._errors import SchemaError, require
from ..sampling._criteria import PairOptions
from ..sampling.splits import SplitPlanner
from ..scale.spool import Spooled, spool_record, spooled_tree
from ..schema._dimensions import INTERMT, DimensionSet
from ..schema._structs import DialogueTree, decode_tree
from ..validation._images import MediaEmbedder
from . import (
    CONFIGS,
    CardInfo,
    PublishReport,
    check_publish,
    empty_splits,
    finish_publish,
    merge_written,
    split_names,
    write_part,
)
from ._shards import DEFAULT_SHARD_BYTES, ShardSet, name_shards

__all__ = ["publish_ray"]


def publish_ray(
    dataset: Any,
    folder: str,
    *,
    info: CardInfo | None = None,
    pair_options: PairOptions | None = None,
    fractions: Sequence[float] = (0.9, 0.05, 0.05),
    group_by: Sequence[str] = ("tree", "prompt", "image"),
    seed: int = 0,
    shard_bytes: int = DEFAULT_SHARD_BYTES,
    images_root: str | None = None,
    dimensions: DimensionSet = INTERMT,
    plots: bool = True,
    published: datetime.date | None = None,
) -> PublishReport:
    """Write the trees of the Ray ``dataset`` into the local or shared ``folder`` as a
    Hub dataset repository; the options are :func:`publish_dataset`'s. Needs
    ``ray[data]`` (``pip install 'intermt-schema[ray]'``)."""
    ray = require("ray", "ray")
    info, options = check_publish(info, pair_options, fractions, group_by, plots)
    os.makedirs(folder, exist_ok=True)
    scratch = os.path.join(folder, f".trees.scratch-{uuid.uuid4().hex[:12]}")
    try:
        results, split_of, unembedded, notes = _run(
            ray, dataset, scratch, folder, images_root, group_by, fractions, seed, options,
            shard_bytes,
        )  # fmt: skip
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    blocks = sorted((pickle.loads(row["result"]) for row in results), key=lambda r: r[0])
    done, report, stats = merge_written(block[1:] for block in blocks)
    return finish_publish(
        folder, name_shards(folder, CONFIGS, done), stats, report, info=info, options=options,
        plots=plots, unembedded=unembedded, trees=len(split_of), notes=notes,
        dimensions=dimensions, split_rule=(split_names(len(fractions)), group_by, seed),
        published=published,
    )  # fmt: skip


def _run(
    ray: Any, dataset: Any, scratch: str, folder: str, images_root: str | None,
    group_by: Sequence[str], fractions: Sequence[float], seed: int, options: dict[str, Any],
    shard_bytes: int,
) -> tuple[list[dict[str, Any]], dict[str, str], tuple[int, int], list[str]]:  # fmt: skip
    """Steps 1 to 3: each block's result row, the splits, the images without bytes,
    and the notes on empty splits."""
    dataset.map_batches(
        _embedded, batch_format="pyarrow",
        fn_kwargs={"images_root": images_root, "group_by": list(group_by)},
    ).write_parquet(scratch)  # fmt: skip
    planner = SplitPlanner(fractions, seed=seed, directory=folder)
    unembedded = [0, 0]
    labels = ray.data.read_parquet(scratch).select_columns(
        ["id", "keys", "unembedded", "unembedded_media", "error"]
    )
    for batch in labels.iter_batches(batch_format="pyarrow"):
        columns = batch.to_pydict()
        error = next((e for e in columns["error"] if e is not None), None)
        if error is not None:
            raise SchemaError(error)
        for tree_id, packed in zip(columns["id"], columns["keys"], strict=True):
            planner.add(tree_id, packed)
        unembedded[0] += sum(columns["unembedded"])
        unembedded[1] += sum(columns["unembedded_media"])
    notes = empty_splits(planner, group_by)
    names = split_names(len(fractions))
    split_of = {planner.tree_id(i): names[part] for i, part in enumerate(planner.parts())}
    del planner
    writing = {"folder": folder, "split_of": ray.put(split_of), "options": options,
               "shard_bytes": shard_bytes, "hf_images": not unembedded[0]}  # fmt: skip
    files = sum(1 for name in os.listdir(scratch) if name.endswith(".parquet"))
    # the reader joins small files into one block: keep the input's blocking
    blocks = ray.data.read_parquet(scratch).select_columns(["tree"]).repartition(max(1, files))
    results = blocks.map_batches(
        _write_block, batch_format="pyarrow", batch_size=None, fn_kwargs=writing
    ).take_all()
    return results, split_of, (unembedded[0], unembedded[1]), notes


def _trees(batch: Any) -> Iterator[DialogueTree | str]:
    """The trees of a batch's ``text`` or ``tree`` column, or for a row without one
    (refused by ``validate_batch``) or with a malformed one, what is wrong with it."""
    names = batch.column_names
    texts = batch.column("text" if "text" in names else "tree").to_pylist()
    sources = (batch.column("source").to_pylist(), batch.column("line").to_pylist()) if (
        "source" in names and "line" in names) else None  # fmt: skip
    for k, data in enumerate(texts):
        where = f"{sources[0][k]}:{sources[1][k]}" if sources else f"row {k} of a block"
        if data is None:
            yield (f"{where}: the tree was refused by validation; publish the accepted "
                   "rows (filter on `accepted`)")  # fmt: skip
            continue
        try:
            yield decode_tree(data)
        except ValueError as exc:  # msgspec's errors are ValueErrors
            yield f"{where}: not a canonical tree: {exc}"


def _embedded(batch: Any, images_root: str | None, group_by: list[str]) -> Any:
    """Per tree: what the first pass spools of it (see ``spool_record``), and None
    where the row holds no canonical tree (its error, which the driver raises)."""
    import pyarrow as pa

    embed = MediaEmbedder(images_root)
    rows: dict[str, list[Any]] = {name: [] for name in (*Spooled._fields, "error")}
    blank = Spooled(None, b"", None, 0, 0)  # type: ignore[arg-type]  # a row without a tree
    for tree in _trees(batch):
        if isinstance(tree, str):  # the driver raises it
            record, error = blank, tree
        else:
            record, error = spool_record(tree, embed, group_by), None
        for name, value in zip(Spooled._fields, record, strict=True):
            rows[name].append(value)
        rows["error"].append(error)
    return pa.table(rows, schema=_scratch_schema())


def _write_block(
    batch: Any, folder: str, split_of: Any, options: dict[str, Any], shard_bytes: int,
    hf_images: bool,
) -> Any:  # fmt: skip
    """Write one block's rows into shards of its own; one row holding what it wrote,
    its pair report and its statistics."""
    import pyarrow as pa
    import ray

    splits: dict[str, str] = ray.get(split_of) if isinstance(split_of, ray.ObjectRef) else split_of
    trees = [spooled_tree(data) for data in batch.column("tree").to_pylist() if data is not None]
    shards = ShardSet(folder, CONFIGS, shard_bytes=shard_bytes, hf_images=hf_images,
                      prefix=f"{uuid.uuid4().hex[:12]}-")  # fmt: skip
    written = write_part(trees, (splits[t.id] for t in trees), shards, options)
    first = min((t.id for t in trees), default="")
    result = pickle.dumps((first, *written))
    return pa.table({"result": [result]})


def _scratch_schema() -> Any:
    import pyarrow as pa

    columns = [("id", pa.string()), ("keys", pa.binary()), ("unembedded", pa.int64()),
               ("unembedded_media", pa.int64()), ("tree", pa.binary()),
               ("error", pa.string())]  # fmt: skip
    return pa.schema(columns)
