from __future__ import annotations

from hypothesis import event, given, settings, target
from hypothesis import strategies as st

import intermt_schema as im
from intermt_schema.sampling.pairs import apply_pairs, sample_pairs
from intermt_schema.sampling.splits import split_trees
from intermt_schema.testing import trees
from intermt_schema.tree import TreeView

from .conftest import EXAMPLES, count_cases

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
        ties=data.draw(st.sampled_from(["drop", "keep", "keep"])),
        scope=data.draw(st.sampled_from(["local", "global", "both"])),
        aggregate=data.draw(st.sampled_from(["mean", "median", "majority"])),
        dimensions=("text_quality", "context_coherence") if criterion == "pareto" else (),
        seed=data.draw(st.integers(0, 5)),
    )
    pairs, report = sample_pairs(tree_list, **options)
    return pairs, report, options


RATED = st.lists(
    trees(max_nodes=12, min_nodes=3, rate_all=True), min_size=1, max_size=3,
    unique_by=lambda t: t.id,
)  # fmt: skip
"""Trees rated in every dimension, as InterMT rates them, so that siblings share."""


def test_pair_properties() -> None:
    seen = count_cases("test_pair_properties")

    @settings(derandomize=True)  # the counts asserted below are the same on every run
    @given(RATED, st.data())
    def check(tree_list, data) -> None:
        pairs, report, options = _sample(tree_list, data)
        by_id = {t.id: TreeView(t) for t in tree_list}
        for pair in pairs:
            view = by_id[pair.tree]
            assert pair.chosen != pair.rejected  # no self-pairs
            assert pair.chosen in view.by_id and pair.rejected in view.by_id  # one tree
            if pair.scope == "local":
                assert view.node(pair.chosen).parent == view.node(pair.rejected).parent
            if pair.source == "ratings" and not pair.tie:
                assert pair.margin is not None and pair.margin >= options["margin"]
                if options["criterion"] != "pareto" and not isinstance(options["criterion"], list):
                    assert pair.chosen_score - pair.rejected_score >= options["margin"] - 1e-9
            if pair.tie:
                assert options["ties"] == "keep"
            kind = f"{pair.source} pairs" + (" (tie)" if pair.tie else "")
            seen[kind] += 1
            event(kind)
        # every rating and judgment is used or counted
        total_ratings = sum(len(t.ratings) for t in tree_list)
        assert report.ratings_used + sum(report.unpaired_ratings.values()) == total_ratings
        total_judgments = sum(len(t.judgments) for t in tree_list)
        assert report.judgments_used + sum(report.unpaired_judgments.values()) == total_judgments
        # the same seed gives the same pairs, whatever the chunking
        again = [p for t in tree_list for p in sample_pairs([t], **options)[0]]
        assert again == pairs
        rating_pairs = sum(1 for p in pairs if p.source == "ratings")
        target(float(rating_pairs), label="rating-derived pairs")

    check()
    assert seen["ratings pairs"] > 0, seen
    assert seen["ratings pairs (tie)"] > 0, seen
    assert seen["judgment pairs"] > 0, seen


def _mean(tree, node, dim):
    scores = [
        r.score
        for r in tree.ratings
        if r.target == node and r.dimension == dim and r.scope == "local" and r.score != -1
    ]
    return sum(scores) / len(scores)


def test_pareto_pairs_really_dominate() -> None:
    dims = ("text_quality", "context_coherence")
    seen = count_cases("test_pareto_pairs_really_dominate")

    @settings(derandomize=True)
    @given(RATED)
    def check(tree_list) -> None:
        pairs, _ = sample_pairs(
            tree_list, source="ratings", scope="local", strategy="all", criterion="pareto",
            dimensions=dims, ties="keep",
        )  # fmt: skip
        made = {(p.tree, frozenset((p.chosen, p.rejected))) for p in pairs}
        for tree in tree_list:  # every pair of rated siblings: paired exactly when one dominates
            view = TreeView(tree)
            for parent in {n.parent for n in tree.nodes if n.role == "assistant"}:
                rated = [
                    c.id for c in view.children(parent)
                    if all(any(r.target == c.id and r.dimension == d and r.score != -1
                               for r in tree.ratings) for d in dims)
                ]  # fmt: skip
                for i, a in enumerate(rated):
                    for b in rated[i + 1 :]:
                        gains = [_mean(tree, a, d) - _mean(tree, b, d) for d in dims]
                        if all(g == 0 for g in gains):
                            case = "tie"
                        elif all(g >= 0 for g in gains) or all(g <= 0 for g in gains):
                            case = "dominance"
                        else:
                            case = "incomparable"
                        seen[case] += 1
                        event(case)
                        assert ((tree.id, frozenset((a, b))) in made) == (case != "incomparable")
        for pair in pairs:
            tree = next(t for t in tree_list if t.id == pair.tree)
            gains = [_mean(tree, pair.chosen, d) - _mean(tree, pair.rejected, d) for d in dims]
            assert all(g >= 0 for g in gains)
            assert pair.tie or any(g > 0 for g in gains)

    check()
    assert seen["dominance"] > 0 and seen["incomparable"] > 0 and seen["tie"] > 0, seen


