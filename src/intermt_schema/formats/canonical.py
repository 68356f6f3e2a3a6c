"""The lossless formats: canonical JSONL, canonical Parquet, and Hugging Face datasets.

``hf`` writes a ``Dataset.save_to_disk`` folder whose features come from the schema
(images as ``Image``). Supported: datasets 3.x and 4.x and newer; datasets >= 4 writes
``List`` features, which 3.x cannot read back.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from .._errors import ConversionError, check_choice, require
from ..io._fs import atomic_output
from ..io._hf import from_hf_dataset, write_hf_dataset
from ..io._input import DEFAULT_MAX_RECORD_BYTES
from ..io._jsonl import write_jsonl
from ..io._parquet import bounded_rows, write_parquet_counted
from ..io._readers import row_result, too_large_issue, validate_path
from ..io._tables import LEVELS, Level, pairs_table, paths_table
from ..schema._structs import DialogueTree
from ..validation._images import MediaEmbedder
from ..validation._report import unreadable
from ..validation._rules import ValidationOptions
from ._registry import Format, ImportResult, LossReport, register_format


def _load_canonical(url: str) -> ImportResult:
    trees, issues, count = [], [], 0
    for result in validate_path(url):
        count += result.line is not None
        if result.tree is not None and result.accepted:
            trees.append(result.tree)
        issues += [i for i in result.report if i.severity != "info"]
    return ImportResult(trees, issues, count)


def _export_jsonl(trees: Iterable[DialogueTree], url: str) -> LossReport:
    return LossReport(format="jsonl", records=write_jsonl(trees, url))


def _export_parquet(
    trees: Iterable[DialogueTree],
    url: str,
    level: Level = "tree",
    source_root: str | None = None,
) -> LossReport:
    """Trees (lossless), or the path-level (lossless) or pair-level table, with the
    image files under ``source_root`` embedded as bytes."""
    check_choice("level", level, LEVELS)
    if level == "tree":
        rows, unembedded = write_parquet_counted(trees, url, images_root=source_root)
        loss = LossReport(format="parquet", records=rows)
    else:
        pq = require("pyarrow.parquet", "parquet")
        embed = MediaEmbedder(source_root)
        items = list(map(embed, trees))
        unembedded = embed.unembedded
        table = paths_table(items) if level == "path" else pairs_table(items)
        with atomic_output(url) as sink:
            pq.write_table(table, sink, compression="zstd")
        loss = _level_report(LossReport(format=f"parquet ({level} table)", records=table.num_rows))
    return noted_images(loss, unembedded)


def noted_images(loss: LossReport, unembedded: int) -> LossReport:
    """``loss``, noting the images without bytes (which keep ``Image`` undeclared)."""
    if unembedded:
        loss.notes.append(
            f"{unembedded} images carry no bytes (not found under the images root, or a URI "
            "only), so the file declares no Image feature: datasets gives {bytes, path}"
        )
    return loss


def _level_report(loss: LossReport) -> LossReport:
    if "pair" in loss.format:
        loss.notes.append("a view of the judgments between siblings; not lossless")
    return loss


def _export_hf(
    trees: Iterable[DialogueTree],
    url: str,
    level: Level = "tree",
    source_root: str | None = None,
) -> LossReport:
    """A ``save_to_disk`` folder of trees, paths or pairs, images embedded from
    ``source_root``; written atomically."""
    require("datasets", "hf").disable_progress_bars()
    rows, unembedded = write_hf_dataset(trees, url, level=level, images_root=source_root)
    name = "hf" if level == "tree" else f"hf ({level} table)"
    return noted_images(_level_report(LossReport(format=name, records=rows)), unembedded)


def _load_hf(url: str) -> ImportResult:
    datasets = require("datasets", "hf")
    try:
        dataset = datasets.load_from_disk(url)
    except IndexError:  # datasets cannot reopen a saved dataset of zero rows
        return ImportResult([], [], 0)
    except (OSError, ValueError) as exc:
        return ImportResult([], [unreadable(url, "read", exc)], 0)
    if "nodes" not in dataset.column_names:  # a path-level dataset merges as a whole
        try:
            trees = list(from_hf_dataset(dataset))
        except ConversionError as exc:
            return ImportResult([], [unreadable(url, "read", exc)], 0)
        return ImportResult(trees, [], len(trees))
    result = ImportResult([], [], 0)
    for batch in dataset.data.to_batches(max_chunksize=256):
        for row in bounded_rows(batch, DEFAULT_MAX_RECORD_BYTES):  # one bad row: one record
            result.records += 1
            if row is None:
                result.issues.append(too_large_issue(url, result.records, DEFAULT_MAX_RECORD_BYTES))
                continue
            found = row_result(row, ValidationOptions(), url, result.records)
            if found.accepted and found.tree is not None:
                result.trees.append(found.tree)
            else:
                result.rejected[(url, result.records)] = found.raw or msgspec.json.encode(row)
            result.issues += [i for i in found.report if i.severity != "info"]
    return result


register_format(
    Format(
        name="jsonl",
        description="canonical trees, one per line (lossless)",
        lossless=True,
        writer=_export_jsonl,
        reader=_load_canonical,
        detect=lambda record: "nodes" in record and "id" in record,
    )
)
register_format(
    Format(
        name="parquet",
        description="canonical trees, one per row (lossless); --level path|pair for tables",
        lossless=True,
        writer=_export_parquet,
        reader=_load_canonical,
        suffix=".parquet",
        export_options={"level": LEVELS, "source_root": str},
    )
)
register_format(
    Format(
        name="hf",
        description="Hugging Face datasets save_to_disk folder (lossless); --level path|pair",
        lossless=True,
        writer=_export_hf,
        reader=_load_hf,
        suffix="",
        export_options={"level": LEVELS, "source_root": str},
    )
)
