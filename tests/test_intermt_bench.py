"""InterMT release layouts: the real crucial-step sample and hand-written records."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given

import intermt_schema as im
from intermt_schema.formats import intermt_bench as bench
from intermt_schema.testing import trees
from intermt_schema.tree import TreeView, same_tree

DATA = Path(__file__).parent / "data"


def fixture_records() -> tuple[Path, list[dict]]:
    from .conftest import fixture_path

    path = fixture_path("intermt_bench", "crucial_step_sample.json")
    return path, json.loads(path.read_text())


def independent_counts(records: list[dict]) -> dict[str, int]:
    """Counts computed from the raw records alone, without the library."""
    nodes: dict[str, str | None] = {}
    slots: dict[str, int] = {}
    files = set()
    roots = set()
    for record in records:
        parent = None
        for turn in record["conversations"]:
            for uuid, imgs in (
                (turn["prompt_uuid"], turn.get("prompt_images")),
                (turn["response_uuid"], turn.get("response_images")),
            ):
                nodes[uuid] = parent
                slots.setdefault(uuid, sum(1 for p in imgs or [] if p))
                files.update(p for p in imgs or [] if p)
                parent = uuid
        roots.add(record["conversations"][0]["prompt_uuid"])
    children = Counter(p for p in nodes.values() if p is not None)
    return {
        "trees": len(roots),
        "nodes": len(nodes),
        "branch_points": sum(1 for c in children.values() if c > 1),
        "images": sum(slots.values()),
        "image_files": len(files),
    }


def normalize(record: dict) -> str:
    """A record with the empty image slots the import drops left out."""
    turns = [
        {
            **t,
            "prompt_images": [i for i in t.get("prompt_images") or [] if i],
            "response_images": [i for i in t.get("response_images") or [] if i],
        }
        for t in record["conversations"]
    ]
    return json.dumps({**record, "conversations": turns}, sort_keys=True)


def test_real_crucial_step_sample_imports_clean_with_the_expected_shape() -> None:
    path, records = fixture_records()
    result = bench.load(str(path))
    expected = independent_counts(records)
    assert (expected["trees"], expected["branch_points"]) == (12, 23)  # as shared/README says
    assert result.records == 40
    assert len(result.trees) == expected["trees"]
    assert sum(len(t.nodes) for t in result.trees) == expected["nodes"]
    assert sum(len(TreeView(t).branch_points()) for t in result.trees) == expected["branch_points"]
    assert (
        sum(
            1
            for t in result.trees
            for n in t.nodes
            for p in n.content
            if isinstance(p, im.ImagePart)
        )
        == expected["images"]
    )
    # the release stores a copy of an image per record: every path is kept
    files = {
        p.image.path
        for t in result.trees
        for n in t.nodes
        for p in n.content
        if isinstance(p, im.ImagePart)
    }
    files |= {
        path
        for t in result.trees
        for n in t.nodes
        for paths in n.meta.get(bench.VARIANTS_META, {}).values()
        for path in paths
    }
    assert len(files) == expected["image_files"]
    assert not [i for i in result.issues if i.severity == "error"]
    for tree in result.trees:
        assert im.validate(tree).ok, im.validate(tree).render()
    assert sum(len(t.ratings) for t in result.trees) == 40


def test_real_crucial_step_sample_round_trips(tmp_path: Path) -> None:
    path, records = fixture_records()
    result = bench.load(str(path))
    loss = bench.export(result.trees, str(tmp_path / "out.json"))
    assert loss.lossless and loss.records == 40
    exported = json.loads((tmp_path / "out.json").read_text())
    assert sorted(map(normalize, exported)) == sorted(map(normalize, records))


def test_placeholder_mismatches_keep_text_verbatim_and_warn() -> None:
    path, _ = fixture_records()
    result = bench.load(str(path))
    mismatches = [i for i in result.issues if i.code == "import.placeholder_mismatch"]
    assert mismatches and all(i.severity == "warning" and i.line for i in mismatches)
    texts = {
        p.text
        for t in result.trees
        for n in t.nodes
        for p in n.content
        if isinstance(p, im.TextPart)
    }
    assert any("]]" in t for t in texts)


@pytest.mark.parametrize(
    "name,layout",
    [
        ("intermt_score.json", "score"),
        ("intermt_pair.json", "pair"),
        ("intermt_upstream.json", "upstream"),
    ],
)
def test_hand_written_layouts_round_trip(tmp_path: Path, name: str, layout: str) -> None:
    source = json.loads((DATA / name).read_text())
    result = bench.load(str(DATA / name))
    assert result.records == len(source)
    assert not [i for i in result.issues if i.severity == "error"], result.issues
    assert len(result.trees) == 1
    assert im.validate(result.trees[0]).ok, im.validate(result.trees[0]).render()
    bench.export(result.trees, str(tmp_path / "out.json"), layout=layout)
    again = bench.load(str(tmp_path / "out.json"))
    assert same_tree(again.trees[0], result.trees[0])


def test_score_layout_maps_global_and_local_scores() -> None:
    tree = bench.load(str(DATA / "intermt_score.json")).trees[0]
    scopes = Counter((r.scope, r.dimension) for r in tree.ratings)
    assert scopes[("global", "style_coherence")] == 2
    assert scopes[("local", "text_quality")] == 3  # the shared first answer is rated twice
    assert sorted(r.score for r in tree.ratings if r.dimension == "style_coherence") == [-1, 0]


def test_pair_layout_becomes_judgments_between_siblings() -> None:
    tree = bench.load(str(DATA / "intermt_pair.json")).trees[0]
    assert [
        (j.scope, j.outcomes.get("text_quality") or j.outcomes.get("helpfulness"))
        for j in tree.judgments
    ] == [("local", "b"), ("global", "a")]
    view = TreeView(tree)
    assert all(view.node(j.a).parent == view.node(j.b).parent for j in tree.judgments)


def test_conflicting_uuid_is_an_error_naming_both_records(tmp_path: Path) -> None:
    turn = {"round": 1, "prompt": "q", "prompt_uuid": "u1", "response": "a", "response_uuid": "r1"}
    records = [
        {"id": 1, "conversations": [turn], "annotation": {}},
        {"id": 2, "conversations": [{**turn, "response": "different"}], "annotation": {}},
    ]
    (tmp_path / "c.json").write_text(json.dumps(records))
    issues = bench.load(str(tmp_path / "c.json")).issues
    conflict = [i for i in issues if i.code == "merge.conflict"]
    assert (
        len(conflict) == 1
        and "record 1" in conflict[0].message
        and "record 2" in conflict[0].message
    )


def test_bad_records_are_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "b.jsonl").write_bytes(b'{"conversations": [{"prompt": 5}]}\nnot json\n[1]\n')
    result = bench.load(str(tmp_path / "b.jsonl"))
    assert result.records == 3 and result.trees == []
    assert [(i.code, i.line) for i in result.issues] == [
        ("import.bad_record", 1),
        ("import.bad_record", 2),
        ("import.bad_record", 3),
    ]


@given(trees(with_judgments=False))
def test_flat_export_keeps_every_path_and_global_rating(tree: im.DialogueTree) -> None:
    loss = bench.LossReport(format="x")
    exported = list(bench.records([tree], loss, "flat"))
    view = TreeView(tree)
    spoken = {tuple(m.id for m in p if m.role != "system") for p, _ in view.walk()}
    for record in exported:
        ids = tuple(
            x for t in record["conversations"] for x in (t["prompt_uuid"], t["response_uuid"])
        )
        assert ids in spoken
    scores = sum(1 for r in exported for k in r["annotation"] if not k.startswith("reason_"))
    assert scores == sum(1 for r in tree.ratings if r.scope == "global")
    assert loss.dropped["local ratings"] == sum(1 for r in tree.ratings if r.scope == "local")
    answered_leaves = [n for n in view.leaves() if n.role == "assistant"]
    assert len(exported) >= len(answered_leaves)
