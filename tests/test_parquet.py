from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import intermt_schema as im
from intermt_schema.testing import trees
from intermt_schema.validation._images import embed_images

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
    tree = embed_images(next(im.read_jsonl(str(EXAMPLES / "trees.jsonl"))), str(EXAMPLES))
    target = tmp_path / "t.parquet"
    im.write_parquet([tree], str(target))
    ds = datasets.load_dataset("parquet", data_files=str(target), split="train")
    parts = [p for n in ds[0]["nodes"] for p in n["content"] if p["type"] == "image"]
    assert parts and all(isinstance(p["image"], pil.Image) for p in parts)
    expected = [p.image for n in tree.nodes for p in n.content if isinstance(p, im.ImagePart)]
    assert [p["image"].size for p in parts] == [(r.width, r.height) for r in expected]
