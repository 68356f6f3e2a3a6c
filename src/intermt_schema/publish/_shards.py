"""Parquet shards per configuration and split, rolled over at a size limit and named
as the Hugging Face Hub expects (``data/<config>/<split>-00000-of-00002.parquet``).

>>> import tempfile
>>> from intermt_schema import DialogueTree
>>> from intermt_schema.io._arrow import arrow_schema
>>> from intermt_schema.io._columns import to_table
>>> shards = ShardSet(tempfile.mkdtemp(), {"trees": DialogueTree})
>>> shards.add_table("trees", "train", to_table([DialogueTree(id="t")], arrow_schema(False)))
>>> shards.close()["trees"]["train"].files
['data/trees/train-00000-of-00001.parquet']
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from .._errors import OptionError
from ..io._parquet import RowGroupWriter

__all__ = [
    "DEFAULT_SHARD_BYTES",
    "GROUP_BYTES",
    "SHARD_COLUMN_CHUNKS",
    "Done",
    "ShardSet",
    "SplitShards",
    "name_shards",
]

DEFAULT_SHARD_BYTES = 500 << 20
"""About 500 MB per shard, the Hub's recommendation for Parquet files."""

SHARD_COLUMN_CHUNKS = 8192
"""Column chunks (row groups times leaf columns) per shard before a new one is opened.
Parquet's writer keeps the metadata of each chunk, about a kilobyte, until the file is
closed, so this bounds each open shard's footer in memory (about 8 MB) whatever the
corpus size. It cuts small-image configurations into shards below ``shard_bytes``."""

GROUP_BYTES = 8 << 20
"""Arrow bytes (images and text) buffered per open shard before a row group is written:
several shards are open at once (one per configuration and split), so memory holds a
few of these."""


Done = dict[tuple[str, str], list[tuple[str, int, int]]]
"""Finished shards by ``(config, split)``: ``(temporary path, rows, bytes)`` each."""


@dataclass
class SplitShards:
    """What one configuration's split holds: rows, bytes and files (relative paths)."""

    rows: int = 0
    bytes: int = 0
    files: list[str] = field(default_factory=list)


class ShardSet:
    """Writers for every ``(config, split)`` under ``folder``, opened on their first row,
    each rolled over to a new shard once it holds ``shard_bytes`` (or
    :data:`SHARD_COLUMN_CHUNKS` column chunks). ``close`` names the
    shards ``-NNNNN-of-NNNNN`` and returns, per config and split, what was written.
    ``hf_images`` declares ``Image`` features (when every image carries its bytes).
    Several sets may write into one folder at once (one per worker), each with its own
    ``prefix``: each ``finish``es its shards, and :func:`name_shards` names them all.
    """

    def __init__(
        self,
        folder: str,
        configs: Mapping[str, type],
        *,
        shard_bytes: int = DEFAULT_SHARD_BYTES,
        hf_images: bool = False,
        prefix: str = "",
    ) -> None:
        if not isinstance(shard_bytes, int) or shard_bytes < 1:
            raise OptionError(f"shard size must be a positive number of bytes, not {shard_bytes!r}")
        self.folder, self.configs, self.shard_bytes = folder, configs, shard_bytes
        self.hf_images, self.prefix = hf_images, prefix
        self._open: dict[tuple[str, str], tuple[IO[bytes], RowGroupWriter]] = {}
        self._done: Done = {}

    def _path(self, config: str, split: str, index: int) -> str:
        return os.path.join("data", config, f".{split}-{self.prefix}{index:05d}.parquet")

    def _writer(self, key: tuple[str, str]) -> RowGroupWriter:
        """The open shard of ``(config, split)``, opened on its first row."""
        if key not in self._open:
            index = len(self._done.get(key, []))
            path = os.path.join(self.folder, self._path(*key, index))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            sink: IO[bytes] = open(path, "wb")  # noqa: SIM115 -- closed in _finish
            writer = RowGroupWriter(sink, self.configs[key[0]], group_bytes=GROUP_BYTES)
            self._open[key] = (sink, writer)
        return self._open[key][1]

    def _roll_over(self, key: tuple[str, str], writer: RowGroupWriter) -> None:
        if writer.reaches(self.shard_bytes) or writer.column_chunks >= SHARD_COLUMN_CHUNKS:
            self._finish(key)

    def add_table(self, config: str, split: str, table: Any) -> None:
        """Append an Arrow table of ``config`` rows to ``split``, in pieces of at most
        a row group or a shard's worth of bytes (at the table's mean row size): a shard
        can only roll over where a piece ends."""
        key = (config, split)
        budget = min(GROUP_BYTES, self.shard_bytes)
        most = max(1, budget * table.num_rows // table.nbytes) if table.nbytes else table.num_rows
        while table.num_rows:
            writer = self._writer(key)
            head = table.slice(0, min(writer.room, most))
            writer.add_table(head)
            table = table.slice(head.num_rows)
            self._roll_over(key, writer)

    def _finish(self, key: tuple[str, str]) -> None:
        sink, writer = self._open.pop(key)
        rows = writer.close(hf_images=self.hf_images)
        sink.close()
        index = len(self._done.get(key, []))
        path = self._path(*key, index)
        self._done.setdefault(key, []).append(
            (path, rows, os.path.getsize(os.path.join(self.folder, path)))
        )

    def finish(self) -> Done:
        """Finish every shard: ``(temporary path, rows, bytes)`` per config and split."""
        for key in list(self._open):
            self._finish(key)
        return self._done

    def close(self) -> dict[str, dict[str, SplitShards]]:
        """Finish every shard and give them their final names."""
        return name_shards(self.folder, self.configs, self.finish())

    def abort(self) -> None:
        """Close every open file (after a failure; the staged folder goes with them)."""
        for sink, writer in self._open.values():
            writer.abort()
            sink.close()
        self._open.clear()


def name_shards(
    folder: str, configs: Mapping[str, type], done: Done
) -> dict[str, dict[str, SplitShards]]:
    """Give finished shards their final names, ``<split>-NNNNN-of-NNNNN.parquet`` in
    the order listed; returns, per config and split, what was written."""
    result: dict[str, dict[str, SplitShards]] = {}
    for config in configs:
        for (name, split), shards in sorted(done.items()):
            if name != config:
                continue
            written = result.setdefault(config, {}).setdefault(split, SplitShards())
            for index, (temporary, rows, size) in enumerate(shards):
                final = os.path.join(
                    "data", config, f"{split}-{index:05d}-of-{len(shards):05d}.parquet"
                )
                os.replace(os.path.join(folder, temporary), os.path.join(folder, final))
                written.rows += rows
                written.bytes += size
                written.files.append(final)
    return result
