from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import intermt_schema as im
from intermt_schema.testing import trees
from intermt_schema.validation._images import embed_media

from .conftest import EXAMPLES

pytest.importorskip("pyarrow")


@given(st.lists(trees(max_nodes=8), max_size=4))
def test_parquet_round_trip_is_lossless(items) -> None:
    url = "memory://pq/trees.parquet"
    assert im.write_parquet(items, url, rows_per_group=2) == len(items)
    assert list(im.read_parquet(url)) == items


def test_parquet_rows_validate_like_jsonl(tmp_path: Path) -> None:
    trees_ = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    target = tmp_path / "t.parquet"
    im.write_parquet(trees_, str(target))
    options = im.ValidationOptions(images_root=str(EXAMPLES), check_images=True)
    results = list(im.validate_path(str(target), options))
    assert [(r.line, r.accepted) for r in results] == [(i + 1, True) for i in range(len(trees_))]


def test_hf_load_dataset_restores_embedded_images_as_image(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    pil = pytest.importorskip("PIL.Image")
    tree = embed_media(next(im.read_jsonl(str(EXAMPLES / "trees.jsonl"))), str(EXAMPLES))
    target = tmp_path / "t.parquet"
    im.write_parquet([tree], str(target))
    ds = datasets.load_dataset("parquet", data_files=str(target), split="train")
    parts = [p for n in ds[0]["nodes"] for p in n["content"] if p["type"] == "image"]
    assert parts and all(isinstance(p["image"], pil.Image) for p in parts)
    expected = [p.image for n in tree.nodes for p in n.content if isinstance(p, im.ImagePart)]
    assert [p["image"].size for p in parts] == [(r.width, r.height) for r in expected]


def _images_of(value: object) -> list[object]:
    """Every decoded image value in a row returned by ``datasets``."""
    if isinstance(value, dict):
        if set(value) >= {"type", "image"} and value["type"] == "image":
            return [value["image"]]
        return [i for inner in value.values() for i in _images_of(inner)]
    if isinstance(value, list):
        return [i for inner in value for i in _images_of(inner)]
    return []


@pytest.mark.parametrize("level", ["tree", "path", "pair"])
def test_every_parquet_file_from_the_examples_loads_with_pil_images(
    tmp_path: Path, level: str
) -> None:
    """``convert --to parquet`` embeds the image files it can reach, so
    ``datasets.load_dataset("parquet")`` opens the file anywhere, with PIL images."""
    datasets = pytest.importorskip("datasets")
    pil = pytest.importorskip("PIL.Image")
    from intermt_schema.cli import main

    target = tmp_path / "elsewhere" / f"{level}.parquet"
    assert main(["convert", str(EXAMPLES), "--to", "parquet", "--level", level,
                 "-o", str(target), "-q"]) == 0  # fmt: skip
    rows = datasets.load_dataset("parquet", data_files=str(target), split="train")
    images = [image for row in rows for image in _images_of(row)]
    assert images and all(isinstance(image, pil.Image) for image in images)
    if level == "tree":  # the trees come back with their paths, and now their bytes
        back = list(im.read_parquet(str(target)))
        source = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
        assert [r.path for t in back for r in t.images()] == [
            r.path for t in source for r in t.images()
        ]
        assert all(r.bytes for t in back for r in t.images())


def test_parquet_with_an_unreachable_image_declares_no_image_feature_and_says_so(
    tmp_path: Path,
) -> None:
    datasets = pytest.importorskip("datasets")
    tree = next(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    target = tmp_path / "t.parquet"
    loss = im.get_format("parquet").export([tree], str(target), source_root=str(tmp_path))
    missing = sum(1 for _ in tree.images())
    assert loss.notes == [
        f"{missing} images carry no bytes (not found under the images root, or a URI only), "
        "so the file declares no Image feature: datasets gives {bytes, path}"
    ]
    rows = datasets.load_dataset("parquet", data_files=str(target), split="train")
    images = _images_of(rows[0])
    assert images and all(set(i) == {"bytes", "path"} for i in images)  # type: ignore[arg-type]


def test_hf_round_trip_keeps_relative_image_paths(tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    source = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    hf = im.get_format("hf")
    hf.export(source, str(tmp_path / "hf"), source_root=str(EXAMPLES))
    back = hf.load(str(tmp_path / "hf")).trees
    assert [r.path for t in back for r in t.images()] == [
        r.path for t in source for r in t.images()
    ]
    assert all(r.path and r.path.startswith("images/") for t in back for r in t.images())


@pytest.mark.parametrize("level", ["tree", "path", "pair"])
def test_the_streaming_hf_writer_saves_what_the_in_memory_dataset_holds(
    tmp_path: Path, level: str
) -> None:
    """``--to hf`` streams rows into the ``save_to_disk`` layout (bounded memory);
    ``load_from_disk`` reads what :func:`to_hf_dataset` holds, ``Image`` features
    included, and image paths whole (``save_to_disk`` would cut them to basenames)."""
    datasets = pytest.importorskip("datasets")
    from intermt_schema.io._hf import save_dataset, write_hf_dataset

    trees = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    rows, unembedded = write_hf_dataset(
        iter(trees), str(tmp_path / "hf"), level=level, images_root=str(EXAMPLES),
        rows_per_batch=5,
    )  # fmt: skip
    saved = datasets.load_from_disk(str(tmp_path / "hf"))
    in_memory = im.to_hf_dataset(trees, level=level, images_root=str(EXAMPLES))
    save_dataset(in_memory, str(tmp_path / "memory"))
    expected = datasets.load_from_disk(str(tmp_path / "memory"))
    assert (rows, unembedded) == (expected.num_rows, 0)
    assert saved.features == expected.features == in_memory.features
    assert saved.data.to_pylist() == in_memory.data.to_pylist()
    assert len(saved.cache_files) == 1
    assert write_hf_dataset(
        trees, str(tmp_path / "sharded"), level=level, images_root=str(EXAMPLES),
        rows_per_batch=2, shard_bytes=1,
    ) == (rows, 0)  # fmt: skip
    again = datasets.load_from_disk(str(tmp_path / "sharded"))
    assert len(again.cache_files) > 1  # a shard per batch at a 1-byte limit
    assert again.data.to_pylist() == saved.data.to_pylist()
    missing, lacking = write_hf_dataset(trees, str(tmp_path / "bare"), level=level)
    assert lacking == sum(1 for t in trees for _ in t.images()) and missing == rows
    assert "Image" not in str(datasets.load_from_disk(str(tmp_path / "bare")).features)


class _FullDisk:
    """A sink that takes ``room`` bytes, then fails as a full disk does."""

    def __init__(self, room: int) -> None:
        self.room, self.taken = room, 0

    def write(self, data: bytes) -> int:
        if self.taken + len(data) > self.room:
            raise OSError(28, "No space left on device")
        self.taken += len(data)
        return len(data)

    def tell(self) -> int:
        return self.taken

    def flush(self) -> None:
        pass

    closed = False


def test_a_row_group_written_in_the_background_raises_its_error() -> None:
    from intermt_schema.io._parquet import STREAM_BUFFER, RowGroupWriter

    noise = [os.urandom(STREAM_BUFFER).hex() for _ in range(3)]  # zstd cannot shrink it
    big = [im.DialogueTree(id=f"t{i}", meta=im.TreeMeta(task=text)) for i, text in enumerate(noise)]
    writer = RowGroupWriter(_FullDisk(STREAM_BUFFER), im.DialogueTree, rows_per_group=1)
    with pytest.raises(OSError, match="No space left"), writer:
        for tree in big:
            writer.add(tree)
        writer.close()
    assert writer.count >= 1  # the failure came from a group handed to the thread


def test_a_forked_child_writes_parquet_after_its_parent(tmp_path: Path) -> None:
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.fail("this platform cannot fork; the test is for those that do")
    im.write_parquet([im.DialogueTree(id="parent")], str(tmp_path / "parent.parquet"))
    child = multiprocessing.get_context("fork").Process(
        target=im.write_parquet, args=([im.DialogueTree(id="child")], str(tmp_path / "c.parquet"))
    )
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0  # a hung writer thread would leave it running (None)
    assert [t.id for t in im.read_parquet(str(tmp_path / "c.parquet"))] == ["child"]


def test_a_writer_reaches_a_size_as_its_written_bytes_say() -> None:
    import io

    from intermt_schema.io._parquet import RowGroupWriter

    trees_ = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    writer = RowGroupWriter(io.BytesIO(), im.DialogueTree, rows_per_group=1)
    for tree in trees_:
        writer.add(tree)  # each row a group; the last is still being written
    sizes = range(0, 200_000, 997)
    answers = [writer.reaches(size) for size in sizes]
    written = writer.written  # waits for the last group
    assert answers == [written >= size for size in sizes]
    assert 0 < written < sizes[-1]
    writer.close()


def test_a_large_row_group_is_written_before_the_next_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from intermt_schema.io import _parquet

    monkeypatch.setattr(_parquet, "OVERLAP_BYTES", 0)  # every group counts as large
    trees_ = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    with open(tmp_path / "t.parquet", "wb") as sink:
        writer = _parquet.RowGroupWriter(sink, im.DialogueTree, rows_per_group=1)
        in_flight = []
        for tree in trees_:
            writer.add(tree)
            in_flight.append(writer._writing is not None)
        writer.close()
    assert in_flight == [False] * len(trees_)
    assert [t.id for t in im.read_parquet(str(tmp_path / "t.parquet"))] == [t.id for t in trees_]


def test_rows_count_the_image_bytes_of_the_messages_they_hold() -> None:
    from intermt_schema.io._parquet import image_measure
    from intermt_schema.io._tables import PairRow, pair_rows
    from intermt_schema.publish._rows import JudgmentRow, RatingRow

    tree = embed_media(next(im.read_jsonl(str(EXAMPLES / "trees.jsonl"))), str(EXAMPLES))
    assert image_measure(RatingRow) is None and image_measure(JudgmentRow) is None  # a, b: ids
    measure = image_measure(PairRow)
    assert measure is not None
    for row in pair_rows([tree]):
        held = [*row.prompt, row.a, row.b]
        expected = sum(len(p.image.bytes or b"") for m in held for p in m.content
                       if isinstance(p, im.ImagePart))  # fmt: skip
        assert measure(row) == expected
    assert any(measure(row) for row in pair_rows([tree]))
