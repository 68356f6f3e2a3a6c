from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import intermt_schema as im
from intermt_schema.sampling.pairs import apply_pairs, sample_pairs
from intermt_schema.sampling.splits import split_trees
from intermt_schema.testing import trees
from intermt_schema.tree import TreeView

from .conftest import EXAMPLES

STRATEGIES = ["all", "best_worst", "best_rest", "best_random"]
CRITERIA = [
    "overall",
    "text_quality",
    {"text_quality": 2.0, "context_coherence": 1.0},
    ["helpfulness", "context_awareness"],
    "pareto",
]


def _sample(tree_list, data):
    criterion = data.draw(st.sampled_from(CRITERIA))
    options = dict(
        strategy=data.draw(st.sampled_from(STRATEGIES)),
        criterion=criterion,
        margin=data.draw(st.sampled_from([0.0, 0.5, 1.0])),
        ties=data.draw(st.sampled_from(["drop", "keep"])),
        scope=data.draw(st.sampled_from(["local", "global", "both"])),
        aggregate=data.draw(st.sampled_from(["mean", "median", "majority"])),
        dimensions=("text_quality", "context_coherence") if criterion == "pareto" else (),
        seed=data.draw(st.integers(0, 5)),
    )
    pairs, report = sample_pairs(tree_list, **options)
    return pairs, report, options


@given(st.lists(trees(max_nodes=12), max_size=3, unique_by=lambda t: t.id), st.data())
def test_pair_properties(tree_list, data) -> None:
    pairs, report, options = _sample(tree_list, data)
    by_id = {t.id: TreeView(t) for t in tree_list}
    for pair in pairs:
        view = by_id[pair.tree]
        assert pair.chosen != pair.rejected  # no self-pairs
        assert pair.chosen in view.by_id and pair.rejected in view.by_id  # one tree
        if pair.scope == "local" and pair.source == "ratings":
            assert view.node(pair.chosen).parent == view.node(pair.rejected).parent
        if pair.source == "ratings" and not pair.tie:
            assert pair.margin is not None and pair.margin >= options["margin"]
            if options["criterion"] not in ("pareto",) and not isinstance(
                options["criterion"], list
            ):
                assert pair.chosen_score - pair.rejected_score >= options["margin"] - 1e-9
        if pair.tie:
            assert options["ties"] == "keep"
    # every rating and judgment is used or counted
    total_ratings = sum(len(t.ratings) for t in tree_list)
    assert report.ratings_used + sum(report.unpaired_ratings.values()) == total_ratings
    total_judgments = sum(len(t.judgments) for t in tree_list)
    assert report.judgments_used + sum(report.unpaired_judgments.values()) == total_judgments
    # the same seed gives the same pairs, whatever the chunking
    again = [p for t in tree_list for p in _resample(t, options)]
    assert again == pairs


def _resample(tree, options):
    return sample_pairs([tree], **options)[0]


@given(st.lists(trees(max_nodes=12), max_size=3))
def test_pareto_pairs_really_dominate(tree_list) -> None:
    dims = ("text_quality", "context_coherence")
    pairs, _ = sample_pairs(
        tree_list,
        source="ratings",
        scope="local",
        strategy="all",
        criterion="pareto",
        dimensions=dims,
    )
    for pair in pairs:
        tree = next(t for t in tree_list if t.id == pair.tree)

        def mean(node, dim, tree=tree):
            scores = [
                r.score
                for r in tree.ratings
                if r.target == node and r.dimension == dim and r.scope == "local" and r.score != -1
            ]
            return sum(scores) / len(scores)

        gains = [mean(pair.chosen, d) - mean(pair.rejected, d) for d in dims]
        assert all(g >= 0 for g in gains) and any(g > 0 for g in gains)


@given(
    st.lists(trees(max_nodes=4), min_size=1, max_size=12, unique_by=lambda t: t.id),
    st.sampled_from([["tree"], ["tree", "prompt"], ["tree", "prompt", "image"]]),
)
def test_splits_never_leak(tree_list, group_by) -> None:
    parts = split_trees(tree_list, [0.8, 0.1, 0.1], group_by=group_by, seed=3)
    assert sorted(t.id for p in parts for t in p) == sorted(t.id for t in tree_list)
    from intermt_schema.sampling.splits import _group_keys

    owners: dict[str, int] = {}
    for index, part in enumerate(parts):
        for tree in part:
            for key in _group_keys(tree, group_by):
                assert owners.setdefault(key, index) == index, key
    assert split_trees(tree_list, [0.8, 0.1, 0.1], group_by=group_by, seed=3) == parts


def test_splits_honour_the_fractions_when_groups_allow() -> None:
    many = [
        im.DialogueTree(
            id=f"t{i}", nodes=[im.Message(id=f"q{i}", role="user", content=[im.TextPart(f"q{i}")])]
        )
        for i in range(100)
    ]
    sizes = [len(p) for p in split_trees(many, [0.9, 0.05, 0.05])]
    assert sizes == [90, 5, 5]


def test_applied_pairs_export_as_ranking_records(tmp_path) -> None:
    from intermt_schema.formats import trl

    tree_list = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    pairs, report = sample_pairs(tree_list, strategy="best_rest", scope="local")
    assert pairs and report.produced
    loss = trl.export(apply_pairs(tree_list, pairs), str(tmp_path / "p.jsonl"), mode="preference")
    assert loss.records == sum(1 for p in pairs if not p.tie)
    applied = apply_pairs(tree_list, pairs)
    provenance = [j.meta["pair"] for t in applied for j in t.judgments]
    assert all({"strategy", "criterion", "margin", "seed"} <= set(m) for m in provenance)
