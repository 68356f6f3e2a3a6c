"""Publish trees as a folder that is a Hugging Face dataset repository: Parquet shards
per configuration and split with the images embedded, a dataset card (``README.md``)
and Croissant metadata (``croissant.json``), in memory that does not grow with the
corpus.

Two passes: the first embeds each tree's images, notes what ties it to other trees
(for leak-free splits) and spools it to a scratch file; the second streams the spooled
trees into the shards of every configuration, sampling pairs and counting statistics
on the way.

>>> import os, tempfile, intermt_schema as im
>>> q = im.Message(id="q", role="user", content=[im.TextPart("?")])
>>> folder = tempfile.mkdtemp()
>>> report = publish_dataset([im.DialogueTree(id="t", nodes=[q])], folder,
...                          fractions=(1.0,), plots=False)
>>> report.written["trees"]["train"].rows, sorted(os.listdir(folder))
(1, ['README.md', 'croissant.json', 'data'])
"""

from __future__ import annotations

import datetime
import os
import struct
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from .._errors import IntermtError, OptionError, require
from ..io._fs import atomic_output
from ..io._parquet import image_bytes
from ..sampling._criteria import PairOptions, check_pair_options
from ..sampling.pairs import PairReport, PreferencePair, iter_pairs
from ..sampling.splits import SplitPlanner, check_fractions, check_group_by
from ..sampling.stats import TreeStats, plot_stats, render_stats
from ..scale.spool import Spooled, spool_record, spooled_tree
from ..scale.workers import in_order
from ..schema._dimensions import INTERMT, DimensionSet, combined_sets
from ..schema._structs import DialogueTree
from ..validation._images import MediaEmbedder
from ._card import CardInfo, render_card
from ._croissant import croissant
from ._rows import CONFIGS, config_tables
from ._shards import DEFAULT_SHARD_BYTES, Done, ShardSet, SplitShards, name_shards

__all__ = [
    "CONFIGS",
    "CardInfo",
    "PublishReport",
    "publish_dataset",
    "publish_ray",
    "publish_spooled",
    "push_to_hub",
]

SPLIT_NAMES = ("train", "validation", "test")


@dataclass
class PublishReport:
    """What a publication wrote: rows per configuration and split, the pairs' report,
    the images that carry no bytes, and the files beside the data."""

    written: dict[str, dict[str, SplitShards]]
    pairs: PairReport
    trees: int = 0
    unembedded: int = 0
    unembedded_media: int = 0
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"publish: {self.trees} trees"]
        for config, splits in self.written.items():
            parts = ", ".join(
                f"{s} {v.rows} rows in {len(v.files)} shards" for s, v in splits.items()
            )
            lines.append(f"  {config}: {parts}")
        if self.unembedded:
            lines.append(
                f"  {self.unembedded} images carry no bytes (not found, or a URI only): "
                "image columns are {bytes, path} structs, not Image features"
            )
        if self.unembedded_media:
            lines.append(
                f"  {self.unembedded_media} video and audio files carry no bytes (not found, "
                "or a URI only): the dataset holds their paths alone"
            )
        lines.append("  " + ", ".join(self.files))
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def split_names(count: int) -> list[str]:
    """``train``/``validation``/``test`` for three parts, ``train`` for one, else
    ``part-N``."""
    if count == 1:
        return ["train"]
    return list(SPLIT_NAMES) if count == 3 else [f"part-{i}" for i in range(count)]


