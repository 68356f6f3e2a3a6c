from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import intermt_schema as im
from intermt_schema import pairs_table, paths_table, to_hf_dataset, trees_from_paths
from intermt_schema.testing import trees
from intermt_schema.tree import TreeView, same_tree

from .conftest import EXAMPLES

pytest.importorskip("pyarrow")


@given(st.lists(trees(max_nodes=8), max_size=3, unique_by=lambda t: t.id))
def test_paths_table_round_trips_to_the_same_trees(items) -> None:
    table = paths_table(items)
    assert table.num_rows == sum(len(TreeView(t).paths()) for t in items)
    back = {t.id: t for t in trees_from_paths(table)}
    assert all(same_tree(back[t.id], t) for t in items)


def test_pairs_table_has_one_row_per_sibling_judgment(tmp_path: Path) -> None:
    items = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    table = pairs_table(items)
    assert table.num_rows == sum(len(t.judgments) for t in items)
    assert {"prompt", "a", "b", "outcomes", "overall"} <= set(table.column_names)
    duckdb_like = table.group_by("scope").aggregate([("tree_id", "count")]).to_pylist()
    assert sorted((r["scope"], r["tree_id_count"]) for r in duckdb_like) == [
        ("global", 6),
        ("local", 6),
    ]


def test_hf_path_and_pair_levels() -> None:
    datasets = pytest.importorskip("datasets")
    pil = pytest.importorskip("PIL.Image")
    items = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    paths = to_hf_dataset(items, level="path", images_root=str(EXAMPLES))
    assert paths.num_rows == 36
    first_image = next(
        p for m in paths[0]["messages"] for p in m["content"] if p["type"] == "image"
    )
    assert isinstance(first_image["image"], pil.Image)
    pairs = to_hf_dataset(items, level="pair", images_root=str(EXAMPLES))
    assert pairs.num_rows == 12 and isinstance(pairs, datasets.Dataset)


@pytest.mark.parametrize("level", ["path", "pair"])
def test_path_and_pair_parquet_stream_in_row_groups(tmp_path: Path, level: str) -> None:
    import pyarrow.parquet as pq

    from intermt_schema.io._parquet import write_parquet_counted

    trees = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    target = tmp_path / f"{level}.parquet"
    rows, unembedded = write_parquet_counted(
        trees, str(target), rows_per_group=3, images_root=str(EXAMPLES), level=level
    )
    expected = (im.paths_table if level == "path" else im.pairs_table)(trees, str(EXAMPLES))
    assert rows == expected.num_rows > 3 and unembedded == 0
    written = pq.ParquetFile(target)
    assert written.metadata.num_row_groups == -(-rows // 3)  # streamed, a group at a time
    assert written.read().to_pylist() == expected.to_pylist()
    assert written.schema_arrow.metadata == expected.schema.metadata  # Image features
