"""The lossless formats: canonical JSONL, canonical Parquet, and Hugging Face datasets.

``hf`` writes a ``Dataset.save_to_disk`` folder whose features come from the schema
(images as ``Image``). Supported: datasets 3.x and 4.x and newer; datasets >= 4 writes
``List`` features, which 3.x cannot read back.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from .._errors import ConversionError, require
from ..io._hf import from_hf_dataset, write_hf_dataset
from ..io._input import DEFAULT_MAX_RECORD_BYTES
from ..io._jsonl import write_jsonl
from ..io._parquet import bounded_rows, write_parquet_counted
from ..io._readers import row_result, too_large_issue, validate_path
from ..io._tables import LEVELS, Level
from ..schema._structs import DialogueTree
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
    rows, unembedded = write_parquet_counted(trees, url, images_root=source_root, level=level)
    return level_report("parquet", level, rows, unembedded)


def level_report(target: str, level: str, rows: int, unembedded: int) -> LossReport:
    """The loss report of a ``parquet`` or ``hf`` export at ``level``, named for its
    table, noting that the pair table is a view, and the images left without bytes
    (which keep ``Image`` undeclared).

    >>> level_report("hf", "pair", 3, 0).format
    'hf (pair table)'
    """
    name = target if level == "tree" else f"{target} ({level} table)"
    loss = LossReport(format=name, records=rows)
    if level == "pair":
        loss.notes.append("a view of the judgments between siblings; not lossless")
    if unembedded:
        loss.notes.append(
            f"{unembedded} images carry no bytes (not found under the images root, or a URI "
            "only), so the file declares no Image feature: datasets gives {bytes, path}"
        )
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
    return level_report("hf", level, rows, unembedded)


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