def publish_dataset(
    trees: Iterable[DialogueTree],
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
    workers: int = 1,
) -> PublishReport:
    """Write ``trees`` (already validated) into the local ``folder`` as a Hub dataset
    repository: ``data/<config>/<split>-NNNNN-of-NNNNN.parquet`` for the
    configurations in :data:`CONFIGS`, ``README.md`` and ``croissant.json``. Splits
    share no ``group_by`` group (see :func:`intermt_schema.split_trees`); pairs are
    sampled with ``pair_options`` (see :func:`intermt_schema.iter_pairs`), which the card
    records. ``plots`` puts score histograms in the card (needs matplotlib).
    ``workers`` processes write the rows, each a contiguous range of the trees into
    shards of its own: the same rows in the same order, cut into more shards.
    """
    embed = MediaEmbedder(images_root)
    return publish_spooled(
        (spool_record(tree, embed, group_by) for tree in trees), folder, info=info,
        pair_options=pair_options, fractions=fractions, group_by=group_by, seed=seed,
        shard_bytes=shard_bytes, dimensions=dimensions, plots=plots, published=published,
        workers=workers,
    )  # fmt: skip


def publish_spooled(
    records: Iterable[Spooled],
    folder: str,
    *,
    info: CardInfo | None = None,
    pair_options: PairOptions | None = None,
    fractions: Sequence[float] = (0.9, 0.05, 0.05),
    group_by: Sequence[str] = ("tree", "prompt", "image"),
    seed: int = 0,
    shard_bytes: int = DEFAULT_SHARD_BYTES,
    dimensions: DimensionSet = INTERMT,
    plots: bool = True,
    published: datetime.date | None = None,
    workers: int = 1,
) -> PublishReport:
    """:func:`publish_dataset` from the trees' first pass made elsewhere (embedded,
    keyed under ``group_by``: see :func:`intermt_schema.scale.spool.spool_record`), such
    as in worker processes (``parallel_spool``)."""
    info, options = check_publish(info, pair_options, fractions, group_by, plots)
    if type(workers) is not int or workers < 1:
        raise OptionError(f"workers must be at least 1, not {workers!r}")
    os.makedirs(folder, exist_ok=True)
    scratch = os.path.join(folder, ".trees.scratch")
    planner = SplitPlanner(fractions, seed=seed, directory=folder)
    marks = array("q")  # where every MARK_TREES-th tree starts
    unembedded = [0, 0]
    with open(scratch, "wb") as spool:
        for record in records:
            if len(planner) % MARK_TREES == 0:
                marks.append(spool.tell())
            planner.add(record.id, record.keys)
            spool.write(_SIZE.pack(len(record.tree)))
            spool.write(record.tree)
            unembedded[0] += record.unembedded
            unembedded[1] += record.unembedded_media
    if not len(planner):
        os.unlink(scratch)
        raise IntermtError("no tree to publish: the input holds no accepted tree")
    notes = empty_splits(planner, group_by)
    names, hf_images = split_names(len(fractions)), not unembedded[0]
    try:
        tasks = [
            (folder, scratch, start, parts, names, options, shard_bytes, hf_images, prefix)
            for start, parts, prefix in _ranges(marks, planner.parts(), workers)
        ]
        results = (
            [done for _, _, done in in_order(_write_range, ((t, None) for t in tasks), workers)]
            if len(tasks) > 1
            else [_write_range(task) for task in tasks]
        )
    finally:
        os.unlink(scratch)
    done, report, stats = merge_written(results)
    return finish_publish(
        folder, name_shards(folder, CONFIGS, done), stats, report, info=info, options=options,
        plots=plots, unembedded=(unembedded[0], unembedded[1]), trees=len(planner),
        notes=notes, dimensions=dimensions, split_rule=(names, group_by, seed),
        published=published,
    )  # fmt: skip


def check_publish(
    info: CardInfo | None,
    pair_options: PairOptions | None,
    fractions: Sequence[float],
    group_by: Sequence[str],
    plots: bool,
) -> tuple[CardInfo, dict[str, Any]]:
    """Check a publication's options before anything is read or written; the card
    information and pair options to use."""
    options = dict(pair_options or {})
    check_fractions(fractions)
    check_group_by(group_by)
    check_pair_options(PairOptions(**options))  # type: ignore[typeddict-item]
    if plots:
        require("matplotlib", "plot")
    return info or CardInfo(), options