@given(
    st.lists(trees(max_nodes=4), min_size=1, max_size=12, unique_by=lambda t: t.id),
    st.sampled_from([["tree"], ["tree", "prompt"], ["tree", "prompt", "image"]]),
)
def test_splits_never_leak(tree_list, group_by) -> None:
    parts = split_trees(tree_list, [0.8, 0.1, 0.1], group_by=group_by, seed=3)
    assert sorted(t.id for p in parts for t in p) == sorted(t.id for t in tree_list)
    from intermt_schema.sampling.splits import group_keys

    owners: dict[str, int] = {}
    for index, part in enumerate(parts):
        for tree in part:
            for key in group_keys(tree, group_by):
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


def test_split_planner_spills_and_gives_the_same_parts_in_any_order(monkeypatch) -> None:
    import random

    from intermt_schema.sampling import splits

    # 300 items, every third sharing a prompt key with the next: components of 1 and 2
    items = [
        (f"t{i:03}", f"t{i:03}".encode().ljust(8, b"_") + (b"p%07d" % (i // 3) if i % 3 else b""))
        for i in range(300)
    ]

    def parts(order, spill_bytes):
        monkeypatch.setattr(splits, "SPILL_BYTES", spill_bytes)
        planner = splits.SplitPlanner([0.6, 0.2, 0.2], seed=5)
        for tree_id, keys in order:
            planner.add(tree_id, keys)
        assigned = dict(zip((t for t, _ in order), planner.parts(), strict=True))
        return assigned, sum(map(len, planner._chunks))

    in_memory, no_chunks = parts(items, 1 << 30)
    shuffled = random.Random(1).sample(items, len(items))
    spilled, chunks = parts(shuffled, 512)
    assert no_chunks == 0 and chunks > 10  # it spilled, many times
    assert spilled == in_memory
    for i in range(1, 300, 3):  # a shared prompt key: one part
        assert in_memory[f"t{i:03}"] == in_memory[f"t{i + 1:03}"]
    sizes = [list(in_memory.values()).count(k) for k in range(3)]
    assert abs(sizes[0] - 180) <= 2 and abs(sizes[1] - 60) <= 2, sizes


def test_split_planner_takes_no_item_after_assigning() -> None:
    from intermt_schema.sampling.splits import SplitPlanner

    planner = SplitPlanner([1.0])
    planner.add("a", b"a" * 8)
    assert list(planner.parts()) == [0] and list(planner.parts()) == [0]
    try:
        planner.add("b", b"b" * 8)
    except RuntimeError as exc:
        assert "no more items" in str(exc)
    else:
        raise AssertionError("an item was taken after the parts were assigned")


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


def test_stats_count_what_each_tree_holds_and_merge_as_one_pass() -> None:
    from collections import Counter

    from intermt_schema.sampling.stats import TreeStats

    seen = count_cases("test_stats_count_what_each_tree_holds_and_merge_as_one_pass")

    @settings(max_examples=80, deadline=None)
    @given(st.lists(trees(max_nodes=10), max_size=5), st.integers(0, 5))
    def run(items: list[im.DialogueTree], cut: int) -> None:
        whole, head, tail = (
            TreeStats(pair_yield=False),
            TreeStats(pair_yield=False),
            TreeStats(pair_yield=False),
        )
        for i, tree in enumerate(items):
            whole.add(tree)
            (head if i < cut else tail).add(tree)
        stats = whole.result()
        assert head.merge(tail).result() == stats
        ratings = [r for t in items for r in t.ratings]
        assert stats["ratings"] == Counter(r.dimension for r in ratings)
        assert stats["scores"] == {
            d: Counter(r.score for r in ratings if r.dimension == d) for d in stats["ratings"]
        }
        views = [TreeView(t) for t in items]
        assert stats["paths"] == sum(len(v.paths()) for v in views)
        assert stats["branch_points"] == sum(len(v.branch_points()) for v in views)
        assert stats["path_turns"] == Counter(
            sum(m.role == "user" for m in path) for v in views for path in v.paths()
        )
        twice = Counter(
            (i, r.target, r.scope, r.dimension) for i, t in enumerate(items) for r in t.ratings
        )
        assert stats["agreement"]["pairs"] == sum(n * (n - 1) // 2 for n in twice.values())
        seen["scored twice"] += stats["agreement"]["pairs"] > 0
        seen["branch points"] += stats["branch_points"] > 0
        seen["merged from two"] += 0 < cut < len(items)

    run()
    for case in ("scored twice", "branch points", "merged from two"):
        assert seen[case] >= 1, seen
