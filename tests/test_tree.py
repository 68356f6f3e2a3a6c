from __future__ import annotations

import itertools

from hypothesis import given

import intermt_schema as im
from intermt_schema.testing import deep_trees, trees
from intermt_schema.tree import (
    TreeView,
    keep_best_branch,
    map_content,
    merge_paths,
    prune,
    same_tree,
    split_paths,
)


@given(trees())
def test_merge_of_split_gives_back_the_tree(tree: im.DialogueTree) -> None:
    merged = merge_paths(split_paths(tree))
    assert merged.issues == []
    assert len(merged.trees) == 1
    assert same_tree(merged.trees[0], tree)


@given(trees())
def test_every_path_is_a_valid_linear_conversation(tree: im.DialogueTree) -> None:
    view = TreeView(tree)
    for path in view.paths():
        assert path[0].parent is None
        assert all(b.parent == a.id for a, b in itertools.pairwise(path))
        assert not view.children(path[-1].id)
        linear = im.DialogueTree(id="p", nodes=path)
        assert im.validate(linear).ok


@given(trees())
def test_walks_visit_every_node_exactly_once(tree: im.DialogueTree) -> None:
    view = TreeView(tree)
    for breadth_first in (False, True):
        visited = [n.id for _, n in view.walk(breadth_first=breadth_first)]
        assert sorted(visited) == sorted(n.id for n in tree.nodes)
    for path, node in view.walk():
        assert path[-1] is node and [m.id for m in path] == [m.id for m in view.path_to(node.id)]


@given(trees())
def test_pruning_keeps_the_tree_valid(tree: im.DialogueTree) -> None:
    drop = {n.id for i, n in enumerate(tree.nodes) if i % 3 == 1}
    pruned = prune(tree, lambda n: n.id not in drop)
    assert im.validate(pruned).ok, im.validate(pruned).render()
    assert not drop & {n.id for n in pruned.nodes}
    best = keep_best_branch(tree, ["text_quality", "context_coherence"])
    assert im.validate(best).ok
    assert not TreeView(best).branch_points() or any(
        len(TreeView(tree).children(b.id)) > 1 for b in TreeView(best).branch_points()
    )


def test_keep_best_branch_keeps_the_higher_scored_sibling() -> None:
    q = im.Message(id="q", role="user", content=[im.TextPart("q")])
    a1 = im.Message(id="a1", parent="q", role="assistant", content=[im.TextPart("x")])
    a2 = im.Message(id="a2", parent="q", role="assistant", content=[im.TextPart("y")])
    tree = im.DialogueTree(
        id="t",
        nodes=[q, a1, a2],
        ratings=[
            im.Rating(target="a1", scope="local", dimension="text_quality", score=1),
            im.Rating(target="a2", scope="local", dimension="text_quality", score=3),
        ],
    )
    assert [n.id for n in keep_best_branch(tree, ["text_quality"]).nodes] == ["q", "a2"]


def test_view_queries_on_a_small_tree() -> None:
    tree = im.DialogueTree(
        id="t",
        nodes=[
            im.Message(id="q", role="user", content=[im.TextPart("q")]),
            im.Message(id="a1", parent="q", role="assistant", content=[im.TextPart("1")]),
            im.Message(id="a2", parent="q", role="assistant", content=[im.TextPart("2")]),
            im.Message(id="f", parent="a1", role="user", content=[im.TextPart("f")]),
        ],
        ratings=[im.Rating(target="a1", scope="global", dimension="helpfulness", score=2)],
    )
    view = TreeView(tree)
    assert [n.id for n in view.siblings("a1")] == ["a2"]
    assert [n.id for n in view.ancestors("f")] == ["a1", "q"]
    assert view.depth("f") == 2
    assert [n.id for n in view.leaves()] == ["f", "a2"]
    assert [[n.id for n in p] for p in view.rated_paths()] == [["q", "a1"]]
    assert [(u.id, a.id if a else None) for u, a in view.turns(view.path_to("f"))] == [
        ("q", "a1"),
        ("f", None),
    ]
    assert [n.id for n in view.subtree("a1")] == ["a1", "f"]
    upper = map_content(tree, lambda m: [im.TextPart(m.id.upper())])
    assert [p.text for n in upper.nodes for p in n.content] == ["Q", "A1", "A2", "F"]


def test_content_hash_merge_without_ids_and_conflicts_are_reported() -> None:
    from intermt_schema.tree import Conversation

    def msg(role, text, id=""):
        return im.Message(id=id, role=role, content=[im.TextPart(text)])

    convs = [
        Conversation(messages=[msg("user", "q"), msg("assistant", "a1")], origin="r1"),
        Conversation(messages=[msg("user", "q"), msg("assistant", "a2")], origin="r2"),
    ]
    result = merge_paths(convs)
    assert len(result.trees) == 1 and len(result.trees[0].nodes) == 3
    clash = [
        Conversation(messages=[msg("user", "q", "u1")], tree_id="t", origin="rec 1"),
        Conversation(messages=[msg("user", "other", "u1")], tree_id="t", origin="rec 7"),
    ]
    issues = merge_paths(clash).issues
    assert [i.code for i in issues] == ["merge.conflict"]
    assert "rec 1" in issues[0].message and "rec 7" in issues[0].message


def test_deep_chain_of_100000_works_everywhere() -> None:
    tree = deep_trees(100_000)
    view = TreeView(tree)
    assert len(view.paths()) == 1 and len(view.paths()[0]) == 100_000
    assert view.depth("n99999") == 99_999
    assert sum(1 for _ in view.walk()) == 100_000
    assert sum(1 for _ in view.walk(breadth_first=True)) == 100_000
    assert len(prune(tree, lambda n: n.id != "n50000").nodes) == 50_000
    assert same_tree(merge_paths(split_paths(tree)).trees[0], tree)
