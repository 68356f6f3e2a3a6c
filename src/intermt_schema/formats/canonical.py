"""The lossless formats: canonical JSONL, canonical Parquet, and Hugging Face datasets.

``hf`` writes a ``Dataset.save_to_disk`` folder whose features come from the schema
(images as ``Image``). Supported: datasets 3.x and 4.x and newer; datasets >= 4 writes
``List`` features, which 3.x cannot read back.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from .._arrow import arrow_schema, row_to_tree, to_rows
from .._errors import require
from .._fs import atomic_output, is_local
from .._images import embed_images
from .._jsonl import write_jsonl
from .._parquet import write_parquet
from .._records import validate_path
from .._report import Issue
from .._schema import DialogueTree, ImagePart
from ._base import Format, ImportResult, LossReport, register_format

__all__ = ["from_hf_dataset", "to_hf_dataset"]


def _load_canonical(url: str) -> ImportResult:
    trees, issues, count = [], [], 0
    for result in validate_path(url):
        count += result.line is not None
        if result.tree is not None and result.accepted:
            trees.append(result.tree)
        issues += [i for i in result.report if i.severity != "info"]
    return ImportResult(trees, issues, count)


def _export_jsonl(trees: Iterable[DialogueTree], url: str, **_: Any) -> LossReport:
    return LossReport(format="jsonl", records=write_jsonl(trees, url))


def _export_parquet(
    trees: Iterable[DialogueTree], url: str, level: str = "tree", **_: Any
) -> LossReport:
    """Trees (lossless), or the path- or pair-level table of ``intermt_schema.tables``."""
    if level == "tree":
        return LossReport(format="parquet", records=write_parquet(trees, url))
    from ..tables import pairs_table, paths_table

    if level not in ("path", "pair"):
        raise ValueError(f"unknown level {level!r}; levels: tree, path, pair")
    pq = require("pyarrow.parquet", "parquet")
    table = paths_table(trees) if level == "path" else pairs_table(trees)
    with atomic_output(url) as sink:
        pq.write_table(table, sink, compression="zstd")  # type: ignore[attr-defined]
    loss = LossReport(format=f"parquet ({level} table)", records=table.num_rows)
    if level == "pair":
        loss.notes.append("a view of the judgments between siblings; not lossless")
    return loss


def without_bytes(tree: DialogueTree) -> bool:
    return any(
        type(p) is ImagePart and p.image.bytes is None for n in tree.nodes for p in n.content
    )


def to_hf_dataset(trees: Iterable[DialogueTree], images_root: str | None = None) -> Any:
    """A ``datasets.Dataset`` with one tree per row and schema-derived features.

    With ``images_root``, image files are embedded as bytes. Image columns are
    ``Image`` features when every image carries its bytes; otherwise (``datasets``
    would open bare paths relative to the working directory, and cannot store a
    URI-only image) they stay plain ``{bytes, path}`` structs, which lose nothing.

    >>> import intermt_schema as im
    >>> to_hf_dataset([im.DialogueTree(id="t")]).num_rows
    1
    """
    datasets = require("datasets", "hf")
    pa = require("pyarrow", "parquet")
    items = [embed_images(t, images_root) if images_root else t for t in trees]
    schema = arrow_schema(hf_images=not any(map(without_bytes, items)))
    table = pa.Table.from_pylist(to_rows(items), schema=schema)  # type: ignore[attr-defined]
    return datasets.Dataset(table)  # type: ignore[attr-defined]


def from_hf_dataset(dataset: Any) -> Iterator[DialogueTree]:
    """The trees of a dataset made by ``to_hf_dataset`` (read from Arrow, undecoded)."""
    for batch in dataset.data.to_batches(max_chunksize=256):
        for row in batch.to_pylist():
            yield row_to_tree(row)


def _export_hf(
    trees: Iterable[DialogueTree], url: str, source_root: str | None = None
) -> LossReport:
    """``save_to_disk`` into a fresh folder beside the target, then swap it in, so a
    failed run leaves the target as it was. Images are embedded from ``source_root``."""
    require("datasets", "hf").disable_progress_bars()  # type: ignore[attr-defined]
    dataset = to_hf_dataset(trees, source_root)
    if not is_local(url):
        dataset.save_to_disk(url)
        return LossReport(format="hf", records=dataset.num_rows)
    target = os.path.abspath(url.removeprefix("file://"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    staging = tempfile.mkdtemp(prefix=os.path.basename(target) + ".", dir=os.path.dirname(target))
    try:
        dataset.save_to_disk(staging)
        if os.path.exists(target):
            old = staging + ".old"
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return LossReport(format="hf", records=dataset.num_rows)


def _load_hf(url: str) -> ImportResult:
    datasets = require("datasets", "hf")
    try:
        dataset = datasets.load_from_disk(url)  # type: ignore[attr-defined]
    except IndexError:  # datasets cannot reopen a saved dataset of zero rows
        return ImportResult([], [], 0)
    except (OSError, ValueError) as exc:
        issue = Issue(code="file.unreadable", severity="error", file=url, message=str(exc))
        return ImportResult([], [issue], 0)
    trees = list(from_hf_dataset(dataset))
    return ImportResult(trees, [], len(trees))


register_format(
    Format(
        name="jsonl",
        description="canonical trees, one per line (lossless)",
        lossless=True,
        export=_export_jsonl,
        load=_load_canonical,
    )
)
register_format(
    Format(
        name="parquet",
        description="canonical trees, one per row (lossless)",
        lossless=True,
        export=_export_parquet,
        load=_load_canonical,
        suffix=".parquet",
    )
)
register_format(
    Format(
        name="hf",
        description="Hugging Face datasets save_to_disk folder (lossless)",
        lossless=True,
        export=_export_hf,
        load=_load_hf,
        suffix="",
    )
)