def empty_splits(planner: SplitPlanner, group_by: Sequence[str]) -> list[str]:
    """Notes on the splits the planner's parts leave empty."""
    names = split_names(len(planner.fractions))
    sizes = Counter(planner.parts())
    return [
        _empty_split(names[i], f / sum(planner.fractions), len(planner), group_by)
        for i, f in enumerate(planner.fractions)
        if f > 0 and not sizes[i] and len(planner)
    ]


def finish_publish(
    folder: str,
    written: dict[str, dict[str, SplitShards]],
    stats: TreeStats,
    report: PairReport,
    *,
    info: CardInfo,
    options: dict[str, Any],
    plots: bool,
    unembedded: tuple[int, int],
    trees: int,
    notes: list[str],
    dimensions: DimensionSet,
    split_rule: tuple[list[str], Sequence[str], int],
    published: datetime.date | None,
) -> PublishReport:
    """Write the card, the plots and the Croissant metadata beside the named shards."""
    counted = stats.result()
    dimensions = combined_sets(sorted(counted["dimension_sets"]) or [""], dimensions)[0]
    plot_files = _plots(counted, folder) if plots else []
    losses = {
        "trees": "lossless: every node, rating and judgment",
        "paths": "lossless: the paths merge back into the same trees",
        "pairs": report.render(),
        "ratings": "every rating, flat (meta as JSON text)",
        "judgments": "every judgment, flat (outcomes and meta as JSON text)",
    }
    card = render_card(
        info, written, CONFIGS, hf_images=not unembedded[0], stats_text=render_stats(counted),
        plots=plot_files, losses=losses, pair_options=options or {"(defaults)": None},
        dimensions=dimensions, split_rule=split_rule, notes=notes,
    )  # fmt: skip
    _write_text(os.path.join(folder, "README.md"), card.encode())
    document = croissant(info, written, CONFIGS, published=published)
    metadata = msgspec.json.format(msgspec.json.encode(document))
    _write_text(os.path.join(folder, "croissant.json"), metadata)
    return PublishReport(
        written=written, pairs=report, trees=trees, unembedded=unembedded[0],
        unembedded_media=unembedded[1],
        files=["README.md", "croissant.json", *plot_files], notes=notes,
    )  # fmt: skip


def _empty_split(name: str, share: float, trees: int, group_by: Sequence[str]) -> str:
    """Why a split with a positive fraction holds no tree."""
    if share * trees < 1:
        return f"split {name} is empty: {share:.0%} of {trees} trees is less than one tree"
    shared = "/".join(g for g in group_by if g != "tree")
    return (
        f"split {name} is empty: the {trees} trees share {shared} too much to be split that "
        "finely (--group-by tree splits by tree alone)"
    )


MARK_TREES = 256
"""The spool's offset is noted every this many trees: where a worker's range may start."""


