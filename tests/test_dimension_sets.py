"""Schema 1.2: trees that declare their dimension sets, real scales, and the sets that
ship (``kto``, ``oasst``), through Open-Assistant files, Parquet, Hugging Face
datasets, the pair sampler and the viewer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import intermt_schema as im
from intermt_schema.cli import main

LABELS = {"spam": {"value": 0.0, "count": 3}, "quality": {"value": 0.5833333333333334,
          "count": 3}, "humor": {"value": 1, "count": 1}}  # fmt: skip


def _oasst_record(labels: Any = LABELS, other_labels: Any = None) -> dict[str, Any]:
    answers = [
        {"message_id": f"a{k}", "parent_id": "q", "text": f"answer {k}", "role": "assistant",
         "rank": k, "labels": {"quality": {"value": value, "count": 2}}, "replies": []}
        for k, value in enumerate([0.875, 0.25])
    ]  # fmt: skip
    if other_labels is not None:
        answers[1]["labels"] = other_labels
    return {"message_tree_id": "q", "tree_state": "ready_for_export",
            "prompt": {"message_id": "q", "text": "Why is the sky blue?", "role": "prompter",
                       "lang": "en", "labels": labels, "replies": answers}}  # fmt: skip


def _load(record: dict[str, Any], tmp_path: Path) -> im.DialogueTree:
    path = tmp_path / "trees.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    result = im.get_format("oasst").load(str(path))
    assert not result.rejected and len(result.trees) == 1
    return result.trees[0]


def _export(tree: im.DialogueTree, loss: im.LossReport) -> list[dict[str, Any]]:
    records = im.get_format("oasst").records
    assert records is not None
    return list(records([tree], loss))


def test_open_assistant_labels_become_ratings_and_come_back(tmp_path: Path) -> None:
    record = _oasst_record()
    tree = _load(record, tmp_path)
    assert tree.meta.dimension_sets == ["oasst"]
    assert [(r.target, r.dimension, r.score, r.meta) for r in tree.ratings[:3]] == [
        ("q", "spam", 0.0, {"oasst_count": 3}),
        ("q", "quality", 0.5833333333333334, {"oasst_count": 3}),
        ("q", "humor", 1, {"oasst_count": 1}),
    ]
    assert type(tree.ratings[0].score) is float and type(tree.ratings[2].score) is int
    assert len(tree.ratings) == 5 and "labels" not in tree.nodes[0].meta["oasst"]
    report = im.validate(tree, im.ValidationOptions(strict=True))
    assert report.ok, report.render()
    assert json.loads(im.encode_tree(tree))["schema_version"] == "1.2"
    loss = im.LossReport(format="oasst")
    assert _export(tree, loss) == [record]
    assert not loss.dropped


def test_labels_the_set_cannot_hold_are_kept_as_they_are(tmp_path: Path) -> None:
    odd = {"quality": {"value": 0.5, "count": 2}, "x_unknown": {"value": 0.5, "count": 1}}
    record = _oasst_record(other_labels=odd)
    tree = _load(record, tmp_path)
    assert tree.nodes[-1].meta["oasst"]["labels"] == odd
    assert {r.target for r in tree.ratings} == {"q", "a0"}
    assert _export(tree, im.LossReport(format="oasst")) == [record]


def test_ratings_outside_the_oasst_set_are_counted_on_export(tmp_path: Path) -> None:
    tree = _load(_oasst_record(), tmp_path)
    rated = im.DialogueTree(
        id=tree.id, meta=tree.meta, nodes=tree.nodes, judgments=tree.judgments,
        ratings=[*tree.ratings, im.Rating(target="a0", scope="local", dimension="text_quality",
                                         score=3)],
    )  # fmt: skip
    loss = im.LossReport(format="oasst")
    _export(rated, loss)
    assert loss.dropped == {"ratings outside the oasst dimension set": 1}


def test_real_scores_survive_parquet_and_hf_datasets_exactly(tmp_path: Path) -> None:
    tree = _load(_oasst_record(), tmp_path)
    im.write_parquet([tree], str(tmp_path / "t.parquet"))
    (back,) = im.read_parquet(str(tmp_path / "t.parquet"))
    assert im.encode_tree(back) == im.encode_tree(tree)
    dataset = im.to_hf_dataset([tree])
    assert {"score", "score_real"} <= set(dataset.features["ratings"].feature)
    (from_hf,) = im.from_hf_dataset(dataset)
    assert im.encode_tree(from_hf) == im.encode_tree(tree)


def test_a_file_of_integer_scores_keeps_the_integer_column(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    tree = im.DialogueTree(
        id="t",
        nodes=[im.Message(id="q", role="user", content=[im.TextPart("?")]),
               im.Message(id="a", parent="q", role="assistant", content=[im.TextPart("!")])],
        ratings=[im.Rating(target="a", scope="local", dimension="text_quality", score=2)],
    )  # fmt: skip
    im.write_parquet([tree], str(tmp_path / "t.parquet"))
    table = pq.read_table(tmp_path / "t.parquet")
    (rating,) = table.column("ratings").to_pylist()[0]
    assert rating["score"] == 2 and rating["score_real"] is None
    assert table.column("schema_version").to_pylist() == ["1.0"]


def test_pairs_come_from_label_means(tmp_path: Path) -> None:
    tree = _load(_oasst_record(), tmp_path)
    pairs, _ = im.sample_pairs([tree], source="ratings", criterion="quality")
    assert [(p.chosen, p.rejected) for p in pairs] == [("a0", "a1")]


def test_the_viewer_shows_declared_sets_on_their_scale(tmp_path: Path) -> None:
    from intermt_schema.viewer import render_tree

    tree = _load(_oasst_record(), tmp_path)
    html = render_tree(tree)
    # 0.875 of 0..1 is near the top of its scale, 0.25 near the bottom
    assert 'class="cell s3" title="Quality: 0.875' in html
    assert 'class="cell s1" title="Quality: 0.25' in html


def test_the_cli_validates_kto_labels_against_the_declared_set(tmp_path: Path) -> None:
    nodes = [{"id": "q", "role": "user", "content": [{"type": "text", "text": "?"}]},
             {"id": "a", "parent": "q", "role": "assistant",
              "content": [{"type": "text", "text": "!"}]}]  # fmt: skip
    good: dict[str, Any] = {
        "id": "g",
        "meta": {"dimension_sets": ["kto"]},
        "nodes": nodes,
        "ratings": [{"target": "a", "scope": "local", "dimension": "desirable", "score": 1}],
    }
    bad = {**good, "id": "b", "ratings": [{**good["ratings"][0], "score": 2}]}  # fmt: skip
    path = tmp_path / "kto.jsonl"
    path.write_text(f"{json.dumps(good)}\n{json.dumps(bad)}\n", encoding="utf-8")
    import io

    out = io.StringIO()
    assert main(["validate", str(path)], out=out) == 1
    text = out.getvalue()
    assert "tree b: error rating.out_of_scale at /ratings/0/score: score 2 is outside 0..1" in text
    assert "2 records read: 1 accepted, 1 rejected" in text


def test_each_record_keeps_its_own_label_when_records_repeat(tmp_path: Path) -> None:
    """Records that repeat an answer with other labels, hold it as a prefix, or carry
    none: the answer holds one rating per labelled record, in order, and each record
    comes back with its own label."""
    turns = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    longer = [*turns, {"role": "user", "content": "q2"}, {"role": "assistant", "content": "a2"}]
    records = [
        {"messages": turns, "label": True},
        {"messages": turns, "label": False},
        {"messages": longer, "label": True},
        {"messages": turns, "label": False, "x": 1},
        {"messages": turns},
    ]
    path = tmp_path / "kto.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    result = im.get_format("sharegpt").load(str(path))
    (tree,) = result.trees
    assert not result.dropped and [r.score for r in tree.ratings] == [1, 0, 1, 0]
    assert im.validate(tree).ok and tree.meta.dimension_sets == ["kto"]
    records_of = im.get_format("sharegpt").records
    assert records_of is not None
    back = list(records_of([tree], im.LossReport(format="sharegpt")))

    def canonical(items: list[dict[str, Any]]) -> list[str]:
        return sorted(json.dumps(r, sort_keys=True) for r in items)

    assert canonical(back) == canonical(records)


def test_a_published_card_lists_the_dimensions_the_trees_declare(tmp_path: Path) -> None:
    from intermt_schema.publish import publish_dataset

    tree = _load(_oasst_record(), tmp_path)
    publish_dataset([tree], str(tmp_path / "hub"), fractions=(1.0,), plots=False)
    card = (tmp_path / "hub" / "README.md").read_text(encoding="utf-8")
    assert "| `quality` | local | 0..1 (real) |  | Quality |" in card
    assert "`text_quality`" not in card  # InterMT's set is not the one these trees use