def _ranges(
    marks: Sequence[int], parts: array[int], workers: int
) -> Iterator[tuple[int, array[int], str]]:
    """Contiguous ranges of the spooled trees, one per worker, each starting at a mark:
    ``(offset, the trees' parts, shard prefix)``."""
    per = -(-len(marks) // workers)  # marks per worker, rounded up
    for worker, first in enumerate(range(0, len(marks), per)):
        trees = parts[first * MARK_TREES : (first + per) * MARK_TREES]
        yield marks[first], trees, f"{worker:05d}-"


def _write_range(
    task: tuple[str, str, int, array[int], list[str], dict[str, Any], int, bool, str],
) -> tuple[Done, PairReport, TreeStats]:
    """Write the rows of the spooled trees from ``offset`` on, one per part given, into
    shards of their own; what was written, the pairs' report and the statistics."""
    folder, scratch, offset, parts, names, options, shard_bytes, hf_images, prefix = task
    shards = ShardSet(folder, CONFIGS, shard_bytes=shard_bytes, hf_images=hf_images,
                      prefix=prefix)  # fmt: skip
    trees = _spooled(scratch, offset, len(parts))
    return write_part(trees, map(names.__getitem__, parts), shards, options)


def merge_written(
    results: Iterable[tuple[Done, PairReport, TreeStats]],
) -> tuple[Done, PairReport, TreeStats]:
    """What several writers wrote, in the order given: their shards (to name in that
    order), pair reports and statistics."""
    done: Done = {}
    report, stats = PairReport(), TreeStats(pair_yield=False)
    for written, part_report, part_stats in results:
        for key, shards in written.items():
            done.setdefault(key, []).extend(shards)
        report.merge(part_report)
        stats.merge(part_stats)
    return done, report, stats


_SIZE = struct.Struct("<Q")
"""Each spooled tree's size, before it."""


def _spooled(path: str, offset: int, count: int) -> Iterator[DialogueTree]:
    with open(path, "rb") as f:
        f.seek(offset)
        for _ in range(count):
            (size,) = _SIZE.unpack(f.read(_SIZE.size))
            yield spooled_tree(f.read(size))


BATCH_TREES = 64
"""Trees whose rows are made into tables together..."""
BATCH_IMAGE_BYTES = 4 << 20
"""...or fewer, whose images reach this: the paths and pairs repeat each image once per
row that holds it, so a batch's tables hold several times its images."""


def write_part(
    trees: Iterable[DialogueTree],
    splits: Iterable[str],
    shards: ShardSet,
    options: Mapping[str, Any],
) -> tuple[Done, PairReport, TreeStats]:
    """Write the rows of ``trees`` into ``shards`` (``splits`` names each tree's split,
    in order) and finish them: what was written, the pairs' report and the
    statistics. The shards are closed if anything fails."""
    report = PairReport()
    stats = TreeStats(pair_yield=False)  # the pairs configuration has its yield
    pairs_of = iter_pairs(trees, report, **options)
    try:
        for split, batch in _batches(pairs_of, splits):
            tables = config_tables([tree for tree, _ in batch], [pairs for _, pairs in batch])
            for config, table in tables.items():
                shards.add_table(config, split, table)
            for tree, _ in batch:
                stats.add(tree)
    except BaseException:
        shards.abort()
        raise
    return shards.finish(), report, stats


Sampled = tuple[DialogueTree, list[PreferencePair]]


def _batches(
    pairs_of: Iterable[Sampled], splits: Iterable[str]
) -> Iterator[tuple[str, list[Sampled]]]:
    """Each split's trees, with their pairs, in the order given, gathered in lists of
    :data:`BATCH_TREES` or fewer whose images reach :data:`BATCH_IMAGE_BYTES`."""
    batches: dict[str, list[Sampled]] = {}
    sizes: Counter[str] = Counter()
    for item, split in zip(pairs_of, splits, strict=True):
        batch = batches.setdefault(split, [])
        batch.append(item)
        sizes[split] += image_bytes(item[0])
        if len(batch) >= BATCH_TREES or sizes[split] >= BATCH_IMAGE_BYTES:
            yield split, batches.pop(split)
            del sizes[split]
    yield from batches.items()


def _plots(stats: dict[str, Any], folder: str) -> list[str]:
    return [os.path.relpath(p, folder) for p in plot_stats(stats, os.path.join(folder, "plots"))]


def _write_text(path: str, data: bytes) -> None:
    with atomic_output(path) as sink:
        sink.write(data)


def push_to_hub(
    folder: str, repo_id: str, *, private: bool = False, token: str | None = None
) -> str:
    """Upload a published folder to the Hub as the dataset ``repo_id`` (created when
    missing); returns the repository's URL. Needs ``huggingface_hub``."""
    hub = require("huggingface_hub", "hf")
    if not CardInfo(repo_id=repo_id).repo_id:
        raise OptionError(f"repository {repo_id!r} is not owner/name")
    api = hub.HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(
        folder_path=folder, repo_id=repo_id, repo_type="dataset",
        ignore_patterns=[".intermt-output", ".*"],
        commit_message="Publish with intermt-schema",
    )  # fmt: skip
    return f"https://huggingface.co/datasets/{repo_id}"


from ._ray import publish_ray  # noqa: E402 -- it builds on the steps above
